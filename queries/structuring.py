"""Structuring of cash deposits, and cash smuggling across the border.

**Structuring** (``detect_structuring``): splitting cash so that no single deposit reaches the
currency-transaction-report threshold (31 CFR 1010.100(xx) and 1010.314 in the US; FATF
Recommendation 20 red flags elsewhere). Deposits are the money flows of
:mod:`queries.projection` that put cash into an account: a CTR transaction with
``cash_direction = in`` (``loaders/ctr.py``: conductor PAID account), or a goAML transaction
whose ``transmode`` is a cash code and whose payer is a person or company rather than an
account (the conductor paying in, ``loaders/goaml.py``). A deposit is *just under* when its
amount is in [threshold x (1 - just_under), threshold). The detector raises:

- per receiving account, a window of ``window_days`` holding at least ``min_deposits`` such
  deposits whose total reaches the threshold (the total would have been reported had it been
  paid in at once); several conductors paying into the account make it a coordinated group
  (smurfing);
- per conductor, the same over deposits spread across two or more accounts (one account is
  already the account's alert).

**Cash smuggling** (``detect_cash_smuggling``): cross-border cash declarations (EU Regulation
2018/1672, art. 3: EUR 10,000 or more must be declared) per traveller (resolved entity when
resolution ran, else the traveller record). Indicators: repeated declarations just under the
threshold within ``window_days`` (a courier keeping each trip below the obligation);
undeclared cash found at a control; the traveller or the owner of the funds being, or being
an officer of, a party named in a suspicious transaction report (STR/SAR), or a trader in the
customs declarations. "Being" means the same resolved entity, or -- without resolution -- a
shared identifier (passport / id number, tax id, VAT number, registration number and
jurisdiction). An alert needs a cash red flag of its own or a direct STR link: repeated
just-under declarations, or a traveller who is an STR party, or undeclared cash corroborated
by a suspicion report that reports cash (the owner of the funds, or a company the traveller
officers, named in one; a report whose transactions are all wires says nothing about the
cash the company's staff carry) or by a repeat detection. The owner's and officer links alone
are context (companies named in reports have staff who carry declared takings every day),
and so are trader links: trade explains cash as often as it hides it; they raise the score.

Complexity: both are O(F log F) for F flows or declarations (sorting, then one sliding
window per account, conductor or traveller), plus one pass over the REPORTED_IN, HOLDS,
officer and SHIPPED_TO relationships for the cash links.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from graph_models.records import Node
from graph_models.schema import Label, RelType
from graph_models.store.base import GraphStore
from loaders.keys import norm_id
from queries.alerts import Alert, EvidenceRecord, Indicator, Typology, alert_id
from queries.projection import (
    Flow,
    FlowGraph,
    FlowKind,
    FxTable,
    ProjectionConfig,
    day_number,
    key_identifier_tokens,
    project_flows,
    resolved_entities,
)

STRUCTURING_DETECTOR = "structuring"
CASH_DETECTOR = "cash_smuggling"


# --- structuring -----------------------------------------------------------------------------
class StructuringConfig(BaseModel):
    """Thresholds of the structuring detector."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    threshold: float = Field(
        default=10_000.0,
        gt=0,
        description="the currency transaction report threshold: 10,000 (USD 10,000 under 31"
        " CFR 1010.311; CAD 10,000 large cash transaction reports, FINTRAC; AUD 10,000"
        " threshold transaction reports, AUSTRAC)",
    )
    threshold_currency: str | None = Field(
        default=None,
        description="the threshold's currency; None = 10,000 units of each transaction's own"
        " currency, as the national regimes above set it in local currency",
    )
    just_under: float = Field(
        default=0.10,
        gt=0,
        lt=1,
        description="'just under' = within this share below the threshold (9,000-9,999.99)",
    )
    window_days: int = Field(
        default=30,
        ge=0,
        description="deposits counted together fall within this many days (31 CFR"
        " 1010.100(xx) covers 'one or more days'; 30 = one monthly review cycle)",
    )
    min_deposits: int = Field(
        default=3, ge=2, description="just-under deposits in the window (a pattern, not one)"
    )
    cash_transmodes: frozenset[str] = Field(
        default=frozenset({"CASH"}),
        description="goAML transmode codes meaning cash (the code list is each FIU's own)",
    )
    deposits: Literal["cash", "any"] = Field(
        default="cash",
        description="'cash': cash deposits only; 'any': every incoming flow (wire structuring,"
        " or a transfers file without a cash marker)",
    )
    coordinated_conductors: int = Field(
        default=2, ge=2, description="conductors into one account that make it a group"
    )
    max_records: int = Field(default=200, ge=1, description="flows cited per alert")
    projection: ProjectionConfig = Field(default_factory=ProjectionConfig)

    @field_validator("cash_transmodes")
    @classmethod
    def _upper(cls, value: frozenset[str]) -> frozenset[str]:
        # transaction_modes() upper-cases what the files say; compare like with like.
        return frozenset(v.strip().upper() for v in value)

    @property
    def floor(self) -> float:
        return self.threshold * (1.0 - self.just_under)


