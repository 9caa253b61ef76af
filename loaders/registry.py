"""The company register: ``companies.csv`` and ``officers.csv`` (CSV or XLSX).

A register entry is the strongest identity a company has, so the registry keys companies by
jurisdiction and registration number (the tax id stays a property: entity resolution joins the
registry record to the tax and customs records that are keyed by tax id).

``CompanyRegister`` loads one row per company with its registered address, phone, e-mail and
jurisdiction. ``CompanyOfficers`` loads one row per appointment: the officer (a ``Person``, or a
``Company`` for corporate officers) is ``DIRECTOR_OF`` (directors, secretaries) or
``SHAREHOLDER_OF`` (shareholders, beneficial owners) the company. Each officer row writes the
company node again from its own columns, so an officers file never points at a missing node
whatever order the two files are loaded in.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo, field_validator

from graph_models.records import Agency
from graph_models.schema import Label, RelType
from loaders import keys
from loaders.base import GraphBuilder, RecordProblem
from loaders.fields import Count, Country, OptStr, PastDate, Percentage, ReqCountry, Text
from loaders.reference_data import country_name
from loaders.tabular import TabularFormat
from loaders.tax import plausible_employees

# Phones and e-mails are pivots shared across agencies: a placeholder such as "n/a" or "000"
# would link every company that carries it, so a value must look like the real thing.
_MIN_PHONE_DIGITS = 6
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _lower(value: Any) -> Any:
    """Code values are case-insensitive in the files; a blank optional code is unknown."""
    if isinstance(value, str):
        text = value.strip().lower()
        return text or None
    return value


def _phone(value: Any) -> str | None:
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if sum(c.isdigit() for c in text) < _MIN_PHONE_DIGITS:
        raise ValueError(f"{text!r} is not a phone number (fewer than {_MIN_PHONE_DIGITS} digits)")
    return text


def _email(value: Any) -> str | None:
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if not _EMAIL.match(text):
        raise ValueError(f"{text!r} is not an e-mail address")
    return text


def _not_before(value: str | None, info: ValidationInfo, earlier: str) -> str | None:
    """Dates are ISO strings once validated, so string order is date order."""
    start = info.data.get(earlier)
    if value is not None and start is not None and value < start:
        raise ValueError(f"{info.field_name} {value} is before {earlier} {start}")
    return value


Phone = Annotated[str | None, BeforeValidator(_phone)]
Email = Annotated[str | None, BeforeValidator(_email)]
Role = Annotated[
    Literal["director", "secretary", "shareholder", "beneficial_owner"], BeforeValidator(_lower)
]
OfficerType = Annotated[Literal["person", "company"] | None, BeforeValidator(_lower)]
DIRECTOR_ROLES = ("director", "secretary")


class CompanyRow(BaseModel):
    """The columns of a register ``companies.csv`` (see docs/formats.md)."""

    model_config = ConfigDict(extra="ignore")

    registration_number: Text
    name: Text
    jurisdiction: ReqCountry
    tax_id: OptStr = None
    vat_number: OptStr = None
    legal_form: OptStr = None
    incorporation_date: PastDate = None
    dissolution_date: PastDate = None
    address: OptStr = None
    city: OptStr = None
    postal_code: OptStr = None
    phone: Phone = None
    email: Email = None
    employees: Count = None

    @field_validator("dissolution_date")
    @classmethod
    def _dissolved_after_incorporation(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _not_before(value, info, "incorporation_date")

    @field_validator("employees")
    @classmethod
    def _plausible_head_count(cls, value: int | None) -> int | None:
        return plausible_employees(value)


class OfficerRow(BaseModel):
    """The columns of a register ``officers.csv`` (see docs/formats.md)."""

    model_config = ConfigDict(extra="ignore")

    company_registration_number: Text
    company_jurisdiction: ReqCountry
    company_name: Text
    officer_name: Text
    role: Role
    officer_type: OfficerType = None
    officer_birth_date: PastDate = None
    officer_nationality: Country = None
    officer_id_number: OptStr = None
    officer_registration_number: OptStr = None
    officer_jurisdiction: Country = None
    percentage: Percentage = None
    appointed: PastDate = None
    resigned: PastDate = None

    @field_validator("resigned")
    @classmethod
    def _resigned_after_appointment(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _not_before(value, info, "appointed")


def _company_key(name: str, registration_number: str | None, jurisdiction: str | None) -> str:
    # Registration number, not tax id: see the module docstring.
    return keys.company_key(
        Agency.REGISTRY.value,
        name=name,
        registration_number=registration_number,
        country=jurisdiction,
    )


def _country(graph: GraphBuilder, code: str) -> str:
    return graph.node(Label.COUNTRY, keys.country_key(code), code=code, name=country_name(code))


def _jurisdiction(graph: GraphBuilder, party: str, code: str | None) -> None:
    if code:
        graph.rel(
            RelType.IN_COUNTRY,
            party,
            _country(graph, code),
            key="jurisdiction",
            role="jurisdiction",
        )


class CompanyRegister(TabularFormat):
    kind = "registry-companies"
    agency = Agency.REGISTRY
    model = CompanyRow
    description = "company register, one row per company (CSV or XLSX)"

    def identity(self, row: CompanyRow) -> str:
        return f"{row.jurisdiction}|{keys.norm_id(row.registration_number)}"

    def seen(self, row: CompanyRow) -> str | None:
        return row.incorporation_date

    def build(self, row: CompanyRow, graph: GraphBuilder) -> None:
        company = graph.node(
            Label.COMPANY,
            _company_key(row.name, row.registration_number, row.jurisdiction),
            name=row.name,
            name_norm=keys.norm_text(row.name),
            registration_number=row.registration_number,
            tax_id=row.tax_id,
            vat_number=row.vat_number,
            legal_form=row.legal_form,
            incorporation_date=row.incorporation_date,
            dissolution_date=row.dissolution_date,
            jurisdiction=row.jurisdiction,
            employees=row.employees,
        )
        _jurisdiction(graph, company, row.jurisdiction)
        # A city or postal code alone is not an address: as a shared pivot it would join every
        # company of the town. The street line is what makes it one, so without it no Address.
        if row.address:
            full = ", ".join(p for p in (row.address, row.city, row.postal_code) if p)
            addr = graph.node(
                Label.ADDRESS,
                keys.address_key(full, row.jurisdiction),
                full=full,
                street=row.address,
                city=row.city,
                postal_code=row.postal_code,
                country=row.jurisdiction,
            )
            graph.rel(RelType.REGISTERED_AT, company, addr)
            graph.rel(
                RelType.IN_COUNTRY,
                addr,
                _country(graph, row.jurisdiction),
                key="location",
                role="location",
            )
        if row.phone:
            phone = graph.node(Label.PHONE, keys.phone_key(row.phone), number=row.phone)
            graph.rel(RelType.HAS_PHONE, company, phone)
        if row.email:
            email = graph.node(Label.EMAIL, keys.email_key(row.email), address=row.email.lower())
            graph.rel(RelType.HAS_EMAIL, company, email)


class CompanyOfficers(TabularFormat):
    kind = "registry-officers"
    agency = Agency.REGISTRY
    model = OfficerRow
    description = "company officers and shareholders, one row per appointment (CSV or XLSX)"

    def identity(self, row: OfficerRow) -> str:
        return "|".join(
            (
                row.company_jurisdiction,
                keys.norm_id(row.company_registration_number),
                row.role,
                self._officer_key(row),
                row.appointed or "",
            )
        )

    def seen(self, row: OfficerRow) -> str | None:
        return row.appointed

    def build(self, row: OfficerRow, graph: GraphBuilder) -> None:
        if row.percentage is not None and row.role in DIRECTOR_ROLES:
            raise RecordProblem(
                "percentage",
                f"a percentage is only for shareholders, not a {row.role}",
                row.percentage,
            )
        company = graph.node(
            Label.COMPANY,
            _company_key(
                row.company_name, row.company_registration_number, row.company_jurisdiction
            ),
            name=row.company_name,
            name_norm=keys.norm_text(row.company_name),
            registration_number=row.company_registration_number,
            jurisdiction=row.company_jurisdiction,
        )
        _jurisdiction(graph, company, row.company_jurisdiction)
        officer = self._officer(row, graph)
        # The role is the relationship key, so one person who is both director and secretary
        # (or shareholder and beneficial owner) keeps one edge per role.
        if row.role in DIRECTOR_ROLES:
            graph.rel(
                RelType.DIRECTOR_OF,
                officer,
                company,
                key=row.role,
                role=row.role,
                appointed=row.appointed,
                resigned=row.resigned,
            )
        else:
            graph.rel(
                RelType.SHAREHOLDER_OF, officer, company, key=row.role, percentage=row.percentage
            )

    def _officer_key(self, row: OfficerRow) -> str:
        if row.officer_type == "company":
            return _company_key(
                row.officer_name, row.officer_registration_number, row.officer_jurisdiction
            )
        return keys.person_key(
            self.agency.value,
            name=row.officer_name,
            id_number=row.officer_id_number,
            birth_date=row.officer_birth_date,
        )

    def _officer(self, row: OfficerRow, graph: GraphBuilder) -> str:
        name = row.officer_name
        if row.officer_type == "company":
            officer = graph.node(
                Label.COMPANY,
                self._officer_key(row),
                name=name,
                name_norm=keys.norm_text(name),
                registration_number=row.officer_registration_number,
                jurisdiction=row.officer_jurisdiction,
            )
            _jurisdiction(graph, officer, row.officer_jurisdiction)
            return officer
        officer = graph.node(
            Label.PERSON,
            self._officer_key(row),
            name=name,
            name_norm=keys.norm_text(name),
            birth_date=row.officer_birth_date,
            nationality=row.officer_nationality,
            id_number=row.officer_id_number,
        )
        if row.officer_nationality:
            graph.rel(
                RelType.IN_COUNTRY,
                officer,
                _country(graph, row.officer_nationality),
                key="nationality",
                role="nationality",
            )
        return officer
