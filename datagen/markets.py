"""Markets for goods: which ordinary trading pairs declare a subheading on a flow.

A price scheme is only observable against other traders' prices for the same goods, which is
how customs values goods (WTO Valuation Agreement, arts. 2-3) and how the unit-value detector
works (``queries.unit_values``: one reference price per other trading pair). So the planted
price schemes must trade goods with enough *ordinary* comparables in the delivery, counted as
the detector counts them: distinct trading pairs, not shipments (a market of one very busy
relation is still one price), on the flow the scheme declares, in a currency the detector can
convert to its reference.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from datagen.background import expected_declarations
from datagen.population import Company, Population, Relation
from datagen.world import HOME
from queries.fx_reference import ECB_UNITS_PER_EUR

# Ordinary trading pairs a price scheme's goods need on the scheme's flow. The detector draws
# its band from 10 reference prices (UnitValueConfig.min_group_size, one price per pair); with
# fewer it falls back to the range of the few it has, or with fewer than 3 it cannot judge at
# all. A scheme placed in a market of 10 ordinary pairs is judged the way it is meant to be,
# against a band of ordinary prices, and that many pairs is a small market, not an easy one.
MIN_COMPARABLE_PAIRS = 10
# A pair counts when it is expected to leave at least this many declarations of the goods on
# the flow over the delivery: a pair that may never ship is no comparable.
_MIN_EXPECTED = 1.0
_MID_DELIVERY = date(2023, 7, 1)


def convertible(currency: str) -> bool:
    """Whether the detectors convert ``currency`` to their reference (else it is a group of
    its own, and its prices are no comparables for the others)."""
    return currency == "EUR" or currency in ECB_UNITS_PER_EUR


def trading_pairs(
    relations: Iterable[Relation], scale: float, weight: float
) -> dict[tuple[str, str], set[tuple[str, str]]]:
    """The trading pairs (seller id, buyer id) of ``relations`` per (subheading, flow), counting
    a pair when it is expected to declare the goods on the flow (``weight``: the population's
    total ``seller.activity * size``, which a relation's share of the shipments is taken of)
    in a currency the detectors convert."""
    pairs: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for rel in relations:
        for key in _counted(rel, scale, weight):
            pairs[key].add((rel.seller.id, rel.buyer.id))
    return pairs


def relations_weight(relations: Iterable[Relation]) -> float:
    return sum(r.seller.activity * r.size for r in relations) or 1.0


def _counted(rel: Relation, scale: float, weight: float) -> list[tuple[str, str]]:
    if not convertible(rel.currency):
        return []
    expected = expected_declarations(rel, rel.seller.activity * rel.size / weight, scale)
    return [key for key, n in expected.items() if n >= _MIN_EXPECTED]


class Markets:
    """The ordinary trading pairs per (subheading, flow), from the background's relations."""

    def __init__(self, pop: Population, scale: float) -> None:
        self.pop = pop
        self.scale = scale
        # Taken before any scheme is planted: these are the ordinary traders and relations.
        self._traders = [c for c in pop.companies if c.kind == "trader" and c.hs6]
        self.weight = relations_weight(pop.relations)
        self._pairs = trading_pairs(pop.relations, scale, self.weight)

    def comparables(self, hs6: str, flow: str) -> int:
        """Distinct ordinary trading pairs expected to declare ``hs6`` on ``flow``."""
        return len(self._pairs.get((hs6, flow), ()))

    def ranked(self, flow: str, count: int) -> tuple[str, ...]:
        """The ``count`` subheadings with the most ordinary pairs on ``flow`` (ties by code)."""
        sizes = {h: len(p) for (h, f), p in self._pairs.items() if f == flow}
        return tuple(sorted(sizes, key=lambda h: (-sizes[h], h))[:count])

    def thicken(self, rng: random.Random, hs6: str, flow: str, pairs: int) -> int:
        """Give a thin market ordinary traders until ``hs6`` has ``pairs`` pairs on ``flow``:
        traders of the goods' chapter already in the population start a relation in ``hs6``
        (drawn like any other relation, so with the background's price dispersion). At a small
        scale no subheading has many traders, and a scheme has to trade something; returns
        the relations added."""
        chapter = hs6[:2]

        def deals(c: Company) -> bool:
            return c.active(_MID_DELIVERY) and any(h[:2] == chapter for h in c.hs6)

        home = [c for c in self._traders if c.country == HOME and deals(c)]
        abroad = [c for c in self._traders if c.country != HOME and deals(c)]
        if not home or not abroad:
            return 0
        added = 0
        for _ in range(40 * pairs):
            if self.comparables(hs6, flow) >= pairs:
                break
            # The home side always declares: an import needs a home buyer, an export a seller.
            seller, buyer = (
                (rng.choice(abroad), rng.choice(home))
                if flow == "import"
                else (rng.choice(home), rng.choice(abroad))
            )
            if (seller.id, buyer.id) in self._pairs[(hs6, flow)]:
                continue
            rel = self.pop.relation(seller, buyer)
            rel.hs6 = (hs6,)
            if (hs6, flow) not in _counted(rel, self.scale, self.weight):
                continue  # a pair that would hardly ship, or in a currency of its own
            self.pop.relations.append(rel)
            self._pairs[(hs6, flow)].add((seller.id, buyer.id))
            added += 1
        return added
