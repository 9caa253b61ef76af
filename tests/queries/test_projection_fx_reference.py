"""The shared exchange-rate reference: the rates file and how pegged currencies are read."""

from __future__ import annotations

from pathlib import Path

import pytest

from queries.fx_reference import ECB_UNITS_PER_EUR, read_units_per_eur
from queries.projection import FxTable


def test_a_pegged_currency_follows_the_dollar(tmp_path: Path) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,units_per_eur,units_per_usd_peg\nUSD,1.25,\nAED,,4\n")
    assert read_units_per_eur(rates) == {"USD": 1.25, "AED": 5.0}


@pytest.mark.parametrize("row", ["XXX,2,3", "XXX,,"])
def test_a_rate_is_either_quoted_or_pegged(tmp_path: Path, row: str) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text(f"currency,units_per_eur,units_per_usd_peg\nUSD,1.25,\n{row}\n")
    with pytest.raises(ValueError, match="XXX"):
        read_units_per_eur(rates)


def test_the_detectors_default_table_is_the_shared_file() -> None:
    assert FxTable().units_per_reference == dict(ECB_UNITS_PER_EUR)
    assert ECB_UNITS_PER_EUR["GBP"] == pytest.approx(0.86905)
    assert ECB_UNITS_PER_EUR["AED"] == pytest.approx(3.6725 * ECB_UNITS_PER_EUR["USD"])
