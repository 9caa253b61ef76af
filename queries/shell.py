"""Shell-company networks: explainable indicators per company, networks as communities.

**Per company** (a real company: its register, customs, tax and FIU records lifted together by
:class:`~queries.misinvoicing.PartyIndex`), the red flags of the FATF / Egmont Group report
*Concealment of Beneficial Ownership* (2018) and of the FATF / Egmont *Trade-Based Money
Laundering: Risk Indicators* (2021), each with the value that fired it and its threshold:

========================== ========================================================= ======
indicator                  fires when                                                weight
========================== ========================================================= ======
mass_registration_address  its registered address hosts > ``mass_registration_min``   1.0
                           companies (a formation agent's or a virtual office)
nominee_director           a director of it sits on > ``nominee_boards_min`` boards   1.0
recent_incorporation       incorporated < ``recent_days`` before its first trade      1.0
no_employees               every head count on record (register, tax) is 0            0.5
low_tax_turnover           tax turnover <= ``low_turnover_ratio`` x its customs       1.5
                           trade in the periods it filed for
no_tax_returns             a taxpayer (tax id known, of the tax data's country)        1.0
                           trading >= ``min_customs_trade`` that filed no return
secrecy_jurisdiction       it, a shareholder company or an account of it is in a      1.0
                           secrecy jurisdiction (``reference/secrecy_jurisdictions``)
shared_contact             a phone, e-mail or account shared with other companies     0.5
circular_ownership         it lies on a SHAREHOLDER_OF cycle                          1.5
========================== ========================================================= ======

The score is the sum of the weights of the indicators that fired (``ShellConfig.weights``).
The weights are judgement: indicators that contradict economic substance (turnover far below
the goods it moves, owning itself through others) count more than the ones an ordinary small
company can show (no staff, a shared phone).

**Networks** are communities of the shared-attribute projection: companies linked when they
share an address, a director, a phone, an e-mail or an account, or when one holds shares in or
directs the other. A shared value held by more than ``hub_cap`` companies links none of them
(a formation agent's address would otherwise merge every client into one "network"): it shows
as the mass-registration indicator instead. The cap defaults to the store's neighbourhood hub
cap (50), so the projection and the investigator's neighbourhood view cut hubs alike.
Connected components are the communities; a component above ``max_network_size`` is split by
Louvain modularity (Blondel et al. 2008; seeded, so deterministic). A network alerts when at
least ``min_flagged_members`` of its companies, and at least ``min_flagged_share`` of them,
are shell-like: they score ``member_threshold`` or more, and not on circumstance alone (being
young, in a secrecy jurisdiction, sharing a phone: ``context_indicators``); alerts are
ranked by the sum of their members' scores and list each member's indicators.

A record with no identifier whose name two identified companies share (a customs party typed
as a name and an address) lends no links: it carries both namesakes' addresses and would tie
a network to its namesake's neighbours (see :mod:`queries.namesakes`).

Complexity: O(N + E) to read N party records and E relationships, O(sum of s^2) for the
projection edges (s = companies sharing a value, at most ``hub_cap``), O(V + E) for cycles
(strongly connected components) and components; Louvain is near-linear per component.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field

from graph_models.records import Node
from graph_models.schema import Label, RelType
from graph_models.store.base import GraphStore
from loaders.tax import parse_period
from queries.alerts import Alert, EvidenceRecord, Indicator, Typology, alert_id
from queries.misinvoicing import (
    PartyIndex,
    account_country,
    latest_date,
    node_evidence,
    read_shipments,
    tax_jurisdiction,
)
from queries.namesakes import ambiguous_records

DETECTOR = "shell_network"
SECRECY_FILE = Path(__file__).resolve().parent / "reference" / "secrecy_jurisdictions.csv"
INDICATORS = (
    "mass_registration_address",
    "nominee_director",
    "recent_incorporation",
    "no_employees",
    "low_tax_turnover",
    "no_tax_returns",
    "secrecy_jurisdiction",
    "shared_contact",
    "circular_ownership",
)
DEFAULT_WEIGHTS: dict[str, float] = {
    "mass_registration_address": 1.0,
    "nominee_director": 1.0,
    "recent_incorporation": 1.0,
    "no_employees": 0.5,
    "low_tax_turnover": 1.5,
    "no_tax_returns": 1.0,
    "secrecy_jurisdiction": 1.0,
    "shared_contact": 0.5,
    "circular_ownership": 1.5,
}
# The attributes that link companies in the projection, by relationship type.
_ATTRIBUTES = {
    RelType.REGISTERED_AT: "address",
    RelType.HAS_PHONE: "phone",
    RelType.HAS_EMAIL: "email",
    RelType.HOLDS: "account",
}


def load_secrecy_jurisdictions(path: Path = SECRECY_FILE) -> frozenset[str]:
    """ISO alpha-2 codes from the ``code`` column of a CSV list."""
    with path.open(encoding="utf-8", newline="") as handle:
        return frozenset(
            row["code"].strip().upper() for row in csv.DictReader(handle) if row.get("code")
        )


class ShellConfig(BaseModel):
    """Thresholds and weights of the shell-network detector (rationale in the descriptions)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mass_registration_min: int = Field(
        default=10,
        ge=2,
        description="more companies than this at one address is mass registration (FATF/Egmont"
        " 2018 cite formation agents' and virtual offices' addresses; 10 is judgement: a"
        " shared office building rarely registers more)",
    )
    nominee_boards_min: int = Field(
        default=10,
        ge=2,
        description="a director on more boards than this is nominee-like (FATF/Egmont 2018,"
        " 'nominee directors'; judgement: few real executives direct more than ten companies)",
    )
    recent_days: int = Field(
        default=180,
        ge=0,
        description="trading within this many days of incorporation (FATF/Egmont TBML risk"
        " indicators 2021: 'newly formed company' with large trade; six months is judgement)",
    )
    min_customs_trade: float = Field(
        default=100_000.0,
        ge=0,
        description="customs trade (national currency) from which the turnover check applies",
    )
    low_turnover_ratio: float = Field(
        default=0.1,
        ge=0,
        description="tax turnover at most this share of customs trade in the same periods is"
        " 'nil or low' (a trader's turnover is normally at least the goods it moves)",
    )
    hub_cap: int = Field(
        default=50,
        ge=2,
        description="a value shared by more companies links none of them (the store's"
        " neighbourhood hub cap, so both views cut hubs alike)",
    )
    member_threshold: float = Field(
        default=2.0,
        gt=0,
        description="a member counts as shell-like from this score (two ordinary indicators or"
        " one strong one and a weak one)",
    )
    context_indicators: frozenset[str] = Field(
        default=frozenset({"recent_incorporation", "secrecy_jurisdiction", "shared_contact"}),
        description="indicators of a company's circumstances rather than of missing substance"
        " or concealment: a member is shell-like only when some other indicator fired too (a"
        " young Swiss company with a sister company is not, on that alone, a shell; FATF/Egmont"
        " 2018 define the shell by its lack of operations)",
    )
    min_flagged_members: int = Field(default=2, ge=1, description="shell-like members to alert")
    min_flagged_share: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="and at least this share of the network shell-like: a network of shells,"
        " not a large ordinary cluster (a business centre's tenants, a group of companies) with"
        " a couple of odd members (judgement)",
    )
    max_network_size: int = Field(
        default=200,
        ge=2,
        description="components larger than this are split into Louvain communities",
    )
    seed: int = Field(default=0, description="Louvain seed, for reproducible communities")
    weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_WEIGHTS),
        description="indicator weights (judgement; see the module docstring)",
    )
    secrecy_jurisdictions: frozenset[str] | None = Field(
        default=None,
        description="ISO alpha-2 codes; None reads queries/reference/secrecy_jurisdictions.csv"
        " (Tax Justice Network, Financial Secrecy Index 2018, secrecy score >= 65)",
    )


