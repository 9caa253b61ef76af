"""Circular trade and round-tripping: time-respecting cycles in the goods and money flows.

A *temporal cycle* is a sequence of flows e1 .. ek (2 <= k <= ``max_length``) where each
flow starts where the previous one ended, the last one returns to where the first started,
no party is visited twice, each flow is dated on or after the one before (``strictly_later``
asks for a later day: with day-dated records, same-day onward transfers are common in
layering, so the default accepts them), the whole cycle fits in ``window_days`` and every
value is within ``value_tolerance`` of every other (largest / smallest <= 1 + tolerance, so
consecutive hops agree and drift cannot compound round the cycle). Values compare only
inside one comparison group (see :mod:`queries.projection`).

Which cycles, and which typology:

- goods only, or goods and money mixed -> ``circular_trade`` (the same goods, or the value
  of goods, going round related traders: the carousel and round-tripping-of-goods patterns
  of the FATF/Egmont 2020 *Trade-Based Money Laundering: Trends and Developments*). The goods
  flows of a cycle must share an HS heading (``same_goods_digits``): the same goods go round,
  while two partners who sell each other different products do not make a ring. A mixed
  cycle of two flows -- goods out, payment back -- is an ordinary sale and is not a finding;
  a mixed cycle needs three flows or more (e.g. goods out to B, on to C, and C pays A); two
  partners shipping each other goods of one heading is intra-industry trade, a finding only
  when the same consignment came back (one quantity, ``two_party_quantity_tolerance``);
- money only -> ``circular_trade`` when the members also trade goods among themselves (the
  payments settle the circular trade and join its alert; ``details["goods_ring"]`` says
  whether the goods were seen going round too -- the domestic legs of a VAT carousel, for
  one, are never declared at customs); two trading partners paying each other back and
  forth is netting, not a finding. Otherwise ``round_tripping``: funds leave the originator
  and come back to it (the OECD *Benchmark Definition of Foreign Direct Investment*, 4th
  ed., 2008: local funds channelled abroad and returned as foreign investment or loans). A
  money cycle whose members all sit in one known country is domestic and is not reported
  (``report_domestic_money_cycles``); a two-party money cycle is a round trip only when the
  other party is in a secrecy jurisdiction (``two_party_needs_secrecy``: between ordinary
  parties it is mostly a refund); secrecy jurisdictions on the way raise the score.

Common control. Foreign-to-foreign transfers reach no home FIU, so funds sent to one offshore
company and returned by another under the same board leave no cycle in the records, nor do
funds that come back to a sister company of the originator. With ``control_groups`` a second,
money-only search contracts the companies that share a director (the board seats a register
records) into one node each, and keeps the round trips that pass through such a group and
cite some flow the first search did not. Only directors count, not owners: beneficial
ownership usually links the originator to its own offshore vehicles, and contracting those
would make the round trip vanish inside one node.

Canonical rotation. A cycle is found once: from its first flow in time. When the days are not
all equal exactly one rotation is time-respecting (the cyclic day sequence has one descent,
and the rotation must start right after it); when every flow is on one day, the rotation
starting at the earliest-ordered flow is kept. (Johnson's "smallest node first" rule does not
apply here: the rotation starting at the smallest node is in general not time-respecting.)
Cycles over the same members -- several rounds, parallel declarations -- are one alert whose
id is ``alert_id(typology, members)``, with each distinct cycle (an ordered set of flows)
listed once in its evidence.

Enumeration (:func:`find_temporal_cycles`) is an anchored, time-pruned depth-first search:
each flow e0 = (s -> v, day t0) in turn is the anchor, and the search extends from v only
along flows dated in [previous day, t0 + window], of the anchor's group and inside the value
band, to parties not on the path, closing when it reaches s. Before searching, a bounded
backward breadth-first pass from s over the flows in the window and band gives each node's
hop distance to s (ignoring time order, so it never prunes a real cycle), and the search
drops any node that cannot get back to s within the remaining hops.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from queries.alerts import Alert, Indicator, Typology, alert_id
from queries.projection import (
    Flow,
    FlowGraph,
    FlowKind,
    ProjectionConfig,
    is_node_key,
    key_identifier_tokens,
    project_flows,
)

DETECTOR = "cycles"

# Offshore financial centres of the IMF's OFC assessment programme (IMF, "Offshore Financial
# Centers", background paper, 2000; Zoromé, IMF WP/07/87, 2007), by ISO 3166 code; the
# Netherlands Antilles as its successors CW, SX and BQ; Labuan without the rest of Malaysia.
OFFSHORE_CENTRES = frozenset(
    {
        "AD", "AG", "AI", "AW", "BB", "BH", "BM", "BQ", "BS", "BZ", "CH", "CK", "CR", "CW",
        "CY", "DM", "GD", "GG", "GI", "HK", "IE", "IM", "JE", "KN", "KY", "LB", "LC", "LI",
        "LU", "MC", "MH", "MO", "MS", "MT", "MU", "NR", "NU", "PA", "PW", "SC", "SG", "SX",
        "TC", "VC", "VG", "VU", "WS",
    }
)  # fmt: skip


class CycleConfig(BaseModel):
    """Thresholds of the circular trade / round-tripping detector."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_days: int = Field(
        default=180,
        ge=0,
        description="the whole cycle within this many days. 180 = three successive trades"
        " each settled within the 60-day commercial payment term of the EU Late Payment"
        " Directive 2011/7/EU, art. 3(5); longer rings need a longer window",
    )
    min_length: int = Field(default=2, ge=2, description="fewest flows in a cycle")
    max_length: int = Field(
        default=8,
        ge=2,
        le=12,
        description="most flows in a cycle (an engineering bound on the search; the rings"
        " of the FATF/Egmont 2020 TBML case studies are shorter)",
    )
    value_tolerance: float | None = Field(
        default=0.25,
        ge=0,
        description="largest / smallest hop value <= 1 + tolerance. 25 % covers the IMF's"
        " 10 % CIF/FOB convention plus a trading margin per hop; None = no value check",
    )
    strictly_later: bool = Field(
        default=False,
        description="each flow on a later day than the one before (default: on or after,"
        " since same-day onward transfers are the norm in layering)",
    )
    kinds: frozenset[FlowKind] = Field(
        default=frozenset({FlowKind.GOODS, FlowKind.MONEY}),
        description="which flows to walk: goods, money or both (both also finds mixed cycles)",
    )
    secrecy_jurisdictions: frozenset[str] = Field(
        default=OFFSHORE_CENTRES,
        description="jurisdictions whose presence in a cycle raises its score (IMF OFC list)",
    )
    same_goods_digits: int | None = Field(
        default=4,
        ge=2,
        le=10,
        description="the goods flows of a cycle share this many leading HS digits: the same"
        " goods going round (FATF/Egmont 2020 TBML: goods repeatedly exported and"
        " re-imported); 4 = the HS heading, which survives re-classification at 6 digits"
        " between administrations; None = any goods",
    )
    two_party_needs_secrecy: bool = Field(
        default=True,
        description="a money cycle of two parties is round-tripping only through a secrecy"
        " jurisdiction (funds 'channelled abroad' and back, OECD BD4); between ordinary"
        " parties it is most often a refund",
    )
    two_party_quantity_tolerance: float | None = Field(
        default=0.05,
        ge=0,
        description="a goods cycle of two parties is circular trade only when its declarations"
        " carry one quantity within this tolerance (the same consignment came back): two"
        " partners selling each other goods of one heading is ordinary intra-industry trade"
        " (Grubel & Lloyd 1975); None = any two-party goods cycle",
    )
    report_settlement_cycles: bool = Field(
        default=False,
        description="report money cycles among parties that trade goods with each other but"
        " whose goods were not seen going round (the VAT carousel's money, which the carousel"
        " detector reports) as circular trade",
    )
    report_domestic_money_cycles: bool = Field(
        default=False,
        description="also report money cycles whose members are all known to be in one country",
    )
    max_steps_per_anchor: int | None = Field(
        default=100_000,
        ge=1,
        description="path extensions tried from one anchor flow before its search stops"
        " (a ring traded round many times has combinatorially many cycles; the alert needs"
        " a few); None = exhaustive",
    )
    control_groups: bool = Field(
        default=True,
        description="also search money flows with the companies that share a director"
        " contracted to one node, for round trips through companies under common control"
        " (see the module docstring)",
    )
    control_max_boards: int = Field(
        default=50,
        ge=2,
        description="a director on more boards than this groups none of them (a formation"
        " agent's house director would join unrelated clients; the store's hub cap)",
    )
    max_cycles_per_alert: int = Field(
        default=20, ge=1, description="distinct cycles cited as evidence in one alert"
    )
    border_weight: float = Field(default=0.5, ge=0, description="score per border crossed")
    secrecy_weight: float = Field(
        default=1.0, ge=0, description="score per secrecy jurisdiction a member is in"
    )
    shell_weight: float = Field(
        default=1.0, ge=0, description="score per unit of a member's shell score (hook)"
    )
    projection: ProjectionConfig = Field(default_factory=ProjectionConfig)


