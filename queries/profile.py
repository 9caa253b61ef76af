"""Profiles: one entity across agencies, with its key figures and alerts.

A profile is asked for a resolved entity or a single source record (a record that has been
resolved is lifted to its entity unless ``resolve=False``). It lists the entity's visible
source records grouped by agency, the key figures the records add up to, and the alerts that
flag the entity or any of its records, all filtered by the caller's scope; what is hidden is
counted in ``withheld`` (hit / no-hit), never shown.

Key figures, summed in key order so both stores give the same floats:

- **trade**: declared goods value per year, *out* where a record is exporter / consignor of
  a declaration item, *in* where it is importer / consignee (a declarant alone only lodges
  the declaration and is not counted); value is the invoice value, else the customs value,
  in the declaration's currency;
- **payments**: reported transactions per year, *out* when sent by a record or by an
  account it holds, *in* when received; a transaction counts once per direction;
- **cash**: cash declarations per year and direction the records carried or own the funds
  of, and how many were undeclared (detected) crossings;
- **tax**: each tax return with its period and declared figures;
- **reports**: FIU reports naming a record or one of its accounts, per report code.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from graph_models.records import Node, Relationship
from graph_models.schema import Label, RelType
from graph_models.store.base import ExpandRequest, GraphStore, far_ends
from queries.access import Members, Scope, Tally, lift
from queries.alerts import Alert, alert_from_node
from queries.batched import read_ahead
from queries.models import FlowFigure, KeyFigures, NodeView, Profile, TaxFigure

SENDER_ROLES = frozenset({"exporter", "consignor"})
RECEIVER_ROLES = frozenset({"importer", "consignee"})
# Relationships leaving an entity's records towards the records about it.
_OUT = (
    RelType.DECLARED,
    RelType.CONSIGNED_TO,
    RelType.SENT,
    RelType.REPORTED_IN,
    RelType.CARRIED,
    RelType.OWNS_FUNDS,
    RelType.FILED,
    RelType.HOLDS,
)
_IN = (RelType.RECEIVED,)
# What ``gather`` expands around an entity's records.
_GATHERED = (*_OUT, *_IN, RelType.DIRECTOR_OF)
# An account's own transactions and reports: those it sent or was reported in (out), and
# those it received (in).
_ACCOUNT_OUT = frozenset({RelType.SENT, RelType.REPORTED_IN})
_ACCOUNT_IN = frozenset(_IN)


@dataclass(frozen=True)
class Linked:
    """A visible record linked to one of the entity's records (or one of its accounts)."""

    rel: Relationship
    party: str
    node: Node


@dataclass
class EntityRecords:
    """What an entity's visible records link to, by relationship type (shared by profile and
    timeline)."""

    members: Members
    accounts: list[Linked] = field(default_factory=list)
    linked: dict[RelType, list[Linked]] = field(default_factory=lambda: defaultdict(list))
    directorships: list[Linked] = field(default_factory=list)

    @property
    def member_keys(self) -> list[str]:
        return [m.key for m in self.members.records]


def gather(store: GraphStore, members: Members, *, scope: Scope, tally: Tally) -> EntityRecords:
    """Collect the visible records around an entity's visible records in a few expansions.

    Cost: four ``expand`` calls (records out / in, then their accounts out / in) and the
    ``get_nodes`` of their ends: O(relationships of the entity's records and accounts).
    """
    out = EntityRecords(members=members)
    keys = out.member_keys
    # Expansions that bring their far ends where the store can (one Neo4j round trip each).
    found = store.expand_with_ends(keys, rel_types=_GATHERED)
    ends = far_ends(store, keys, found)
    for rel in found.relationships:
        mine = rel.start if rel.start in keys else rel.end
        other = rel.end if mine == rel.start else rel.start
        if (node := _readable(rel, ends.get(other), scope, tally)) is None:
            continue
        link = Linked(rel=rel, party=mine, node=node)
        if rel.type == RelType.DIRECTOR_OF:
            out.directorships.append(link)
        elif rel.type == RelType.HOLDS and rel.start == mine:
            out.accounts.append(link)
        elif (rel.start == mine and rel.type in _OUT) or (rel.end == mine and rel.type in _IN):
            out.linked[rel.type].append(link)
    accounts = sorted({a.node.key for a in out.accounts} - set(keys))
    if accounts:
        # Both directions in one expansion (one round trip), sorted out by type here.
        both = store.expand_with_ends(accounts, rel_types=_ACCOUNT_OUT | _ACCOUNT_IN)
        ends = far_ends(store, accounts, both)
        held = set(accounts)
        for rel, account, other in [
            *((r, r.start, r.end) for r in both.relationships if r.type in _ACCOUNT_OUT),
            *((r, r.end, r.start) for r in both.relationships if r.type in _ACCOUNT_IN),
        ]:
            if account not in held:
                continue
            if (node := _readable(rel, ends.get(other), scope, tally)) is not None:
                out.linked[rel.type].append(Linked(rel=rel, party=account, node=node))
    return out


