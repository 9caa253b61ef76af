"""Each comparator: its levels on telling examples, and the explanation users see."""

from __future__ import annotations

import inspect

import pytest

from resolution import compare
from resolution.compare import comparators, identifier_level
from resolution.features import Record, company_record, person_record
from resolution.identifiers import Identifier


def co(name: str, **kw: str) -> Record:
    return company_record("company:test:x", name=name, **kw)


def pe(name: str, birth_date: str | None = None) -> Record:
    return person_record("person:test:x", name=name, birth_date=birth_date)


@pytest.mark.parametrize(
    ("left", "right", "level"),
    [
        ("Acme Trading Limited", "ACME TRDG LTD.", "exact"),
        ("Acme Trading", "Trading Acme", "exact"),
        ("Acme Trading", "Akme Trading", "close"),
        ("Delta Electronics", "Dleta Electronics", "close"),
        ("Silverstone Forwarding", "Silverline Forwarding", "similar"),
        ("Harris Fashion Trading", "Harris Fashion", "similar"),
        ("Acme Trading", "Zenith Shipping", "different"),
        ("Acme Trading", "", "missing"),
    ],
)
def test_company_name(left: str, right: str, level: str) -> None:
    assert compare.company_name(co(left), co(right)) == level


@pytest.mark.parametrize(
    ("left", "right", "level"),
    [
        ("John Smith", "SMITH, John", "exact"),
        ("Mohammed Al-Hashimi", "Muhammad Alhashimi", "close"),
        ("J. Smith", "John Smith", "initials"),
        ("John Smith", "John Robert Smith", "partial"),
        ("Jane Smith", "Janet Smithson", "similar"),
        ("John Smith", "Keiko Tanaka", "different"),
    ],
)
def test_person_name(left: str, right: str, level: str) -> None:
    assert compare.person_name(pe(left), pe(right)) == level


@pytest.mark.parametrize(
    ("left", "right", "level"),
    [
        ("1980-01-01", "1980-01-01", "exact"),
        ("1980-01-01", "1980-01-07", "close"),  # one digit
        ("1980-03-04", "1980-04-03", "close"),  # day and month swapped
        ("1980-01-01", "1980-09-30", "year"),
        ("1980-01-01", "1975-05-05", "different"),
        ("1980-01-01", None, "missing"),
    ],
)
def test_date(left: str, right: str | None, level: str) -> None:
    a = pe("x", birth_date=left)
    b = pe("x", birth_date=right) if right else pe("x")
    assert compare.date(a, b) == level


def test_country_and_legal_form() -> None:
    gb_ltd, gb_llc = co("A Ltd", jurisdiction="GB"), co("A LLC", jurisdiction="GB")
    pl = co("A Sp. z o.o.", jurisdiction="PL")
    bare = co("A")
    assert compare.country(gb_ltd, gb_llc) == "same"
    assert compare.country(gb_ltd, pl) == "different"
    assert compare.country(gb_ltd, bare) == "missing"
    assert compare.legal_form(gb_ltd, co("A Limited")) == "same"
    assert compare.legal_form(gb_ltd, gb_llc) == "compatible"
    assert compare.legal_form(gb_ltd, pl) == "different"
    assert compare.legal_form(gb_ltd, bare) == "missing"


def with_contacts(**kw: tuple[str, ...]) -> Record:
    record = co("A")
    for name, values in kw.items():
        setattr(record, name, values)
    return record


def test_address_levels() -> None:
    a = with_contacts(addresses=("1 high street london sw1a 1aa",))
    assert compare.address(a, with_contacts(addresses=("1 high street london sw1a 1aa",))) == (
        "exact"
    )
    assert compare.address(a, with_contacts(addresses=("1 high stret london sw1a 1aa",))) == (
        "close"
    )
    assert compare.address(a, with_contacts(addresses=("1 high street london",))) == "close"
    assert compare.address(a, with_contacts(addresses=("99 dock road felixstowe",))) == (
        "different"
    )
    assert compare.address(a, co("B")) == "missing"


def test_shared_contacts() -> None:
    a = with_contacts(phones=("+442079460958",), emails=("a@acme.test",), accounts=("GB29NWBK1",))
    same = with_contacts(
        phones=("+442079460958", "+441"), emails=("a@acme.test",), accounts=("GB29NWBK1",)
    )
    other = with_contacts(phones=("+449",), emails=("b@b.test",), accounts=("DE1",))
    assert (compare.phone(a, same), compare.email(a, same), compare.account(a, same)) == (
        "same",
        "same",
        "shared",
    )
    assert (compare.phone(a, other), compare.email(a, other), compare.account(a, other)) == (
        "different",
        "different",
        "none",  # people and firms hold several accounts: no evidence against
    )
    assert compare.phone(a, co("B")) == "missing"
    assert compare.associates(
        with_contacts(associates=("jose nunez 1980",)),
        with_contacts(associates=("jose nunez 1980", "x")),
    ) == ("shared")


def ident(
    value: str, *, strong: bool, scheme: str = "tax", country: str | None = "GB"
) -> Identifier:
    return Identifier(scheme, country, value, strong)


def test_identifier_levels() -> None:
    none: frozenset[str] = frozenset()
    a = (ident("1", strong=True),)
    assert identifier_level(a, (ident("1", strong=True),), none) == "strong_agree"
    assert identifier_level(a, (ident("1", strong=False),), none) == "weak_agree"
    assert identifier_level(a, (ident("2", strong=True),), none) == "strong_conflict"
    assert identifier_level(a, (ident("2", strong=False),), none) == "weak_conflict"
    # Another country's number, or another kind of number, says nothing.
    assert identifier_level(a, (ident("2", strong=True, country="FR"),), none) == "missing"
    assert identifier_level(a, (ident("2", strong=True, scheme="reg"),), none) == "missing"
    assert identifier_level(a, (), none) == "missing"
    # A noisy scheme (hand-typed, as FEBRL's social security ids) is close, never a conflict.
    ssn = (ident("1234567", strong=False, scheme="ssn", country=None),)
    typo = (ident("1234576", strong=False, scheme="ssn", country=None),)
    other = (ident("9999999", strong=False, scheme="ssn", country=None),)
    assert identifier_level(ssn, typo, frozenset({"ssn"})) == "close"
    assert identifier_level(ssn, other, frozenset({"ssn"})) == "weak_conflict"


def test_identifiers_from_records_compare_across_spellings() -> None:
    customs = co("ACME TRADING LTD", tax_id="GB980780684000")
    registry = co("Acme Trading Limited", vat_number="GB 980 7806 84", jurisdiction="GB")
    assert compare.identifiers_with(frozenset())(customs, registry) == "strong_agree"


@pytest.mark.parametrize("kind", ["company", "person"])
def test_every_comparator_explains_every_level(kind: str) -> None:
    for comparator in comparators(kind):
        text = comparator.explanation
        assert len(text) > 40, comparator.name
        for level in comparator.levels:
            if level != "missing":
                assert level in text, f"{comparator.name} does not explain {level}"
        assert inspect.isfunction(comparator.compare)
