"""The trade records the mis-invoicing family reads, and how one party's records meet.

Shared by the unit-value filter (``queries.unit_values``), the mirror comparisons
(``queries.mirror``), the customs-tax comparison (``queries.discrepancy``), the VAT carousel,
shell-network and prioritisation detectors:

- :class:`Shipment` -- one customs declaration item with its parties by role, read through the
  store seam (``Declaration`` nodes and their ``DECLARED`` / ``CONSIGNED_TO`` edges).
- :class:`PartyIndex` -- which party records (per-agency ``Company`` / ``Person`` nodes) are
  one real party. When entity resolution has run, records with a ``SAME_AS`` to the same
  ``ResolvedEntity`` are one party, and two records it resolved to different entities are
  never merged. Without it (or for records it left alone) the fallback is an identical strong
  identifier: the normalised tax id or VAT number of a company (what the customs party's
  ``tax_id``, the tax record's key and the register's ``tax_id`` share), its registration
  number in a known country, the id number of a person. A record with no identifier at all
  (an FIU or customs party known by name) is attached to the one identified party with the
  same registration number or normalised name in its country, when exactly one exists.
  Each group gets a stable canonical id (the resolved entity key, else its smallest
  identifier token, else the record key) that alert ids are built from.
- evidence helpers that copy a node's or relationship's provenance into an
  :class:`~queries.alerts.EvidenceRecord`.

Everything is read with ``iter_nodes`` / ``iter_relationships`` and computed in Python, so both
stores give the same answer by construction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from graph_models.records import Node, Relationship
from graph_models.schema import Label, RelType
from graph_models.store.base import GraphStore
from loaders.keys import norm_id, norm_text
from queries.alerts import EvidenceRecord
from queries.reads import CachedReads

PARTY_LABELS = (Label.COMPANY, Label.PERSON)
SENDER_ROLES = ("exporter", "consignor")
RECEIVER_ROLES = ("importer", "consignee")
# An identifier this short after normalisation ("0", "NA", "123") is a placeholder, not an id:
# as a join key it would merge unrelated parties.
MIN_IDENTIFIER_LENGTH = 4
# A real party has a handful of records (one per agency and spelling). An identifier shared by
# more records than this is a placeholder or a data error, and joins nothing.
MAX_RECORDS_PER_IDENTIFIER = 25


class Period(StrEnum):
    YEAR = "year"
    QUARTER = "quarter"
    MONTH = "month"
    ALL = "all"


def period_of(day: str, granularity: Period) -> str:
    """The period an ISO date falls in: ``2024``, ``2024-Q2``, ``2024-05`` or ``all``."""
    if granularity is Period.ALL:
        return "all"
    year, month = day[:4], int(day[5:7])
    if granularity is Period.YEAR:
        return year
    if granularity is Period.QUARTER:
        return f"{year}-Q{(month - 1) // 3 + 1}"
    return f"{year}-{month:02d}"


def days_between(first: str, second: str) -> int:
    """Signed days from ``first`` to ``second`` (ISO dates)."""
    return (date.fromisoformat(second[:10]) - date.fromisoformat(first[:10])).days


# --- shipments -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shipment:
    """One declaration item and its parties by role.

    The fields after ``parties`` are read from the node once, when the shipment is made: the
    trade detectors read them millions of times a run.
    """

    node: Node
    parties: Mapping[str, str]
    key: str = field(init=False)
    date: str = field(init=False)
    flow: str = field(init=False)
    reporting_country: str | None = field(init=False)
    hs6: str | None = field(init=False)
    quantity: float | None = field(init=False)
    unit: str | None = field(init=False)
    net_mass: float | None = field(init=False)
    customs_value: float | None = field(init=False)
    invoice_value: float | None = field(init=False)
    currency: str | None = field(init=False)
    dispatch_country: str | None = field(init=False)
    destination_country: str | None = field(init=False)
    sender: str | None = field(init=False)
    receiver: str | None = field(init=False)
    # A re-export leaves the country like an export and is priced like one.
    is_import: bool = field(init=False)
    is_export: bool = field(init=False)

    def __post_init__(self) -> None:
        props = self.node.properties
        code = _text(props, "hs_code")
        unit = _text(props, "unit")
        currency = _text(props, "currency")
        flow = str(props["flow"])
        derived = {
            "key": self.node.key,
            "date": str(props["date"]),
            "flow": flow,
            "reporting_country": _text(props, "reporting_country"),
            "hs6": code[:6] if code and len(code) >= 6 else None,
            "quantity": _number(props, "quantity"),
            "unit": unit.strip().upper() if unit else None,
            "net_mass": _number(props, "net_mass"),
            "customs_value": _number(props, "customs_value"),
            "invoice_value": _number(props, "invoice_value"),
            "currency": currency.upper() if currency else None,
            "dispatch_country": _text(props, "dispatch_country"),
            "destination_country": _text(props, "destination_country"),
            "sender": next((self.parties[r] for r in SENDER_ROLES if r in self.parties), None),
            "receiver": next((self.parties[r] for r in RECEIVER_ROLES if r in self.parties), None),
            "is_import": flow == "import",
            "is_export": flow in ("export", "re-export"),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)


def _text(props: Mapping[str, object], name: str) -> str | None:
    value = props.get(name)
    return str(value) if value is not None and value != "" else None


def _number(props: Mapping[str, object], name: str) -> float | None:
    value = props.get(name)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def read_shipments(store: GraphStore) -> list[Shipment]:
    """Every declaration item with its parties, ordered by key. O(D + P) for D declarations
    and P party edges; read once per detection run (a ``CachedReads`` view keeps them)."""
    if isinstance(store, CachedReads):
        return list(store.derived("misinvoicing.shipments", lambda: _read_shipments(store)))
    return _read_shipments(store)


def _read_shipments(store: GraphStore) -> list[Shipment]:
    parties: dict[str, dict[str, str]] = defaultdict(dict)
    # Bare edges: only the ends and the role matter here, and decoding each edge's
    # provenance cost more than the rest of the shipments together.
    for edge in store.iter_edges([RelType.DECLARED, RelType.CONSIGNED_TO], ["role"]):
        role = str(edge.values[0] or edge.key)
        # Two parties in one role cannot happen with the customs loader (the role is the
        # relationship key); if a mapping produced it, the smallest key wins, deterministically.
        current = parties[edge.end].get(role)
        if current is None or edge.start < current:
            parties[edge.end][role] = edge.start
    out = [
        Shipment(node=n, parties=dict(parties.get(n.key, {})))
        for n in store.iter_nodes([Label.DECLARATION])
    ]
    out.sort(key=lambda s: s.key)
    return out


# --- parties across agencies -----------------------------------------------------------------


@dataclass
class PartyIndex:
    """Party records grouped into real parties (see the module docstring)."""

    nodes: dict[str, Node]
    canonical: dict[str, str]  # record key -> canonical party id
    members: dict[str, list[str]]  # canonical id -> record keys, sorted
    resolved: dict[str, str] = field(default_factory=dict)  # record key -> ResolvedEntity key

    @classmethod
    def build(cls, store: GraphStore) -> PartyIndex:
        """Group every Company / Person record. O(N + S) for N records and S SAME_AS links.

        Built once per detection run: a ``CachedReads`` view keeps the index, shared by every
        detector of the run (none of them changes it).
        """
        if isinstance(store, CachedReads):
            return store.derived("misinvoicing.parties", lambda: cls._build(store))
        return cls._build(store)

    @classmethod
    def _build(cls, store: GraphStore) -> PartyIndex:
        nodes = {n.key: n for n in store.iter_nodes(PARTY_LABELS)}
        resolved: dict[str, str] = {}
        for rel in store.iter_relationships([RelType.SAME_AS]):
            if rel.start in nodes:
                # A record belongs to one entity; should two links exist, keep the smaller key.
                current = resolved.get(rel.start)
                if current is None or rel.end < current:
                    resolved[rel.start] = rel.end
        return cls.from_records(nodes, resolved)

    @classmethod
    def from_records(cls, nodes: dict[str, Node], resolved: Mapping[str, str]) -> PartyIndex:
        """Group records: resolution first, then shared strong identifiers (never merging two
        different resolved entities), then attach records that carry no identifier at all to
        the one identified party with the same registration number or name (see ``_weak``)."""
        tokens: dict[str, list[str]] = {key: _tokens(node) for key, node in nodes.items()}
        holders: dict[str, list[str]] = defaultdict(list)
        for key in sorted(nodes):
            for token in tokens[key]:
                holders[token].append(key)
        groups = _UnionFind(nodes, resolved)
        by_entity: dict[str, list[str]] = defaultdict(list)
        for key in sorted(resolved):
            by_entity[resolved[key]].append(key)
        for keys in by_entity.values():
            for other in keys[1:]:
                groups.union(keys[0], other)
        for keys in holders.values():
            if len(keys) <= MAX_RECORDS_PER_IDENTIFIER:
                for other in keys[1:]:
                    groups.union(keys[0], other)
        _attach_weak(nodes, tokens, resolved, groups)
        members_of: dict[str, list[str]] = defaultdict(list)
        for key in sorted(nodes):
            members_of[groups.find(key)].append(key)
        canonical: dict[str, str] = {}
        members: dict[str, list[str]] = {}
        for keys in members_of.values():
            entities = sorted({resolved[k] for k in keys if k in resolved})
            usable = sorted(
                {
                    t
                    for k in keys
                    for t in tokens[k]
                    if len(holders[t]) <= MAX_RECORDS_PER_IDENTIFIER
                }
            )
            ident = entities[0] if entities else (usable[0] if usable else keys[0])
            members[ident] = keys
            for k in keys:
                canonical[k] = ident
        return cls(nodes=nodes, canonical=canonical, members=members, resolved=dict(resolved))

    def identity(self, key: str) -> str:
        """The canonical party id of a record (any other key, e.g. an account, is itself)."""
        return self.canonical.get(key, key)

    def records(self, identity: str) -> list[str]:
        return self.members.get(identity, [identity])

    def record_nodes(self, identity: str) -> list[Node]:
        return [self.nodes[k] for k in self.records(identity) if k in self.nodes]

    def name(self, identity: str) -> str:
        """A display name: the register's spelling first, then any record's."""
        nodes = self.record_nodes(identity)
        for prefix in ("company:registry:", "person:registry:", ""):
            for node in nodes:
                if node.key.startswith(prefix) and node.properties.get("name"):
                    return str(node.properties["name"])
        return identity

    def values(self, identity: str, prop: str) -> list[str]:
        """Distinct non-empty values of a property across the party's records, sorted."""
        return sorted(
            {
                str(n.properties[prop])
                for n in self.record_nodes(identity)
                if n.properties.get(prop) not in (None, "")
            }
        )

    def label(self, identity: str) -> Label | None:
        nodes = self.record_nodes(identity)
        return nodes[0].label if nodes else None

    def identities(self) -> list[str]:
        return sorted(self.members)

    def records_of(self, identities: Iterable[str]) -> list[str]:
        """Every record key of these parties, sorted (what an alert lists as its entities)."""
        return sorted({k for ident in identities for k in self.records(ident)})