class ShellIndicator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    value: float | str | bool
    threshold: float | str | bool | None = None
    weight: float
    explanation: str = ""


class ShellProfile(BaseModel):
    """One company's shell indicators and score."""

    model_config = ConfigDict(extra="forbid")

    party: str = Field(description="canonical party id (resolved entity, tax id or record key)")
    name: str
    records: list[str]
    score: float
    indicators: list[ShellIndicator]

    def fired(self, name: str) -> ShellIndicator | None:
        return next((i for i in self.indicators if i.name == name), None)


@dataclass
class _Facts:
    """Everything read from the store once, lifted to real parties."""

    index: PartyIndex
    companies: list[str]
    attrs: dict[str, dict[str, set[str]]]  # kind -> value key -> companies
    attrs_of: dict[str, set[tuple[str, str]]]  # company -> {(kind, value key)}
    boards: dict[str, set[str]]  # director party -> companies directed
    directors_of: dict[str, set[str]]  # company -> director parties
    owners: list[tuple[str, str]]  # (shareholder party, company it holds shares in)
    corporate: list[tuple[str, str]]  # (company, company it holds shares in or directs)
    owners_of: dict[str, list[str]]  # company -> its other shareholders
    accounts: dict[str, Node]
    attribute_nodes: dict[str, Node]
    first_trade: dict[str, str] = field(default_factory=dict)
    trade: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    returns: dict[str, list[Node]] = field(default_factory=dict)
    tax_country: str | None = None


