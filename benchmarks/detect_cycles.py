"""Temporal cycle detection: against networkx, and at the size of a national delivery.

Part 1 -- the same answer, faster. One random time-stamped multigraph (``--nodes`` nodes,
``--edges`` random flows over two years with log-normal values, plus ``--rings`` planted
time-respecting rings of 2-8 hops), the largest for which ``networkx.simple_cycles(G,
length_bound=8)`` finishes within a few minutes here. networkx enumerates every static cycle;
the time order, window and value tolerance are applied afterwards (each choice of parallel
edge and rotation, then the canonical rotation). ``queries.cycles.find_temporal_cycles``
prunes while it searches. The two cycle sets must be equal; the speed ratio target is >= 100x.

Part 2 -- detection time at scale (target < 120 s). ``--delivery DIR`` reads the goods flows
of a generated delivery (``datagen.generate(DIR, scale=100)``: about a million customs
declaration items, keyed as ``loaders/customs.py`` keys the SHIPPED_TO parties) straight from
its CSV, since loading a scale-100 delivery into a store takes far longer than detecting on
it; without it, a synthetic graph of ``--flows`` flows over ``--scale-nodes`` parties with
skewed (heavy-tailed) activity and planted rings. Both run the detector's search with its
default rules (180-day window, 25 % tolerance, 2-8 hops, 100,000-step budget per anchor).

    .venv/bin/python -m benchmarks.detect_cycles [--nodes 3000] [--edges 9000] [--rings 40]
        [--flows 1000000] [--scale-nodes 300000] [--delivery DIR] [--skip-networkx]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import random
import time
from collections.abc import Sequence
from pathlib import Path

import networkx as nx

from benchmarks.common import peak_rss_mib
from loaders import keys
from queries.cycles import CycleConfig, SearchStats, TemporalEdge, find_temporal_cycles
from queries.projection import FxTable, day_number

RULES = CycleConfig()


def random_graph(
    rng: random.Random, nodes: int, edges: int, rings: int, *, days: int, sigma: float
) -> list[TemporalEdge]:
    out = [
        TemporalEdge(
            rng.randrange(nodes),
            rng.randrange(nodes),
            rng.randrange(days),
            math.exp(rng.gauss(math.log(50_000), sigma)),
            "EUR",
        )
        for _ in range(edges)
    ]
    out.extend(planted_rings(rng, nodes, rings, days=days))
    return out


def planted_rings(
    rng: random.Random, nodes: int, rings: int, *, days: int, skew: float = 1.0
) -> list[TemporalEdge]:
    out = []
    for _ in range(rings):
        k = rng.randint(2, RULES.max_length)
        members = list({int(nodes * rng.random() ** skew) for _ in range(k)})
        day = rng.randrange(days - 200)
        value = math.exp(rng.gauss(math.log(250_000), 0.4))
        for a, b in itertools.pairwise([*members, members[0]]):
            out.append(TemporalEdge(a, b, day, value * rng.uniform(0.96, 1.04), "EUR"))
            day += rng.randint(0, 20)
    return out


def networkx_cycles(edges: Sequence[TemporalEdge]) -> tuple[set[tuple[int, ...]], float, float]:
    """networkx's static cycles, then the temporal rules: (cycles, enumerate s, filter s)."""
    graph = nx.MultiDiGraph()
    for i, e in enumerate(edges):
        if e.source != e.target:
            graph.add_edge(e.source, e.target, key=i)
    started = time.perf_counter()
    static = list(nx.simple_cycles(graph, length_bound=RULES.max_length))
    enumerated = time.perf_counter() - started
    ratio = 1.0 + (RULES.value_tolerance or math.inf)
    found: set[tuple[int, ...]] = set()
    for nodes in static:
        k = len(nodes)
        if k < RULES.min_length:
            continue
        hops = [(nodes[i], nodes[(i + 1) % k]) for i in range(k)]
        for combo in itertools.product(*(sorted(graph[u][v]) for u, v in hops)):
            valid = []
            for r in range(k):
                rotation = combo[r:] + combo[:r]
                cyc = [edges[i] for i in rotation]
                days = [e.day for e in cyc]
                if any(a > b for a, b in itertools.pairwise(days)):
                    continue
                if days[-1] - days[0] > RULES.window_days:
                    continue
                values = [e.value or 0.0 for e in cyc]
                if min(values) <= 0 or max(values) > ratio * min(values):
                    continue
                valid.append(rotation)
            if valid:
                found.add(min(valid, key=lambda rot: (edges[rot[0]].day, rot[0])))
    return found, enumerated, time.perf_counter() - started - enumerated


