"""The one exchange-rate reference of iffgraph: ECB euro reference rates of 29 December 2023.

The detectors convert invoice values with it (``queries.projection.FxTable``) and the
synthetic data generator prices its invoices with it (``datagen.world``), so a value the
generator wrote in one currency is the value the detectors read back, whatever the currency.
Two tables used to drift apart (the generator's Turkish lira was ~25 % off the detectors'),
and then the generator's own conversion error looked like mis-invoicing.

The rates are data: ``queries/reference/ecb_rates.csv`` (see the README there for the source).
A row gives either ``units_per_eur`` (an ECB reference rate) or ``units_per_usd_peg`` (a
currency pegged to the US dollar, whose euro rate follows from the ECB dollar rate).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

ECB_REFERENCE_DATE = "2023-12-29"
ECB_RATES_FILE = Path(__file__).resolve().parent / "reference" / "ecb_rates.csv"


def read_units_per_eur(path: Path = ECB_RATES_FILE) -> dict[str, float]:
    """Units of each currency per euro, from a rates file as described in the module doc."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rates = {r["currency"].strip().upper(): r["units_per_eur"].strip() for r in rows}
    usd = float(rates["USD"])
    out: dict[str, float] = {}
    for row in rows:
        code = row["currency"].strip().upper()
        direct, peg = row["units_per_eur"].strip(), row["units_per_usd_peg"].strip()
        if bool(direct) == bool(peg):
            raise ValueError(f"{path.name}: {code} needs exactly one of units_per_eur, peg")
        out[code] = float(direct) if direct else float(peg) * usd
    return out


# Read once at import: the table is fixed reference data, and every reader shares one copy.
ECB_UNITS_PER_EUR: Mapping[str, float] = MappingProxyType(read_units_per_eur())
