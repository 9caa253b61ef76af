"""Validated field types for source-record models.

Each type turns a raw cell (a string, usually) into a clean value or raises ValueError with a
message a data officer understands; the loader turns that into a quarantine entry naming the
file, the row or element, and the field.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

from loaders.reference_data import countries, currencies, hs_problem

# YYYY-MM-DD, optionally with a time as goAML writes it; Python alone would also take the
# basic (20240301) and week (2024-W10-1) forms, which no source here uses on purpose.
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$", re.ASCII
)
# Neo4j integers are 64-bit; beyond 2**53 a float has already lost the digits anyway.
_MAX_COUNT = 2**53


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _opt_str(value: Any) -> str | None:
    if _blank(value):
        return None
    return str(value).strip()


def _country(value: Any) -> str | None:
    if _blank(value):
        return None
    code = str(value).strip().upper()
    if code not in countries():
        raise ValueError(f"unknown ISO 3166 country code {code!r}")
    return code


def _currency(value: Any) -> str | None:
    if _blank(value):
        return None
    code = str(value).strip().upper()
    if code not in currencies():
        raise ValueError(f"unknown ISO 4217 currency code {code!r}")
    return code


def _hs(value: Any) -> str | None:
    if _blank(value):
        return None
    code = str(value).strip().replace(".", "").replace(" ", "")
    problem = hs_problem(code)
    if problem:
        raise ValueError(problem)
    return code


def _date(value: Any) -> str | None:
    if _blank(value):
        return None
    if isinstance(value, date):
        parsed = value
    else:
        text = str(value).strip()
        if not _ISO_DATE.match(text):
            raise ValueError(f"{value!r} is not a date in YYYY-MM-DD form")
        try:
            # goAML writes dates as date-times (2024-03-01T00:00:00): the whole value must
            # parse, only the date part is kept.
            parsed = (
                datetime.fromisoformat(text).date() if len(text) > 10 else date.fromisoformat(text)
            )
        except ValueError as e:
            raise ValueError(f"{value!r} is not a date in YYYY-MM-DD form") from e
    if parsed > date.today():
        raise ValueError(f"date {parsed.isoformat()} is in the future")
    return parsed.isoformat()


def _amount(value: Any) -> float | None:
    if _blank(value):
        return None
    try:
        number = float(str(value).strip())
    except ValueError as e:
        raise ValueError(f"{value!r} is not a number") from e
    if math.isnan(number) or math.isinf(number):
        raise ValueError(f"{value!r} is not a finite number")
    if number < 0:
        raise ValueError(f"amount {number} is negative")
    return number


def _count(value: Any) -> int | None:
    number = _amount(value)
    if number is None:
        return None
    if number != int(number):
        raise ValueError(f"{value!r} is not a whole number")
    if number > _MAX_COUNT:
        raise ValueError(f"{value!r} is implausibly large")
    return int(number)


def _flag(value: Any) -> bool | None:
    if _blank(value):
        return None
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "y", "t"}:
        return True
    if text in {"0", "false", "no", "n", "f"}:
        return False
    raise ValueError(f"{value!r} is not yes/no")


def _percentage(value: Any) -> float | None:
    number = _amount(value)
    if number is not None and number > 100:
        raise ValueError(f"percentage {number} is above 100")
    return number


OptStr = Annotated[str | None, BeforeValidator(_opt_str)]
Country = Annotated[str | None, BeforeValidator(_country)]
Currency = Annotated[str | None, BeforeValidator(_currency)]
HSCode = Annotated[str | None, BeforeValidator(_hs)]
PastDate = Annotated[str | None, BeforeValidator(_date)]
Amount = Annotated[float | None, BeforeValidator(_amount)]
Count = Annotated[int | None, BeforeValidator(_count)]
Flag = Annotated[bool | None, BeforeValidator(_flag)]
Percentage = Annotated[float | None, BeforeValidator(_percentage)]


def _required(parse: Any) -> Any:
    def check(value: Any) -> Any:
        result = parse(value)
        if result is None:
            raise ValueError("a value is required")
        return result

    return check


Text = Annotated[str, BeforeValidator(_required(_opt_str))]
ReqCountry = Annotated[str, BeforeValidator(_required(_country))]
ReqCurrency = Annotated[str, BeforeValidator(_required(_currency))]
ReqHSCode = Annotated[str, BeforeValidator(_required(_hs))]
ReqDate = Annotated[str, BeforeValidator(_required(_date))]
ReqAmount = Annotated[float, BeforeValidator(_required(_amount))]
