"""Prioritisation: which parties to look at first, from their alerts and their place in the graph.

Each party (the real party of :class:`~queries.misinvoicing.PartyIndex`; an account with no
single holder stays an account) gets three components, each scaled to [0, 1]:

- **alerts**: the sum over the alerts naming it of the alert's score relative to the highest
  score of its typology (scores of different detectors are on different scales: log money, or
  sums of indicator weights), times a per-typology weight (1 by default), scaled by the
  highest sum;
- **PageRank** (Brin & Page 1998, damping 0.85) and **betweenness** (Brandes 2001; for more
  than ``exact_betweenness_max`` nodes the ``betweenness_samples``-pivot approximation of
  Brandes & Pich 2007, seeded) on the *risk-weighted projection*: an undirected graph of
  parties linked by goods flows (``SHIPPED_TO``), money flows (``PAID``, accounts lifted to
  their single holder), directorships and shareholdings, and shared addresses, phones and
  e-mails (a value shared by more than ``hub_cap`` parties links none, as in the shell
  detector). An edge weighs 1, plus ``alert_edge_boost`` for every alert naming both of its
  ends, so risk concentrates centrality where the alerts are. PageRank reads weights as
  strength; betweenness reads 1 / weight as length.

``priority = alert_weight * alerts + pagerank_weight * pagerank + betweenness_weight *
betweenness``; the ranked list shows every component.

Complexity: O(N + E) to build the projection; PageRank O(E) per iteration; betweenness
O(V E) exact, O(k E) sampled (weighted: O(k (E + V log V))).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field

from graph_models.errors import SchemaError
from graph_models.schema import SCHEMA, Label, RelType
from graph_models.store.base import GraphStore
from queries.alerts import Alert, Typology, load_alerts
from queries.misinvoicing import PartyIndex

_SHARED = (RelType.REGISTERED_AT, RelType.HAS_PHONE, RelType.HAS_EMAIL)
_LINKS = (RelType.SHIPPED_TO, RelType.PAID, RelType.DIRECTOR_OF, RelType.SHAREHOLDER_OF)


class PriorityConfig(BaseModel):
    """Weights of the priority score (rationale in the descriptions)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    alert_weight: float = Field(
        default=0.6, ge=0, description="alerts are the evidence; centrality ranks among them"
    )
    pagerank_weight: float = Field(default=0.2, ge=0, description="influence in the network")
    betweenness_weight: float = Field(
        default=0.2, ge=0, description="brokerage: parties that connect otherwise separate groups"
    )
    typology_weights: dict[Typology, float] = Field(
        default_factory=lambda: dict.fromkeys(Typology, 1.0),
        description="per-typology weight of an alert (1: all typologies count alike)",
    )
    alert_edge_boost: float = Field(
        default=1.0, ge=0, description="added to an edge's weight per alert naming both ends"
    )
    damping: float = Field(
        default=0.85, gt=0, lt=1, description="PageRank damping (Brin & Page 1998)"
    )
    hub_cap: int = Field(
        default=50, ge=2, description="a shared value held by more parties links none of them"
    )
    exact_betweenness_max: int = Field(
        default=1_000, ge=2, description="nodes up to which betweenness is computed exactly"
    )
    betweenness_samples: int = Field(
        default=256,
        ge=1,
        description="pivots for approximate betweenness above that (Brandes & Pich 2007)",
    )
    seed: int = Field(default=0, description="seed of the pivot sample")


