"""Neighbourhoods: k hops around an entity, filtered by type, compartment and date.

The traversal is the stores' own (``GraphStore.neighbourhood``: breadth first, hub cap, node
limit, deterministic order), run on a :class:`FilteredView` of the store whose ``expand``
only returns what the caller may see and what falls in the date window. Filtering *inside*
the expansion rather than afterwards matters: a node reachable only through an out-of-window
or hidden relationship is never reached, hop counts are counted on the visible graph, and
the node limit counts only nodes that are returned.

Date window (``date_from`` / ``date_to``, ISO dates, either end open). What "in the window"
means depends on what the element records:

- an **event** (SHIPPED_TO / PAID ``date``; Declaration, Transaction, CashDeclaration
  ``date``; Report ``submission_date``) is in when its date is;
- a **period or tenure** (TaxReturn ``period``; DIRECTOR_OF ``appointed``..``resigned``;
  Company ``incorporation_date``..``dissolution_date``) is in when it overlaps the window;
- a **standing fact** (a registered address, a held account, a party, a shared value) is in
  when it had been observed by the window's end (``first_seen <= date_to``). Its
  ``last_seen`` is not an end: the register reports a company's address with the
  incorporation date as its record date, and the address does not stop being true then.

Undated elements are kept, and only dates the caller may see are used (an element another
compartment also holds has its provenance dates withheld, see :mod:`queries.access`).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Collection, Iterator
from datetime import date

from pydantic import BaseModel, ConfigDict, field_validator

from graph_models.records import GraphCounts, Node, Relationship
from graph_models.schema import Label, RelType
from graph_models.store.base import Direction, Expansion, GraphStore, Prefetch, ReadOnlyStore
from queries.access import Scope, Tally, entity_members, rel_id
from queries.models import Neighbourhood

_PERIOD = re.compile(r"(\d{4})(?:-(?:Q([1-4])|(\d{2})))?", re.ASCII)
_EVENT_DATE = {
    Label.DECLARATION: "date",
    Label.TRANSACTION: "date",
    Label.CASH_DECLARATION: "date",
    Label.REPORT: "submission_date",
}


def period_span(period: str) -> tuple[str, str] | None:
    """First and last day of a ``YYYY``, ``YYYY-Qn`` or ``YYYY-MM`` period (None if not one)."""
    match = _PERIOD.fullmatch(period.strip().upper())
    if match is None:
        return None
    year_text, quarter, month = match.groups()
    year = int(year_text)
    if quarter is not None:
        first, last = 3 * int(quarter) - 2, 3 * int(quarter)
    elif month is not None:
        if not 1 <= int(month) <= 12:
            return None
        first = last = int(month)
    else:
        first, last = 1, 12
    if year < 1:
        return None
    end = calendar.monthrange(year, last)[1]
    return date(year, first, 1).isoformat(), date(year, last, end).isoformat()


class Window(BaseModel):
    """A date window, either end open; see the module docstring for what falls in it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date_from: str | None = None
    date_to: str | None = None

    @field_validator("date_from", "date_to")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        if value is not None:
            date.fromisoformat(value)  # raises ValueError on anything but an ISO date
            if len(value) != 10:
                raise ValueError(f"{value!r} is not a yyyy-mm-dd date")
        return value

    @property
    def open(self) -> bool:
        return self.date_from is None and self.date_to is None

    def has(self, day: str) -> bool:
        return (self.date_from is None or day >= self.date_from) and (
            self.date_to is None or day <= self.date_to
        )

    def overlaps(self, first: str | None, last: str | None) -> bool:
        return (first is None or self.date_to is None or first <= self.date_to) and (
            last is None or self.date_from is None or last >= self.date_from
        )

    def admits_node(self, node: Node, scope: Scope) -> bool:
        if self.open:
            return True
        props = node.properties
        event = _EVENT_DATE.get(node.label)
        if event is not None and isinstance(props.get(event), str):
            return self.has(str(props[event]))
        if node.label == Label.TAX_RETURN and isinstance(props.get("period"), str):
            span = period_span(str(props["period"]))
            if span is not None:
                return self.overlaps(*span)
        if node.label == Label.COMPANY and isinstance(props.get("incorporation_date"), str):
            dissolved = props.get("dissolution_date")
            return self.overlaps(
                str(props["incorporation_date"]), dissolved if isinstance(dissolved, str) else None
            )
        return self._standing(node.provenance.first_seen, scope.sees_all(node.provenance))

    def admits_rel(self, rel: Relationship, scope: Scope) -> bool:
        if self.open:
            return True
        props = rel.properties
        if isinstance(props.get("date"), str):
            return self.has(str(props["date"]))
        if rel.type == RelType.DIRECTOR_OF and (props.get("appointed") or props.get("resigned")):
            appointed, resigned = props.get("appointed"), props.get("resigned")
            return self.overlaps(
                appointed if isinstance(appointed, str) else None,
                resigned if isinstance(resigned, str) else None,
            )
        return self._standing(rel.provenance.first_seen, scope.sees_all(rel.provenance))

    def _standing(self, first_seen: str | None, dates_visible: bool) -> bool:
        if first_seen is None or not dates_visible or self.date_to is None:
            return True
        return first_seen <= self.date_to