@dataclass(frozen=True, slots=True)
class Deposit:
    flow: Flow
    amount: float  # in the threshold's currency
    unit: str  # that currency ("" when unknown)

    @property
    def account(self) -> str:
        return self.flow.receiver

    @property
    def conductor(self) -> str:
        return self.flow.source


def detect_structuring(
    store: GraphStore,
    *,
    config: StructuringConfig | None = None,
    flows: FlowGraph | None = None,
) -> list[Alert]:
    """Structuring alerts (one per account, and per conductor spreading deposits over
    several accounts), ordered by score then id. ``flows`` may be a shared projection."""
    config = config or StructuringConfig()
    if flows is None:
        flows = project_flows(store, kinds=[FlowKind.MONEY], config=config.projection)
    modes = transaction_modes(store) if config.deposits == "cash" else {}
    deposits = list(_deposits(flows, modes, config))
    under = [d for d in deposits if config.floor <= d.amount < config.threshold]
    alerts: list[Alert] = []
    by_account: dict[tuple[str, str], list[Deposit]] = defaultdict(list)
    for d in under:
        by_account[(d.account, d.unit)].append(d)
    all_by_account: dict[tuple[str, str], list[Deposit]] = defaultdict(list)
    for d in deposits:
        all_by_account[(d.account, d.unit)].append(d)
    for key, items in by_account.items():
        windows = structured_windows(items, config)
        if windows:
            alerts.append(
                _structuring_alert(
                    flows,
                    key[0],
                    windows,
                    everything=all_by_account[key],
                    config=config,
                    kind="account",
                )
            )
    by_conductor: dict[tuple[str, str], list[Deposit]] = defaultdict(list)
    for d in under:
        by_conductor[(d.conductor, d.unit)].append(d)
    for key, items in by_conductor.items():
        windows = [w for w in structured_windows(items, config) if len(_accounts(w)) >= 2]
        if windows:
            alerts.append(
                _structuring_alert(
                    flows, key[0], windows, everything=[], config=config, kind="conductor"
                )
            )
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts


def transaction_modes(store: GraphStore) -> dict[str, tuple[str | None, str | None]]:
    """Transaction key -> (transmode, cash_direction), for the cash test."""
    out: dict[str, tuple[str | None, str | None]] = {}
    for node in store.iter_nodes([Label.TRANSACTION]):
        mode = node.properties.get("transmode")
        direction = node.properties.get("cash_direction")
        out[node.key] = (
            mode.strip().upper() if isinstance(mode, str) else None,
            direction.strip().lower() if isinstance(direction, str) else None,
        )
    return out


def _deposits(
    flows: FlowGraph,
    modes: Mapping[str, tuple[str | None, str | None]],
    config: StructuringConfig,
) -> Iterable[Deposit]:
    fx = flows.config.fx
    for flow in flows.flows:
        if flow.kind is not FlowKind.MONEY or flow.amount is None:
            continue
        if config.deposits == "cash" and not _is_cash_deposit(flow, modes, config):
            continue
        if config.deposits == "any" and flow.source == flow.target:
            continue  # the holder moving its own money between its accounts
        if config.threshold_currency:
            amount = fx.convert(flow.amount, flow.currency, config.threshold_currency)
            if amount is None:
                continue
            yield Deposit(flow, amount, config.threshold_currency)
        else:
            yield Deposit(flow, flow.amount, flow.currency or "")