def ours(
    edges: Sequence[TemporalEdge], *, budget: int | None
) -> tuple[list[tuple[int, ...]], float, SearchStats]:
    stats = SearchStats()
    started = time.perf_counter()
    found = find_temporal_cycles(
        edges,
        max_length=RULES.max_length,
        min_length=RULES.min_length,
        window_days=RULES.window_days,
        tolerance=RULES.value_tolerance,
        max_steps_per_anchor=budget,
        stats=stats,
    )
    return found, time.perf_counter() - started, stats


def part_one(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    edges = random_graph(rng, args.nodes, args.edges, args.rings, days=730, sigma=0.3)
    print(
        f"part 1: {args.nodes:,} nodes, {len(edges):,} flows ({args.rings} planted rings),"
        f" cycles of {RULES.min_length}-{RULES.max_length} hops within"
        f" {RULES.window_days} days and {RULES.value_tolerance:.0%}"
    )
    found, took, stats = ours(edges, budget=None)
    print(
        f"  find_temporal_cycles: {len(found):,} cycles in {took:.3f} s"
        f" ({stats.steps:,} search steps)"
    )
    if args.skip_networkx:
        return
    reference, enumerate_s, filter_s = networkx_cycles(edges)
    total = enumerate_s + filter_s
    print(
        f"  networkx.simple_cycles(length_bound={RULES.max_length}) + filter:"
        f" {len(reference):,} cycles in {total:.1f} s"
        f" ({enumerate_s:.1f} s enumerating, {filter_s:.2f} s filtering)"
    )
    same = set(found) == reference and len(found) == len(set(found))
    print(f"  same cycle set: {same}; speed ratio {total / took:,.0f}x (target >= 100x)")
    assert same, "the cycle sets differ"


def delivery_edges(directory: Path) -> list[TemporalEdge]:
    """Goods flows of a generated delivery, keyed as loaders/customs.py keys SHIPPED_TO."""
    fx = FxTable()
    index: dict[str, int] = {}
    out: list[TemporalEdge] = []

    def party(row: dict[str, str], role: str) -> str | None:
        name = row.get(f"{role}_name") or ""
        if not name:
            return None
        return keys.company_key(
            "customs",
            name=name,
            tax_id=row.get(f"{role}_tax_id") or None,
            registration_number=row.get(f"{role}_registration_number") or None,
            country=row.get(f"{role}_country") or None,
        )

    with (directory / "customs" / "declarations.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            sender = party(row, "exporter") or party(row, "consignor")
            receiver = party(row, "importer") or party(row, "consignee")
            if not sender or not receiver or sender == receiver:
                continue
            raw = row.get("invoice_value") or row.get("customs_value")
            group, value = fx.normalise(float(raw) if raw else None, row.get("invoice_currency"))
            a = index.setdefault(sender, len(index))
            b = index.setdefault(receiver, len(index))
            out.append(TemporalEdge(a, b, day_number(row["declaration_date"]), value, group))
    return out


def part_two(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    if args.delivery:
        edges = delivery_edges(Path(args.delivery))
        what = f"the goods flows of {args.delivery}"
    else:
        rng = random.Random(args.seed + 1)
        n = args.scale_nodes
        # Heavy-tailed activity: a few parties trade a lot (u ** 2 skews towards 0).
        edges = [
            TemporalEdge(
                int(n * rng.random() ** 2),
                int(n * rng.random() ** 2),
                rng.randrange(1096),
                math.exp(rng.gauss(math.log(40_000), 1.0)),
                "EUR",
            )
            for _ in range(args.flows)
        ]
        edges.extend(planted_rings(rng, n, 100, days=1096, skew=2.0))
        what = f"a synthetic graph of {n:,} parties (heavy-tailed activity, 100 planted rings)"
    built = time.perf_counter() - started
    nodes = len({e.source for e in edges} | {e.target for e in edges})
    print(f"part 2: {len(edges):,} flows among {nodes:,} parties, {what} (built in {built:.1f} s)")
    found, took, stats = ours(edges, budget=RULES.max_steps_per_anchor)
    print(
        f"  find_temporal_cycles: {len(found):,} cycles in {took:.1f} s (target < 120 s);"
        f" {stats.anchors:,} anchors, {stats.steps:,} search steps,"
        f" {len(stats.truncated):,} anchors stopped by the step budget;"
        f" peak RSS {peak_rss_mib():,.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=3_000)
    parser.add_argument("--edges", type=int, default=9_000)
    parser.add_argument("--rings", type=int, default=40)
    parser.add_argument("--flows", type=int, default=1_000_000)
    parser.add_argument("--scale-nodes", type=int, default=300_000)
    parser.add_argument("--delivery", help="a generated delivery directory (scale 100)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-networkx", action="store_true")
    parser.add_argument("--only", choices=["1", "2"], help="run one part only")
    args = parser.parse_args()
    if args.only != "2":
        part_one(args)
    if args.only != "1":
        part_two(args)


if __name__ == "__main__":
    main()
