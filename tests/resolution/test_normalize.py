"""Normalisation: names, legal forms, abbreviations, addresses, phones, identifiers."""

from __future__ import annotations

import pytest

from resolution.identifiers import (
    account_number,
    person_identifier,
    registration_identifier,
    tax_identifier,
)
from resolution.normalize import (
    address_tokens,
    company_name,
    fold,
    person_tokens,
    phone_e164,
    phonetic,
)


@pytest.mark.parametrize(
    ("raw", "core", "form"),
    [
        ("ACME TRADING LTD", "acme trading", "ltd"),
        ("Acme Trading Limited", "acme trading", "ltd"),
        ("ACME TRDG LTD.", "acme trading", "ltd"),
        ("Acme Intl Holdings S.A.", "acme international holdings", "sa"),
        ("Continental Chemical Industries Sp. z o.o.", "continental chemical industries", "sp zoo"),
        ("OOO Regent Metalli", "regent metalli", "ooo"),
        ("\u041e\u041e\u041e \u0420\u0435\u0433\u0435\u043d\u0442", "regent", "ooo"),  # Cyrillic
        ("Nguyen Plastics Co., Ltd", "nguyen plastics", "co ltd"),
        ("Delta G.m.b.H.", "delta", "gmbh"),
        ("GmbH Klein Holz", "klein holz", "gmbh"),
        ("Société Générale SA", "societe generale", "sa"),
        ("Sigma (Pty) Ltd", "sigma", "pty ltd"),
        ("The Atlas Trading Company", "atlas trading company", None),
        ("AB Foods", "ab foods", None),  # a short form word that starts a name stays
    ],
)
def test_company_names_split_core_and_legal_form(raw: str, core: str, form: str | None) -> None:
    parsed = company_name(raw)
    assert (parsed.core, parsed.form) == (core, form)


def test_folding_transliterates_and_drops_punctuation() -> None:
    assert fold("Y\u0131ld\u0131r\u0131m-\u00d6zt\u00fcrk, S.A.") == "yildirim ozturk sa"
    assert person_tokens("AL-HASHIMI, Layla") == ("al", "hashimi", "layla")


def test_phonetic_keys_meet_for_spelling_variants() -> None:
    assert phonetic("akme") == phonetic("acme")
    assert phonetic("mohammed") == phonetic("muhammad")
    assert phonetic("2024") == "2024"


def test_addresses_expand_street_abbreviations() -> None:
    assert address_tokens("12 High St., London") == ("12", "high", "street", "london")
    assert address_tokens("Hauptstr. 5") == address_tokens("Hauptstraße 5")


def test_phones_become_e164_with_the_records_country() -> None:
    assert phone_e164("020 7946 0958", "GB") == ("+442079460958", True)
    assert phone_e164("+44 20 7946 0958", None) == ("+442079460958", True)
    number, valid = phone_e164("12345", None)
    assert not valid
    assert number == "12345"


def test_tax_ids_are_canonical_and_validated() -> None:
    spaced = tax_identifier("GB 980 7806 84", None)
    eori = tax_identifier("GB980780684000", None)
    assert spaced == eori
    assert spaced is not None
    assert (spaced.scheme, spaced.country, spaced.value, spaced.strong) == (
        "tax",
        "GB",
        "980780684",
        True,
    )
    bad_checksum = tax_identifier("GB980780685", None)
    assert bad_checksum is not None
    assert not bad_checksum.strong  # kept, but only as a weak identifier
    bare = tax_identifier("1062522064", "VN")
    assert bare is not None
    assert bare.country == "VN"


def test_leis_registration_numbers_and_person_documents() -> None:
    lei = tax_identifier("5493001KJTIIGC8Y1R12", None)
    assert lei is not None
    assert (lei.scheme, lei.strong) == ("lei", True)
    reg = registration_identifier("732 829 320", "FR")
    assert reg is not None
    assert (reg.scheme, reg.value, reg.strong) == ("reg", "732829320", True)  # a valid SIREN
    nino = person_identifier("TZ 90 37 55 B", None, "GB")
    assert nino is not None
    assert (nino.scheme, nino.strong) == ("nino", True)
    passport = person_identifier("X1234567", "passport", "ES")
    untyped = person_identifier("X1234567", None, "ES")
    assert passport is not None
    assert untyped is not None
    assert passport.strong
    assert not untyped.strong  # passport-shaped but not said to be one
    assert (passport.scheme, passport.value) == (untyped.scheme, untyped.value)


def test_accounts_compare_as_compact_ibans() -> None:
    assert account_number("gb29 nwbk 6016 1331 9268 19") == "GB29NWBK60161331926819"
    assert account_number("barclays:12345") == "barclays:12345"  # not an IBAN: as given
