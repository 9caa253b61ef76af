"""Flow projections: who sent goods or money to whom, when and how much.

The cycle, funnel and structuring detectors walk one picture of the graph: a time-stamped
directed multigraph whose edges are *flows*. A goods flow is a ``SHIPPED_TO`` (sender ->
receiver, evidence: the declaration); a money flow is a ``PAID`` (payer -> payee, evidence:
the transaction, or the mapped transfer's relationship). Each flow keeps the identity of the
relationship it comes from and the record it rests on, so every finding can cite its source
rows with their provenance (fetched lazily, see :meth:`FlowGraph.evidence`).

Lifting, so that flows recorded by different agencies about one company meet:

- a party (Company / Person) with a ``SAME_AS`` becomes its ``ResolvedEntity``; without
  entity resolution parties stay the per-agency source records they are;
- an account with exactly one holder (``HOLDS`` role ``holder``, else exactly one
  ``signatory``, after the lift above) becomes that holder in the *lifted* endpoints
  (``source`` / ``target``); an account with no holder or several stays an account. The
  endpoints *as recorded* (``sender`` / ``receiver``: parties lifted, accounts kept) stay
  available for detectors that reason about accounts (funnels, structuring).

Currency. Values in different currencies are never compared raw. Each flow carries a
*comparison group* and a value in that group: amounts in a currency of the fixed table
(:class:`FxTable`, ECB euro reference rates of 29 December 2023, the last fixing of 2023;
the dirham and riyal through their US dollar pegs) are converted to euro and compare with
each other; any other currency (or a flow without one) forms a group of its own and
compares only with the same currency. A fixed table is deliberate: the detectors compare
values within a tolerance (25 % by default) that exchange-rate moves over 2022-2024 stay
inside for the major currencies (sterling and the dollar moved less than 10 % against the
euro; not so the Turkish lira, whose values are only roughly comparable across those years),
and a fixed table keeps results reproducible. Replace ``ProjectionConfig.fx`` to use other
rates.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field

from graph_models.errors import SchemaError
from graph_models.records import Node, Relationship
from graph_models.schema import SCHEMA, Label, RelType
from graph_models.store.base import GraphStore
from queries import fx_reference
from queries.alerts import EvidenceRecord

# Euro reference rates of the ECB for 29 December 2023 (AED and SAR through their US dollar
# pegs). The table is data, queries/reference/ecb_rates.csv, shared with the synthetic data
# generator so that both price a currency alike; the names stay importable from here.
ECB_REFERENCE_DATE = fx_reference.ECB_REFERENCE_DATE
ECB_UNITS_PER_EUR: Mapping[str, float] = fx_reference.ECB_UNITS_PER_EUR


class FxTable(BaseModel):
    """A fixed conversion table: units of each currency per one unit of ``reference``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: str = Field(default="EUR", description="the currency values are converted to")
    as_of: str = Field(default=ECB_REFERENCE_DATE, description="the date of the rates")
    source: str = Field(
        default="ECB euro foreign exchange reference rates; AED and SAR via their USD pegs",
        description="where the rates come from",
    )
    units_per_reference: dict[str, float] = Field(
        default_factory=lambda: dict(ECB_UNITS_PER_EUR),
        description="units of each currency per one unit of the reference currency",
    )

    def normalise(self, amount: float | None, currency: str | None) -> tuple[str, float | None]:
        """The comparison group and the value in it: the reference currency for every
        currency of the table, else the currency itself ("" when unknown), unconverted."""
        code = (currency or "").strip().upper()
        if amount is None:
            return (self.reference if self.convertible(code) else code, None)
        if code == self.reference:
            return self.reference, float(amount)
        rate = self.units_per_reference.get(code)
        if rate:
            return self.reference, float(amount) / rate
        return code, float(amount)

    def convertible(self, currency: str | None) -> bool:
        code = (currency or "").strip().upper()
        return code == self.reference or code in self.units_per_reference

    def convert(self, amount: float, currency: str | None, to: str) -> float | None:
        """``amount`` in ``currency`` expressed in ``to``; None when either is not in the table."""
        source = (currency or "").strip().upper()
        target = to.strip().upper()
        if source == target:
            return float(amount)
        if not (self.convertible(source) and self.convertible(target)):
            return None
        in_reference = (
            amount if source == self.reference else amount / self.units_per_reference[source]
        )
        if target == self.reference:
            return float(in_reference)
        return float(in_reference * self.units_per_reference[target])


