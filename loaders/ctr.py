"""Currency transaction reports: a flat CSV (or XLSX), one cash transaction per row.

A row is one report holding one transaction: a ``Report`` (report code CTR, keyed
``report:<report_id>``), its ``Transaction`` (keyed ``transaction:<report_id>:cash``; a
report_id repeated in a file is counted as a duplicate and its later row's values win), the
``Account`` (when the row has an account number or IBAN) held by the beneficiary, the
conductor who brought or took the cash (a ``Person``) and the beneficiary (a ``Person`` or
``Company``), all keyed per FIU and REPORTED_IN the report with their role.

The money flow is what the structuring and funnel detectors walk: cash **in** goes from the
conductor to the account (SENT / RECEIVED through the transaction, and conductor PAID
account); cash **out** goes from the account to the conductor. Without an account the
beneficiary stands in for it. The conductor is not assumed to hold the account.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from graph_models.records import Agency
from graph_models.schema import Label, RelType
from loaders import keys
from loaders.base import GraphBuilder, RecordProblem
from loaders.fields import Country, OptStr, PastDate, ReqAmount, ReqCurrency, ReqDate, Text
from loaders.reference_data import country_name
from loaders.tabular import TabularFormat


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


class CtrRow(BaseModel):
    """The columns of a CTR file (see docs/formats.md)."""

    model_config = ConfigDict(extra="ignore")

    report_id: Text
    reporting_institution: Text
    transaction_date: ReqDate
    amount: ReqAmount
    currency: ReqCurrency
    cash_direction: Literal["in", "out"]
    account_number: OptStr = None
    iban: OptStr = None
    conductor_name: OptStr = None
    conductor_birth_date: PastDate = None
    conductor_id_number: OptStr = None
    conductor_nationality: Country = None
    beneficiary_name: OptStr = None
    beneficiary_tax_id: OptStr = None
    beneficiary_type: Literal["person", "company"] | None = None
    branch: OptStr = None

    @field_validator("cash_direction", mode="before")
    @classmethod
    def _direction(cls, value: object) -> object:
        return _lower(value)

    @field_validator("beneficiary_type", mode="before")
    @classmethod
    def _beneficiary_type(cls, value: object) -> object:
        value = _lower(value)
        return None if value == "" else value


class CurrencyTransactionReports(TabularFormat):
    kind = "ctr"
    agency = Agency.FIU
    model = CtrRow
    description = "currency transaction reports, one cash transaction per row (CSV or XLSX)"

    def identity(self, row: CtrRow) -> str:
        return row.report_id

    def seen(self, row: CtrRow) -> str | None:
        return row.transaction_date

    def build(self, row: CtrRow, graph: GraphBuilder) -> None:
        report = graph.node(
            Label.REPORT,
            keys.record_key(Label.REPORT, row.report_id),
            report_id=row.report_id,
            report_code="CTR",
            reporting_entity=row.reporting_institution,
        )
        txn = graph.node(
            Label.TRANSACTION,
            keys.record_key(Label.TRANSACTION, row.report_id, "cash"),
            transaction_number=row.report_id,
            date=row.transaction_date,
            amount=row.amount,
            currency=row.currency,
            cash_direction=row.cash_direction,
        )
        graph.rel(RelType.PART_OF, txn, report)
        conductor = self._conductor(row, graph, report)
        beneficiary = self._beneficiary(row, graph, report)
        account = self._account(row, graph, report)
        if account and beneficiary:
            graph.rel(RelType.HOLDS, beneficiary, account, key="holder", role="holder")
        # Where the cash was paid in to, or taken out of.
        held = account or beneficiary
        source, target = (conductor, held) if row.cash_direction == "in" else (held, conductor)
        if source:
            graph.rel(RelType.SENT, source, txn)
        if target:
            graph.rel(RelType.RECEIVED, txn, target)
        if source and target and source != target:
            graph.rel(
                RelType.PAID,
                source,
                target,
                key=txn,
                date=row.transaction_date,
                amount=row.amount,
                currency=row.currency,
                transaction=txn,
            )

    def _account(self, row: CtrRow, graph: GraphBuilder, report: str) -> str | None:
        if not (row.account_number or row.iban):
            return None
        key = graph.node(
            Label.ACCOUNT,
            keys.account_key(
                iban=row.iban, number=row.account_number, institution=row.reporting_institution
            ),
            account_number=row.account_number or row.iban,
            iban=row.iban,
            institution=row.reporting_institution,
        )
        graph.rel(RelType.REPORTED_IN, key, report, key="account", role="account")
        return key

    def _conductor(self, row: CtrRow, graph: GraphBuilder, report: str) -> str | None:
        name = row.conductor_name
        if not name:
            if row.conductor_id_number:
                raise RecordProblem(
                    "conductor_name",
                    "the conductor has an id number but no name",
                    row.conductor_id_number,
                )
            return None
        key = graph.node(
            Label.PERSON,
            keys.person_key(
                self.agency.value,
                name=name,
                id_number=row.conductor_id_number,
                birth_date=row.conductor_birth_date,
            ),
            name=name,
            name_norm=keys.norm_text(name),
            birth_date=row.conductor_birth_date,
            nationality=row.conductor_nationality,
            id_number=row.conductor_id_number,
        )
        graph.rel(RelType.REPORTED_IN, key, report, key="conductor", role="conductor")
        if row.conductor_nationality:
            code = row.conductor_nationality
            country = graph.node(
                Label.COUNTRY, keys.country_key(code), code=code, name=country_name(code)
            )
            graph.rel(RelType.IN_COUNTRY, key, country, key="nationality", role="nationality")
        return key

    def _beneficiary(self, row: CtrRow, graph: GraphBuilder, report: str) -> str | None:
        name = row.beneficiary_name
        if not name:
            if row.beneficiary_tax_id or row.beneficiary_type:
                raise RecordProblem(
                    "beneficiary_name", "a beneficiary is described but has no name"
                )
            return None
        if row.beneficiary_type == "company":
            key = graph.node(
                Label.COMPANY,
                keys.company_key(self.agency.value, name=name, tax_id=row.beneficiary_tax_id),
                name=name,
                name_norm=keys.norm_text(name),
                tax_id=row.beneficiary_tax_id,
            )
        else:
            # A person unless the file says company: the type column is optional.
            key = graph.node(
                Label.PERSON,
                keys.person_key(self.agency.value, name=name, id_number=row.beneficiary_tax_id),
                name=name,
                name_norm=keys.norm_text(name),
                id_number=row.beneficiary_tax_id,
                id_type="tax_id" if row.beneficiary_tax_id else None,
            )
        graph.rel(RelType.REPORTED_IN, key, report, key="beneficiary", role="beneficiary")
        return key