def _is_cash_deposit(
    flow: Flow,
    modes: Mapping[str, tuple[str | None, str | None]],
    config: StructuringConfig,
) -> bool:
    mode, direction = modes.get(flow.record, (None, None))
    if direction is not None:
        return direction == "in"
    if mode is None or mode not in config.cash_transmodes:
        return False
    # A cash deposit: a conductor (not an account) pays into the account.
    return not flow.rel[1].startswith("account:")


def structured_windows(items: Sequence[Deposit], config: StructuringConfig) -> list[list[Deposit]]:
    """Non-overlapping windows of ``window_days`` holding ``min_deposits`` just-under
    deposits whose total reaches the threshold (deposits of one account or conductor)."""
    ordered = sorted(items, key=lambda d: (d.flow.day, d.flow.index))
    out: list[list[Deposit]] = []
    i = 0
    j = 0
    total = 0.0
    while i < len(ordered):
        end = ordered[i].flow.day + config.window_days
        while j < len(ordered) and ordered[j].flow.day <= end:
            total += ordered[j].amount
            j += 1
        if j - i >= config.min_deposits and total >= config.threshold:
            out.append(ordered[i:j])
            total = 0.0
            i = j
            continue
        total -= ordered[i].amount
        i += 1
    return out


def _accounts(window: Sequence[Deposit]) -> set[str]:
    return {d.account for d in window}


def _structuring_alert(
    flows: FlowGraph,
    subject: str,
    windows: list[list[Deposit]],
    *,
    everything: Sequence[Deposit],
    config: StructuringConfig,
    kind: Literal["account", "conductor"],
) -> Alert:
    best = max(windows, key=lambda w: (len(w), sum(d.amount for d in w)))
    unit = best[0].unit or "units"
    total = sum(d.amount for d in best)
    conductors = sorted({d.conductor for d in best})
    accounts = sorted(_accounts(best))
    span = best[-1].flow.day - best[0].flow.day
    first, last = best[0].flow.day, best[-1].flow.day
    in_window = [d for d in everything if first <= d.flow.day <= last]
    share = len(best) / len(in_window) if in_window else 1.0
    coordinated = len(conductors) >= config.coordinated_conductors
    score = (
        math.log10(1.0 + total)
        + math.log2(len(best) / config.min_deposits + 1.0)
        + (1.0 if coordinated else 0.0)
        + math.log2(len(windows))
    )
    low = min(d.amount for d in best)
    high = max(d.amount for d in best)
    if kind == "account":
        who = (
            f"by {len(conductors)} conductors" if coordinated else f"by {flows.name(conductors[0])}"
        )
        summary = (
            f"{len(best)} deposits of {low:,.0f}-{high:,.0f} {unit}, just under the"
            f" {config.threshold:,.0f} threshold, into {flows.name(subject)} within {span} days"
            f" {who}; {total:,.0f} {unit} in all"
        )
    else:
        summary = (
            f"{flows.name(subject)} paid in {len(best)} deposits of {low:,.0f}-{high:,.0f}"
            f" {unit}, just under the {config.threshold:,.0f} threshold, across"
            f" {len(accounts)} accounts within {span} days; {total:,.0f} {unit} in all"
        )
    if len(windows) > 1:
        summary += f"; {len(windows)} such windows"
    indicators = [
        Indicator(
            name="deposits_just_under",
            value=len(best),
            threshold=config.min_deposits,
            explanation=f"deposits in [{config.floor:,.0f}, {config.threshold:,.0f}) {unit}"
            " in the window (at least the threshold)",
        ),
        Indicator(
            name="window_days",
            value=span,
            threshold=config.window_days,
            explanation="days from the first to the last of them (at most the threshold)",
        ),
        Indicator(
            name="total",
            value=round(total, 2),
            threshold=config.threshold,
            explanation=f"their total in {unit}: reportable had it been paid in at once",
        ),
        Indicator(
            name="conductors",
            value=len(conductors),
            threshold=config.coordinated_conductors,
            explanation="distinct conductors (at least the threshold: a coordinated group)",
        ),
    ]
    if kind == "account":
        indicators.append(
            Indicator(
                name="share_just_under",
                value=round(share, 4),
                explanation="just-under deposits among all deposits in the window",
            )
        )
    else:
        indicators.append(
            Indicator(
                name="accounts",
                value=len(accounts),
                threshold=2,
                explanation="accounts the deposits went into (at least the threshold)",
            )
        )
    entities: dict[str, None] = {}
    for key in [subject, *conductors, *accounts]:
        for member in flows.members(key):
            entities.setdefault(member, None)
    for d in best:
        entities.setdefault(d.flow.sender, None)
    cited = sorted({d.flow for w in windows for d in w}, key=lambda f: f.index)
    cited = cited[: config.max_records]
    return Alert(
        id=alert_id(Typology.STRUCTURING, [subject], kind),
        typology=Typology.STRUCTURING,
        detector=STRUCTURING_DETECTOR,
        score=round(score, 6),
        summary=summary,
        entities=sorted(entities),
        indicators=indicators,
        records=flows.evidence(cited),
        detected_on=max(f.date for f in cited),
        details={
            "subject": subject,
            "subject_kind": kind,
            "currency": unit,
            "windows": [
                {
                    "first": w[0].flow.date,
                    "last": w[-1].flow.date,
                    "deposits": len(w),
                    "total": round(sum(d.amount for d in w), 2),
                    "conductors": sorted({d.conductor for d in w}),
                    "accounts": sorted(_accounts(w)),
                }
                for w in windows
            ],
        },
    )


