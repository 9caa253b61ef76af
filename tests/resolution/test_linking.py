"""Linking without a store: ambiguity, identifier conflicts and judgements in clustering."""

from __future__ import annotations

from resolution.config import default_config
from resolution.features import Record, company_record
from resolution.model import Scorer
from resolution.pipeline import Prior, link


def sealed(*records: Record) -> list[Record]:
    for record in records:
        record.seal("test")
    return sorted(records, key=lambda r: r.key)


def groups(records: list[Record], prior: Prior | None = None) -> list[set[str]]:
    outcome = link(records, Scorer(default_config()), prior=prior)
    return [{records[i].key for i in g} for g in outcome.clustering.groups]


def test_a_name_matching_two_registered_companies_links_to_neither() -> None:
    # Two registered companies share a name; a customs record with only the name cannot say
    # which one it is, so it waits for review instead of joining one at random.
    records = sealed(
        company_record(
            "company:registry:1",
            name="Granite Logistics Limited",
            jurisdiction="GB",
            registration_number="01234567",
        ),
        company_record(
            "company:registry:2",
            name="Granite Logistics Limited",
            jurisdiction="GB",
            registration_number="07654321",
        ),
        company_record("company:customs:3", name="GRANITE LOGISTICS LTD", jurisdiction="GB"),
    )
    outcome = link(records, Scorer(default_config()))
    assert [len(g) for g in outcome.clustering.groups] == [1, 1, 1]
    customs = next(i for i, r in enumerate(records) if r.key == "company:customs:3")
    assert sum(customs in pair for pair in outcome.review) == 2


def test_conflicting_identifiers_are_never_joined_through_a_third_record() -> None:
    # The customs record matches the first company by name and the second by tax id; the two
    # companies' registration numbers differ, so one of the links must go: the weaker one.
    records = sealed(
        company_record(
            "company:registry:1",
            name="Granite Logistics Limited",
            jurisdiction="GB",
            registration_number="01234567",
        ),
        company_record(
            "company:registry:2",
            name="Granite Logistic Ltd",
            jurisdiction="GB",
            registration_number="07654321",
            tax_id="GB980780684",
        ),
        company_record(
            "company:customs:3",
            name="GRANITE LOGISTICS LTD",
            jurisdiction="GB",
            tax_id="GB980780684",
        ),
    )
    found = groups(records)
    assert {"company:customs:3", "company:registry:2"} in found
    assert {"company:registry:1"} in found


def test_an_analysts_positive_judgement_overrides_an_identifier_conflict() -> None:
    records = sealed(
        company_record("company:a", name="Orion Metals Ltd", tax_id="GB100000034"),
        company_record("company:b", name="Orion Metals Ltd", tax_id="GB100000047"),
    )
    assert groups(records) == [{"company:a"}, {"company:b"}]
    judged = Prior(positives=[(0, 1)], judged={(0, 1)})
    assert groups(records, judged) == [{"company:a", "company:b"}]