# --- the enumeration -------------------------------------------------------------------------
class TemporalEdge(NamedTuple):
    """An edge for :func:`find_temporal_cycles`: integer nodes, a day number, a value (None
    when unknown) and the comparison group values must share."""

    source: int
    target: int
    day: int
    value: float | None
    group: str = ""


def find_temporal_cycles(
    edges: Sequence[TemporalEdge],
    *,
    max_length: int = 8,
    min_length: int = 2,
    window_days: int = 180,
    tolerance: float | None = 0.25,
    strictly_later: bool = False,
    max_steps_per_anchor: int | None = None,
    stats: SearchStats | None = None,
) -> list[tuple[int, ...]]:
    """Every time-respecting simple cycle, once, as edge indices in canonical rotation.

    See the module docstring for the rules. Edges that loop on one node, and (when a
    tolerance is set) edges without a positive value, never take part.
    ``max_steps_per_anchor`` bounds the path extensions tried from one anchor: repeated
    trading round one ring yields combinatorially many distinct cycles (every choice of
    parallel flows per hop), and a bound keeps the search linear in the anchors while still
    finding the ring; ``stats`` (if given) counts anchors, steps and truncated anchors.

    Complexity: the index build is O(E log E). Then for each anchor edge, a backward pass
    over the in-edges within the window and value band of the nodes at most
    ``max_length - 1`` hops from the anchor's start, and a depth-first search whose work is
    O(b^(L-1)) in the worst case, where b is the number of out-edges of a node inside the
    window, later than the previous hop and inside the value band -- in practice small,
    because the window, the time order, the value band and the backward distance all cut
    the branching. Memory is O(E) plus the search path. Contrast the static enumeration
    (``networkx.simple_cycles``), whose work grows with every static cycle of the graph
    however far apart its edges are in time.

    Returns the cycles sorted, each as a tuple of edge indices starting at its first flow.
    """
    if min_length < 2 or max_length < min_length:
        return []
    rules = _Rules(
        max_length=max_length,
        min_length=min_length,
        window_days=window_days,
        ratio=math.inf if tolerance is None else 1.0 + tolerance,
        check_values=tolerance is not None,
        strictly_later=strictly_later,
    )
    search = _Search(edges, rules)
    stats = stats if stats is not None else SearchStats()
    found: list[tuple[int, ...]] = []
    for anchor in search.usable:
        found.extend(search.from_anchor(anchor, budget=max_steps_per_anchor, stats=stats))
    found.sort()
    return found