def _readable(rel: Relationship, node: Node | None, scope: Scope, tally: Tally) -> Node | None:
    if node is None:
        return None
    if not scope.reads_rel(rel):
        tally.add(node.label.value, node.key, rel.provenance)
        return None
    if not scope.reads(node):
        tally.add(node.label.value, node.key, node.provenance)
        return None
    return node


def profile(store: GraphStore, key: str, *, scope: Scope, resolve: bool = True) -> Profile:
    """The profile of ``key`` (a resolved entity, or a source record) as ``scope`` may see it.

    Raises NotFoundError when ``key`` does not exist. When the scope sees nothing of it, the
    profile is empty apart from ``withheld``.
    """
    tally = Tally(scope)
    # A record that is not resolved (the common case) is its own entity: its node, its
    # resolution link, its links and its alerts are read in one go (one Neo4j round trip).
    store = read_ahead(
        store,
        [key],
        [
            *([ExpandRequest.of([key], [RelType.SAME_AS], "out")] if resolve else []),
            ExpandRequest.of([key], _GATHERED),
            ExpandRequest.of([key], [RelType.FLAGS], "in"),
        ],
    )
    members = lift(store, key, scope=scope, tally=tally, resolve=resolve)
    if members is None:
        node = store.require_node(key)
        return Profile(
            key=key,
            requested=key,
            label=node.label,
            name=None,
            resolved=node.label == Label.RESOLVED_ENTITY,
            records_by_agency={},
            figures=KeyFigures(),
            alerts=[],
            withheld=tally.markers(),
        )
    member_keys = [m.key for m in members.records]
    if member_keys != [key]:
        # A resolved entity's records: their links and the alerts, again in one go.
        store = read_ahead(
            store,
            [],
            [
                ExpandRequest.of(member_keys, _GATHERED),
                ExpandRequest.of([members.key, *member_keys], [RelType.FLAGS], "in"),
            ],
        )
    records = gather(store, members, scope=scope, tally=tally)
    by_agency: dict[str, list[NodeView]] = defaultdict(list)
    for member in members.records:
        for agency in scope.agencies_of(member.provenance):
            by_agency[agency].append(scope.node_view(member))
    alerts = entity_alerts(store, [members.key, *records.member_keys], scope=scope, tally=tally)
    return Profile(
        key=members.key,
        requested=key,
        label=members.label,
        name=members.name,
        resolved=members.resolved,
        records_by_agency={a: by_agency[a] for a in sorted(by_agency)},
        accounts=[scope.node_view(n) for n in _unique(a.node for a in records.accounts)],
        figures=key_figures(records),
        alerts=alerts,
        withheld=tally.markers(),
    )