class _UnionFind:
    """Union-find over record keys that never merges two different resolved entities: when
    entity resolution has kept two records apart, an identifier they share does not join them."""

    def __init__(self, nodes: Mapping[str, Node], resolved: Mapping[str, str]) -> None:
        self.parent = {key: key for key in nodes}
        self.entity = {key: resolved.get(key) for key in nodes}

    def find(self, key: str) -> str:
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        ea, eb = self.entity[ra], self.entity[rb]
        if ea is not None and eb is not None and ea != eb:
            return False
        keep, drop = min(ra, rb), max(ra, rb)
        self.parent[drop] = keep
        self.entity[keep] = ea or eb
        return True


def _str(props: Mapping[str, object], name: str) -> str | None:
    value = props.get(name)
    return value if isinstance(value, str) and value.strip() else None


def _tokens(node: Node) -> list[str]:
    """Strong identifiers: tax id, VAT number, registration number in a known country (a
    company), id number (a person)."""
    props = node.properties
    label = node.label.value.lower()
    out = []
    if node.label is Label.COMPANY:
        pairs = [("tax", _str(props, "tax_id")), ("vat", _str(props, "vat_number"))]
        country = _str(props, "jurisdiction")
        reg = _str(props, "registration_number")
        if country and reg:
            pairs.append((f"reg:{country.upper()}", reg))
    else:
        pairs = [("id", _str(props, "id_number"))]
    for kind, value in pairs:
        if value is not None:
            ident = norm_id(value)
            if len(ident) >= MIN_IDENTIFIER_LENGTH:
                out.append(f"{label}-{kind}:{ident}")
    return out


