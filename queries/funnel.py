"""Funnel accounts: many payers in, a quick exit to few payees.

A funnel account (FinCEN Advisory FIN-2014-A005, "Funnel Accounts and Trade-Based Money
Laundering", 2014) collects funds from many sources -- often in small sums and from many
places -- and passes them on almost at once, to one or a few destinations, frequently abroad.
The detector looks at every receiving account (or party, where a money flow names no
account) in the money projection of :mod:`queries.projection`:

1. **Many sources.** A window of ``inflow_window_days`` in which at least ``min_sources``
   distinct payers (accounts lifted to their holder, parties to their resolved entity, so one
   person's two accounts count once) pay in.
2. **Rapid outflow to few destinations.** Of what came in during the window (and in the
   ``outflow_within_days`` before it, which could fund the same exits), at least
   ``min_outflow_share`` leaves again between the first inflow and ``outflow_within_days``
   after the last one, to the ``max_destinations`` largest destinations alone (so a business
   that pays many suppliers, or keeps its takings, does not qualify).

Sums compare inside one comparison group (euro for the currencies of the fixed table, else
the currency itself). Each account gets one alert (``alert_id(funnel_account, [account])``)
listing every qualifying episode; the windows of an account's episodes do not overlap.

Complexity: O(F log F) for F money flows (sorting per receiver), then one sliding-window pass
over each receiver's inflows; a window is evaluated at most once per day of inflows, each
evaluation O(w + o) for the w inflows and o outflows it spans.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

from pydantic import BaseModel, ConfigDict, Field

from graph_models.store.base import GraphStore
from queries.alerts import Alert, Indicator, Typology, alert_id
from queries.projection import Flow, FlowGraph, FlowKind, ProjectionConfig, project_flows

DETECTOR = "funnel"


class FunnelConfig(BaseModel):
    """Thresholds of the funnel-account detector."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    inflow_window_days: int = Field(
        default=30,
        ge=0,
        description="the inflows counted together fall within this many days (one monthly"
        " statement cycle; FinCEN FIN-2014-A005 gives no number)",
    )
    min_sources: int = Field(
        default=10,
        ge=2,
        description="distinct payers in the window ('many'; an engineering default: an order"
        " of magnitude above the handful of regular payers of a personal account)",
    )
    outflow_within_days: int = Field(
        default=10,
        ge=0,
        description="outflows count until this many days after the last inflow ('little time"
        " elapsing between deposits and withdrawals', FinCEN FIN-2014-A005)",
    )
    min_outflow_share: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="share of the inflow that leaves to the largest destinations (the FFIEC"
        " BSA/AML manual's 'funds transferred out shortly after deposit': most of it)",
    )
    max_destinations: int = Field(
        default=3, ge=1, description="'few' destinations: the largest this many are counted"
    )
    max_records: int = Field(default=200, ge=1, description="flows cited as evidence per alert")
    projection: ProjectionConfig = Field(default_factory=ProjectionConfig)


@dataclass(frozen=True, slots=True)
class Episode:
    """One window of many inflows and the outflows that followed it."""

    inflows: tuple[Flow, ...]
    outflows: tuple[Flow, ...]
    sources: int
    inflow: float
    available: float  # inflows of the window and of the exit horizon before it
    outflow: float
    top_outflow: float
    destinations: tuple[str, ...]
    group: str

    @property
    def first_day(self) -> int:
        return self.inflows[0].day

    @property
    def last_day(self) -> int:
        return self.inflows[-1].day

    @property
    def exit_days(self) -> int:
        """Days from the last inflow to the last outflow counted (0 if it left earlier)."""
        return max(0, max(f.day for f in self.outflows) - self.last_day) if self.outflows else 0