# --- cash smuggling --------------------------------------------------------------------------
class CashConfig(BaseModel):
    """Thresholds of the cash-smuggling detector."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    declaration_threshold: float = Field(
        default=10_000.0,
        gt=0,
        description="cash of this value or more must be declared (EU Regulation 2018/1672,"
        " art. 3(1): EUR 10,000; the UK's Cash Controls Regulations set GBP 10,000)",
    )
    declaration_currency: str = Field(
        default="EUR", description="the threshold's currency (amounts are converted to it)"
    )
    just_under: float = Field(
        default=0.10, gt=0, lt=1, description="'just under' = within this share below it"
    )
    window_days: int = Field(
        default=180,
        ge=0,
        description="crossings counted together fall within this many days (repeated trips"
        " by the same courier, FATF/MENAFATF 2015 'Money Laundering through the Physical"
        " Transportation of Cash'; half a year is an engineering default)",
    )
    min_declarations: int = Field(
        default=3, ge=2, description="just-under declarations in the window ('repeatedly')"
    )
    undeclared_repeat: int = Field(
        default=2,
        ge=1,
        description="undeclared detections of one traveller that alert without corroboration",
    )
    report_codes: frozenset[str] = Field(
        default=frozenset({"STR", "SAR"}),
        description="report codes of suspicion reports (a CTR names no suspicion)",
    )
    link_identifiers: bool = Field(
        default=True,
        description="without a resolved entity, link records sharing a strong identifier",
    )
    cash_transmodes: frozenset[str] = Field(
        default=frozenset({"CASH"}),
        description="goAML transmode codes meaning cash (the code list is each FIU's own): a"
        " report on the owner of the funds or on a company the traveller officers corroborates"
        " undeclared cash only when it reports cash, or lists no transactions to say otherwise"
        " (FATF 2015 'Money Laundering through the Physical Transportation of Cash': the"
        " courier's red flags are cash withdrawals and cash-intensive business)",
    )
    max_records: int = Field(default=100, ge=1, description="records cited per alert")
    fx: FxTable = Field(default_factory=FxTable)

    @field_validator("cash_transmodes")
    @classmethod
    def _upper_modes(cls, value: frozenset[str]) -> frozenset[str]:
        return frozenset(v.strip().upper() for v in value)

    @property
    def floor(self) -> float:
        return self.declaration_threshold * (1.0 - self.just_under)


@dataclass(slots=True)
class _CashDeclaration:
    key: str
    date: str
    day: int
    amount: float | None
    currency: str | None
    undeclared: bool
    value: float | None  # in the threshold currency
    owners: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Link:
    """Why a traveller is linked to an FIU report or a trader."""

    kind: str  # str_party, str_owner, str_officer, trader, trader_officer
    party: str  # the traveller's / owner's record that matched
    other: str  # the record it matched (STR party, trader, company officered)
    via: str  # entity or identifier token
    report: str | None = None
    role: str | None = None


def detect_cash_smuggling(store: GraphStore, *, config: CashConfig | None = None) -> list[Alert]:
    """Cash-smuggling alerts, one per traveller, ordered by score then id."""
    config = config or CashConfig()
    entity_of = resolved_entities(store)
    declarations = _cash_declarations(store, config)
    if not declarations:
        return []
    travellers: dict[str, set[str]] = defaultdict(set)  # traveller identity -> declarations
    records_of: dict[str, set[str]] = defaultdict(set)  # traveller identity -> records
    for edge in store.iter_edges([RelType.CARRIED]):
        if edge.end in declarations:
            who = entity_of.get(edge.start, edge.start)
            travellers[who].add(edge.end)
            records_of[who].add(edge.start)
    for edge in store.iter_edges([RelType.OWNS_FUNDS]):
        if edge.end in declarations:
            declarations[edge.end].owners.append(edge.start)
    links = _Links(store, entity_of, config)
    alerts = []
    for who in sorted(travellers):
        decls = sorted((declarations[k] for k in travellers[who]), key=lambda d: (d.day, d.key))
        alert = _cash_alert(
            store, who, records=sorted(records_of[who]), decls=decls, links=links, config=config
        )
        if alert is not None:
            alerts.append(alert)
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts


def _cash_declarations(store: GraphStore, config: CashConfig) -> dict[str, _CashDeclaration]:
    out = {}
    for node in store.iter_nodes([Label.CASH_DECLARATION]):
        props = node.properties
        when = props.get("date")
        if not isinstance(when, str):
            continue
        raw = props.get("amount")
        amount = float(raw) if isinstance(raw, int | float) else None
        currency = props.get("currency")
        currency = currency if isinstance(currency, str) else None
        value = None
        if amount is not None:
            value = config.fx.convert(amount, currency, config.declaration_currency)
        out[node.key] = _CashDeclaration(
            key=node.key,
            date=when,
            day=day_number(when),
            amount=amount,
            currency=currency,
            undeclared=props.get("undeclared") is True,
            value=value,
        )
    return out


class _Links:
    """Who is named in suspicion reports, who trades, who officers whom -- indexed by
    identity token (resolved entity, or a strong identifier) for the cash links.

    Tokens come from the node key (keys carry the strongest identifier, normalised:
    ``company:fiu:tax:GB123`` gives ``tax:GB123``) and, for the few records that need it (STR
    parties, travellers, owners), from the node's identifier properties too.
    """

    def __init__(self, store: GraphStore, entity_of: Mapping[str, str], config: CashConfig) -> None:
        self.store = store
        self.entity_of = entity_of
        self.config = config
        self._tokens: dict[str, frozenset[str]] = {}
        str_parties = self._str_parties()
        self._load({k for k, _, _ in str_parties})
        self.str_index: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for party, report, role in sorted(set(str_parties)):
            for token in self.tokens(party):
                self.str_index[token].append((party, report, role))
        self.cash_reports = self._cash_reports({r for _, r, _ in str_parties})
        traders: set[str] = set()
        for rel in store.iter_relationships([RelType.SHIPPED_TO]):
            traders.update((rel.start, rel.end))
        self.trader_index: dict[str, list[str]] = defaultdict(list)
        for party in sorted(traders):
            for token in self.key_tokens(party):
                self.trader_index[token].append(party)
        officers = {
            (rel.start, rel.end)
            for rel in store.iter_relationships([RelType.DIRECTOR_OF, RelType.SHAREHOLDER_OF])
        }
        self.officer_index: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for person, company in sorted(officers):
            for token in self.key_tokens(person):
                self.officer_index[token].append((person, company))

    def _str_parties(self) -> list[tuple[str, str, str]]:
        """(party, report, role) for every party named in a suspicion report, directly or
        as the holder of a reported account."""
        codes = self.config.report_codes
        reports = {
            n.key
            for n in self.store.iter_nodes([Label.REPORT])
            if str(n.properties.get("report_code", "")).upper() in codes
        }
        holders: dict[str, list[str]] = defaultdict(list)
        for edge in self.store.iter_edges([RelType.HOLDS]):
            holders[edge.end].append(edge.start)
        out: list[tuple[str, str, str]] = []
        # Bare edges: a report names its subjects in many rows, whose provenance is not needed.
        for edge in self.store.iter_edges([RelType.REPORTED_IN], ["role"]):
            if edge.end not in reports:
                continue
            if edge.start.startswith("account:"):
                out.extend((h, edge.end, f"holder of {edge.start}") for h in holders[edge.start])
            else:
                out.append((edge.start, edge.end, str(edge.values[0] or "")))
        return out

    def _cash_reports(self, reports: set[str]) -> frozenset[str]:
        """The suspicion reports that report cash: one of their transactions has a cash
        transmode (or a cash direction, as a CTR row has), or they list no transaction at all
        (a narrative-only report does not say it is about something else). A report of wire
        transfers on a company says nothing about the cash its staff carry."""
        transactions: dict[str, list[str]] = defaultdict(list)
        for edge in self.store.iter_edges([RelType.PART_OF]):
            if edge.end in reports:
                transactions[edge.end].append(edge.start)
        nodes = self.store.get_nodes(sorted({t for ts in transactions.values() for t in ts}))
        modes = self.config.cash_transmodes

        def is_cash(key: str) -> bool:
            node = nodes.get(key)
            if node is None:
                return False
            mode = node.properties.get("transmode")
            if isinstance(mode, str) and mode.strip().upper() in modes:
                return True
            return isinstance(node.properties.get("cash_direction"), str)

        return frozenset(
            r for r in reports if r not in transactions or any(map(is_cash, transactions[r]))
        )

    def _load(self, keys: Iterable[str]) -> None:
        wanted = [k for k in keys if k not in self._tokens]
        nodes = self.store.get_nodes(wanted)
        for key in wanted:
            found = set(self.key_tokens(key))
            node = nodes.get(key)
            if node is not None and self.config.link_identifiers:
                found.update(identifier_tokens(node))
            self._tokens[key] = frozenset(found)

    def tokens(self, key: str) -> frozenset[str]:
        """Tokens from the key, the resolved entity and the node's identifiers."""
        if key not in self._tokens:
            self._load([key])
        return self._tokens[key]

    def key_tokens(self, key: str) -> frozenset[str]:
        """Tokens from the key and the resolved entity only (no store access)."""
        found = {f"record:{key}"}
        entity = self.entity_of.get(key)
        if entity:
            found.add(f"entity:{entity}")
        if self.config.link_identifiers:
            found.update(key_identifier_tokens(key))
        return frozenset(found)

    def find(self, records: Iterable[str]) -> list[_Link]:
        """Links of a traveller's (or owner's) records to STR parties, traders and the
        companies they are officers of."""
        out: dict[tuple[str, str, str], _Link] = {}
        for record in records:
            for token in sorted(self.tokens(record)):
                for party, report, role in self.str_index.get(token, []):
                    link = _Link("str_party", record, party, token, report, role)
                    out.setdefault((link.kind, party, report), link)
                for trader in self.trader_index.get(token, []):
                    out.setdefault(("trader", trader, ""), _Link("trader", record, trader, token))
                for _person, company in self.officer_index.get(token, []):
                    for link in self._via_company(record, company):
                        out.setdefault((link.kind, link.other, link.report or ""), link)
        return list(out.values())

    def _via_company(self, record: str, company: str) -> Iterable[_Link]:
        for token in sorted(self.key_tokens(company)):
            for party, report, role in self.str_index.get(token, []):
                yield _Link("str_officer", record, party, token, report, role)
            for trader in self.trader_index.get(token, []):
                yield _Link("trader_officer", record, trader, token)