def _weak(node: Node) -> list[tuple[str, str, str | None]]:
    """What a record without identifiers can be recognised by: (kind, value, country)."""
    props = node.properties
    country = _str(props, "jurisdiction")
    out: list[tuple[str, str, str | None]] = []
    if node.label is Label.COMPANY:
        reg = _str(props, "registration_number")
        if reg and len(norm_id(reg)) >= MIN_IDENTIFIER_LENGTH:
            out.append(("reg", norm_id(reg), country.upper() if country else None))
    name = _str(props, "name_norm") or (norm_text(_str(props, "name") or "") or None)
    if name and node.label is Label.COMPANY:
        out.append(("name", name, country.upper() if country else None))
    elif name and _str(props, "birth_date"):
        out.append(("name", f"{name}|{props['birth_date']}", None))
    return out


def _attach_weak(
    nodes: Mapping[str, Node],
    tokens: Mapping[str, list[str]],
    resolved: Mapping[str, str],
    groups: _UnionFind,
) -> None:
    """Attach each record with no identifier and no resolution to the single identified party
    that has the same registration number, or else the same normalised name (and birth date,
    for a person), in the same country (any country when the record names none). A value that
    two identified parties share attaches nothing: it cannot say which one is meant."""
    anchored: dict[tuple[str, str, str | None], set[str]] = defaultdict(set)
    loose: list[str] = []
    for key in sorted(nodes):
        if tokens[key] or key in resolved:
            root = groups.find(key)
            for kind, value, country in _weak(nodes[key]):
                anchored[(kind, value, country)].add(root)
                anchored[(kind, value, None)].add(root)
        else:
            loose.append(key)
    for key in loose:
        for kind, value, country in _weak(nodes[key]):
            candidates = {groups.find(r) for r in anchored.get((kind, value, country), set())}
            if len(candidates) == 1:
                groups.union(next(iter(candidates)), key)
                break
            if candidates:
                break


