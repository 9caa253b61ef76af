"""Pydantic models of the goAML 5 elements the graph uses (see docs/formats.md).

Field names are the element names, so a validation error names the element path inside the
record (``t_from.from_account.currency_code``). goAML carries many elements the graph has no
place for (``gender``, ``late_deposit``, ``reporting_person`` …); the models deliberately
ignore extras rather than forbid them, so a complete goAML file loads. Every text field
refuses nested or repeated elements where goAML expects one text value.
"""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from graph_models.schema import Label
from loaders import keys
from loaders.fields import (
    Amount,
    Country,
    Currency,
    Flag,
    OptStr,
    PastDate,
    ReqAmount,
    ReqDate,
    Text,
)
from loaders.keys import record_key


def _leaf(value: Any) -> Any:
    if isinstance(value, dict | list):
        raise ValueError("expected one text value, found nested or repeated elements")
    return value


def _email(value: Any) -> Any:
    if isinstance(value, str) and value.strip() and "@" not in value:
        raise ValueError(f"{value.strip()!r} is not an e-mail address")
    return value


# fields.py types, guarded by _leaf (Annotated before-validators run last-declared first).
XStr = Annotated[OptStr, BeforeValidator(_leaf)]
XText = Annotated[Text, BeforeValidator(_leaf)]
XCountry = Annotated[Country, BeforeValidator(_leaf)]
XCurrency = Annotated[Currency, BeforeValidator(_leaf)]
XDate = Annotated[PastDate, BeforeValidator(_leaf)]
XReqDate = Annotated[ReqDate, BeforeValidator(_leaf)]
XAmount = Annotated[Amount, BeforeValidator(_leaf)]
XReqAmount = Annotated[ReqAmount, BeforeValidator(_leaf)]
XFlag = Annotated[Flag, BeforeValidator(_leaf)]
XEmail = Annotated[OptStr, BeforeValidator(_email), BeforeValidator(_leaf)]


class _Element(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Phone(_Element):
    tph_country_prefix: XStr = None
    tph_number: XText

    @model_validator(mode="after")
    def _has_digits(self) -> Self:
        if not any(c.isdigit() for c in self.tph_number):
            raise ValueError(f"phone number {self.tph_number!r} has no digits")
        return self

    @property
    def number(self) -> str:
        prefix = (self.tph_country_prefix or "").lstrip("+")
        if prefix and not self.tph_number.startswith("+"):
            return f"+{prefix} {self.tph_number}"
        return self.tph_number


class Phones(_Element):
    phone: list[Phone] = Field(default_factory=list)


class Address(_Element):
    address_type: XStr = None
    address: XStr = None
    town: XStr = None
    city: XStr = None
    zip: XStr = None
    country_code: XCountry = None
    state: XStr = None

    @model_validator(mode="after")
    def _has_place(self) -> Self:
        if not (self.address or self.city or self.town):
            raise ValueError("an address needs an address line, a town or a city")
        return self

    @property
    def locality(self) -> str | None:
        return self.city or self.town

    @property
    def full(self) -> str:
        place = " ".join(p for p in (self.zip, self.locality) if p)
        return ", ".join(p for p in (self.address, place, self.state) if p)


class Addresses(_Element):
    address: list[Address] = Field(default_factory=list)


class Contactable(_Element):
    phones: Phones | None = None
    addresses: Addresses | None = None
    email: list[XEmail] = Field(default_factory=list)

    @property
    def phone_list(self) -> list[Phone]:
        return self.phones.phone if self.phones else []

    @property
    def address_list(self) -> list[Address]:
        return self.addresses.address if self.addresses else []

    @property
    def emails(self) -> list[str]:
        return [e for e in self.email if e]


class Person(Contactable):
    """``t_person`` (and ``from_person`` / ``to_person``)."""

    title: XStr = None
    first_name: XStr = None
    middle_name: XStr = None
    last_name: XStr = None
    birthdate: XDate = None
    passport_number: XStr = None
    passport_country: XCountry = None
    id_number: XStr = None
    nationality1: XCountry = None

    @model_validator(mode="after")
    def _named(self) -> Self:
        if not (self.first_name or self.last_name):
            raise ValueError("a person needs a first_name or a last_name")
        return self

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)

    @property
    def identifier(self) -> tuple[str | None, str | None]:
        """(id number, id type): the passport first, as travellers and CTRs carry it."""
        if self.passport_number:
            return self.passport_number, "passport"
        if self.id_number:
            return self.id_number, "national_id"
        return None, None

    @property
    def key(self) -> str:
        return keys.person_key(
            "fiu", name=self.name, id_number=self.identifier[0], birth_date=self.birthdate
        )


class Director(Person):
    """``director_id``: a t_person with a ``role``. goAML types the element as t_person
    itself; docs/formats.md nests a ``t_person`` inside. Both are read."""

    role: XStr = None

    @model_validator(mode="before")
    @classmethod
    def _unnest(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("t_person"), dict):
            inner = data["t_person"]
            outer = {k: v for k, v in data.items() if k != "t_person"}
            return {**outer, **inner, "role": outer.get("role") or inner.get("role")}
        return data