def identifier_tokens(node: Node) -> set[str]:
    """Strong identifiers of a party record as tokens (normalised as node keys are)."""
    props = node.properties
    out = set()

    def text(name: str) -> str | None:
        value = props.get(name)
        return norm_id(value) if isinstance(value, str) and value.strip() else None

    if node.label is Label.PERSON:
        if (number := text("id_number")) is not None:
            out.add(f"id:{number}")
    elif node.label is Label.COMPANY:
        if (tax := text("tax_id")) is not None:
            out.add(f"tax:{tax}")
        if (vat := text("vat_number")) is not None:
            out.add(f"vat:{vat}")
        reg = text("registration_number")
        country = props.get("jurisdiction")
        if reg is not None and isinstance(country, str) and country:
            out.add(f"reg:{country.upper()}:{reg}")
    return out


def _cash_alert(
    store: GraphStore,
    who: str,
    *,
    records: list[str],
    decls: list[_CashDeclaration],
    links: _Links,
    config: CashConfig,
) -> Alert | None:
    under = [
        d
        for d in decls
        if d.value is not None
        and not d.undeclared
        and config.floor <= d.value < config.declaration_threshold
    ]
    structured = _densest(under, config.window_days)
    undeclared = [d for d in decls if d.undeclared]
    own_links = links.find(records)
    owners = sorted({o for d in decls for o in d.owners})
    owner_links = [
        _Link(_OWNER_KINDS.get(ln.kind, ln.kind), ln.party, ln.other, ln.via, ln.report, ln.role)
        for ln in links.find(owners)
    ]
    all_links = own_links + owner_links
    kinds = {ln.kind for ln in all_links}
    # The traveller named in a suspicion report is a finding on its own; the owner of the
    # funds, or a company the traveller officers, named in one corroborates undeclared cash
    # (companies named in reports have staff who carry declared takings every day). A trader
    # link explains cash as much as it incriminates it: context and score only.
    direct_str = "str_party" in kinds
    # A report on the owner or a company the traveller officers corroborates only if it
    # reports cash: background reports on trading companies are mostly about their wires.
    cash_str = any(ln.kind in _STR_LINKS and ln.report in links.cash_reports for ln in all_links)
    corroborated = direct_str or cash_str or len(undeclared) >= config.undeclared_repeat
    repeated = len(structured) >= config.min_declarations
    if not (repeated or direct_str or (undeclared and corroborated)):
        return None
    cur = config.declaration_currency
    total = sum(d.value or 0.0 for d in decls)
    score = (
        math.log10(1.0 + total)
        + (1.0 if repeated else 0.0) * math.log2(1 + len(structured))
        + (1.0 if undeclared else 0.0) * math.log2(1 + len(undeclared))
        + (1.5 if direct_str else 0.0)
        + (0.5 if kinds - {"str_party"} else 0.0)
    )
    indicators = _cash_indicators(structured, undeclared, all_links, config)
    reasons = []
    if repeated:
        span = structured[-1].day - structured[0].day
        reasons.append(
            f"{len(structured)} declarations just under {config.declaration_threshold:,.0f}"
            f" {cur} within {span} days"
        )
    if undeclared:
        amount = sum(d.value or 0.0 for d in undeclared)
        reasons.append(f"{len(undeclared)} undeclared detection(s) of {amount:,.0f} {cur}")
    for kind, words in _LINK_WORDS:
        if kind in kinds:
            reasons.append(words)
    names = _names(store, records)
    cited = sorted({d.key for d in [*structured, *undeclared]} or {d.key for d in decls})
    records_out = _node_evidence(store, cited[: config.max_records], declarations=decls)
    reports = sorted({ln.report for ln in all_links if ln.report})
    records_out += _node_evidence(store, reports[: config.max_records])
    entities = {who, *records, *owners, *(ln.other for ln in all_links)}
    return Alert(
        id=alert_id(Typology.CASH_SMUGGLING, [who]),
        typology=Typology.CASH_SMUGGLING,
        detector=CASH_DETECTOR,
        score=round(score, 6),
        summary=f"Traveller {names}: " + "; ".join(reasons),
        entities=sorted(entities),
        indicators=indicators,
        records=records_out,
        detected_on=max(d.date for d in decls),
        details={
            "traveller": who,
            "records": records,
            "declarations": len(decls),
            "links": [
                {
                    "kind": ln.kind,
                    "record": ln.party,
                    "linked": ln.other,
                    "via": ln.via,
                    "report": ln.report,
                    "role": ln.role,
                }
                for ln in all_links
            ],
        },
    )