class ProjectionConfig(BaseModel):
    """How flows are projected (shared by the cycle, funnel and structuring detectors)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    resolve_entities: bool = Field(
        default=True,
        description="lift a party to its ResolvedEntity when a SAME_AS exists (so the"
        " customs, FIU and registry records of one company meet)",
    )
    lift_accounts: bool = Field(
        default=True,
        description="lift an account to its holder when it has exactly one (role holder, else"
        " a single signatory, as goAML records personal accounts)",
    )
    fx: FxTable = Field(default_factory=FxTable, description="the fixed conversion table")


class FlowKind(StrEnum):
    GOODS = "goods"
    MONEY = "money"


_KIND_OF: Mapping[RelType, FlowKind] = MappingProxyType(
    {RelType.SHIPPED_TO: FlowKind.GOODS, RelType.PAID: FlowKind.MONEY}
)
_RECORD_PROPERTY: Mapping[RelType, str] = MappingProxyType(
    {RelType.SHIPPED_TO: "declaration", RelType.PAID: "transaction"}
)
_AMOUNT_PROPERTY: Mapping[RelType, str] = MappingProxyType(
    {RelType.SHIPPED_TO: "value", RelType.PAID: "amount"}
)
_RECORD_LABELS = frozenset({Label.DECLARATION, Label.TRANSACTION})
_PARTY_LABELS = frozenset({Label.COMPANY, Label.PERSON})


@dataclass(frozen=True, slots=True)
class Flow:
    """One goods or money movement between two flow nodes.

    ``source`` / ``target`` are the lifted endpoints (entity, party, or an account without a
    unique holder); ``sender`` / ``receiver`` the endpoints as recorded (a party lifted to its
    entity, an account kept). ``group`` / ``value`` are the comparison group and the value in
    it (see :class:`FxTable`).
    """

    index: int
    kind: FlowKind
    source: str
    target: str
    sender: str
    receiver: str
    date: str
    day: int
    amount: float | None
    currency: str | None
    group: str
    value: float | None
    rel: tuple[str, str, str, str]
    record: str
    hs_code: str | None = None  # goods flows: the HS code declared


def day_number(iso: str) -> int:
    """An ISO date as a day number (proleptic Gregorian ordinal)."""
    return date.fromisoformat(iso[:10]).toordinal()


def record_label(record: str) -> Label | None:
    """The label of a record key (Declaration, Transaction), or None for anything else."""
    try:
        label = SCHEMA.label_of_key(record)
    except SchemaError:
        return None
    return label if label in _RECORD_LABELS else None


class FlowGraph:
    """The projected flows, sorted by (day, record, relationship), and what lifted them."""

    def __init__(
        self,
        store: GraphStore,
        flows: Sequence[Flow],
        *,
        entity_of: Mapping[str, str],
        holder_of: Mapping[str, str],
        holders: Mapping[str, list[str]] | None = None,
        config: ProjectionConfig,
    ) -> None:
        self.store = store
        self.flows: list[Flow] = list(flows)
        self.entity_of = dict(entity_of)
        self.holder_of = dict(holder_of)
        self.holders = dict(holders or {})
        self.config = config
        parties: dict[str, set[str]] = defaultdict(set)
        for party, entity in self.entity_of.items():
            parties[entity].add(party)
        accounts: dict[str, set[str]] = defaultdict(set)
        for acct, holder in self.holder_of.items():
            accounts[holder].add(acct)
        self._parties = {k: sorted(v) for k, v in parties.items()}
        self._accounts = {k: sorted(v) for k, v in accounts.items()}
        self._nodes: dict[str, Node | None] = {}

    def __len__(self) -> int:
        return len(self.flows)

    # --- who is behind a flow node ---------------------------------------------------------
    def members(self, key: str) -> list[str]:
        """The recorded keys a flow node stands for: itself first, then an entity's party
        records, the accounts lifted to it, and every holder of any of those accounts (with
        the holder's party records)."""
        out: dict[str, None] = {key: None}
        for party in self._parties.get(key, []):
            out.setdefault(party, None)
        for acct in [key, *self._accounts.get(key, [])]:
            out.setdefault(acct, None)
            for holder in self.holders.get(acct, []):
                out.setdefault(holder, None)
                for party in self._parties.get(holder, []):
                    out.setdefault(party, None)
        return list(out)

    def lift(self, key: str) -> str:
        """A recorded key as a flow node (party -> entity, account -> unique holder)."""
        key = self.entity_of.get(key, key)
        return self.holder_of.get(key, key)

    def nodes(self, keys: Iterable[str]) -> dict[str, Node]:
        """The stored nodes among ``keys`` (cached)."""
        keys = list(keys)
        wanted = [k for k in keys if k not in self._nodes]
        for k in wanted:
            if not is_node_key(k):
                self._nodes[k] = None  # a caller's group key, not a stored node
        wanted = [k for k in wanted if k not in self._nodes]
        if wanted:
            found = self.store.get_nodes(wanted)
            for k in wanted:
                self._nodes[k] = found.get(k)
        return {k: n for k in keys if (n := self._nodes.get(k)) is not None}

    def countries(self, key: str) -> list[str]:
        """Countries of a flow node, the likeliest first: an account's own country (IBAN
        prefix or country), else the parties' (a company's jurisdiction, a person's
        nationality; an entity's members by frequency), then their accounts' countries."""
        members = self.members(key)
        nodes = self.nodes(members)
        parties: Counter[str] = Counter()
        accounts: Counter[str] = Counter()
        for member in members:
            found = nodes.get(member)
            code = _country_of(found) if found is not None else None
            if code and found is not None:
                (accounts if found.label is Label.ACCOUNT else parties)[code] += 1
        own = nodes.get(key)
        first = [_country_of(own)] if own is not None and own.label is Label.ACCOUNT else []
        ordered = [*first, *_by_count(parties), *_by_count(accounts)]
        return list(dict.fromkeys(c for c in ordered if c))

    def country(self, key: str) -> str | None:
        found = self.countries(key)
        return found[0] if found else None

    def name(self, key: str) -> str:
        """A readable name for summaries: a party's name; an account as its number, with its
        holders' names when known; else the key."""
        members = self.members(key)
        nodes = self.nodes(members)
        parties = [nodes[k] for k in members if k in nodes and nodes[k].label is not Label.ACCOUNT]
        party = next((_text(n, "name") for n in parties if _text(n, "name")), None)
        own = nodes.get(key)
        if own is not None and own.label is Label.ACCOUNT:
            number = _text(own, "account_number") or _text(own, "iban") or key
            return f"{party} (account {number})" if party else f"account {number}"
        return party or key

    # --- evidence ----------------------------------------------------------------------------
    def evidence(self, flows: Iterable[Flow]) -> list[EvidenceRecord]:
        """The source records of ``flows`` with the provenance of the relationship each
        rests on (one store round trip per relationship type)."""
        wanted = list(dict.fromkeys(flows))
        by_type: dict[str, set[str]] = defaultdict(set)
        for flow in wanted:
            by_type[flow.rel[0]].add(flow.rel[1])
        found: dict[tuple[str, str, str, str], Relationship] = {}
        for rel_type, starts in sorted(by_type.items()):
            for stored in self.store.expand(starts, rel_types=[RelType(rel_type)], direction="out"):
                found[stored.identity] = stored
        out = []
        for flow in wanted:
            rel = found.get(flow.rel)
            if rel is None:
                continue
            label = record_label(flow.record)
            out.append(
                EvidenceRecord(
                    key=flow.record if label else _rel_key(flow.rel),
                    label=label.value if label else flow.rel[0],
                    date=flow.date,
                    amount=flow.amount,
                    provenance=rel.provenance,
                )
            )
        return out


def _hs_code(rel: Relationship) -> str | None:
    value = rel.properties.get("hs_code")
    return value if isinstance(value, str) and value else None


def _by_count(counts: Counter[str]) -> list[str]:
    return [c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _text(node: Node, prop: str) -> str | None:
    value = node.properties.get(prop)
    return value if isinstance(value, str) and value else None


def _rel_key(identity: tuple[str, str, str, str]) -> str:
    rel_type, start, end, key = identity
    return f"{rel_type}:{start}>{end}#{key}"


def _country_of(node: Node) -> str | None:
    props = node.properties
    if node.label is Label.ACCOUNT:
        iban = props.get("iban")
        if isinstance(iban, str) and len(iban) >= 2 and iban[:2].isalpha():
            return iban[:2].upper()
        value = props.get("country")
    elif node.label is Label.COMPANY:
        value = props.get("jurisdiction")
    elif node.label is Label.PERSON:
        value = props.get("nationality")
    else:
        value = None
    return value.upper() if isinstance(value, str) and value else None


def resolved_entities(store: GraphStore) -> dict[str, str]:
    """Party key -> ResolvedEntity key, from SAME_AS (the best-scored link if several)."""
    best: dict[str, tuple[float, str]] = {}
    for rel in store.iter_relationships([RelType.SAME_AS]):
        raw = rel.properties.get("score")
        score = float(raw) if isinstance(raw, int | float) else 0.0
        current = best.get(rel.start)
        # Highest score wins; ties go to the smaller entity key so both stores agree.
        if current is None or (-score, rel.end) < (-current[0], current[1]):
            best[rel.start] = (score, rel.end)
    return {party: entity for party, (_, entity) in best.items()}


def account_holders(
    store: GraphStore, entity_of: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Each account's unique holder (lifted to its entity): the single ``holder``, else the
    single ``signatory`` (accounts with none or several are left out); and every account's
    holders and signatories, lifted, sorted."""
    holders: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for rel in store.iter_relationships([RelType.HOLDS]):
        role = rel.properties.get("role")
        role = role if role in ("holder", "signatory") else "holder"
        holders[rel.end][str(role)].add(entity_of.get(rel.start, rel.start))
    unique: dict[str, str] = {}
    for account, roles in holders.items():
        for role in ("holder", "signatory"):
            found = roles.get(role, set())
            if found:
                if len(found) == 1:
                    unique[account] = next(iter(found))
                break
    every = {a: sorted(set().union(*roles.values())) for a, roles in holders.items()}
    return unique, every


def project_flows(
    store: GraphStore,
    *,
    kinds: Collection[FlowKind] = (FlowKind.GOODS, FlowKind.MONEY),
    config: ProjectionConfig | None = None,
) -> FlowGraph:
    """Project the goods and/or money flows of ``store`` (see the module docstring).

    Reads SAME_AS, HOLDS and the flow relationships once each: O(R log R) for R flow
    relationships (the sort). A flow whose lifted ends coincide (a holder paying cash into
    its own account, or between two of its accounts) is kept, with ``source == target``: it
    is still a deposit or a transfer, though it moves nothing between parties (the cycle
    finder ignores such loops). Only records of one party, lifted to one entity on both
    ends (a company shipping to its own other record), are dropped.
    """
    config = config or ProjectionConfig()
    entity_of = resolved_entities(store) if config.resolve_entities else {}
    holder_of, holders = account_holders(store, entity_of)
    if not config.lift_accounts:
        holder_of = {}
    rel_types = [t for t, k in _KIND_OF.items() if k in set(kinds)]
    days: dict[str, int] = {}
    raw: list[tuple[tuple[int, str, tuple[str, str, str, str]], Relationship]] = []
    for rel in store.iter_relationships(rel_types):
        when = rel.properties.get("date")
        if not isinstance(when, str) or not when:
            continue
        day = days.get(when)
        if day is None:
            day = days[when] = day_number(when)
        record = rel.properties.get(_RECORD_PROPERTY[rel.type])
        record_key = record if isinstance(record, str) and record else rel.key
        raw.append(((day, record_key, rel.identity), rel))
    # Both stores stream relationships in their own order: sort for deterministic output.
    raw.sort(key=lambda item: item[0])
    flows: list[Flow] = []
    for (day, record_key, identity), rel in raw:
        sender = entity_of.get(rel.start, rel.start)
        receiver = entity_of.get(rel.end, rel.end)
        source = holder_of.get(sender, sender)
        target = holder_of.get(receiver, receiver)
        if sender == receiver:
            continue  # one entity on both ends: nothing moved
        amount_raw = rel.properties.get(_AMOUNT_PROPERTY[rel.type])
        amount = float(amount_raw) if isinstance(amount_raw, int | float) else None
        currency_raw = rel.properties.get("currency")
        currency = currency_raw.upper() if isinstance(currency_raw, str) else None
        group, value = config.fx.normalise(amount, currency)
        flows.append(
            Flow(
                index=len(flows),
                kind=_KIND_OF[rel.type],
                source=source,
                target=target,
                sender=sender,
                receiver=receiver,
                date=str(rel.properties["date"]),
                day=day,
                amount=amount,
                currency=currency,
                group=group,
                value=value,
                rel=identity,
                record=record_key,
                hs_code=_hs_code(rel),
            )
        )
    return FlowGraph(
        store, flows, entity_of=entity_of, holder_of=holder_of, holders=holders, config=config
    )


def key_identifier_tokens(key: str) -> set[str]:
    """The identifier a party key is built on (``loaders.keys``), as a token."""
    parts = key.split(":")
    if len(parts) >= 4 and parts[0] == "company" and parts[2] == "tax":
        return {f"tax:{parts[3]}"}
    if len(parts) >= 5 and parts[0] == "company" and parts[2] == "reg" and parts[3] != "-":
        return {f"reg:{parts[3]}:{parts[4]}"}
    if len(parts) >= 4 and parts[0] == "person" and parts[2] == "id":
        return {f"id:{parts[3]}"}
    return set()


def is_node_key(key: str) -> bool:
    """Whether ``key`` has the prefix of a schema label (so a store can look it up)."""
    try:
        SCHEMA.label_of_key(key)
    except SchemaError:
        return False
    return True


def is_party(key: str) -> bool:
    """Whether a node key is a party (Company, Person) or a resolved entity."""
    try:
        label = SCHEMA.label_of_key(key)
    except SchemaError:
        return False
    return label in _PARTY_LABELS or label is Label.RESOLVED_ENTITY