def _read(store: GraphStore) -> _Facts:
    index = PartyIndex.build(store)
    companies = [i for i in index.identities() if index.label(i) is Label.COMPANY]
    company_set = set(companies)
    attrs: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    attrs_of: dict[str, set[tuple[str, str]]] = defaultdict(set)
    rel_types = [*_ATTRIBUTES, RelType.DIRECTOR_OF, RelType.SHAREHOLDER_OF]
    boards: dict[str, set[str]] = defaultdict(set)
    directors_of: dict[str, set[str]] = defaultdict(set)
    owners: set[tuple[str, str]] = set()
    corporate: set[tuple[str, str]] = set()
    # A name-only record that namesakes share carries their addresses and contacts too: its
    # links would tie one company to its namesake's neighbours (queries.namesakes).
    ambiguous = ambiguous_records(index.nodes, index.canonical)
    # Bare edges (ends and type): the links' provenance is not needed to build the networks.
    for rel in store.iter_edges(rel_types):
        if rel.start in ambiguous or rel.end in ambiguous:
            continue
        start = index.identity(rel.start)
        if rel.type in _ATTRIBUTES:
            if start in company_set:
                kind = _ATTRIBUTES[rel.type]
                attrs[kind][rel.end].add(start)
                attrs_of[start].add((kind, rel.end))
            continue
        end = index.identity(rel.end)
        if rel.type is RelType.DIRECTOR_OF:
            boards[start].add(end)
            directors_of[end].add(start)
        else:
            owners.add((start, end))
        if start in company_set and end in company_set and start != end:
            corporate.add((start, end))
    wanted = {k for values in attrs.values() for k in values}
    attribute_nodes = store.get_nodes(sorted(wanted))
    accounts = {k: n for k, n in attribute_nodes.items() if n.label is Label.ACCOUNT}
    facts = _Facts(
        index=index,
        companies=companies,
        attrs=attrs,
        attrs_of=attrs_of,
        boards=boards,
        directors_of=directors_of,
        owners=sorted(owners),
        corporate=sorted(corporate),
        owners_of=_owners_of(owners),
        accounts=accounts,
        attribute_nodes=attribute_nodes,
    )
    _read_trade(store, facts)
    return facts