@dataclass(slots=True)
class SearchStats:
    """What a search did: anchors tried, path extensions, anchors stopped by the budget."""

    anchors: int = 0
    steps: int = 0
    truncated: list[int] = field(default_factory=list)


class _BudgetSpentError(Exception):
    """Raised inside the depth-first search when an anchor's step budget is spent."""


@dataclass(frozen=True, slots=True)
class _Rules:
    max_length: int
    min_length: int
    window_days: int
    ratio: float
    check_values: bool
    strictly_later: bool


class _Search:
    """Indexes shared by every anchor's search (out- and in-edges per node, by day)."""

    def __init__(self, edges: Sequence[TemporalEdge], rules: _Rules) -> None:
        self.rules = rules
        self.usable = [
            i
            for i, e in enumerate(edges)
            if e.source != e.target
            and (not rules.check_values or (e.value is not None and e.value > 0))
        ]
        self.day = [e.day for e in edges]
        self.source = [e.source for e in edges]
        self.target = [e.target for e in edges]
        out_edges: dict[int, list[int]] = defaultdict(list)
        in_edges: dict[int, list[int]] = defaultdict(list)
        # By (day, index), the order that decides ties between same-day anchors: a stable
        # sort by day of indices already in order.
        for i in sorted(self.usable, key=self.day.__getitem__):
            out_edges[self.source[i]].append(i)
            in_edges[self.target[i]].append(i)
        self.out_edges = dict(out_edges)
        self.in_edges = dict(in_edges)
        self.out_days = {n: [self.day[i] for i in lst] for n, lst in out_edges.items()}
        self.in_days = {n: [self.day[i] for i in lst] for n, lst in in_edges.items()}
        self.value = [e.value for e in edges]
        # Edges without a value only take part when values are not checked.
        self.checked_value = [0.0 if e.value is None else e.value for e in edges]
        self.group = [e.group for e in edges]

    def distances(
        self,
        start: int,
        *,
        first: int,
        last: int,
        group: str,
        low: float,
        high: float,
        depth: int,
    ) -> dict[int, int]:
        """Hops from each node back to ``start`` over edges dated in [first, last], in
        ``group`` and with values in [low, high], up to ``depth`` hops (time order ignored,
        so this over-approximates what the search can reach: safe for pruning)."""
        dist = {start: 0}
        frontier = [start]
        for hops in range(1, depth + 1):
            nxt: list[int] = []
            for node in frontier:
                lst = self.in_edges.get(node)
                if not lst:
                    continue
                days = self.in_days[node]
                for k in range(bisect_left(days, first), len(lst)):
                    e = lst[k]
                    if days[k] > last:
                        break
                    if self.group[e] != group:
                        continue
                    v = self.value[e]
                    if v is not None and not (low <= v <= high):
                        continue
                    u = self.source[e]
                    if u not in dist:
                        dist[u] = hops
                        nxt.append(u)
            if not nxt:
                break
            frontier = nxt
        return dist

    def anchor(self, anchor: int) -> _Anchor | None:
        """What a search from ``anchor`` needs, or None when no cycle can start there."""
        rules = self.rules
        start, first = self.source[anchor], self.target[anchor]
        t0 = self.day[anchor]
        deadline = t0 + rules.window_days
        # Cheap rejections first: the anchor's end must have a flow out, and its start a
        # flow in, dated between the anchor's day and the deadline.
        if not (
            _any_between(self.out_days.get(first), t0, deadline, rules.strictly_later)
            and _any_between(self.in_days.get(start), t0, deadline, rules.strictly_later)
        ):
            return None
        v0 = self.value[anchor]
        checked = rules.check_values and v0 is not None
        low, high = (-math.inf, math.inf)
        if checked and v0 is not None:
            low, high = v0 / rules.ratio, v0 * rules.ratio
        group = self.group[anchor]
        dist = self.distances(
            start,
            first=t0,
            last=deadline,
            group=group,
            low=low,
            high=high,
            depth=rules.max_length - 1,
        )
        if dist.get(first, rules.max_length) > rules.max_length - 1:
            return None
        return _Anchor(anchor, start, first, t0, deadline, group, checked, dist)

    def from_anchor(
        self, anchor: int, *, budget: int | None = None, stats: SearchStats | None = None
    ) -> list[tuple[int, ...]]:
        """The cycles whose canonical rotation starts with ``anchor`` (those found before
        the step budget ran out, if it did)."""
        stats = stats if stats is not None else SearchStats()
        stats.anchors += 1
        a = self.anchor(anchor)
        if a is None:
            return []
        found, steps, complete = _walk(self, a, -1 if budget is None else budget)
        stats.steps += steps
        if not complete:
            stats.truncated.append(anchor)
        return found


