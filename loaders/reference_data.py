"""Reference code lists: ISO 3166 countries, ISO 4217 currencies, the HS 2022 nomenclature."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

import pycountry


@cache
def countries() -> frozenset[str]:
    codes = {c.alpha_2 for c in pycountry.countries}
    # XK (Kosovo) is user-assigned in ISO 3166 but used by customs and the EU.
    return frozenset(codes | {"XK"})


@cache
def country_name(code: str) -> str | None:
    found = pycountry.countries.get(alpha_2=code)
    return str(found.name) if found is not None else None


@cache
def currencies() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.currencies)


@cache
def hs_nomenclature() -> dict[str, str]:
    """HS code (2, 4 or 6 digits) -> description."""
    path = resources.files("loaders").joinpath("reference/harmonized-system.csv")
    with path.open("r", encoding="utf-8") as fh:
        return {row["hscode"]: row["description"] for row in csv.DictReader(fh)}


def hs_problem(code: str) -> str | None:
    """Why an HS code (6 to 10 digits; national digits beyond 6 are free) is invalid, or None."""
    if not code.isdigit():
        return f"HS code {code!r} must contain digits only"
    if not 6 <= len(code) <= 10:
        return f"HS code {code!r} has {len(code)} digits; 6 to 10 are expected"
    if code[:6] not in hs_nomenclature():
        return f"HS subheading {code[:6]!r} is not in the HS 2022 nomenclature"
    return None
