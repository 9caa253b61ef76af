"""Partner-country trade statistics (Comtrade-style): CSV or XLSX, one row per figure.

Each row becomes a ``TradeStatistic`` node keyed by reporter, partner, flow, HS code and period,
``CLASSIFIED_AS`` its HS 6 ``Commodity``: the mirror figures that customs declarations are
compared with. Reporter and partner must be ISO 3166 alpha-2 countries. Comtrade's aggregate
partners (``W00`` / ``World``, areas n.e.s.) and its alpha-3 codes are refused with a reason
saying so, because a mirror comparison is always between two countries.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pycountry
from pydantic import BaseModel, BeforeValidator, ConfigDict

from graph_models.records import Agency
from graph_models.schema import Label
from loaders import keys
from loaders.base import GraphBuilder
from loaders.fields import Amount, OptStr, ReqAmount, ReqHSCode
from loaders.reference_data import countries
from loaders.tabular import TabularFormat
from loaders.tax import parse_period

# Comtrade's world and area aggregates, as codes and names seen in its exports.
_AGGREGATES = frozenset({"W00", "WLD", "WORLD", "0", "000", "_X", "X1", "XX", "AREAS, NES"})


def _iso2(value: Any) -> str:
    if value is None or not str(value).strip():
        raise ValueError("a value is required")
    code = str(value).strip().upper()
    if code in countries():
        return code
    if code in _AGGREGATES:
        raise ValueError(
            f"{code!r} is a world or area aggregate, not a country: mirror statistics need an"
            " ISO 3166 alpha-2 partner"
        )
    alpha3 = pycountry.countries.get(alpha_3=code) if len(code) == 3 else None
    if alpha3 is not None:
        raise ValueError(f"{code!r} is ISO alpha-3; use the alpha-2 code {alpha3.alpha_2!r}")
    raise ValueError(f"unknown ISO 3166 country code {code!r}")


def _period(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("a value is required")
    return parse_period(str(value), quarters=False).text


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


Iso2 = Annotated[str, BeforeValidator(_iso2)]
Flow = Annotated[Literal["import", "export"], BeforeValidator(_lower)]
PeriodText = Annotated[str, BeforeValidator(_period)]


class TradeStatisticRow(BaseModel):
    """The columns of a trade statistics file (see docs/formats.md)."""

    model_config = ConfigDict(extra="ignore")

    reporter: Iso2
    partner: Iso2
    flow: Flow
    hs_code: ReqHSCode
    period: PeriodText
    value: ReqAmount
    quantity: Amount = None
    quantity_unit: OptStr = None


class TradeStatistics(TabularFormat):
    kind = "tradestats"
    agency = Agency.EXTERNAL
    model = TradeStatisticRow
    description = "partner-country trade statistics, Comtrade-style (CSV or XLSX)"

    def identity(self, row: TradeStatisticRow) -> str:
        return self._key(row)

    def seen(self, row: TradeStatisticRow) -> str | None:
        return parse_period(row.period, quarters=False).first.isoformat()

    def _key(self, row: TradeStatisticRow) -> str:
        return keys.record_key(
            Label.TRADE_STATISTIC, row.reporter, row.partner, row.flow, row.hs_code, row.period
        )

    def build(self, row: TradeStatisticRow, graph: GraphBuilder) -> None:
        stat = graph.node(
            Label.TRADE_STATISTIC,
            self._key(row),
            reporter=row.reporter,
            partner=row.partner,
            flow=row.flow,
            hs_code=row.hs_code,
            period=row.period,
            value=row.value,
            quantity=row.quantity,
            unit=row.quantity_unit,
        )
        graph.classify(stat, row.hs_code)
