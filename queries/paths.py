"""Paths: the k shortest paths between two entities, each hop explained by its records.

The search is the stores' own (``GraphStore.shortest_paths``: simple paths ignoring direction
inside the hub-capped neighbourhood of the source, ties broken by node keys) run on the same
:class:`~queries.neighbourhood.FilteredView` as neighbourhoods, so a path never passes through
anything the caller may not see or outside the date window. Each hop then lists every visible
relationship between its two nodes (three declarations between the same pair are three pieces
of evidence for one hop) with the record ids and sources they rest on, and the declaration or
transaction key of a SHIPPED_TO / PAID.

Hit / no-hit: the same search is also run over every compartment, and each of those paths
that needs something the caller cannot see is counted (per hidden compartment) in
``withheld`` as "paths": the investigator learns that another agency can connect the two,
and whom to ask, but not through what.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from graph_models.records import Path, Relationship, StoredProvenance
from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from queries.access import Scope, Tally
from queries.models import Hop, Paths, PathView
from queries.neighbourhood import FilteredView, Window, readable_start

# The property of a relationship that names the record it was derived from.
_EVIDENCE = {RelType.SHIPPED_TO: "declaration", RelType.PAID: "transaction"}


def paths(
    store: GraphStore,
    source: str,
    target: str,
    *,
    scope: Scope,
    k: int = 3,
    max_hops: int = 4,
    rel_types: Collection[RelType] | None = None,
    agencies: Collection[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    hub_cap: int = 50,
    limit: int = 5_000,
    evidence_cap: int = 20,
) -> Paths:
    """Up to ``k`` shortest visible paths of at most ``max_hops`` from ``source`` to ``target``.

    Filters as :func:`queries.neighbourhood.neighbourhood`; ``evidence_cap`` bounds the
    relationships listed per hop (the rest are counted in ``Hop.more``).

    Cost: a breadth-first search of ``max_hops`` around the source (bounded by ``limit`` and
    the hub cap) twice (the caller's scope, then every compartment for the hit / no-hit
    count), plus one ``expand`` over the nodes of the paths found.
    """
    scope = scope.narrow(agencies)
    tally = Tally(scope)
    window = Window(date_from=date_from, date_to=date_to)
    ends = (source, target)
    hidden_end = False
    for key in ends:
        if readable_start(store, key, scope=scope, tally=tally) is None:
            hidden_end = True
    if hidden_end:
        return Paths(source=source, target=target, paths=[], withheld=tally.markers())
    view = FilteredView(store, scope=scope, tally=Tally(scope), window=window, exempt=ends)
    found = view.shortest_paths(
        source, target, k=k, max_hops=max_hops, rel_types=rel_types, hub_cap=hub_cap, limit=limit
    )
    everything = Scope.everything()
    full = FilteredView(
        store, scope=everything, tally=Tally(everything), window=window, exempt=ends
    )
    _count_hidden_paths(
        full,
        ends,
        scope,
        tally,
        found,
        k=k,
        max_hops=max_hops,
        rel_types=rel_types,
        hub_cap=hub_cap,
        limit=limit,
    )
    hops = _hops(view, found, scope, hub_cap=hub_cap, evidence_cap=evidence_cap)
    nodes = view.nodes({n for p in found for n in p.nodes})
    return Paths(
        source=source,
        target=target,
        paths=[
            PathView(
                nodes=[scope.node_view(nodes[n]) for n in p.nodes],
                hops=[hops[(a, b)] for a, b in zip(p.nodes, p.nodes[1:], strict=False)],
            )
            for p in found
        ],
        withheld=tally.markers(),
    )


def _count_hidden_paths(
    full: FilteredView,
    ends: tuple[str, str],
    scope: Scope,
    tally: Tally,
    visible: list[Path],
    *,
    k: int,
    max_hops: int,
    rel_types: Collection[RelType] | None,
    hub_cap: int,
    limit: int,
) -> None:
    """Count the paths over every compartment that the caller's scope cannot show."""
    shown = {tuple(p.nodes) for p in visible}
    for path in full.shortest_paths(
        ends[0], ends[1], k=k, max_hops=max_hops, rel_types=rel_types, hub_cap=hub_cap, limit=limit
    ):
        if tuple(path.nodes) in shown:
            continue
        nodes = full.nodes(path.nodes)
        hidden: set[str] = set()
        for node in nodes.values():
            if not scope.reads(node):
                hidden.update(scope.hidden(node.provenance))
        for rel in path.relationships:
            if not scope.reads_rel(rel):
                hidden.update(scope.hidden(rel.provenance))
        if hidden:
            identity = "/".join(path.nodes)
            for compartment in sorted(hidden):
                tally.add("paths", identity, StoredProvenance(compartments=[compartment]))


def _hops(
    view: FilteredView,
    found: list[Path],
    scope: Scope,
    *,
    hub_cap: int,
    evidence_cap: int,
) -> dict[tuple[str, str], Hop]:
    pairs = {(a, b) for p in found for a, b in zip(p.nodes, p.nodes[1:], strict=False)}
    if not pairs:
        return {}
    path_nodes = sorted({n for pair in pairs for n in pair})
    degrees = view.capped_degrees(path_nodes, hub_cap)
    # Every hop has an end the search expanded (not a capped hub, or the source itself), so
    # expanding those finds all its parallel relationships without walking a hub's edges.
    expandable = [n for n in path_nodes if degrees.get(n, 0) <= hub_cap or n in view.exempt]
    by_pair: dict[frozenset[str], list[Relationship]] = defaultdict(list)
    for rel in view.expand(expandable):
        by_pair[frozenset((rel.start, rel.end))].append(rel)
    first = {frozenset((r.start, r.end)): r for p in found for r in p.relationships}
    out = {}
    for a, b in sorted(pairs):
        pair = frozenset((a, b))
        chosen = first[pair]
        rels = [chosen, *(r for r in by_pair[pair] if r.identity != chosen.identity)]
        listed = rels[:evidence_cap]
        views = [scope.rel_view(r) for r in listed]
        out[(a, b)] = Hop(
            start=a,
            end=b,
            relationships=views,
            records=_union([r.provenance.record_ids for r in views]),
            sources=_union([r.provenance.sources for r in views]),
            evidence=_union([_evidence(r) for r in listed]),
            more=len(rels) - len(listed),
        )
    return out


def _evidence(rel: Relationship) -> list[str]:
    prop = _EVIDENCE.get(rel.type)
    value = rel.properties.get(prop) if prop else None
    return [str(value)] if value is not None else []


def _union(groups: list[list[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for group in groups:
        for item in group:
            seen.setdefault(item, None)
    return list(seen)
