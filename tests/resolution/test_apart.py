"""Records kept apart: companies of two jurisdictions, unless an identifier agrees.

A customs or FIU record that names a company without a country matches every company of that
name; linked to two namesakes of two countries, it would join them into one entity.
"""

from __future__ import annotations

import pytest

from graph_models.store.base import GraphStore
from resolution import commands
from resolution.config import KindModel, default_config
from resolution.features import company_record
from resolution.identifiers import Identifier
from resolution.model import Scorer
from tests.factories import node, prov
from tests.resolution.scenario import entity_of, write

REGISTRY = prov("registry", "companies.csv", "row 2")
FIU = prov("fiu", "str.xml", "/reports/report[1]")
KELLY_GB = "company:registry:reg:GB:04490060"
KELLY_IE = "company:registry:reg:IE:47292620"
KELLY_ANYWHERE = "company:fiu:name:-:kelly metalworks limited"


def test_jurisdictions_apart_keep_companies_apart_unless_an_identifier_agrees() -> None:
    scorer = Scorer(default_config())
    gb = company_record("company:a", name="Kelly Metalworks Ltd", jurisdiction="GB")
    ie = company_record("company:b", name="Kelly Metalworks Ltd", jurisdiction="IE")
    anywhere = company_record("company:c", name="Kelly Metalworks Ltd")
    assert scorer.separates(gb, ie)
    assert not scorer.separates(gb, anywhere)  # no country: either may be the one
    assert scorer.may_separate(gb)
    assert not scorer.may_separate(anywhere)
    # One LEI on both: one company, whatever the countries say.
    lei = Identifier("lei", None, "5493001KJTIIGC8Y1R12", True)
    gb.ids, ie.ids = (lei,), (lei,)
    assert not scorer.separates(gb, ie)


def test_a_company_named_without_a_country_joins_no_two_namesakes(store: GraphStore) -> None:
    write(
        store,
        [
            node(KELLY_GB, REGISTRY, name="Kelly Metalworks Limited", jurisdiction="GB"),
            node(KELLY_IE, REGISTRY, name="Kelly Metalworks Limited", jurisdiction="IE"),
            node(KELLY_ANYWHERE, FIU, name="KELLY METALWORKS LIMITED"),
        ],
        [],
    )
    commands.resolve(store)
    entity = entity_of(store)
    assert len({entity[KELLY_GB], entity[KELLY_IE], entity[KELLY_ANYWHERE]}) == 3
    queue = {(i.left, i.right) for i in commands.review_queue(store)}
    assert {(KELLY_ANYWHERE, KELLY_GB), (KELLY_ANYWHERE, KELLY_IE)} <= queue


def test_keep_apart_must_name_a_comparator_of_the_kind() -> None:
    config = default_config()
    company = KindModel.model_validate(
        {**config.company.model_dump(), "keep_apart": {"birthday": ["different"]}}
    )
    with pytest.raises(ValueError, match="birthday"):
        Scorer(config.model_copy(update={"company": company}))