# A link found for the owner of the funds rather than the traveller.
_OWNER_KINDS = {"str_party": "str_owner", "trader": "trader_owner"}
_STR_LINKS = frozenset({"str_party", "str_owner", "str_officer"})
_LINK_WORDS = (
    ("str_party", "named in a suspicion report"),
    ("str_owner", "carries funds of a party named in a suspicion report"),
    ("str_officer", "officer of a party named in a suspicion report"),
    ("trader", "a customs trader"),
    ("trader_owner", "carries funds of a customs trader"),
    ("trader_officer", "officer of a customs trader"),
)


def _densest(items: list[_CashDeclaration], window: int) -> list[_CashDeclaration]:
    """The largest set of ``items`` (sorted by day) within ``window`` days."""
    best: list[_CashDeclaration] = []
    j = 0
    for i in range(len(items)):
        while j < len(items) and items[j].day <= items[i].day + window:
            j += 1
        if j - i > len(best):
            best = items[i:j]
    return best


def _cash_indicators(
    structured: list[_CashDeclaration],
    undeclared: list[_CashDeclaration],
    links: list[_Link],
    config: CashConfig,
) -> list[Indicator]:
    cur = config.declaration_currency
    out = [
        Indicator(
            name="declarations_just_under",
            value=len(structured),
            threshold=config.min_declarations,
            explanation=f"declarations in [{config.floor:,.0f},"
            f" {config.declaration_threshold:,.0f}) {cur} within {config.window_days} days"
            " (at least the threshold)",
        ),
        Indicator(
            name="undeclared_detections",
            value=len(undeclared),
            threshold=config.undeclared_repeat,
            explanation="cash found undeclared at a control (alone: at least the threshold)",
        ),
    ]
    if undeclared:
        out.append(
            Indicator(
                name="undeclared_amount",
                value=round(sum(d.value or 0.0 for d in undeclared), 2),
                threshold=config.declaration_threshold,
                explanation=f"undeclared cash found, in {cur}",
            )
        )
    for kind, _ in _LINK_WORDS:
        found = [ln for ln in links if ln.kind == kind]
        if found:
            out.append(
                Indicator(
                    name=f"link_{kind}",
                    value=len(found),
                    threshold=1,
                    explanation="; ".join(
                        sorted({f"{ln.other} via {ln.via.split(':')[0]}" for ln in found})[:5]
                    ),
                )
            )
    return out