class FilteredView(ReadOnlyStore):
    """A read-only view of a store that shows only what a scope reads inside a date window.

    ``expand`` drops a relationship when it, or either end node, is not readable (counting
    the hidden ones in ``tally``) or out of the window; the nodes in ``exempt`` (the ones the
    caller asked about) are not date-filtered. Reads delegate to the store and writes are
    refused, so the shared traversals of ``GraphStore`` run unchanged on the view. (A new
    abstract method on the seam must be delegated or refused here too: the neighbourhood
    tests fail at once when it is not.)
    """

    read_only = "a filtered view is read-only"

    kind = "filtered"

    def __init__(
        self,
        store: GraphStore,
        *,
        scope: Scope,
        tally: Tally,
        window: Window | None = None,
        exempt: Collection[str] = (),
        prefetched: Prefetch | None = None,
    ) -> None:
        self.store = store
        self.scope = scope
        self.tally = tally
        self.window = window or Window()
        self.exempt = frozenset(exempt)
        self.prefetched = prefetched
        self._nodes: dict[str, Node | None] = {}
        self._degrees: dict[str, int] = {}

    # --- the filter ------------------------------------------------------------------------
    def remember(self, node: Node) -> None:
        """A node the caller has already read (the start of a traversal)."""
        self._nodes[node.key] = node

    def nodes(self, keys: Collection[str]) -> dict[str, Node]:
        """Nodes by key, cached for the life of the view (one traversal)."""
        missing = [k for k in keys if k not in self._nodes]
        if missing:
            found = self.store.get_nodes(missing)
            for k in missing:
                self._nodes[k] = found.get(k)
        return {k: n for k in keys if (n := self._nodes.get(k)) is not None}

    def expand(
        self,
        keys: Collection[str],
        *,
        rel_types: Collection[RelType] | None = None,
        direction: Direction = "both",
    ) -> list[Relationship]:
        # The far ends' nodes and degrees come along where the store reads them in the same
        # round trip (Neo4j); they are kept for this hop's filter and the next hop's hub check.
        found = self._prefetched(keys, rel_types, direction)
        if found is None:
            found = self.store.expand_with_ends(keys, rel_types=rel_types, direction=direction)
        for key, node in found.nodes.items():
            self._nodes.setdefault(key, node)
        for key, degree in found.degrees.items():
            self._degrees.setdefault(key, degree)
        rels = found.relationships
        nodes = self.nodes({k for r in rels for k in (r.start, r.end)})
        return [r for r in rels if self.admits(r, nodes)]

    def _prefetched(
        self, keys: Collection[str], rel_types: Collection[RelType] | None, direction: Direction
    ) -> Expansion | None:
        """``expand_with_ends(keys)`` answered from the prefetch when it holds all of it: the
        start's relationships, or those of far ends it read the relationships of."""
        pre = self.prefetched
        if pre is None or direction != "both":
            return None
        if (frozenset(rel_types) if rel_types is not None else None) != pre.rel_types:
            return None
        wanted = set(keys)
        if wanted == {pre.start.key}:
            return pre.first
        if pre.second is None or not wanted <= pre.expanded:
            return None
        # Every relationship touching a wanted key is among the prefetched ones, in order.
        rels = [r for r in pre.second.relationships if r.start in wanted or r.end in wanted]
        return Expansion(rels, pre.second.nodes)

    def admits(self, rel: Relationship, nodes: dict[str, Node]) -> bool:
        if not self.scope.reads_rel(rel):
            self.tally.add("relationships", rel_id(rel), rel.provenance)
            return False
        ends = [nodes.get(rel.start), nodes.get(rel.end)]
        for end in ends:
            if end is None:
                return False
            if not self.scope.reads(end):
                self.tally.add(end.label.value, end.key, end.provenance)
                return False
        if not self.window.admits_rel(rel, self.scope):
            return False
        return all(
            e is not None and (e.key in self.exempt or self.window.admits_node(e, self.scope))
            for e in ends
        )

    # --- delegation ------------------------------------------------------------------------
    def get_nodes(self, keys: Collection[str]) -> dict[str, Node]:
        return self.nodes(keys)

    def find_nodes(self, label: Label, prop: str, value: str, *, limit: int = 100) -> list[Node]:
        return self.store.find_nodes(label, prop, value, limit=limit)

    def degrees(self, keys: Collection[str]) -> dict[str, int]:
        return self.store.degrees(keys)

    def capped_degrees(self, keys: Collection[str], cap: int) -> dict[str, int]:
        # A full degree (what expansions bring) is a valid capped degree for any cap.
        missing = [k for k in keys if k not in self._degrees]
        counted = self.store.capped_degrees(missing, cap) if missing else {}
        return {k: self._degrees[k] if k in self._degrees else counted.get(k, 0) for k in keys}

    def iter_nodes(self, labels: Collection[Label] | None = None) -> Iterator[Node]:
        return self.store.iter_nodes(labels)

    def iter_relationships(
        self, rel_types: Collection[RelType] | None = None
    ) -> Iterator[Relationship]:
        return self.store.iter_relationships(rel_types)

    def counts(self) -> GraphCounts:
        return self.store.counts()

    def ping(self) -> str:
        return self.store.ping()

    def close(self) -> None:
        """The view does not own the store: closing it leaves the store open."""


