"""Run every detector once over a store, sharing projections, and keep the alerts.

``DetectionConfig`` gathers each detector's own configuration (thresholds with their sources
live there) into one model that round-trips through JSON, so a run can be repeated exactly.
Detectors that walk flows share one flow projection; the trade detectors share one party
index. Alerts are saved with stable ids, so re-running refreshes rather than duplicates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from graph_models.collector import cyclic_gc_paused
from graph_models.schema import Label, RelType
from graph_models.store.base import GraphStore
from queries.alerts import Alert, Typology, save_alerts
from queries.carousel import CarouselConfig, detect_vat_carousels
from queries.cycles import CycleConfig, detect_cycles
from queries.discrepancy import CustomsTaxConfig, detect_customs_tax_discrepancies
from queries.funnel import FunnelConfig, detect_funnels
from queries.mirror import (
    MirrorConfig,
    detect_mirror_discrepancies,
    detect_statistics_discrepancies,
)
from queries.misinvoicing import PartyIndex
from queries.projection import FlowGraph, FlowKind, ProjectionConfig, project_flows
from queries.reads import CachedReads
from queries.shell import ShellConfig, detect_shell_networks
from queries.structuring import (
    CashConfig,
    StructuringConfig,
    detect_cash_smuggling,
    detect_structuring,
)
from queries.unit_values import UnitValueConfig, detect_unit_value_outliers


class DetectionConfig(BaseModel):
    """Every detector's configuration; defaults are each detector's documented defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    projection: ProjectionConfig = Field(default_factory=ProjectionConfig)
    cycles: CycleConfig = Field(default_factory=CycleConfig)
    funnel: FunnelConfig = Field(default_factory=FunnelConfig)
    structuring: StructuringConfig = Field(default_factory=StructuringConfig)
    cash: CashConfig = Field(default_factory=CashConfig)
    shell: ShellConfig = Field(default_factory=ShellConfig)
    unit_values: UnitValueConfig = Field(default_factory=UnitValueConfig)
    mirror: MirrorConfig = Field(default_factory=MirrorConfig)
    customs_tax: CustomsTaxConfig = Field(default_factory=CustomsTaxConfig)
    carousel: CarouselConfig = Field(default_factory=CarouselConfig)


# The record families more than one detector scans, kept for the run by the scan cache (the
# others are read once, and keeping them would only cost memory). Declarations and their
# party edges, and Company / Person records, are read once anyway: the shipments and the
# party index built from them are shared (see ``queries.misinvoicing``).
SHARED_LABELS = frozenset({Label.TAX_RETURN})  # shell, customs-tax, carousel
SHARED_REL_TYPES = frozenset(
    {
        RelType.SHIPPED_TO,  # flow projection, cash, carousel
        RelType.PAID,  # flow projection, carousel
        RelType.HOLDS,  # flow projection, cash, shell, carousel
        RelType.FILED,  # shell, customs-tax, carousel
        RelType.DIRECTOR_OF,  # cash, shell
        RelType.SHAREHOLDER_OF,  # cash, shell
        RelType.SAME_AS,  # flow projection, cash, party index
    }
)


@dataclass
class _Shared:
    """Projections built at most once per run, on first use."""

    store: GraphStore
    config: DetectionConfig
    _flows: FlowGraph | None = None
    _parties: PartyIndex | None = None

    def flows(self) -> FlowGraph:
        if self._flows is None:
            kinds = [FlowKind.GOODS, FlowKind.MONEY]
            self._flows = project_flows(self.store, kinds=kinds, config=self.config.projection)
        return self._flows

    def parties(self) -> PartyIndex:
        if self._parties is None:
            self._parties = PartyIndex.build(self.store)
        return self._parties


Detector = Callable[[_Shared], list[Alert]]

