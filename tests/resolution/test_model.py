"""Scoring and deciding: weights add up, the veto, the identifier rule, the thresholds."""

from __future__ import annotations

import math

import pytest

from resolution.config import default_config
from resolution.features import company_record, person_record
from resolution.model import LINK, NONE, REVIEW, RULE, Scorer, probability

VALID_A, VALID_B = "GB100000034", "GB100000047"  # both pass the GB VAT check


def test_total_weight_is_prior_plus_level_weights() -> None:
    scorer = Scorer(default_config())
    a = company_record("company:a", name="Acme Trading Ltd", jurisdiction="GB")
    b = company_record("company:b", name="ACME TRDG LIMITED", jurisdiction="GB")
    score = scorer.score(a, b)
    weights = scorer.weights("company", score.levels)
    assert math.isclose(score.weight, scorer.prior_weight("company") + sum(weights))
    assert math.isclose(score.probability, probability(score.weight))
    assert score.decision == LINK


def test_conflicting_valid_identifiers_veto_an_automatic_link() -> None:
    config = default_config()
    scorer = Scorer(config)
    # Everything agrees but the two valid VAT numbers: at most a review candidate.
    a = company_record("company:a", name="Orion Metals Ltd", tax_id=VALID_A, jurisdiction="GB")
    b = company_record("company:b", name="Orion Metals Ltd", tax_id=VALID_B, jurisdiction="GB")
    a.addresses = b.addresses = ("1 dock road",)
    a.phones = b.phones = ("+442079460958",)
    score = scorer.score(a, b)
    assert score.levels[2] == "strong_conflict"
    assert score.vetoed
    assert score.decision in (REVIEW, NONE)
    # The same pair without the veto would link: the veto, not the weights, decided.
    unvetoed = Scorer(config.model_copy(update={"veto_conflicts": False})).score(a, b)
    assert unvetoed.decision == LINK or unvetoed.probability < config.link_threshold


def test_an_invalid_identifier_does_not_veto() -> None:
    scorer = Scorer(default_config())
    a = company_record("company:a", name="Orion Metals Ltd", tax_id=VALID_A, jurisdiction="GB")
    b = company_record("company:b", name="Orion Metals Ltd", tax_id="GB100000035")
    score = scorer.score(a, b)
    assert score.levels[2] == "weak_conflict"
    assert not score.vetoed


def test_a_shared_identifier_links_by_rule_when_names_are_similar() -> None:
    scorer = Scorer(default_config())
    a = company_record("company:a", name="Acme Trading Ltd", tax_id=VALID_A)
    b = company_record("company:b", name="Acme Trading International", tax_id=VALID_A)
    rule = scorer.score(a, b)
    assert (rule.decision, rule.method) == (LINK, RULE)
    c = company_record("company:c", name="Zenith Shipping", tax_id=VALID_A)
    assert scorer.score(a, c).method != RULE  # a different name is not the same party


def test_persons_need_more_than_a_common_name() -> None:
    scorer = Scorer(default_config())
    a = person_record("person:a", name="John Smith", nationality="GB")
    b = person_record("person:b", name="SMITH, John", nationality="GB")
    assert scorer.score(a, b).decision != LINK
    a.date = b.date = "1980-01-01"
    assert scorer.score(a, b).decision == LINK
    b.date = "1975-05-05"
    assert scorer.score(a, b).decision == NONE


def test_records_of_different_kinds_are_never_scored() -> None:
    scorer = Scorer(default_config())
    company = company_record("company:a", name="Jose Nunez")
    person = person_record("person:a", name="Jose Nunez")
    with pytest.raises(ValueError, match="cannot compare a company with a person"):
        scorer.score(company, person)