class Entity(Contactable):
    """``t_entity`` (and ``from_entity`` / ``to_entity``)."""

    name: XText
    commercial_name: XStr = None
    incorporation_legal_form: XStr = None
    incorporation_number: XStr = None
    tax_number: XStr = None
    incorporation_country_code: XCountry = None
    incorporation_date: XDate = None
    director_id: list[Director] = Field(default_factory=list)

    @property
    def key(self) -> str:
        return keys.company_key(
            "fiu",
            name=self.name,
            tax_id=self.tax_number,
            registration_number=self.incorporation_number,
            country=self.incorporation_country_code,
        )


class Signatory(_Element):
    is_primary: XFlag = None
    t_person: Person
    role: XStr = None


class Account(_Element):
    """``t_account`` (and ``from_account`` / ``to_account``)."""

    institution_name: XStr = None
    institution_code: XStr = None
    swift: XStr = None
    branch: XStr = None
    account: XStr = None
    account_name: XStr = None
    iban: XStr = None
    currency_code: XCurrency = None
    t_entity: Entity | None = None
    signatory: list[Signatory] = Field(default_factory=list)

    @model_validator(mode="after")
    def _numbered(self) -> Self:
        if not (self.account or self.iban):
            raise ValueError("an account needs an account number or an IBAN")
        return self

    @property
    def institution(self) -> str | None:
        return self.institution_name or self.institution_code or self.swift

    @property
    def key(self) -> str:
        return keys.account_key(
            iban=self.iban, number=self.account, institution=self.institution or ""
        )


def _exactly_one(side: str, values: dict[str, object]) -> None:
    present = [name for name, value in values.items() if value is not None]
    if len(present) != 1:
        found = ", ".join(present) or "none"
        raise ValueError(f"{side} needs exactly one of {', '.join(values)} (found: {found})")


def _the_one(*parties: Account | Person | Entity | None) -> Account | Person | Entity:
    for party in parties:
        if party is not None:
            return party
    raise ValueError("no party")  # unreachable: the side's validator demands exactly one


class FromSide(_Element):
    """``t_from`` / ``t_from_my_client``."""

    from_funds_code: XStr = None
    from_account: Account | None = None
    from_person: Person | None = None
    from_entity: Entity | None = None
    from_country: XCountry = None

    @model_validator(mode="after")
    def _one_party(self) -> Self:
        _exactly_one(
            "the from side",
            {
                "from_account": self.from_account,
                "from_person": self.from_person,
                "from_entity": self.from_entity,
            },
        )
        return self

    @property
    def party(self) -> Account | Person | Entity:
        return _the_one(self.from_account, self.from_person, self.from_entity)

    @property
    def country(self) -> str | None:
        return self.from_country


class ToSide(_Element):
    """``t_to`` / ``t_to_my_client``."""

    to_funds_code: XStr = None
    to_account: Account | None = None
    to_person: Person | None = None
    to_entity: Entity | None = None
    to_country: XCountry = None

    @model_validator(mode="after")
    def _one_party(self) -> Self:
        _exactly_one(
            "the to side",
            {
                "to_account": self.to_account,
                "to_person": self.to_person,
                "to_entity": self.to_entity,
            },
        )
        return self

    @property
    def party(self) -> Account | Person | Entity:
        return _the_one(self.to_account, self.to_person, self.to_entity)

    @property
    def country(self) -> str | None:
        return self.to_country


class Indicators(_Element):
    indicator: list[XStr] = Field(default_factory=list)


class ReportHeader(_Element):
    """The children of one ``report`` other than its transactions."""

    position: int = Field(alias="#position", default=0, description="1-based, in the file")
    rentity_id: XText
    rentity_branch: XStr = None
    submission_code: XStr = None
    report_code: XText
    entity_reference: XStr = None
    submission_date: XReqDate
    currency_code_local: XCurrency = None
    reason: XStr = None
    action: XStr = None
    report_indicators: Indicators | None = None

    @property
    def report_id(self) -> str:
        """The reporting entity's reference; without one, submission date and position in
        the file (stable for the same delivery, which is all that can be promised)."""
        return self.entity_reference or f"{self.submission_date}#{self.position}"

    @property
    def key(self) -> str:
        # Entity references are unique per reporting entity only, hence rentity_id.
        return record_key(Label.REPORT, self.rentity_id, self.report_id)

    @property
    def indicators(self) -> list[str]:
        found = self.report_indicators.indicator if self.report_indicators else []
        return [i for i in found if i]


class TransactionRecord(_Element):
    """One ``transaction``, with its (already validated) report header as context."""

    report: ReportHeader = Field(alias="#report")
    transactionnumber: XText
    internal_ref_number: XStr = None
    transaction_location: XStr = None
    transaction_description: XStr = None
    date_transaction: XReqDate
    transmode_code: XStr = None
    amount_local: XReqAmount
    t_from_my_client: FromSide | None = None
    t_from: FromSide | None = None
    t_to_my_client: ToSide | None = None
    t_to: ToSide | None = None

    @property
    def key(self) -> str:
        return record_key(
            Label.TRANSACTION, self.report.rentity_id, self.report.report_id, self.transactionnumber
        )
