"""Customs declarations: CSV or XLSX, one row per declaration item (WCO Data Model fields).

Each row becomes a ``Declaration`` node (keyed by reporting country, number and item), the
trading parties as per-agency ``Company`` (or ``Person``) source records with their address
and country (``IN_COUNTRY`` role jurisdiction), the ``Commodity`` (HS 6),
and a ``SHIPPED_TO`` edge from the sending party to the receiving party that carries the
declaration's date and value: the goods flow the circular-trade detector walks.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from graph_models.records import Agency
from graph_models.schema import Label, RelType
from loaders import keys
from loaders.base import GraphBuilder, RecordProblem
from loaders.fields import (
    Amount,
    Country,
    Currency,
    OptStr,
    ReqCountry,
    ReqDate,
    ReqHSCode,
    Text,
)
from loaders.reference_data import country_name
from loaders.tabular import TabularFormat

Flow = Literal["import", "export", "re-export", "transit"]
# Which parties send and which receive the goods of a declaration item.
SENDERS = ("exporter", "consignor")
RECEIVERS = ("importer", "consignee")
PARTIES = (*SENDERS, *RECEIVERS, "declarant")


class DeclarationRow(BaseModel):
    """The columns of a customs declarations file (see docs/formats.md)."""

    model_config = ConfigDict(extra="ignore")

    declaration_number: Text
    item_number: int = 1
    declaration_date: ReqDate
    flow: Flow
    reporting_country: ReqCountry
    customs_office: OptStr = None
    declarant_name: OptStr = None
    declarant_tax_id: OptStr = None
    exporter_name: OptStr = None
    exporter_tax_id: OptStr = None
    exporter_registration_number: OptStr = None
    exporter_address: OptStr = None
    exporter_country: Country = None
    importer_name: OptStr = None
    importer_tax_id: OptStr = None
    importer_registration_number: OptStr = None
    importer_address: OptStr = None
    importer_country: Country = None
    consignor_name: OptStr = None
    consignor_country: Country = None
    consignee_name: OptStr = None
    consignee_country: Country = None
    hs_code: ReqHSCode
    goods_description: OptStr = None
    quantity: Amount = None
    quantity_unit: OptStr = None
    net_mass_kg: Amount = None
    customs_value: Amount = None
    invoice_value: Amount = None
    invoice_currency: Currency = None
    origin_country: Country = None
    dispatch_country: Country = None
    destination_country: Country = None
    transport_mode: OptStr = None
    payment_terms: OptStr = None

    @field_validator("flow", mode="before")
    @classmethod
    def _flow(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("item_number", mode="before")
    @classmethod
    def _item(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return 1
        return value


class CustomsDeclarations(TabularFormat):
    kind = "customs"
    agency = Agency.CUSTOMS
    model = DeclarationRow
    description = "customs declarations, one row per item (CSV or XLSX)"

    def identity(self, row: DeclarationRow) -> str:
        return f"{row.reporting_country}|{row.declaration_number}|{row.item_number}"

    def seen(self, row: DeclarationRow) -> str | None:
        return row.declaration_date

    def build(self, row: DeclarationRow, graph: GraphBuilder) -> None:
        if row.item_number < 1:
            raise RecordProblem("item_number", "item numbers start at 1", row.item_number)
        decl = graph.node(
            Label.DECLARATION,
            keys.record_key(
                Label.DECLARATION,
                row.reporting_country,
                row.declaration_number,
                str(row.item_number),
            ),
            number=row.declaration_number,
            item=row.item_number,
            date=row.declaration_date,
            flow=row.flow,
            reporting_country=row.reporting_country,
            office=row.customs_office,
            hs_code=row.hs_code,
            description=row.goods_description,
            quantity=row.quantity,
            unit=row.quantity_unit,
            net_mass=row.net_mass_kg,
            customs_value=row.customs_value,
            invoice_value=row.invoice_value,
            currency=row.invoice_currency,
            origin_country=row.origin_country,
            dispatch_country=row.dispatch_country,
            destination_country=row.destination_country,
            transport_mode=row.transport_mode,
            payment_terms=row.payment_terms,
        )
        graph.classify(decl, row.hs_code)
        # Origin, dispatch and destination stay properties of the declaration (indexed for
        # filtering) rather than three edges per row into country hubs: no query walks them,
        # and at a million declarations they were a fifth of all writes.
        parties = {role: self._party(row, role, graph) for role in PARTIES}
        for role, key in parties.items():
            if key is None:
                continue
            if role in RECEIVERS:
                graph.rel(RelType.CONSIGNED_TO, key, decl, key=role, role=role)
            else:
                graph.rel(RelType.DECLARED, key, decl, key=role, role=role)
        sender = parties["exporter"] or parties["consignor"]
        receiver = parties["importer"] or parties["consignee"]
        if sender and receiver and sender != receiver:
            graph.rel(
                RelType.SHIPPED_TO,
                sender,
                receiver,
                key=decl,
                date=row.declaration_date,
                value=row.invoice_value if row.invoice_value is not None else row.customs_value,
                currency=row.invoice_currency,
                hs_code=row.hs_code,
                declaration=decl,
            )

    def _country(self, graph: GraphBuilder, code: str) -> str:
        return graph.node(Label.COUNTRY, keys.country_key(code), code=code, name=country_name(code))

    def _party(self, row: DeclarationRow, role: str, graph: GraphBuilder) -> str | None:
        name = getattr(row, f"{role}_name")
        tax_id = getattr(row, f"{role}_tax_id", None)
        if not name:
            if tax_id:
                raise RecordProblem(f"{role}_name", f"the {role} has a tax id but no name", tax_id)
            return None
        reg = getattr(row, f"{role}_registration_number", None)
        country = getattr(row, f"{role}_country", None) or (
            row.reporting_country if role == "declarant" else None
        )
        address = getattr(row, f"{role}_address", None)
        return graph.fragment(
            ("party", name, tax_id, reg, country, address),
            lambda: self._build_party(
                graph, name, tax_id=tax_id, reg=reg, country=country, address=address
            ),
        )

    def _build_party(
        self,
        graph: GraphBuilder,
        name: str,
        *,
        tax_id: str | None,
        reg: str | None,
        country: str | None,
        address: str | None,
    ) -> str:
        key = graph.node(
            Label.COMPANY,
            keys.company_key(
                self.agency.value,
                name=name,
                tax_id=tax_id,
                registration_number=reg,
                country=country,
            ),
            name=name,
            name_norm=keys.norm_text(name),
            tax_id=tax_id,
            registration_number=reg,
            jurisdiction=country,
        )
        if address:
            addr = graph.node(
                Label.ADDRESS, keys.address_key(address, country), full=address, country=country
            )
            graph.rel(RelType.REGISTERED_AT, key, addr)
        if country:
            graph.rel(
                RelType.IN_COUNTRY,
                key,
                self._country(graph, country),
                key="jurisdiction",
                role="jurisdiction",
            )
        return key