def _walk(search: _Search, a: _Anchor, limit: int) -> tuple[list[tuple[int, ...]], int, bool]:
    """The depth-first search from one anchor: (cycles, steps taken, finished?)."""
    rules = search.rules
    max_length, min_length, ratio = rules.max_length, rules.min_length, rules.ratio
    edge_bound = bisect_right if rules.strictly_later else bisect_left
    anchor, start, t0, deadline = a.edge, a.start, a.day, a.deadline
    group, dist, checked = a.group, a.dist, a.checked
    found: list[tuple[int, ...]] = []
    path, on_path = [anchor], {start, a.first}
    out_edges, out_days = search.out_edges, search.out_days
    target, value, grp = search.target, search.checked_value, search.group
    steps = [0]

    def extend(node: int, last_day: int, lo: float, hi: float) -> None:
        lst = out_edges.get(node)
        if not lst:
            return
        days = out_days[node]
        depth = len(path)
        for k in range(edge_bound(days, last_day), len(lst)):
            e = lst[k]
            d = days[k]
            if d > deadline:
                break
            if grp[e] != group:
                continue
            nlo, nhi = lo, hi
            if checked:
                x = value[e]
                nlo = x if x < lo else lo
                nhi = x if x > hi else hi
                if nhi > ratio * nlo:
                    continue
            t = target[e]
            if t == start:
                # All on the anchor's day: only the earliest-ordered anchor reports it.
                if depth + 1 >= min_length and (d != t0 or _earliest(anchor, path, e)):
                    found.append((*path, e))
                continue
            if t in on_path:
                continue
            back = dist.get(t)
            if back is None or depth + 1 + back > max_length:
                continue
            steps[0] += 1
            if steps[0] == limit:
                raise _BudgetSpentError
            on_path.add(t)
            path.append(e)
            extend(t, d, nlo, nhi)
            path.pop()
            on_path.discard(t)

    try:
        extend(a.first, t0, value[anchor], value[anchor])
    except _BudgetSpentError:
        return found, steps[0], False
    return found, steps[0], True


@dataclass(frozen=True, slots=True)
class _Anchor:
    edge: int
    start: int
    first: int
    day: int
    deadline: int
    group: str
    checked: bool
    dist: dict[int, int]


def _any_between(days: list[int] | None, first: int, last: int, strictly: bool) -> bool:
    """Whether sorted ``days`` hold a day in [first, last] (in (first, last] if strictly)."""
    if not days:
        return False
    k = bisect_right(days, first) if strictly else bisect_left(days, first)
    return k < len(days) and days[k] <= last


def _earliest(anchor: int, path: list[int], closing: int) -> bool:
    """With every flow on one day, edge index order decides the canonical rotation."""
    return anchor < closing and all(anchor < e for e in path[1:])


# --- from the graph to alerts ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FlowCycle:
    """One temporal cycle of flows, in canonical rotation."""

    flows: tuple[Flow, ...]

    @property
    def members(self) -> tuple[str, ...]:
        return tuple(f.source for f in self.flows)

    @property
    def kinds(self) -> frozenset[FlowKind]:
        return frozenset(f.kind for f in self.flows)

    @property
    def days(self) -> int:
        return self.flows[-1].day - self.flows[0].day

    @property
    def value(self) -> float:
        """The smallest hop value (what went all the way round)."""
        values = [f.value for f in self.flows if f.value is not None]
        return min(values) if values else 0.0

    @property
    def spread(self) -> float:
        values = [f.value for f in self.flows if f.value is not None and f.value > 0]
        return max(values) / min(values) - 1.0 if values else 0.0