def _owners_of(owners: set[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for owner, owned in sorted(owners):
        if owner != owned:
            out[owned].append(owner)
    return dict(out)


def _read_trade(store: GraphStore, facts: _Facts) -> None:
    index = facts.index
    returns_nodes = {n.key: n for n in store.iter_nodes([Label.TAX_RETURN])}
    returns: dict[str, list[Node]] = defaultdict(list)
    for rel in store.iter_relationships([RelType.FILED]):
        if rel.end in returns_nodes:
            returns[index.identity(rel.start)].append(returns_nodes[rel.end])
    facts.returns = {k: sorted(v, key=lambda n: n.key) for k, v in returns.items()}
    # The tax data is one country's: only a company of that country is expected to file, and
    # only its trade declared to that country's customs is comparable with its returns.
    facts.tax_country = tax_jurisdiction(index, returns)
    trade: dict[str, list[tuple[str, float]]] = defaultdict(list)
    first: dict[str, str] = {}
    for s in read_shipments(store):
        for party in (s.sender, s.receiver):
            if party is not None:
                ident = index.identity(party)
                first[ident] = min(first.get(ident, s.date), s.date)
        # The domestic side of a declaration is the importer of an import and the exporter of
        # an export: the party that files tax returns in the reporting country.
        own = s.receiver if s.is_import else s.sender if s.is_export else None
        value = s.customs_value or s.invoice_value
        if own is not None and value and s.reporting_country == facts.tax_country:
            trade[index.identity(own)].append((s.date, value))
    facts.first_trade = first
    facts.trade = dict(trade)


# --- indicators ------------------------------------------------------------------------------


def company_profiles(
    store: GraphStore,
    *,
    config: ShellConfig = ShellConfig(),  # noqa: B008 (frozen, so a safe default)
) -> list[ShellProfile]:
    """Every company's shell indicators and score, highest score first."""
    return _profiles(_read(store), config)


def _profiles(facts: _Facts, config: ShellConfig) -> list[ShellProfile]:
    secrecy = (
        config.secrecy_jurisdictions
        if config.secrecy_jurisdictions is not None
        else load_secrecy_jurisdictions()
    )
    in_cycle = _ownership_cycles(facts.owners)
    out = []
    for company in facts.companies:
        fired = [
            *_registration(facts, company, config),
            *_substance(facts, company, config),
            *_links(facts, company, secrecy, in_cycle),
        ]
        weighted = [
            ShellIndicator(**{**i, "weight": config.weights.get(str(i["name"]), 0.0)})
            for i in fired
        ]
        out.append(
            ShellProfile(
                party=company,
                name=facts.index.name(company),
                records=facts.index.records(company),
                score=round(sum(i.weight for i in weighted), 6),
                indicators=weighted,
            )
        )
    out.sort(key=lambda p: (-p.score, p.party))
    return out


Fired = dict[str, float | str | bool | None]


def _registration(facts: _Facts, company: str, config: ShellConfig) -> list[Fired]:
    fired: list[Fired] = []
    addresses = [v for kind, v in facts.attrs_of.get(company, ()) if kind == "address"]
    crowd = max((len(facts.attrs["address"][a]) for a in addresses), default=0)
    if crowd > config.mass_registration_min:
        fired.append(
            {
                "name": "mass_registration_address",
                "value": float(crowd),
                "threshold": float(config.mass_registration_min),
                "explanation": f"{crowd} companies registered at its address",
            }
        )
    boards = max((len(facts.boards[d]) for d in facts.directors_of.get(company, ())), default=0)
    if boards > config.nominee_boards_min:
        fired.append(
            {
                "name": "nominee_director",
                "value": float(boards),
                "threshold": float(config.nominee_boards_min),
                "explanation": f"a director of it sits on {boards} boards",
            }
        )
    incorporated = facts.index.values(company, "incorporation_date")
    first = facts.first_trade.get(company)
    if incorporated and first:
        days = (date.fromisoformat(first) - date.fromisoformat(incorporated[0])).days
        if days < config.recent_days:
            fired.append(
                {
                    "name": "recent_incorporation",
                    "value": float(days),
                    "threshold": float(config.recent_days),
                    "explanation": f"first trade {first}, {days} days after incorporation"
                    f" on {incorporated[0]}",
                }
            )
    return fired


def _substance(facts: _Facts, company: str, config: ShellConfig) -> list[Fired]:
    fired: list[Fired] = []
    sources = [*facts.index.record_nodes(company), *facts.returns.get(company, ())]
    heads = [
        _number(n.properties["employees"])
        for n in sources
        if isinstance(n.properties.get("employees"), int)
    ]
    if heads and max(heads) == 0:
        fired.append(
            {
                "name": "no_employees",
                "value": 0.0,
                "threshold": 0.0,
                "explanation": "every head count on record (register, tax returns) is 0",
            }
        )
    trade = facts.trade.get(company, [])
    returns = _comparable_returns(facts.returns.get(company, []))
    if returns:
        spans = []
        for r in returns:
            try:
                p = parse_period(str(r.properties.get("period", "")))
            except ValueError:
                continue
            spans.append((p.first.isoformat(), p.last.isoformat()))
        traded = sum(v for d, v in trade if any(lo <= d <= hi for lo, hi in spans))
        turnover = sum(_number(r.properties.get("turnover")) for r in returns)
        if traded >= config.min_customs_trade and turnover <= config.low_turnover_ratio * traded:
            fired.append(
                {
                    "name": "low_tax_turnover",
                    "value": round(turnover / traded, 4),
                    "threshold": config.low_turnover_ratio,
                    "explanation": f"tax turnover {turnover:,.0f} against customs trade"
                    f" {traded:,.0f} in the {len(returns)} period(s) it filed for",
                }
            )
    else:
        traded = sum(v for _, v in trade)
        countries = set(facts.index.values(company, "jurisdiction"))
        taxpayer = bool(facts.index.values(company, "tax_id")) and facts.tax_country in countries
        if taxpayer and traded >= config.min_customs_trade:
            fired.append(
                {
                    "name": "no_tax_returns",
                    "value": round(traded, 2),
                    "threshold": config.min_customs_trade,
                    "explanation": f"customs trade of {traded:,.0f} and no tax return filed",
                }
            )
    return fired


def _links(facts: _Facts, company: str, secrecy: frozenset[str], in_cycle: set[str]) -> list[Fired]:
    fired: list[Fired] = []
    places = {
        f"jurisdiction {c}" for c in facts.index.values(company, "jurisdiction") if c in secrecy
    }
    for owner in facts.owners_of.get(company, ()):
        for c in facts.index.values(owner, "jurisdiction"):
            if c in secrecy:
                places.add(f"shareholder in {c}")
    for kind, key in facts.attrs_of.get(company, ()):
        if kind == "account" and key in facts.accounts:
            country = account_country(facts.accounts[key])
            if country in secrecy:
                places.add(f"account in {country}")
    if places:
        fired.append(
            {
                "name": "secrecy_jurisdiction",
                "value": "; ".join(sorted(places)),
                "threshold": "secrecy jurisdictions list",
                "explanation": "linked to a secrecy jurisdiction (TJN Financial Secrecy Index)",
            }
        )
    shared = sorted(
        f"{kind} shared with {len(facts.attrs[kind][key]) - 1} other(s)"
        for kind, key in facts.attrs_of.get(company, ())
        if kind != "address" and len(facts.attrs[kind][key]) > 1
    )
    if shared:
        fired.append(
            {
                "name": "shared_contact",
                "value": "; ".join(shared),
                "threshold": 1.0,
                "explanation": "phone, e-mail or account also used by other companies",
            }
        )
    if company in in_cycle:
        fired.append(
            {
                "name": "circular_ownership",
                "value": True,
                "threshold": None,
                "explanation": "it owns itself through a chain of shareholdings",
            }
        )
    return fired


def _comparable_returns(returns: list[Node]) -> list[Node]:
    vat = [r for r in returns if r.properties.get("tax_type") == "vat"]
    return vat or [r for r in returns if r.properties.get("tax_type") == "income"]


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _ownership_cycles(owners: Iterable[tuple[str, str]]) -> set[str]:
    """Parties on a SHAREHOLDER_OF cycle: members of a non-trivial strongly connected
    component of the shareholding graph, or holders of their own shares."""
    graph = nx.DiGraph()
    graph.add_edges_from(sorted(owners))
    out: set[str] = set()
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            out.update(component)
    out.update(a for a, b in graph.edges if a == b)
    return out


# --- networks --------------------------------------------------------------------------------


def shared_attribute_projection(facts: _Facts, config: ShellConfig) -> nx.Graph:
    """Companies linked by shared values (each at most ``hub_cap`` companies) and by direct
    ownership or directorship; edge attribute ``via`` lists what they share."""
    graph = nx.Graph()
    graph.add_nodes_from(facts.companies)
    shared: list[tuple[str, list[str]]] = [
        (f"{kind}:{key}", sorted(members))
        for kind, values in sorted(facts.attrs.items())
        for key, members in sorted(values.items())
    ]
    shared += [(f"director:{d}", sorted(c)) for d, c in sorted(facts.boards.items())]
    for via, members in shared:
        if not 2 <= len(members) <= config.hub_cap:
            continue
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                _link(graph, a, b, via)
    for owner, owned in facts.corporate:
        _link(graph, owner, owned, "ownership")
    return graph


def _link(graph: nx.Graph, a: str, b: str, via: str) -> None:
    if graph.has_edge(a, b):
        graph[a][b]["via"].append(via)
    else:
        graph.add_edge(a, b, via=[via])


def _communities(graph: nx.Graph, config: ShellConfig) -> list[list[str]]:
    out: list[list[str]] = []
    for component in sorted(nx.connected_components(graph), key=sorted):
        if len(component) <= config.max_network_size:
            out.append(sorted(component))
            continue
        sub = nx.Graph()
        sub.add_nodes_from(sorted(component))
        sub.add_edges_from(sorted(tuple(sorted(e)) for e in graph.subgraph(component).edges))
        parts = nx.community.louvain_communities(sub, seed=config.seed)
        out.extend(sorted(p) for p in parts)
    out.sort(key=lambda c: c[0])
    return out


def detect_shell_networks(
    store: GraphStore,
    *,
    config: ShellConfig = ShellConfig(),  # noqa: B008 (frozen, so a safe default)
) -> list[Alert]:
    """``shell_network`` alerts, one per community with enough shell-like members."""
    facts = _read(store)
    profiles = {p.party: p for p in _profiles(facts, config)}
    graph = shared_attribute_projection(facts, config)
    alerts = []
    for members in _communities(graph, config):
        flagged = [m for m in members if _shell_like(profiles[m], config)]
        if len(members) < 2 or len(flagged) < config.min_flagged_members:
            continue
        if len(flagged) < config.min_flagged_share * len(members):
            continue
        alerts.append(_alert(facts, graph, members, [profiles[m] for m in members], config))
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts


def _shell_like(profile: ShellProfile, config: ShellConfig) -> bool:
    """Scores the member threshold, with at least one indicator beyond circumstance."""
    return profile.score >= config.member_threshold and any(
        i.name not in config.context_indicators for i in profile.indicators
    )


def _alert(
    facts: _Facts,
    graph: nx.Graph,
    members: list[str],
    profiles: list[ShellProfile],
    config: ShellConfig,
) -> Alert:
    index = facts.index
    flagged = [p for p in profiles if _shell_like(p, config)]
    total = sum(p.score for p in profiles)
    links: dict[str, int] = defaultdict(int)
    for a, b in graph.subgraph(members).edges:
        for via in graph[a][b]["via"]:
            links[via.split(":", 1)[0]] += 1
    people = sorted(
        {
            d
            for m in members
            for d in facts.directors_of.get(m, ())
            if index.label(d) is Label.PERSON
        }
    )
    shared_people = [d for d in people if len(facts.boards[d] & set(members)) > 1]
    counts = {
        name: sum(1 for p in profiles if p.fired(name) is not None)
        for name in INDICATORS
        if any(p.fired(name) is not None for p in profiles)
    }
    records = _evidence(facts, members)
    top = ", ".join(f"{n} ({c})" for n, c in sorted(counts.items(), key=lambda kv: -kv[1])[:3])
    summary = (
        f"{len(members)} companies linked by shared"
        f" {', '.join(sorted(links)) or 'attributes'}; {len(flagged)} look like shells"
        f" (score >= {config.member_threshold:g}): {top}"
    )
    return Alert(
        id=alert_id(Typology.SHELL_NETWORK, members),
        typology=Typology.SHELL_NETWORK,
        detector=DETECTOR,
        score=round(total, 6),
        summary=summary,
        entities=index.records_of([*members, *shared_people]),
        indicators=[
            Indicator(
                name="shell_like_members",
                value=float(len(flagged)),
                threshold=float(config.min_flagged_members),
                explanation=f"members scoring at least {config.member_threshold:g}",
            ),
            Indicator(name="network_size", value=float(len(members))),
            Indicator(
                name="mean_member_score",
                value=round(total / len(members), 4),
                threshold=config.member_threshold,
            ),
            *(
                Indicator(
                    name=f"members_with_{name}",
                    value=float(count),
                    explanation=f"members showing {name.replace('_', ' ')}",
                )
                for name, count in sorted(counts.items())
            ),
        ],
        records=records,
        detected_on=latest_date(records),
        details={
            "members": [p.model_dump(mode="json") for p in profiles],
            "links": dict(sorted(links.items())),
            "shared_directors": shared_people,
        },
    )


def _evidence(facts: _Facts, members: list[str]) -> list[EvidenceRecord]:
    """Each member's records and the shared values that link them."""
    records = [
        node_evidence(n, date_prop="incorporation_date")
        for n in sorted(
            (n for m in members for n in facts.index.record_nodes(m)), key=lambda n: n.key
        )
    ]
    member_set = set(members)
    shared = sorted(
        {
            key
            for m in members
            for _, key in facts.attrs_of.get(m, ())
            if len(_holders(facts, key) & member_set) > 1
        }
    )
    records += [
        node_evidence(facts.attribute_nodes[k], date_prop=None)
        for k in shared
        if k in facts.attribute_nodes
    ]
    return records


def _holders(facts: _Facts, key: str) -> set[str]:
    for values in facts.attrs.values():
        if key in values:
            return values[key]
    return set()
