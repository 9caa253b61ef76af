"""Price schemes trade goods with ordinary comparables.

The planting runs on a population of scale 1 without writing files (the plan is all these
tests need), so a seed takes well under a second.
"""

from __future__ import annotations

import random

import pytest

from datagen.markets import MIN_COMPARABLE_PAIRS, convertible, relations_weight, trading_pairs
from datagen.population import Population
from datagen.rows import Cash, Customs, Fiu, Ledger
from datagen.schemes import Planter


def planted(seed: int, scale: float) -> tuple[Population, Planter, int]:
    def rng(purpose: str) -> random.Random:
        return random.Random(f"test-markets:{seed}:{purpose}")

    pop = Population(rng("population"), scale)
    pop.build()
    background = len(pop.relations)
    planter = Planter(
        rng("schemes"),
        pop,
        customs=Customs(rng("customs"), pop, Ledger()),
        fiu=Fiu(rng("fiu"), pop),
        cash=Cash(rng("cash")),
        scale=scale,
    )
    planter.plant()
    return pop, planter, background


@pytest.mark.parametrize("seed", [0, 4, 11])
def test_price_schemes_trade_goods_with_enough_ordinary_pairs(seed: int) -> None:
    pop, planter, background = planted(seed, 1.0)
    price_schemes = [
        d
        for d in planter.plan.drafts.values()
        if d.typology in ("under_invoicing", "over_invoicing")
    ]
    assert price_schemes
    # Counted afresh over the final population, as the detector would see it, leaving out every
    # relation that touches a scheme's company.
    involved = {e for d in planter.plan.drafts.values() for e in d.entities}
    ordinary = [r for r in pop.relations if not {r.seller.id, r.buyer.id} & involved]
    pairs = trading_pairs(ordinary, 1.0, relations_weight(pop.relations[:background]))
    goods = []
    for draft in price_schemes:
        details = draft.details
        hs6 = str(details["hs6"])
        flow = "import" if draft.typology == "under_invoicing" else str(details["direction"])
        assert len(pairs[(hs6, flow)]) >= MIN_COMPARABLE_PAIRS, (draft.id, hs6, flow)
        goods.append(hs6)
    # Two price schemes do not share a market while there are enough markets to go round.
    assert len(set(goods)) == len(goods)


def test_thin_markets_are_given_ordinary_traders_not_scheme_companies() -> None:
    pop, planter, background = planted(4, 1.0)
    involved = {e for d in planter.plan.drafts.values() for e in d.entities}
    added = pop.relations[background:]
    thickened = [r for r in added if not {r.seller.id, r.buyer.id} & involved]
    assert thickened  # at scale 1 no subheading has ten pairs on a flow by itself
    for rel in thickened:
        assert rel.seller.country != rel.buyer.country
        assert convertible(rel.currency)