def temporal_edges(flows: FlowGraph) -> tuple[list[TemporalEdge], list[str]]:
    """The flows as integer-node edges (the same order), and the node keys by index."""
    index: dict[str, int] = {}
    keys: list[str] = []

    def node(key: str) -> int:
        found = index.get(key)
        if found is None:
            found = index[key] = len(keys)
            keys.append(key)
        return found

    edges = [
        TemporalEdge(node(f.source), node(f.target), f.day, f.value, f.group) for f in flows.flows
    ]
    return edges, keys


def flow_cycles(
    flows: FlowGraph, config: CycleConfig, stats: SearchStats | None = None
) -> list[FlowCycle]:
    """The temporal cycles of a projection, less the two-flow goods-out-payment-back ones and
    those whose goods change heading on the way."""
    edges, _ = temporal_edges(flows)
    found = find_temporal_cycles(
        edges,
        max_length=config.max_length,
        min_length=config.min_length,
        window_days=config.window_days,
        tolerance=config.value_tolerance,
        strictly_later=config.strictly_later,
        max_steps_per_anchor=config.max_steps_per_anchor,
        stats=stats,
    )
    cycles = [FlowCycle(tuple(flows.flows[i] for i in ids)) for ids in found]
    return [
        c
        for c in cycles
        if not (len(c.flows) == 2 and len(c.kinds) == 2)
        and _same_goods(c, config.same_goods_digits)
    ]


def _same_goods(cycle: FlowCycle, digits: int | None) -> bool:
    """Whether the goods flows of ``cycle`` carry one HS heading (unknown codes pass)."""
    if digits is None:
        return True
    codes = {f.hs_code[:digits] for f in cycle.flows if f.hs_code}
    return len(codes) <= 1


def detect_cycles(
    store: GraphStore,
    *,
    config: CycleConfig | None = None,
    flows: FlowGraph | None = None,
    shell_scores: Mapping[str, float] | None = None,
    groups: Mapping[str, str] | None = None,
) -> list[Alert]:
    """Circular trade and round-tripping alerts, one per set of cycle members.

    ``flows`` may be a projection shared with other detectors (it must hold the kinds in
    ``config.kinds``). Two hooks for the shell-network detector's findings:
    ``shell_scores`` (party or entity key -> score in [0, 1]) raises the score of cycles
    through shells; ``groups`` (party or entity key -> group key, e.g. the members of one
    shell network, or companies under common control) contracts each group to one node:
    flows inside a group vanish and flows in and out of it meet, so funds that go out into
    a network of shells and come back from another of its companies are a cycle even when
    the transfers inside the network were never reported (foreign-to-foreign payments reach
    no home FIU), and a return to a sister company closes the loop. Group intermediaries
    only: a group holding the originator together with its own offshore vehicles (common
    control often does) turns the round trip into flows inside one node, which vanish.
    Alerts are ordered by score (highest first), then id.
    """
    config = config or CycleConfig()
    if flows is None:
        flows = project_flows(store, kinds=config.kinds, config=config.projection)
    else:
        flows = _only_kinds(flows, config.kinds)
    if groups:
        flows = _contracted(flows, groups)
    by_members: dict[frozenset[str], list[FlowCycle]] = defaultdict(list)
    stats = SearchStats()
    for cycle in flow_cycles(flows, config, stats):
        by_members[frozenset(cycle.members)].append(cycle)
    traded = _Trade(flows)
    builder = _AlertBuilder(flows, config, shell_scores or {}, frozenset(stats.truncated))
    alerts = []
    for members, cycles in by_members.items():
        alert = builder.build(members, cycles, traded)
        if alert is not None:
            alerts.append(alert)
    if config.control_groups and not groups and FlowKind.MONEY in config.kinds:
        alerts += _controlled_round_trips(store, flows, config, shell_scores or {}, alerts)
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts


_CONTROL_PREFIX = "control:"  # not a schema prefix: group keys are never taken for nodes


def control_groups(store: GraphStore, flows: FlowGraph, *, max_boards: int) -> dict[str, str]:
    """Flow node -> group key for the companies that share a director (directors with more
    than ``max_boards`` boards left out). Parties are lifted as the flows lift them."""
    boards: dict[str, set[str]] = defaultdict(set)
    for rel in store.iter_relationships([RelType.DIRECTOR_OF]):
        boards[flows.lift(rel.start)].add(flows.lift(rel.end))
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for companies in boards.values():
        if 2 <= len(companies) <= max_boards:
            first, *rest = sorted(companies)
            for other in rest:
                parent[find(other)] = find(first)
    members: dict[str, list[str]] = defaultdict(list)
    for key in sorted(parent):
        members[find(key)].append(key)
    return {
        key: _CONTROL_PREFIX + keys[0] for keys in members.values() if len(keys) > 1 for key in keys
    }


