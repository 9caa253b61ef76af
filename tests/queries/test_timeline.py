"""Timelines: events of an entity's records across agencies, in date order."""

from __future__ import annotations

from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from queries.access import Scope
from queries.models import EventKind
from queries.timeline import timeline
from tests.factories import node, prov, rel
from tests.queries.test_profile import (
    ACCOUNT,
    CUSTOMS,
    DIRECTOR,
    ENTITY,
    REGISTRY,
    REPORT,
    TXN,
    build,
)

K = EventKind


def test_events_of_all_agencies_are_in_date_order(store: GraphStore) -> None:
    build(store)
    got = timeline(store, ENTITY, scope=Scope.everything())
    # The scenario of tests/queries/test_profile.py: incorporated and director appointed on
    # 2015-01-10, VAT return for 2023-Q2, export 2023-05-01, FIU transaction 2024-01-05 and
    # report 2024-01-10, import 2024-02-01, lodged 2024-03-01, cash 2024-04-01.
    assert [(e.date, e.kind) for e in got.events] == [
        ("2015-01-10", K.INCORPORATION),
        ("2015-01-10", K.APPOINTMENT),
        ("2023-04-01", K.TAX_PERIOD),
        ("2023-05-01", K.DECLARATION),
        ("2024-01-05", K.TRANSACTION),
        ("2024-01-10", K.REPORT),
        ("2024-02-01", K.DECLARATION),
        ("2024-03-01", K.DECLARATION),
        ("2024-04-01", K.CASH),
    ]
    by_kind = {e.kind: e for e in got.events}
    assert by_kind[K.TAX_PERIOD].end == "2023-06-30"
    assert by_kind[K.TRANSACTION].party == ACCOUNT  # sent from the account the FIU record holds
    assert (by_kind[K.TRANSACTION].record, by_kind[K.TRANSACTION].amount) == (TXN, 9876.5)
    assert by_kind[K.REPORT].record == REPORT
    appointment = by_kind[K.APPOINTMENT]
    assert (appointment.party, appointment.counterpart) == (REGISTRY, DIRECTOR)
    assert by_kind[K.CASH].details["undeclared"] is True
    assert {tuple(e.agencies) for e in got.events} == {
        ("customs",),
        ("fiu",),
        ("registry",),
        ("tax",),
    }


def test_customs_caller_sees_no_fiu_event_only_a_marker(store: GraphStore) -> None:
    build(store)
    got = timeline(store, ENTITY, scope=Scope.of("customs", "registry"))
    kinds = {e.kind for e in got.events}
    assert K.TRANSACTION not in kinds
    assert K.REPORT not in kinds
    assert K.TAX_PERIOD not in kinds
    assert all(set(e.agencies) <= {"customs", "registry"} for e in got.events)
    assert {(w.compartment, w.count) for w in got.withheld} == {("fiu", 1), ("tax", 1)}


def test_date_window_and_overlapping_periods(store: GraphStore) -> None:
    build(store)
    got = timeline(
        store, ENTITY, scope=Scope.everything(), date_from="2023-06-01", date_to="2024-01-31"
    )
    # The 2023-Q2 period overlaps June 2023; the export of 2023-05-01 and the 2015 events are
    # before the window, everything from February 2024 after it.
    assert [(e.date, e.kind) for e in got.events] == [
        ("2023-04-01", K.TAX_PERIOD),
        ("2024-01-05", K.TRANSACTION),
        ("2024-01-10", K.REPORT),
    ]


def test_one_event_per_record_with_all_its_roles(store: GraphStore) -> None:
    decl = "declaration:GB:X1:1"
    p = prov("customs", "declarations.csv", "row 9", seen="2024-05-05")
    store.write_nodes(
        [
            node(CUSTOMS, name="ACME"),
            node(decl, p, number="X1", date="2024-05-05", flow="export", customs_value=10.0),
        ]
    )
    store.write_relationships(
        [
            rel(RelType.DECLARED, CUSTOMS, decl, "exporter", p, role="exporter"),
            rel(RelType.DECLARED, CUSTOMS, decl, "declarant", p, role="declarant"),
        ]
    )
    (event,) = timeline(store, CUSTOMS, scope=Scope.of("customs")).events
    assert event.details["roles"] == ["declarant", "exporter"]
    assert event.amount == 10.0