# Detector name -> (typologies it can raise, how to run it on the shared projections).
DETECTORS: dict[str, tuple[frozenset[Typology], Detector]] = {
    "cycles": (
        frozenset({Typology.CIRCULAR_TRADE, Typology.ROUND_TRIPPING}),
        lambda s: detect_cycles(s.store, config=s.config.cycles, flows=s.flows()),
    ),
    "funnel": (
        frozenset({Typology.FUNNEL_ACCOUNT}),
        lambda s: detect_funnels(s.store, config=s.config.funnel, flows=s.flows()),
    ),
    "structuring": (
        frozenset({Typology.STRUCTURING}),
        lambda s: detect_structuring(s.store, config=s.config.structuring, flows=s.flows()),
    ),
    "cash": (
        frozenset({Typology.CASH_SMUGGLING}),
        lambda s: detect_cash_smuggling(s.store, config=s.config.cash),
    ),
    "shell": (
        frozenset({Typology.SHELL_NETWORK}),
        lambda s: detect_shell_networks(s.store, config=s.config.shell),
    ),
    "unit_values": (
        frozenset({Typology.UNDER_INVOICING, Typology.OVER_INVOICING}),
        lambda s: detect_unit_value_outliers(
            s.store, config=s.config.unit_values, parties=s.parties()
        ),
    ),
    "mirror": (
        frozenset({Typology.MIRROR_DISCREPANCY}),
        lambda s: (
            detect_mirror_discrepancies(s.store, config=s.config.mirror, parties=s.parties())
            + detect_statistics_discrepancies(s.store, config=s.config.mirror)
        ),
    ),
    "customs_tax": (
        frozenset({Typology.CUSTOMS_TAX_DISCREPANCY}),
        lambda s: detect_customs_tax_discrepancies(
            s.store, config=s.config.customs_tax, parties=s.parties()
        ),
    ),
    "carousel": (
        frozenset({Typology.VAT_CAROUSEL}),
        lambda s: detect_vat_carousels(s.store, config=s.config.carousel),
    ),
}


class DetectorTiming(BaseModel):
    detector: str
    alerts: int
    seconds: float


class DetectionRun(BaseModel):
    alerts: list[Alert]
    timings: list[DetectorTiming]

    def by_typology(self) -> dict[Typology, list[Alert]]:
        out: dict[Typology, list[Alert]] = {}
        for alert in self.alerts:
            out.setdefault(alert.typology, []).append(alert)
        for alerts in out.values():
            alerts.sort(key=lambda a: (-a.score, a.id))
        return out


def run_detectors(
    store: GraphStore,
    *,
    config: DetectionConfig | None = None,
    typologies: Collection[Typology] | None = None,
    save: bool = True,
    progress: Callable[[str], None] | None = None,
) -> DetectionRun:
    """Run the detectors that can raise ``typologies`` (all by default) and save their alerts.

    Alerts of a typology not asked for are dropped (a detector raising two typologies runs
    once). Output is ordered by typology, then score (highest first), then id.
    """
    config = config or DetectionConfig()
    wanted = set(typologies) if typologies is not None else set(Typology)
    # Every detector reads through one scan cache: each record family is decoded once a run.
    cached = CachedReads(store, labels=SHARED_LABELS, rel_types=SHARED_REL_TYPES)
    shared = _Shared(cached, config)
    alerts: list[Alert] = []
    timings = []
    # A run holds a few million live objects; detectors build no cycles to speak of.
    with cyclic_gc_paused():
        try:
            for name, (raises, run) in DETECTORS.items():
                if not raises & wanted:
                    continue
                if progress is not None:
                    progress(f"running {name}")
                started = time.perf_counter()
                found = [a for a in run(shared) if a.typology in wanted]
                seconds = round(time.perf_counter() - started, 3)
                timings.append(DetectorTiming(detector=name, alerts=len(found), seconds=seconds))
                alerts.extend(found)
        finally:
            cached.close()  # drops the cache, not the store
    alerts.sort(key=lambda a: (a.typology.value, -a.score, a.id))
    if save:
        save_alerts(store, alerts)
    return DetectionRun(alerts=alerts, timings=timings)
