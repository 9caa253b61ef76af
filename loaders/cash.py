"""Cross-border cash declarations: CSV or XLSX, one row per declaration (or detection).

Each row becomes a ``CashDeclaration`` node, the traveller who ``CARRIED`` the cash as a
per-agency ``Person`` source record (with nationality), the owner of the funds when it is not
the traveller (``OWNS_FUNDS``, a ``Person`` or ``Company``), and the countries of departure and
destination. Cash declarations are lodged at customs, so the agency is CUSTOMS.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo, field_validator

from graph_models.records import Agency
from graph_models.schema import Label, RelType
from loaders import keys
from loaders.base import GraphBuilder, RecordProblem
from loaders.fields import (
    Country,
    Flag,
    OptStr,
    PastDate,
    ReqAmount,
    ReqCurrency,
    ReqDate,
    Text,
)
from loaders.reference_data import country_name
from loaders.tabular import TabularFormat


def _lower(value: Any) -> Any:
    """Code values are case-insensitive in the files; a blank optional code is unknown."""
    if isinstance(value, str):
        text = value.strip().lower()
        return text or None
    return value


Direction = Annotated[Literal["inbound", "outbound"], BeforeValidator(_lower)]
Instrument = Annotated[Literal["cash", "bni"] | None, BeforeValidator(_lower)]
OwnerType = Annotated[Literal["person", "company"] | None, BeforeValidator(_lower)]


class CashDeclarationRow(BaseModel):
    """The columns of a cash declarations file (see docs/formats.md)."""

    model_config = ConfigDict(extra="ignore")

    declaration_id: Text
    declaration_date: ReqDate
    direction: Direction
    port: Text
    traveller_name: Text
    traveller_birth_date: PastDate = None
    traveller_nationality: Country = None
    traveller_passport: OptStr = None
    amount: ReqAmount
    currency: ReqCurrency
    instrument_type: Instrument = None
    origin_of_funds: OptStr = None
    intended_use: OptStr = None
    owner_name: OptStr = None
    owner_type: OwnerType = None
    owner_tax_id: OptStr = None
    undeclared: Flag = None
    destination_country: Country = None
    departure_country: Country = None

    @field_validator("traveller_birth_date")
    @classmethod
    def _born_before_travelling(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Both dates are ISO strings once validated, so string order is date order.
        declared = info.data.get("declaration_date")
        if value is not None and declared is not None and value > declared:
            raise ValueError(f"born {value}, after the declaration date {declared}")
        return value


class CashDeclarations(TabularFormat):
    kind = "cash"
    agency = Agency.CUSTOMS
    model = CashDeclarationRow
    description = "cross-border cash declarations, one row per declaration (CSV or XLSX)"

    def identity(self, row: CashDeclarationRow) -> str:
        return row.declaration_id

    def seen(self, row: CashDeclarationRow) -> str | None:
        return row.declaration_date

    def build(self, row: CashDeclarationRow, graph: GraphBuilder) -> None:
        decl = graph.node(
            Label.CASH_DECLARATION,
            keys.record_key(Label.CASH_DECLARATION, row.declaration_id),
            declaration_id=row.declaration_id,
            date=row.declaration_date,
            direction=row.direction,
            port=row.port,
            amount=row.amount,
            currency=row.currency,
            instrument=row.instrument_type,
            origin_of_funds=row.origin_of_funds,
            intended_use=row.intended_use,
            undeclared=row.undeclared,
        )
        for role in ("departure", "destination"):
            code = getattr(row, f"{role}_country")
            if code:
                graph.rel(RelType.IN_COUNTRY, decl, _country(graph, code), key=role, role=role)
        traveller = graph.node(
            Label.PERSON,
            keys.person_key(
                self.agency.value,
                name=row.traveller_name,
                id_number=row.traveller_passport,
                birth_date=row.traveller_birth_date,
            ),
            name=row.traveller_name,
            name_norm=keys.norm_text(row.traveller_name),
            birth_date=row.traveller_birth_date,
            nationality=row.traveller_nationality,
            id_number=row.traveller_passport,
            id_type="passport" if row.traveller_passport else None,
        )
        graph.rel(RelType.CARRIED, traveller, decl)
        if row.traveller_nationality:
            graph.rel(
                RelType.IN_COUNTRY,
                traveller,
                _country(graph, row.traveller_nationality),
                key="nationality",
                role="nationality",
            )
        owner = self._owner(row, graph)
        if owner is not None:
            graph.rel(RelType.OWNS_FUNDS, owner, decl)

    def _owner(self, row: CashDeclarationRow, graph: GraphBuilder) -> str | None:
        name = row.owner_name
        if not name:
            if row.owner_tax_id:
                raise RecordProblem(
                    "owner_name", "the owner has a tax id but no name", row.owner_tax_id
                )
            return None
        if row.owner_type == "company":
            return graph.node(
                Label.COMPANY,
                keys.company_key(self.agency.value, name=name, tax_id=row.owner_tax_id),
                name=name,
                name_norm=keys.norm_text(name),
                tax_id=row.owner_tax_id,
            )
        # A blank owner_type means a person, as for registry officers. A person owner with the
        # traveller's name is the traveller: OWNS_FUNDS is only for funds owned by someone else.
        if keys.norm_text(name) == keys.norm_text(row.traveller_name):
            return None
        return graph.node(
            Label.PERSON,
            keys.person_key(self.agency.value, name=name, id_number=row.owner_tax_id),
            name=name,
            name_norm=keys.norm_text(name),
            id_number=row.owner_tax_id,
            id_type="tax_id" if row.owner_tax_id else None,
        )


def _country(graph: GraphBuilder, code: str) -> str:
    return graph.node(Label.COUNTRY, keys.country_key(code), code=code, name=country_name(code))