def _controlled_round_trips(
    store: GraphStore,
    flows: FlowGraph,
    config: CycleConfig,
    shell_scores: Mapping[str, float],
    found: list[Alert],
) -> list[Alert]:
    """Round trips that close only through a group under common control (module docstring)."""
    groups = control_groups(store, flows, max_boards=config.control_max_boards)
    if not groups:
        return []
    contracted = _contracted(flows, groups)
    money = [f for f in contracted.flows if f.kind is FlowKind.MONEY and f.source != f.target]
    searched = FlowGraph(
        contracted.store,
        [_reindex(f, i) for i, f in enumerate(money)],
        entity_of=contracted.entity_of,
        holder_of=contracted.holder_of,
        holders=contracted.holders,
        config=contracted.config,
    )
    by_members: dict[frozenset[str], list[FlowCycle]] = defaultdict(list)
    stats = SearchStats()
    for cycle in flow_cycles(searched, config, stats):
        if any(m.startswith(_CONTROL_PREFIX) for m in cycle.members):
            by_members[frozenset(cycle.members)].append(cycle)
    cited = {r.key for a in found for r in a.records}
    by_group: dict[str, list[str]] = defaultdict(list)
    for node, group in sorted(groups.items()):
        by_group[group].append(node)
    traded = _Trade(contracted)
    builder = _AlertBuilder(searched, config, shell_scores, frozenset(stats.truncated))
    out = []
    for members, cycles in by_members.items():
        alert = builder.build(members, cycles, traded)
        if (
            alert is None
            or alert.typology is not Typology.ROUND_TRIPPING
            or {r.key for r in alert.records} <= cited
        ):
            continue
        controlled = {
            searched.name(m): sorted(flows.name(n) for n in by_group[m])
            for m in sorted(members)
            if m.startswith(_CONTROL_PREFIX)
        }
        alert.details["common_control"] = controlled
        alert.summary += "".join(
            f"; {name} stands for {len(names)} companies sharing a director"
            for name, names in controlled.items()
        )
        out.append(alert)
    return out


def _contracted(flows: FlowGraph, groups: Mapping[str, str]) -> FlowGraph:
    """The projection with every flow node of a group replaced by the group's key (a node
    belongs to the group of its own key, else of its first member key that has one)."""
    group_of: dict[str, str] = {}

    def find(node: str) -> str:
        found = group_of.get(node)
        if found is None:
            found = next((groups[m] for m in flows.members(node) if m in groups), node)
            group_of[node] = found
        return found

    contracted = [
        _reindex(f, f.index, source=find(f.source), target=find(f.target)) for f in flows.flows
    ]
    # Each contracted node becomes a "party" of its group, so the group's members (and
    # their names and countries) are found as an entity's are; so do the party records of a
    # contracted entity, which carry the countries an entity key does not.
    grouped = {n: g for n, g in group_of.items() if g != n}
    records = {r: grouped[e] for r, e in flows.entity_of.items() if e in grouped}
    entity_of = {**flows.entity_of, **records, **grouped}
    return FlowGraph(
        flows.store,
        contracted,
        entity_of=entity_of,
        holder_of=flows.holder_of,
        holders=flows.holders,
        config=flows.config,
    )


def _only_kinds(flows: FlowGraph, kinds: frozenset[FlowKind]) -> FlowGraph:
    if all(f.kind in kinds for f in flows.flows):
        return flows
    kept = [f for f in flows.flows if f.kind in kinds]
    return FlowGraph(
        flows.store,
        [_reindex(f, i) for i, f in enumerate(kept)],
        entity_of=flows.entity_of,
        holder_of=flows.holder_of,
        holders=flows.holders,
        config=flows.config,
    )


def _reindex(
    flow: Flow, index: int, *, source: str | None = None, target: str | None = None
) -> Flow:
    return Flow(
        index=index,
        kind=flow.kind,
        source=flow.source if source is None else source,
        target=flow.target if target is None else target,
        sender=flow.sender,
        receiver=flow.receiver,
        date=flow.date,
        day=flow.day,
        amount=flow.amount,
        currency=flow.currency,
        group=flow.group,
        value=flow.value,
        rel=flow.rel,
        record=flow.record,
    )


class _Trade:
    """Which flow nodes trade goods with each other: directly in the projection, or --
    without entity resolution -- through the identifier their records are keyed by (the
    customs record ``company:customs:tax:GB1`` and the FIU record ``company:fiu:tax:GB1``
    of one company), so that payments among traders are recognised as trade settlement."""

    def __init__(self, flows: FlowGraph) -> None:
        self.flows = flows
        self._idents: dict[str, frozenset[str]] = {}
        self.pairs: set[frozenset[str]] = set()
        for f in flows.flows:
            if f.kind is FlowKind.GOODS:
                for a in self.ident(f.source):
                    for b in self.ident(f.target):
                        if a != b:
                            self.pairs.add(frozenset((a, b)))

    def ident(self, node: str) -> frozenset[str]:
        found = self._idents.get(node)
        if found is None:
            tokens = {node}
            for member in self.flows.members(node):
                tokens.update(key_identifier_tokens(member))
            found = self._idents[node] = frozenset(tokens)
        return found

    def among(self, members: Iterable[str]) -> bool:
        """Whether any two of ``members`` trade goods with each other."""
        idents = [self.ident(m) for m in sorted(members)]
        for i, left in enumerate(idents):
            for right in idents[i + 1 :]:
                if any(frozenset((a, b)) in self.pairs for a in left for b in right):
                    return True
        return False