# --- evidence --------------------------------------------------------------------------------


def node_evidence(
    node: Node,
    *,
    date_prop: str | None = "date",
    amount_prop: str | None = None,
    amount: float | None = None,
) -> EvidenceRecord:
    """A node as evidence, with its stored provenance (``amount`` overrides ``amount_prop``)."""
    day = node.properties.get(date_prop) if date_prop else None
    if amount is None and amount_prop:
        value = node.properties.get(amount_prop)
        amount = float(value) if isinstance(value, int | float) else None
    return EvidenceRecord(
        key=node.key,
        label=node.label.value,
        date=str(day) if day is not None else node.provenance.last_seen,
        amount=amount,
        provenance=node.provenance,
    )


def rel_key(rel: Relationship) -> str:
    return f"{rel.type.value}:{rel.start}>{rel.end}#{rel.key}"


def rel_evidence(rel: Relationship, *, amount_prop: str | None = None) -> EvidenceRecord:
    """A relationship as evidence (key ``type:start>end#key``), with its stored provenance."""
    day = rel.properties.get("date")
    amount = rel.properties.get(amount_prop) if amount_prop else None
    return EvidenceRecord(
        key=rel_key(rel),
        label=rel.type.value,
        date=str(day) if day is not None else rel.provenance.last_seen,
        amount=float(amount) if isinstance(amount, int | float) else None,
        provenance=rel.provenance,
    )


def latest_date(records: Iterable[EvidenceRecord]) -> str | None:
    dates = [r.date for r in records if r.date]
    return max(dates) if dates else None


def account_country(node: Node) -> str | None:
    """An account's country: its own ``country``, else the IBAN's country prefix."""
    country = node.properties.get("country")
    if isinstance(country, str) and country:
        return country.upper()
    iban = node.properties.get("iban")
    if isinstance(iban, str) and len(iban) >= 2 and iban[:2].isalpha():
        return iban[:2].upper()
    return None


def tax_jurisdiction(index: PartyIndex, filers: Iterable[str]) -> str | None:
    """The country a set of tax returns belongs to: the commonest jurisdiction among the
    parties that filed them (tax records carry none; a national tax administration's data is
    one country's). Ties go to the alphabetically first code; None when no filer has one."""
    counts: dict[str, int] = defaultdict(int)
    for party in filers:
        for country in index.values(party, "jurisdiction"):
            counts[country.upper()] += 1
    if not counts:
        return None
    return min(counts, key=lambda c: (-counts[c], c))