def key_figures(records: EntityRecords) -> KeyFigures:
    """Sum an entity's records into its key figures (see the module docstring)."""
    trade: dict[tuple[str, str], tuple[str, str | None, float | None]] = {}
    for link in [*records.linked[RelType.DECLARED], *records.linked[RelType.CONSIGNED_TO]]:
        role = str(link.rel.properties.get("role", ""))
        direction = "out" if role in SENDER_ROLES else "in" if role in RECEIVER_ROLES else None
        props = link.node.properties
        if direction is None or not isinstance(props.get("date"), str):
            continue
        value = _number(props.get("invoice_value"))
        if value is None:
            value = _number(props.get("customs_value"))
        trade[(link.node.key, direction)] = (
            str(props["date"]),
            _text(props.get("currency")),
            value,
        )
    payments: dict[tuple[str, str], tuple[str, str | None, float | None]] = {}
    for rel_type, direction in ((RelType.SENT, "out"), (RelType.RECEIVED, "in")):
        for link in records.linked[rel_type]:
            props = link.node.properties
            if isinstance(props.get("date"), str):
                payments[(link.node.key, direction)] = (
                    str(props["date"]),
                    _text(props.get("currency")),
                    _number(props.get("amount")),
                )
    cash: dict[tuple[str, str], tuple[str, str | None, float | None]] = {}
    undeclared: set[str] = set()
    for link in [*records.linked[RelType.CARRIED], *records.linked[RelType.OWNS_FUNDS]]:
        props = link.node.properties
        if props.get("undeclared") is True:
            undeclared.add(link.node.key)
        if isinstance(props.get("date"), str):
            direction = _text(props.get("direction")) or "unknown"
            cash[(link.node.key, direction)] = (
                str(props["date"]),
                _text(props.get("currency")),
                _number(props.get("amount")),
            )
    reports: dict[str, set[str]] = defaultdict(set)
    for link in records.linked[RelType.REPORTED_IN]:
        reports[str(link.node.properties.get("report_code", "unknown"))].add(link.node.key)
    return KeyFigures(
        trade=_by_year(trade),
        payments=_by_year(payments),
        cash=_by_year(cash),
        undeclared_cash=len(undeclared),
        tax=[_tax(n) for n in _unique(link.node for link in records.linked[RelType.FILED])],
        reports={code: len(keys) for code, keys in sorted(reports.items())},
    )


def _by_year(
    items: dict[tuple[str, str], tuple[str, str | None, float | None]],
) -> list[FlowFigure]:
    sums: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for (_, direction), (day, currency, value) in sorted(items.items()):
        group = (day[:4], direction, currency or "")
        counts[group] += 1
        if value is not None:
            sums[group].append(value)
    return [
        FlowFigure(
            year=year,
            direction=direction,
            currency=currency or None,
            total=round(sum(sums[(year, direction, currency)]), 2),
            count=n,
        )
        for (year, direction, currency), n in sorted(counts.items())
    ]


def _tax(node: Node) -> TaxFigure:
    p = node.properties
    return TaxFigure(
        key=node.key,
        tax_type=str(p.get("tax_type", "")),
        period=str(p.get("period", "")),
        **{
            name: _number(p.get(name))
            for name in (
                "turnover",
                "purchases",
                "imports_declared",
                "exports_declared",
                "vat_charged",
                "vat_paid",
                "vat_reclaimed",
            )
        },
    )


def entity_alerts(store: GraphStore, keys: list[str], *, scope: Scope, tally: Tally) -> list[Alert]:
    """Alerts flagging any of ``keys``, open to the scope (rule 3 of queries.access), ranked
    by score; the others are counted in ``tally``."""
    flags = store.expand_with_ends(keys, rel_types=[RelType.FLAGS], direction="in")
    ends = far_ends(store, keys, flags)
    nodes = {k: ends[k] for k in {r.start for r in flags.relationships} if k in ends}
    out = []
    for k in sorted(nodes):
        node = nodes[k]
        if scope.reads(node):
            out.append(alert_from_node(node))
        else:
            tally.add("alerts", k, node.provenance)
    out.sort(key=lambda a: (-a.score, a.id))
    return out


def _unique(nodes: Iterable[Node]) -> list[Node]:
    seen: dict[str, Node] = {}
    for node in nodes:
        seen.setdefault(node.key, node)
    return [seen[k] for k in sorted(seen)]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
