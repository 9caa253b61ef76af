"""The generator prices currencies at the detectors' exchange rates."""

from __future__ import annotations

import pytest

from datagen.world import COUNTRIES, GBP_PER_UNIT
from queries.projection import FxTable


def test_the_generator_prices_currencies_at_the_detectors_rates() -> None:
    fx = FxTable()
    written = {"USD", "EUR", *(c.currency for c in COUNTRIES.values())}
    assert written <= set(GBP_PER_UNIT)
    checked = 0
    for currency in sorted(written):
        if fx.convertible(currency):
            assert GBP_PER_UNIT[currency] == pytest.approx(fx.convert(1.0, currency, "GBP"))
            checked += 1
    assert fx.convertible("TRY")
    assert checked >= 15