def readable_start(
    store: GraphStore, key: str, *, scope: Scope, tally: Tally, node: Node | None = None
) -> Node | None:
    """The node a query starts from (``node`` when the caller has read it already), or None
    (counted in ``tally``) when the scope hides it.

    Raises NotFoundError when there is no such node. A resolved entity is readable when one
    of its members is (rule 3 of :mod:`queries.access`).
    """
    if node is None:
        node = store.require_node(key)
    if node.label == Label.RESOLVED_ENTITY:
        # Its hidden members are met (and counted) again by a traversal from it, so they are
        # only counted here when the entity is all hidden.
        probe = Tally(scope)
        if entity_members(store, key, scope=scope, tally=probe):
            return node
        tally.merge(probe)
        return None
    if scope.reads(node):
        return node
    tally.add("source records", key, node.provenance)
    return None


def neighbourhood(
    store: GraphStore,
    key: str,
    *,
    scope: Scope,
    hops: int = 2,
    rel_types: Collection[RelType] | None = None,
    agencies: Collection[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    limit: int = 500,
    hub_cap: int = 50,
) -> Neighbourhood:
    """The visible graph within ``hops`` of ``key``.

    Parameters
    ----------
    scope
        The caller's compartments; ``agencies`` narrows it further (never widens it).
    rel_types
        Relationship types to follow (all when None).
    date_from, date_to
        The date window (see the module docstring); either may be None.
    limit
        Node limit; ``truncated`` says when it stopped the expansion.
    hub_cap
        Nodes with more relationships than this (a formation agent's address, a country) are
        included but not expanded through, and listed in ``capped``.

    Cost: one ``expand`` + ``get_nodes`` + ``degrees`` per hop over the frontier, so
    O(relationships around the non-hub frontier); a store that prefetches (Neo4j) reads the
    start and two hops in one query, the relationships of every non-hub first-hop node
    (those a hidden or out-of-window node would not have reached included).
    """
    scope = scope.narrow(agencies)
    tally = Tally(scope)
    window = Window(date_from=date_from, date_to=date_to)
    # Where the store can, the start and the first two hops come in one read; the traversal
    # below filters them exactly as it filters what it asks for hop by hop.
    pre = store.prefetch_neighbourhood(
        key, hops=hops, rel_types=rel_types, hub_cap=hub_cap, limit=limit
    )
    start = readable_start(
        store, key, scope=scope, tally=tally, node=pre.start if pre is not None else None
    )
    if start is None:
        return Neighbourhood(
            center=key,
            nodes=[],
            relationships=[],
            truncated=False,
            capped=[],
            withheld=tally.markers(),
        )
    view = FilteredView(
        store, scope=scope, tally=tally, window=window, exempt=[key], prefetched=pre
    )
    view.remember(start)
    sub = view.neighbourhood(key, hops=hops, rel_types=rel_types, limit=limit, hub_cap=hub_cap)
    return Neighbourhood(
        center=key,
        nodes=[scope.node_view(n) for n in sub.nodes],
        relationships=[scope.rel_view(r) for r in sub.relationships],
        truncated=sub.truncated,
        capped=sub.capped,
        withheld=tally.markers(),
    )