class EntityPriority(BaseModel):
    """One party's priority and its components."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="canonical party id (resolved entity, tax id or record key)")
    name: str
    records: list[str]
    priority: float
    alert_component: float
    pagerank_component: float
    betweenness_component: float
    alert_score: float = Field(description="typology-relative alert scores, weighted and summed")
    alert_count: int
    typologies: list[str]
    alerts: list[str]
    pagerank: float
    betweenness: float
    degree: int


def risk_projection(
    store: GraphStore, alerts: Sequence[Alert], index: PartyIndex, config: PriorityConfig
) -> nx.Graph:
    """The undirected risk-weighted projection described in the module docstring."""
    holders: dict[str, set[str]] = defaultdict(set)
    for rel in store.iter_relationships([RelType.HOLDS]):
        holders[rel.end].add(index.identity(rel.start))

    def lift(key: str) -> str:
        owners = holders.get(key)
        if owners is not None and len(owners) == 1:
            return next(iter(owners))
        return index.identity(key)

    graph = nx.Graph()
    graph.add_nodes_from(index.identities())
    pairs: set[tuple[str, str]] = set()
    for rel in store.iter_relationships(_LINKS):
        a, b = lift(rel.start), lift(rel.end)
        if a != b:
            pairs.add((min(a, b), max(a, b)))
    for account, owners in holders.items():
        if len(owners) > 1:
            pairs.update(
                (owner, account) if owner < account else (account, owner) for owner in owners
            )
    sharers: dict[str, set[str]] = defaultdict(set)
    for rel in store.iter_relationships(_SHARED):
        sharers[rel.end].add(index.identity(rel.start))
    for members in sharers.values():
        if 2 <= len(members) <= config.hub_cap:
            ordered = sorted(members)
            pairs.update((a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :])
    together: dict[tuple[str, str], int] = defaultdict(int)
    for alert in alerts:
        named = sorted({lift(k) for k in alert.entities})
        for i, a in enumerate(named):
            for b in named[i + 1 :]:
                together[(a, b)] += 1
    for a, b in sorted(pairs):
        weight = 1.0 + config.alert_edge_boost * together.get((a, b), 0)
        graph.add_edge(a, b, weight=weight, length=1.0 / weight)
    return graph


def prioritise(
    store: GraphStore,
    alerts: Sequence[Alert] | None = None,
    *,
    config: PriorityConfig = PriorityConfig(),  # noqa: B008 (frozen, so a safe default)
    limit: int | None = None,
) -> list[EntityPriority]:
    """Parties ranked by priority (highest first; ties by key). ``alerts`` defaults to the
    alerts stored in the graph."""
    found = list(alerts) if alerts is not None else load_alerts(store)
    index = PartyIndex.build(store)
    graph = risk_projection(store, found, index, config)
    per_typology: dict[Typology, float] = defaultdict(float)
    for alert in found:
        per_typology[alert.typology] = max(per_typology[alert.typology], alert.score)
    alert_score: dict[str, float] = defaultdict(float)
    alert_ids: dict[str, list[str]] = defaultdict(list)
    typologies: dict[str, set[str]] = defaultdict(set)
    for alert in sorted(found, key=lambda a: a.id):
        top = per_typology[alert.typology]
        relative = alert.score / top if top > 0 else 1.0
        weight = config.typology_weights.get(alert.typology, 1.0)
        for party in sorted({index.identity(k) for k in alert.entities if _is_party(k)}):
            alert_score[party] += relative * weight
            alert_ids[party].append(alert.id)
            typologies[party].add(alert.typology.value)
            if party not in graph:
                graph.add_node(party)
    pagerank = _pagerank(graph, config)
    betweenness = _betweenness(graph, config)
    top_alert = max(alert_score.values(), default=0.0)
    top_pr = max(pagerank.values(), default=0.0)
    top_bt = max(betweenness.values(), default=0.0)
    out = []
    for party in sorted(graph.nodes):
        a = alert_score.get(party, 0.0) / top_alert if top_alert > 0 else 0.0
        p = pagerank.get(party, 0.0) / top_pr if top_pr > 0 else 0.0
        b = betweenness.get(party, 0.0) / top_bt if top_bt > 0 else 0.0
        priority = (
            config.alert_weight * a + config.pagerank_weight * p + config.betweenness_weight * b
        )
        out.append(
            EntityPriority(
                key=party,
                name=index.name(party),
                records=index.records(party),
                priority=round(priority, 9),
                alert_component=round(a, 9),
                pagerank_component=round(p, 9),
                betweenness_component=round(b, 9),
                alert_score=round(alert_score.get(party, 0.0), 9),
                alert_count=len(alert_ids.get(party, [])),
                typologies=sorted(typologies.get(party, set())),
                alerts=alert_ids.get(party, []),
                pagerank=round(pagerank.get(party, 0.0), 12),
                betweenness=round(betweenness.get(party, 0.0), 12),
                degree=int(graph.degree(party)),
            )
        )
    out.sort(key=lambda e: (-e.priority, e.key))
    return out[:limit] if limit is not None else out


_PARTY_LABELS = frozenset({Label.COMPANY, Label.PERSON, Label.RESOLVED_ENTITY, Label.ACCOUNT})


def _is_party(key: str) -> bool:
    """Parties and accounts rank; other alert entities (statistics, records) do not."""
    try:
        return SCHEMA.label_of_key(key) in _PARTY_LABELS
    except SchemaError:
        return False


def _pagerank(graph: nx.Graph, config: PriorityConfig) -> dict[str, float]:
    if graph.number_of_nodes() == 0:
        return {}
    result: dict[str, float] = nx.pagerank(graph, alpha=config.damping, weight="weight")
    return result


def _betweenness(graph: nx.Graph, config: PriorityConfig) -> dict[str, float]:
    n = graph.number_of_nodes()
    if n < 3:
        return dict.fromkeys(graph.nodes, 0.0)
    k = None if n <= config.exact_betweenness_max else min(config.betweenness_samples, n)
    result: dict[str, float] = nx.betweenness_centrality(
        graph, k=k, weight="length", seed=config.seed, normalized=True
    )
    return result
