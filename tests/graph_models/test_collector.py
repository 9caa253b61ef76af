"""The cyclic-collector pause that bulk work runs under."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from graph_models.collector import collect_young, cyclic_gc_paused


class _Node:
    """Something that can sit in a reference cycle and be watched by a weak reference."""

    def __init__(self) -> None:
        self.other: object = self


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    # A test that fails half-way must not leave the rest of the session without a collector.
    yield
    gc.enable()


def _garbage_cycle() -> weakref.ref[_Node]:
    return weakref.ref(_Node())  # the node refers to itself: only the collector frees it


def test_pause_disables_the_collector_and_restores_it() -> None:
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_pause_is_restored_when_the_work_fails() -> None:
    with pytest.raises(RuntimeError), cyclic_gc_paused():
        raise RuntimeError
    assert gc.isenabled()


def test_a_pause_inside_a_pause_leaves_the_outer_one_in_force() -> None:
    with cyclic_gc_paused():
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_young_cycles_are_freed_once_enough_have_piled_up() -> None:
    with cyclic_gc_paused():
        gc.collect()  # start counting from nothing
        below = _garbage_cycle()
        assert not collect_young(limit=1_000_000)
        assert below() is not None  # paused, and under the limit: still there
        assert collect_young(limit=1)
        assert below() is None


def test_collect_young_leaves_a_running_collector_alone() -> None:
    assert gc.isenabled()
    assert not collect_young(limit=0)
