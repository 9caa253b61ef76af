"""Funnel accounts, and the generic transfers mapping feeding the flow detectors."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph_models.records import NodeWrite, RelWrite
from graph_models.store.base import GraphStore
from loaders import keys
from loaders.base import LoadOptions, load_file
from loaders.mapping import MappedTable, shipped_mapping
from queries.alerts import Typology, load_alerts, save_alerts
from queries.cycles import detect_cycles
from queries.funnel import FunnelConfig, detect_funnels
from queries.structuring import StructuringConfig, detect_structuring
from tests.queries.test_projection import account, company, holds, pay, person, write

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "flows"
FUNNEL = "account:GB00FUNNEL"
HOLDER = "person:fiu:id:H1"
DEST = "company:fiu:tax:AE1"
DEST_ACC = "account:AE00DEST"


def _payers(n: int, prefix: str = "P") -> tuple[list[NodeWrite], list[str]]:
    accounts = [f"account:GB00{prefix}{i:02d}" for i in range(n)]
    return [account(a) for a in accounts], accounts


def _funnel(
    store: GraphStore, *, payers: int = 12, out_share: float = 0.9, out_day: int = 12
) -> None:
    nodes, accounts = _payers(payers)
    inflows = [pay(a, FUNNEL, i % 9, 1_000.0 + 100 * i, n=i) for i, a in enumerate(accounts)]
    total = sum(1_000.0 + 100 * i for i in range(payers))
    write(
        store,
        [*nodes, account(FUNNEL), person(HOLDER), company(DEST, "AE"), account(DEST_ACC)],
        [
            *inflows,
            holds(HOLDER, FUNNEL, "signatory"),
            holds(DEST, DEST_ACC),
            pay(FUNNEL, DEST_ACC, out_day, round(total * out_share, 2), n=99),
        ],
    )


def test_many_payers_in_and_a_quick_exit_is_a_funnel(store: GraphStore) -> None:
    _funnel(store)
    (alert,) = detect_funnels(store)
    assert alert.typology is Typology.FUNNEL_ACCOUNT
    assert alert.details["account"] == FUNNEL
    assert {FUNNEL, HOLDER, DEST, DEST_ACC} <= set(alert.entities)
    indicators = {i.name: i for i in alert.indicators}
    assert indicators["distinct_sources"].value == 12
    assert indicators["distinct_sources"].threshold == 10
    assert indicators["outflow_share"].value == pytest.approx(0.9)
    assert indicators["destinations"].value == 1
    assert indicators["exit_days"].value == 12 - 8
    # Every inflow and the outflow are cited, with the FIU's provenance.
    assert len(alert.records) == 13
    assert {r.label for r in alert.records} == {"Transaction"}
    assert "received" in alert.summary
    assert "90% left within 4 days" in alert.summary


def test_too_few_payers_or_a_slow_or_partial_exit_is_not_a_funnel(store: GraphStore) -> None:
    _funnel(store, payers=9)
    assert detect_funnels(store) == []


def test_money_that_stays_is_not_a_funnel(store: GraphStore) -> None:
    _funnel(store, out_share=0.5)
    assert detect_funnels(store) == []


def test_money_that_leaves_weeks_later_is_not_a_funnel(store: GraphStore) -> None:
    _funnel(store, out_day=40)
    assert detect_funnels(store) == []
    assert detect_funnels(store, config=FunnelConfig(outflow_within_days=35)) != []


def test_a_busy_account_paying_many_suppliers_is_not_a_funnel(store: GraphStore) -> None:
    nodes, payers = _payers(20)
    suppliers = [f"account:GB00S{i:02d}" for i in range(10)]
    inflows = [pay(a, FUNNEL, i, 1_000.0, n=i) for i, a in enumerate(payers)]
    # Everything leaves quickly, but spread over ten suppliers: no three take 80 %.
    outflows = [pay(FUNNEL, s, 20 + i, 1_900.0, n=100 + i) for i, s in enumerate(suppliers)]
    write(store, [*nodes, account(FUNNEL), *(account(s) for s in suppliers)], [*inflows, *outflows])
    assert detect_funnels(store) == []


def test_one_payers_several_accounts_count_once(store: GraphStore) -> None:
    nodes, accounts = _payers(12)
    one = "person:fiu:id:ONE"
    write(
        store,
        [*nodes, person(one), account(FUNNEL), account(DEST_ACC)],
        [
            *(holds(one, a, "signatory") for a in accounts[:4]),
            *(pay(a, FUNNEL, i, 1_000.0, n=i) for i, a in enumerate(accounts)),
            pay(FUNNEL, DEST_ACC, 14, 11_000.0, n=99),
        ],
    )
    # Four of the twelve accounts are one person's: nine payers, below the ten needed.
    assert detect_funnels(store) == []
    assert len(detect_funnels(store, config=FunnelConfig(min_sources=9))) == 1


def test_two_episodes_are_one_alert(store: GraphStore) -> None:
    _funnel(store)
    nodes, accounts = _payers(10, prefix="Q")
    later: list[RelWrite] = [
        pay(a, FUNNEL, 100 + i, 2_000.0, n=200 + i) for i, a in enumerate(accounts)
    ]
    later.append(pay(FUNNEL, DEST_ACC, 112, 19_000.0, n=300))
    write(store, nodes, later)
    (alert,) = detect_funnels(store)
    assert len(alert.details["episodes"]) == 2
    assert "2 such episodes" in alert.summary


# --- the generic transfers mapping feeds the flow detectors -----------------------------------
def test_a_transfers_csv_feeds_the_cycle_funnel_and_structuring_detectors(
    store: GraphStore, tmp_path: Path
) -> None:
    """A bank statement loaded through loaders/mappings/money_transfers.yaml: a round trip
    through a BVI account, a funnel, a busy shop that is not one, and wire structuring."""
    options = LoadOptions(quarantine_dir=tmp_path / "q", reports_dir=None, quiet=True)
    fmt = MappedTable.from_file(shipped_mapping("money_transfers"))
    report = load_file(fmt, FIXTURES / "transfers.csv", store, options)
    assert report.loaded == report.read == 37

    gb, vg, de = (
        keys.account_key(iban=i)
        for i in ("GB29NWBK60161331926819", "VG96VPVG0000012345678901", "DE89370400440532013000")
    )
    (cycle,) = detect_cycles(store)
    assert cycle.typology is Typology.ROUND_TRIPPING
    assert cycle.details["ring"] == [gb, vg, de]
    assert {i.name: i.value for i in cycle.indicators}["secrecy_jurisdictions"] == "VG"
    assert [r.provenance.record_ids for r in cycle.records] == [
        ["transfers.csv|row 2"],
        ["transfers.csv|row 3"],
        ["transfers.csv|row 4"],
    ]

    funnel_account = keys.account_key(number="55550000")
    (funnel,) = detect_funnels(store)
    assert funnel.details["account"] == funnel_account
    assert {i.name: i.value for i in funnel.indicators}["distinct_sources"] == 12

    # No cash marker in a transfers file: structuring looks at every incoming transfer.
    assert detect_structuring(store) == []
    (structuring,) = detect_structuring(store, config=StructuringConfig(deposits="any"))
    assert structuring.details["subject"] == keys.account_key(number="70000000")
    assert {i.name: i.value for i in structuring.indicators}["deposits_just_under"] == 4

    # The alerts keep in the graph like any detector's, flagging what they name.
    assert save_alerts(store, [cycle, funnel, structuring]) == 3
    assert {a.id for a in load_alerts(store)} == {cycle.id, funnel.id, structuring.id}


@pytest.mark.neo4j
def test_both_stores_give_identical_alerts(
    embedded_store: GraphStore, neo4j_session_store: GraphStore, tmp_path: Path
) -> None:
    """Detectors read through the store seam only, so the two stores agree to the byte."""
    neo4j_session_store.clear()
    fmt = MappedTable.from_file(shipped_mapping("money_transfers"))
    results = []
    for i, store in enumerate((embedded_store, neo4j_session_store)):
        options = LoadOptions(quarantine_dir=tmp_path / f"q{i}", reports_dir=None, quiet=True)
        load_file(fmt, FIXTURES / "transfers.csv", store, options)
        _funnel(store)
        any_deposit = StructuringConfig(deposits="any")
        alerts = [
            *detect_cycles(store),
            *detect_funnels(store),
            *detect_structuring(store, config=any_deposit),
        ]
        results.append([a.model_dump() for a in alerts])
    assert len(results[0]) == 4
    assert results[0] == results[1]
