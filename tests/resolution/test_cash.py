"""Persons tied by the accounts they moved cash through, and kept apart by their birth dates.

FIU records of a cash deposit often name the conductor and nothing else; the account the
cash went into is what ties the record to the person's other records. A name-only key that two
namesakes share (both deposited, years apart in age) must not join them.
"""

from __future__ import annotations

from graph_models.records import RelWrite
from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from resolution import commands
from resolution.config import default_config
from resolution.features import person_record, read_all, read_some
from resolution.model import Scorer
from resolution.pipeline import link
from tests.factories import node, prov, rel
from tests.resolution.scenario import entity_of, write

FIU = prov("fiu", "ctr.csv", "row 2")
REGISTRY = prov("registry", "officers.csv", "row 2")
ACCOUNT = "account:GB29NWBK60161331926819"
OTHER_ACCOUNT = "account:GB94BARC10201530093459"
SHOP_ACCOUNT = "account:GB33BUKB20201555555555"
WRIGHT_DATED = "person:fiu:name:laura wright:1985-05-28"
WRIGHT_BARE = "person:fiu:name:laura wright:-"
WRIGHT_REGISTRY = "person:registry:name:laura wright:1985-05-28"
WRIGHT_ELSEWHERE = "person:customs:name:laura wright:-"
LIN_1992 = "person:fiu:name:xiu ying lin:1992-11-07"
LIN_1995 = "person:fiu:name:xiu ying lin:1995-07-20"
LIN_BARE = "person:fiu:name:xiu ying lin:-"
SHOP = "company:fiu:name:GB:corner shop"


def paid(start: str, end: str, txn: str) -> RelWrite:
    return rel(RelType.PAID, start, end, key=f"transaction:{txn}", provenance=FIU)


def test_a_persons_accounts_include_those_it_moved_cash_through(store: GraphStore) -> None:
    write(
        store,
        [
            node(WRIGHT_BARE, FIU, name="Laura Wright", nationality="GB"),
            node(SHOP, FIU, name="Corner Shop Ltd", jurisdiction="GB"),
            node(ACCOUNT, FIU, iban="GB29NWBK60161331926819"),
            node(OTHER_ACCOUNT, FIU, iban="GB94BARC10201530093459"),
            node(SHOP_ACCOUNT, FIU, iban="GB33BUKB20201555555555"),
        ],
        [
            paid(WRIGHT_BARE, ACCOUNT, "t1"),  # cash in
            paid(WRIGHT_BARE, ACCOUNT, "t2"),  # again: one account, however many deposits
            paid(OTHER_ACCOUNT, WRIGHT_BARE, "t3"),  # cash out
            paid(SHOP, SHOP_ACCOUNT, "t4"),  # a company paying is its holder's customer
        ],
    )
    salt = default_config().digest()
    everything = read_all(store, salt)
    wright = everything.get(WRIGHT_BARE)
    assert wright is not None
    assert wright.accounts == ("GB29NWBK60161331926819", "GB94BARC10201530093459")
    shop = everything.get(SHOP)
    assert shop is not None
    assert shop.accounts == ()
    # The targeted read (explanations, judgements) sees the same features.
    assert read_some(store, [WRIGHT_BARE, SHOP], salt).records == [shop, wright]


def test_name_only_fiu_records_link_through_the_account_the_cash_went_through(
    store: GraphStore,
) -> None:
    write(
        store,
        [
            node(WRIGHT_DATED, FIU, name="Laura Wright", birth_date="1985-05-28", nationality="GB"),
            node(WRIGHT_BARE, FIU, name="Laura Wright", nationality="GB"),
            node(WRIGHT_REGISTRY, REGISTRY, name="Laura Wright", birth_date="1985-05-28"),
            node(WRIGHT_ELSEWHERE, prov("customs"), name="Laura Wright", nationality="GB"),
            node(ACCOUNT, FIU, iban="GB29NWBK60161331926819"),
        ],
        [paid(WRIGHT_DATED, ACCOUNT, "t1"), paid(ACCOUNT, WRIGHT_BARE, "t2")],
    )
    commands.resolve(store)
    entity = entity_of(store)
    assert entity[WRIGHT_DATED] == entity[WRIGHT_BARE] == entity[WRIGHT_REGISTRY]
    # A namesake with nothing but the name is not guessed into the entity.
    assert entity[WRIGHT_ELSEWHERE] != entity[WRIGHT_DATED]


def test_a_name_key_two_namesakes_share_joins_neither(store: GraphStore) -> None:
    # One FIU key for a name alone stands for two persons born three years apart: it shares
    # an account with each. Linking it to both would make the two one person.
    write(
        store,
        [
            node(LIN_1992, FIU, name="Xiu Ying Lin", birth_date="1992-11-07", nationality="GB"),
            node(LIN_1995, FIU, name="Xiu Ying Lin", birth_date="1995-07-20", nationality="GB"),
            node(LIN_BARE, FIU, name="Xiu Ying Lin", nationality="GB"),
            node(ACCOUNT, FIU, iban="GB29NWBK60161331926819"),
            node(OTHER_ACCOUNT, FIU, iban="GB94BARC10201530093459"),
        ],
        [
            paid(LIN_1992, ACCOUNT, "t1"),
            paid(LIN_BARE, ACCOUNT, "t2"),
            paid(LIN_1995, OTHER_ACCOUNT, "t3"),
            paid(LIN_BARE, OTHER_ACCOUNT, "t4"),
        ],
    )
    commands.resolve(store)
    entity = entity_of(store)
    assert len({entity[LIN_1992], entity[LIN_1995], entity[LIN_BARE]}) == 3
    queue = {(i.left, i.right) for i in commands.review_queue(store)}
    assert {(LIN_BARE, LIN_1992), (LIN_BARE, LIN_1995)} <= queue


def test_birth_dates_apart_keep_persons_apart_unless_an_identifier_agrees() -> None:
    config = default_config()
    scorer = Scorer(config)
    a = person_record("person:a", name="Xiu Ying Lin", birth_date="1992-11-07", nationality="GB")
    b = person_record("person:b", name="Xiu Ying Lin", birth_date="1995-07-20", nationality="GB")
    typo = person_record("person:c", name="Xiu Ying Lin", birth_date="1992-11-17")
    assert scorer.separates(a, b)
    assert not scorer.separates(a, typo)  # one digit mistyped: the same person may be
    same_passport = [
        person_record(
            f"person:{k}",
            name="Xiu Ying Lin",
            birth_date=born,
            id_number="X1234567",
            id_type="passport",
            nationality="GB",
        )
        for k, born in (("d", "1992-11-07"), ("e", "1995-07-20"))
    ]
    assert not scorer.separates(*same_passport)
    # Linked by a chain (a shared account each side), two persons born apart stay apart.
    bare = person_record("person:z", name="Xiu Ying Lin", nationality="GB")
    a.accounts, b.accounts, bare.accounts = ("GB1",), ("GB2",), ("GB1", "GB2")
    records = [a, b, bare]
    pairs = [(0, 1), (0, 2), (1, 2)]
    groups = link(records, scorer, pairs=pairs).clustering.group_of
    assert len({groups[0], groups[1], groups[2]}) == 3
    # Without the dates keeping them apart, the chain would have made them one person.
    person = config.person.model_copy(update={"keep_apart": {}})
    joined = Scorer(config.model_copy(update={"person": person}))
    groups = link(records, joined, pairs=pairs).clustering.group_of
    assert groups[0] == groups[1] == groups[2]