def detect_funnels(
    store: GraphStore, *, config: FunnelConfig | None = None, flows: FlowGraph | None = None
) -> list[Alert]:
    """Funnel-account alerts, one per receiving account, ordered by score then id.

    ``flows`` may be a projection shared with other detectors (only its money flows are used).
    """
    config = config or FunnelConfig()
    if flows is None:
        flows = project_flows(store, kinds=[FlowKind.MONEY], config=config.projection)
    inflows: dict[tuple[str, str], list[Flow]] = defaultdict(list)
    outflows: dict[tuple[str, str], list[Flow]] = defaultdict(list)
    for flow in flows.flows:
        if flow.kind is not FlowKind.MONEY or flow.value is None or flow.value <= 0:
            continue
        inflows[(flow.receiver, flow.group)].append(flow)
        outflows[(flow.sender, flow.group)].append(flow)
    alerts = []
    for (receiver, group), incoming in inflows.items():
        # The holder paying into its own account is not one of "many sources".
        received = [f for f in incoming if f.source != flows.lift(receiver)]
        if len({f.source for f in received}) < config.min_sources:
            continue
        episodes = find_episodes(received, outflows.get((receiver, group), []), config)
        if episodes:
            alerts.append(_alert(flows, receiver, group, episodes, config))
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts


def find_episodes(
    received: Sequence[Flow], sent: Sequence[Flow], config: FunnelConfig
) -> list[Episode]:
    """The non-overlapping funnel episodes of one receiver.

    A window starting at a later inflow of the same day is a subset of the one starting at
    the day's first inflow with the same exit and the same funding base, so only each day's
    first inflow starts a window: at most one evaluation per day, with prefix sums for the
    inflow totals.
    """
    inflow = sorted(received, key=lambda f: (f.day, f.index))
    outflow = sorted(sent, key=lambda f: (f.day, f.index))
    out_days = [f.day for f in outflow]
    in_days = [f.day for f in inflow]
    cumulative = list(accumulate((f.value or 0.0 for f in inflow), initial=0.0))
    episodes: list[Episode] = []
    sources: Counter[str] = Counter()
    j = 0
    i = 0
    while i < len(inflow):
        end = inflow[i].day + config.inflow_window_days
        while j < len(inflow) and inflow[j].day <= end:
            sources[inflow[j].source] += 1
            j += 1
        episode = None
        first_of_day = i == 0 or in_days[i - 1] < in_days[i]
        if first_of_day and len(sources) >= config.min_sources:
            # Measure the exit against every inflow that could have funded it: those of the
            # window and of the ``outflow_within_days`` before it (else a window starting in
            # the middle of a busy month would credit its outflows to too small an inflow).
            since = bisect_left(in_days, in_days[i] - config.outflow_within_days)
            available = cumulative[j] - cumulative[since]
            episode = _episode(inflow[i:j], available, outflow, out_days, config)
        if episode is None:
            _drop(sources, inflow[i].source)
            i += 1
            continue
        episodes.append(episode)
        # The next episode starts after this window: windows never overlap.
        for k in range(i, j):
            _drop(sources, inflow[k].source)
        i = j
    return episodes


def _drop(counter: Counter[str], key: str) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


def _episode(
    window: Sequence[Flow],
    available: float,
    outflow: Sequence[Flow],
    out_days: list[int],
    config: FunnelConfig,
) -> Episode | None:
    """The episode of ``window`` if enough of ``available`` (the inflows that could have
    funded its outflows) left quickly to few destinations."""
    first, last = window[0].day, window[-1].day
    lo = bisect_left(out_days, first)
    hi = bisect_right(out_days, last + config.outflow_within_days)
    leaving = outflow[lo:hi]
    received = sum(f.value or 0.0 for f in window)
    if received <= 0 or available <= 0 or not leaving:
        return None
    by_destination: dict[str, float] = defaultdict(float)
    for f in leaving:
        by_destination[f.target] += f.value or 0.0
    top = sorted(by_destination.items(), key=lambda kv: (-kv[1], kv[0]))[: config.max_destinations]
    top_sum = sum(v for _, v in top)
    if top_sum < config.min_outflow_share * available:
        return None
    chosen = {k for k, _ in top}
    return Episode(
        inflows=tuple(window),
        outflows=tuple(f for f in leaving if f.target in chosen),
        sources=len({f.source for f in window}),
        inflow=received,
        available=available,
        outflow=sum(by_destination.values()),
        top_outflow=top_sum,
        destinations=tuple(k for k, _ in top),
        group=window[0].group,
    )