_KIND_WORDS = {
    frozenset({FlowKind.GOODS}): "goods",
    frozenset({FlowKind.MONEY}): "money",
    frozenset({FlowKind.GOODS, FlowKind.MONEY}): "goods and money",
}


class _AlertBuilder:
    def __init__(
        self,
        flows: FlowGraph,
        config: CycleConfig,
        shell_scores: Mapping[str, float],
        truncated: frozenset[int],
    ) -> None:
        self.flows = flows
        self.config = config
        self.shell_scores = shell_scores
        self.truncated = truncated

    def build(
        self, members: frozenset[str], cycles: list[FlowCycle], traded: _Trade
    ) -> Alert | None:
        config = self.config
        cycles.sort(key=_cycle_rank)
        best = cycles[0]
        kinds = frozenset().union(*(c.kinds for c in cycles))
        ring = best.members
        countries = {m: self.flows.country(m) for m in ring}
        settles_trade = traded.among(members)
        # Any country a member is recorded in counts (a group's, an entity's records').
        secrecy = sorted(
            {c for m in ring for c in self.flows.countries(m) if c in config.secrecy_jurisdictions}
        )
        if FlowKind.GOODS in kinds:
            # Two partners selling each other goods of one heading is intra-industry trade
            # (Grubel & Lloyd 1975), common and legitimate; between two parties, goods going
            # round show as the same consignment coming back.
            if len(ring) == 2 and not any(self._same_consignment(c) for c in cycles):
                return None
            typology = Typology.CIRCULAR_TRADE
        elif settles_trade:
            # Payments round traders whose goods did not go round (the same members would
            # have one alert, goods and money together): netting between two partners (an
            # advance refunded, a credit note), or, longer, the VAT-carousel signature whose
            # domestic legs are invoices, not declarations -- queries/carousel.py's finding.
            if len(ring) == 2 or not config.report_settlement_cycles:
                return None
            typology = Typology.CIRCULAR_TRADE
        else:
            typology = Typology.ROUND_TRIPPING
            known = [c for c in countries.values() if c]
            domestic = len(known) == len(ring) and len(set(known)) == 1
            if domestic and not config.report_domestic_money_cycles:
                return None
            if len(ring) == 2 and config.two_party_needs_secrecy and not secrecy:
                return None
        borders = self._borders(best, countries)
        shells = {m: s for m in ring if (s := self._shell_score(m)) > 0}
        cited = cycles[: config.max_cycles_per_alert]
        score = (
            math.log10(1.0 + best.value)
            + config.border_weight * borders
            + config.secrecy_weight * len(secrecy)
            + config.shell_weight * sum(shells.values())
            + math.log2(len(cycles))
        )
        indicators = self._indicators(
            best=best,
            cycles=cycles,
            borders=borders,
            secrecy=secrecy,
            shells=shells,
            countries=countries,
        )
        used = [f for c in cited for f in c.flows]
        records = self.flows.evidence(sorted(set(used), key=lambda f: f.index))
        entities: dict[str, None] = {}
        for m in ring:
            for key in self.flows.members(m):
                entities.setdefault(key, None)
        for f in used:
            entities.setdefault(f.rel[1], None)
            entities.setdefault(f.rel[2], None)
        names = [self.flows.name(m) for m in ring]
        # Group keys (the ``groups`` hook) are not nodes: the alert names their members.
        entities = {k: None for k in entities if is_node_key(k)}
        return Alert(
            id=alert_id(typology, members),
            typology=typology,
            detector=DETECTOR,
            score=round(score, 6),
            summary=self._summary(
                typology=typology,
                best=best,
                names=names,
                count=len(cycles),
                borders=borders,
                kinds=kinds,
            ),
            entities=sorted(entities),
            indicators=indicators,
            records=records,
            detected_on=max(f.date for f in used),
            details={
                "ring": list(ring),
                "names": names,
                "countries": [countries[m] for m in ring],
                "kinds": sorted(k.value for k in kinds),
                "goods_ring": any(FlowKind.GOODS in c.kinds for c in cycles),
                "cycles": [[f.record for f in c.flows] for c in cited],
                "cycles_found": len(cycles),
                # The step budget stopped some searches: more cycles may exist.
                "search_capped": any(c.flows[0].index in self.truncated for c in cycles),
                "currency_group": best.flows[0].group,
            },
        )

    def _same_consignment(self, cycle: FlowCycle) -> bool:
        """Whether the goods flows of ``cycle`` declare one quantity (in one unit, else net
        mass) within ``two_party_quantity_tolerance``."""
        tolerance = self.config.two_party_quantity_tolerance
        if tolerance is None:
            return True
        goods = [f.record for f in cycle.flows if f.kind is FlowKind.GOODS]
        declared = self.flows.nodes(goods)
        measures = []
        for record in goods:
            node = declared.get(record)
            if node is None:
                return False
            props = node.properties
            quantity, unit, mass = props.get("quantity"), props.get("unit"), props.get("net_mass")
            if isinstance(quantity, int | float) and quantity > 0 and unit:
                measures.append((str(unit), float(quantity)))
            elif isinstance(mass, int | float) and mass > 0:
                measures.append(("kg", float(mass)))
            else:
                return False
        units = {u for u, _ in measures}
        values = [v for _, v in measures]
        return (
            len(measures) >= 2 and len(units) == 1 and max(values) <= min(values) * (1 + tolerance)
        )

    def _shell_score(self, member: str) -> float:
        scores = [self.shell_scores.get(k, 0.0) for k in self.flows.members(member)]
        return max(scores, default=0.0)

    def _borders(self, cycle: FlowCycle, countries: Mapping[str, str | None]) -> int:
        """Hops that crossed a border: for goods, the declaration's dispatch and destination
        countries when it gives both; otherwise the two parties' countries, when known."""
        declared = self.flows.nodes(f.record for f in cycle.flows if f.kind is FlowKind.GOODS)
        crossed = 0
        for f in cycle.flows:
            decl = declared.get(f.record)
            ends: tuple[object, object] = (countries.get(f.source), countries.get(f.target))
            if decl is not None:
                route = (
                    decl.properties.get("dispatch_country"),
                    decl.properties.get("destination_country"),
                )
                if all(route):
                    ends = route
            if all(ends) and ends[0] != ends[1]:
                crossed += 1
        return crossed

    def _indicators(
        self,
        *,
        best: FlowCycle,
        cycles: list[FlowCycle],
        borders: int,
        secrecy: list[str],
        shells: Mapping[str, float],
        countries: Mapping[str, str | None],
    ) -> list[Indicator]:
        config = self.config
        group = best.flows[0].group or "unknown currency"
        out = [
            Indicator(
                name="hops",
                value=len(best.flows),
                threshold=config.max_length,
                explanation="flows in the cycle (at most the threshold)",
            ),
            Indicator(
                name="cycle_days",
                value=best.days,
                threshold=config.window_days,
                explanation="days from the first to the last flow (at most the threshold)",
            ),
            Indicator(
                name="value_spread",
                value=round(best.spread, 4),
                threshold=config.value_tolerance,
                explanation="largest / smallest hop value - 1 (at most the threshold)",
            ),
            Indicator(
                name="cycle_value",
                value=round(best.value, 2),
                explanation=f"smallest hop value, in {group}",
            ),
            Indicator(
                name="cycles",
                value=len(cycles),
                threshold=1,
                explanation="distinct cycles through these members",
            ),
            Indicator(
                name="borders_crossed",
                value=borders,
                explanation="hops between parties in different countries: "
                + ", ".join(c or "?" for c in (countries[m] for m in best.members)),
            ),
        ]
        if secrecy:
            out.append(
                Indicator(
                    name="secrecy_jurisdictions",
                    value=", ".join(secrecy),
                    explanation="members in offshore financial centres",
                )
            )
        if shells:
            out.append(
                Indicator(
                    name="shell_score",
                    value=round(sum(shells.values()), 4),
                    explanation="sum of the members' shell scores",
                )
            )
        return out

    def _summary(
        self,
        *,
        typology: Typology,
        best: FlowCycle,
        names: list[str],
        count: int,
        borders: int,
        kinds: frozenset[FlowKind],
    ) -> str:
        path = " -> ".join([*names, names[0]])
        group = best.flows[0].group or "unknown currency"
        what = (
            "Money left and came back"
            if typology is Typology.ROUND_TRIPPING
            else (f"{_KIND_WORDS[kinds].capitalize()} went round")
        )
        times = "" if count == 1 else f"; {count:,} cycles through these parties"
        if typology is Typology.CIRCULAR_TRADE and kinds == {FlowKind.MONEY}:
            times += "; they trade goods with each other"
        return (
            f"{what}: {path} ({len(best.flows)} hops, {borders} borders) in {best.days} days,"
            f" {best.value:,.0f} {group} per hop{times}"
        )


def _cycle_rank(cycle: FlowCycle) -> tuple[float, int, tuple[int, ...]]:
    return (-cycle.value, cycle.days, tuple(f.index for f in cycle.flows))


__all__ = [
    "DETECTOR",
    "OFFSHORE_CENTRES",
    "CycleConfig",
    "FlowCycle",
    "SearchStats",
    "TemporalEdge",
    "detect_cycles",
    "find_temporal_cycles",
    "flow_cycles",
    "temporal_edges",
]
