"""Reads made ahead in one batch answer exactly as the calls they stand for."""

from __future__ import annotations

import itertools
from collections.abc import Collection

import pytest

from graph_models.records import Relationship
from graph_models.schema import RelType
from graph_models.store.base import Batch, Direction, ExpandRequest, GraphStore
from queries.access import Scope
from queries.batched import BatchedReads, read_ahead
from queries.profile import profile
from queries.search import invalidate_name_index, search
from tests.queries.test_profile import (
    ACCOUNT,
    CUSTOMS,
    DIRECTOR,
    ENTITY,
    FIU,
    REGISTRY,
    TAX,
    TXN,
    build,
)

REQUESTS = [
    ExpandRequest.of([CUSTOMS]),
    ExpandRequest.of([CUSTOMS], [RelType.SAME_AS], "out"),
    ExpandRequest.of([ENTITY], [RelType.SAME_AS], "in"),
    ExpandRequest.of([ACCOUNT, FIU], [RelType.SENT, RelType.HOLDS]),
    ExpandRequest.of([TXN, ENTITY], None, "in"),
    ExpandRequest.of([]),
]


def _by_calls(
    store: GraphStore, nodes: Collection[str], expansions: Collection[ExpandRequest]
) -> Batch:
    """What ``read_many`` promises, made of one call each."""
    return Batch(
        asked=frozenset(nodes),
        nodes=store.get_nodes(nodes),
        expansions={
            e: store.expand_with_ends(e.keys, rel_types=e.rel_types, direction=e.direction)
            for e in expansions
        },
    )


def test_read_many_reads_what_the_calls_would(store: GraphStore) -> None:
    build(store)
    nodes = [CUSTOMS, ENTITY, "company:customs:tax:NOPE"]
    got = store.read_many(nodes, REQUESTS)
    if got is None:  # declining is the embedded store's answer: it reads call by call
        assert store.kind == "embedded"
        return
    want = _by_calls(store, nodes, REQUESTS)
    assert got.asked == want.asked
    assert got.nodes == want.nodes
    assert got.expansions.keys() == want.expansions.keys()
    for request, expansion in want.expansions.items():
        found = got.expansions[request]
        assert found.relationships == expansion.relationships, request
        # Every far end comes with the relationships.
        far = {k for r in found.relationships for k in (r.start, r.end)} - request.keys
        assert far <= found.nodes.keys()
        assert found.nodes == store.get_nodes(found.nodes)


def test_view_answers_what_was_read_ahead_and_asks_the_store_for_the_rest(
    store: GraphStore,
) -> None:
    build(store)
    view = BatchedReads(store, _by_calls(store, [CUSTOMS], REQUESTS[:2]))
    assert view.get_nodes([CUSTOMS]).keys() == {CUSTOMS}
    assert view.get_nodes([CUSTOMS, TAX]).keys() == {CUSTOMS, TAX}  # not all asked: the store
    assert view.expand([CUSTOMS]) == store.expand([CUSTOMS])
    assert view.expand([CUSTOMS, CUSTOMS], rel_types=[RelType.SAME_AS], direction="out") == (
        store.expand([CUSTOMS], rel_types=[RelType.SAME_AS], direction="out")
    )
    assert view.expand([TAX]) == store.expand([TAX])
    store.delete_nodes([CUSTOMS])
    assert view.get_nodes([CUSTOMS]).keys() == {CUSTOMS}
    assert view.expand([CUSTOMS]) != []
    assert view.expand([CUSTOMS], direction="out") == []  # never read ahead


@pytest.mark.parametrize("direction", ["out", "in", "both"])
def test_view_cuts_an_expansion_of_some_keys_from_one_of_more(
    store: GraphStore, direction: Direction
) -> None:
    build(store)
    types = [RelType.SENT, RelType.HOLDS, RelType.SAME_AS]
    wide = ExpandRequest.of([ACCOUNT, FIU, CUSTOMS, TXN], types, direction)
    view = BatchedReads(store, _by_calls(store, [], [wide]))
    store.delete_nodes([ENTITY])  # the view answers from what it read before
    for keys in ([ACCOUNT], [FIU, CUSTOMS], [TXN], []):
        got = view.expand(keys, rel_types=types, direction=direction)
        want = [
            r for r in view.batch.expansions[wide].relationships if _touches(r, keys, direction)
        ]
        assert got == want
    assert view.expand([CUSTOMS], rel_types=[RelType.SAME_AS], direction=direction) == []


def _touches(rel: Relationship, keys: Collection[str], direction: Direction) -> bool:
    return (direction != "in" and rel.start in keys) or (direction != "out" and rel.end in keys)


def test_read_ahead_keeps_a_store_that_cannot_batch(store: GraphStore) -> None:
    build(store)
    got = read_ahead(store, [CUSTOMS], REQUESTS)
    assert (got is store) == (store.read_many([CUSTOMS], REQUESTS) is None)


def test_profiles_read_ahead_equal_profiles_read_call_by_call(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the scope, a profile over a batch (the store's own, or one made of single
    calls where the store has none) answers exactly as one asking call by call."""
    build(store)
    own = store.read_many([], [])
    scopes = [Scope.everything(), Scope.of("customs", "registry"), Scope.of("fiu")]
    keys = [CUSTOMS, REGISTRY, TAX, FIU, ENTITY, DIRECTOR, ACCOUNT]
    for key, scope, resolve in itertools.product(keys, scopes, [True, False]):
        if own is None:
            monkeypatch.setattr(store, "read_many", lambda n, e: _by_calls(store, n, e))
        batched = profile(store, key, scope=scope, resolve=resolve)
        monkeypatch.setattr(store, "read_many", lambda n, e: None)
        one_by_one = profile(store, key, scope=scope, resolve=resolve)
        monkeypatch.undo()
        assert batched == one_by_one, (key, scope, resolve)


def test_searches_read_ahead_equal_searches_read_call_by_call(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(store)
    invalidate_name_index(store)
    own = store.read_many([], [])
    scopes = [Scope.everything(), Scope.of("customs", "registry"), Scope.of("fiu")]
    queries = ["Acme Trading", "acme tradng", "Shadow Holdings", "GB00SHADOW0001", "jane smith"]
    found = 0
    for text, scope in itertools.product(queries, scopes):
        if own is None:
            monkeypatch.setattr(store, "read_many", lambda n, e: _by_calls(store, n, e))
        batched = search(store, text, scope=scope)
        monkeypatch.setattr(store, "read_many", lambda n, e: None)
        one_by_one = search(store, text, scope=scope)
        monkeypatch.undo()
        assert batched == one_by_one, (text, scope)
        found += len(batched.hits)
    assert found >= len(queries)  # the searches find things, so the comparison means something