def _alert(
    flows: FlowGraph, receiver: str, group: str, episodes: list[Episode], config: FunnelConfig
) -> Alert:
    best = max(episodes, key=lambda e: (e.inflow, -e.first_day))
    unit = group or "unknown currency"
    share = best.top_outflow / best.available
    score = (
        math.log10(1.0 + best.inflow)
        + math.log2(best.sources / config.min_sources + 1.0)
        + share
        + math.log2(len(episodes))
    )
    cited = sorted({f for e in episodes for f in (*e.inflows, *e.outflows)}, key=lambda f: f.index)[
        : config.max_records
    ]
    entities: dict[str, None] = {}
    for key in flows.members(receiver):
        entities.setdefault(key, None)
    for e in episodes:
        for f in e.inflows:
            entities.setdefault(f.sender, None)
            entities.setdefault(f.source, None)
        for key in e.destinations:
            for member in flows.members(key):
                entities.setdefault(member, None)
    names = [flows.name(k) for k in best.destinations]
    window_days = best.last_day - best.first_day
    summary = (
        f"{flows.name(receiver)} received {best.inflow:,.0f} {unit} from {best.sources}"
        f" payers in {window_days} days; {share:.0%} left within {best.exit_days} days of the"
        f" last payment to {len(names)} destination(s): {', '.join(names)}"
    )
    if len(episodes) > 1:
        summary += f"; {len(episodes)} such episodes"
    indicators = [
        Indicator(
            name="distinct_sources",
            value=best.sources,
            threshold=config.min_sources,
            explanation="distinct payers in the inflow window (at least the threshold)",
        ),
        Indicator(
            name="inflow_window_days",
            value=window_days,
            threshold=config.inflow_window_days,
            explanation="days from the first to the last inflow (at most the threshold)",
        ),
        Indicator(
            name="inflow",
            value=round(best.inflow, 2),
            explanation=f"received in the window, in {unit}",
        ),
        Indicator(
            name="outflow_share",
            value=round(share, 4),
            threshold=config.min_outflow_share,
            explanation=f"share of the inflow (of the window and the {config.outflow_within_days}"
            f" days before it) sent on to the {config.max_destinations} largest destinations"
            " (at least the threshold)",
        ),
        Indicator(
            name="exit_days",
            value=best.exit_days,
            threshold=config.outflow_within_days,
            explanation="days from the last inflow to the last outflow counted (at most"
            " the threshold)",
        ),
        Indicator(
            name="destinations",
            value=len(best.destinations),
            threshold=config.max_destinations,
            explanation="destinations receiving the outflow counted (at most the threshold)",
        ),
    ]
    return Alert(
        id=alert_id(Typology.FUNNEL_ACCOUNT, [receiver]),
        typology=Typology.FUNNEL_ACCOUNT,
        detector=DETECTOR,
        score=round(score, 6),
        summary=summary,
        entities=sorted(entities),
        indicators=indicators,
        records=flows.evidence(cited),
        detected_on=max(f.date for f in cited),
        details={
            "account": receiver,
            "currency_group": group,
            "episodes": [
                {
                    "first_inflow": e.inflows[0].date,
                    "last_inflow": e.inflows[-1].date,
                    "sources": e.sources,
                    "inflow": round(e.inflow, 2),
                    "inflow_available": round(e.available, 2),
                    "outflow": round(e.outflow, 2),
                    "outflow_to_destinations": round(e.top_outflow, 2),
                    "destinations": list(e.destinations),
                }
                for e in episodes
            ],
        },
    )


__all__ = ["DETECTOR", "Episode", "FunnelConfig", "detect_funnels", "find_episodes"]