def _names(store: GraphStore, records: Sequence[str]) -> str:
    nodes = store.get_nodes(records)
    names = sorted(
        {str(n.properties.get("name")) for n in nodes.values() if n.properties.get("name")}
    )
    return " / ".join(names[:3]) or ", ".join(records[:1])


def _node_evidence(
    store: GraphStore,
    keys: Sequence[str],
    *,
    declarations: Sequence[_CashDeclaration] = (),
) -> list[EvidenceRecord]:
    amounts: dict[str, float | None] = {d.key: d.amount for d in declarations}
    nodes = store.get_nodes(keys)
    out = []
    for key in keys:
        node = nodes.get(key)
        if node is None:
            continue
        props = node.properties
        date = props.get("date") or props.get("submission_date")
        out.append(
            EvidenceRecord(
                key=key,
                label=node.label.value,
                date=date if isinstance(date, str) else None,
                amount=amounts.get(key),
                provenance=node.provenance,
            )
        )
    return out


__all__ = [
    "CASH_DETECTOR",
    "STRUCTURING_DETECTOR",
    "CashConfig",
    "Deposit",
    "StructuringConfig",
    "detect_cash_smuggling",
    "detect_structuring",
    "identifier_tokens",
    "key_identifier_tokens",
    "structured_windows",
    "transaction_modes",
]
