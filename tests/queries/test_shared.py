"""Shared attributes: other entities on the same address, phone, e-mail, account, director."""

from __future__ import annotations

import pytest

from graph_models.schema import RelType
from graph_models.store.base import GraphStore
from queries.access import Scope
from queries.models import Attribute, SharedAttributes
from queries.shared import shared_attributes
from tests.factories import node, prov, rel

ME_CUSTOMS = "company:customs:tax:ME"
ME_REGISTRY = "company:registry:reg:GB:ME"
ME = "entity:me"
ADDRESS = "address:gb:1 formation lane"
PHONE = "phone:+4420"
EMAIL = "email:desk@agent.example"
ACCOUNT = "account:GB00BANK1"
SHELVES = [f"company:registry:reg:GB:S{i}" for i in range(8)]
OTHER_CUSTOMS, OTHER_REGISTRY, OTHER = (
    "company:customs:tax:O",
    "company:registry:reg:GB:O",
    "entity:other",
)
FIU_COMPANY = "company:fiu:tax:F"
DIRECTOR, DIRECTOR_FIU, DIRECTOR_ENTITY = (
    "person:registry:id:P1",
    "person:fiu:id:P1",
    "entity:pat",
)
DIRECTED, DIRECTED_FIU = "company:registry:reg:GB:D", "company:fiu:tax:D"
EVERYTHING = Scope.everything()
REG = prov("registry", "companies.csv", "row 2")
FIU = prov("fiu", "str.xml", "/reports/report[1]")


@pytest.fixture
def graph(store: GraphStore) -> GraphStore:
    """ME (customs and registry records) sits at a formation agent's address with eight shelf
    companies, an FIU-only company and OTHER (two records of one entity). ME shares a phone
    and e-mail with OTHER, an account with the FIU company, and its director Pat directs D
    (in the register) and, as the FIU knows him, an FIU company."""
    store.write_nodes(
        [
            node(ME_CUSTOMS, name="Me Ltd"),
            node(ME_REGISTRY, REG, name="Me Limited"),
            node(ME, REG, name="Me", kind="company"),
            node(OTHER_CUSTOMS, name="Other Ltd"),
            node(OTHER_REGISTRY, REG, name="Other Limited"),
            node(OTHER, REG, name="Other", kind="company"),
            node(FIU_COMPANY, FIU, name="Secret Co"),
            node(ADDRESS, REG, full="1 Formation Lane"),
            node(PHONE, REG, number="+44 20"),
            node(EMAIL, REG, address="desk@agent.example"),
            node(ACCOUNT, FIU, account_number="GB00BANK1"),
            node(ACCOUNT, account_number="GB00BANK1"),
            *(node(k, REG, name=f"Shelf {k[-1]}") for k in SHELVES),
            node(DIRECTOR, REG, name="Pat"),
            node(DIRECTOR_FIU, FIU, name="Pat"),
            node(DIRECTOR_ENTITY, REG, name="Pat", kind="person"),
            node(DIRECTED, REG, name="Directed Ltd"),
            node(DIRECTED_FIU, FIU, name="Directed Secretly Ltd"),
        ]
    )
    store.write_relationships(
        [
            rel(RelType.SAME_AS, ME_CUSTOMS, ME),
            rel(RelType.SAME_AS, ME_REGISTRY, ME, provenance=REG),
            rel(RelType.SAME_AS, OTHER_CUSTOMS, OTHER),
            rel(RelType.SAME_AS, OTHER_REGISTRY, OTHER, provenance=REG),
            rel(RelType.SAME_AS, DIRECTOR, DIRECTOR_ENTITY, provenance=REG),
            rel(RelType.SAME_AS, DIRECTOR_FIU, DIRECTOR_ENTITY, provenance=FIU),
            # Both of ME's records at the address: still one entity, not a sharer of itself.
            rel(RelType.REGISTERED_AT, ME_CUSTOMS, ADDRESS),
            rel(RelType.REGISTERED_AT, ME_REGISTRY, ADDRESS, provenance=REG),
            rel(RelType.REGISTERED_AT, OTHER_REGISTRY, ADDRESS, provenance=REG),
            rel(RelType.REGISTERED_AT, FIU_COMPANY, ADDRESS, provenance=FIU),
            *(rel(RelType.REGISTERED_AT, k, ADDRESS, provenance=REG) for k in SHELVES),
            rel(RelType.HAS_PHONE, ME_REGISTRY, PHONE, provenance=REG),
            rel(RelType.HAS_PHONE, OTHER_CUSTOMS, PHONE),
            rel(RelType.HAS_PHONE, OTHER_REGISTRY, PHONE, provenance=REG),
            rel(RelType.HAS_EMAIL, ME_REGISTRY, EMAIL, provenance=REG),
            rel(RelType.HAS_EMAIL, OTHER_REGISTRY, EMAIL, provenance=REG),
            rel(RelType.HOLDS, ME_CUSTOMS, ACCOUNT, "holder"),
            rel(RelType.HOLDS, FIU_COMPANY, ACCOUNT, "holder", FIU),
            rel(RelType.DIRECTOR_OF, DIRECTOR, ME_REGISTRY, "director", REG),
            rel(RelType.DIRECTOR_OF, DIRECTOR, DIRECTED, "director", REG),
            rel(RelType.DIRECTOR_OF, DIRECTOR_FIU, DIRECTED_FIU, "director", FIU),
        ]
    )
    return store


def _by(got: SharedAttributes) -> dict[Attribute, list[tuple[str, list[str]]]]:
    return {v.attribute: [(s.key, s.via) for s in v.sharers] for v in got.shared}


def test_sharers_are_entities_other_than_itself(graph: GraphStore) -> None:
    got = shared_attributes(graph, ME, scope=EVERYTHING, cap=50)
    by = _by(got)
    assert by[Attribute.PHONE] == [(OTHER, [OTHER_CUSTOMS, OTHER_REGISTRY])]
    assert by[Attribute.EMAIL] == [(OTHER, [OTHER_REGISTRY])]
    assert by[Attribute.ACCOUNT] == [(FIU_COMPANY, [FIU_COMPANY])]
    address = {k for k, _ in by[Attribute.ADDRESS]}
    assert address == {OTHER, FIU_COMPANY, *SHELVES}
    assert ME not in address
    assert ME_CUSTOMS not in address
    # Pat directs ME; as the register and the FIU know him, he also directs D and D'.
    (director,) = [v for v in got.shared if v.attribute == Attribute.DIRECTOR]
    assert (director.value, director.display) == (DIRECTOR_ENTITY, "Pat")
    assert [s.key for s in director.sharers] == [DIRECTED_FIU, DIRECTED]


def test_cap_lists_the_first_and_counts_the_rest(graph: GraphStore) -> None:
    got = shared_attributes(graph, ME, scope=EVERYTHING, attributes=[Attribute.ADDRESS], cap=3)
    (address,) = got.shared
    assert address.total == 10  # eight shelf companies, OTHER and the FIU company
    assert len(address.sharers) == 3
    assert address.more == 7
    assert [s.key for s in address.sharers] == sorted(s.key for s in address.sharers)


def test_a_record_is_lifted_to_its_entity(graph: GraphStore) -> None:
    lifted = shared_attributes(graph, ME_CUSTOMS, scope=EVERYTHING, attributes=[Attribute.PHONE])
    assert lifted.key == ME
    assert [s.key for s in lifted.shared[0].sharers] == [OTHER]
    alone = shared_attributes(
        graph, ME_CUSTOMS, scope=EVERYTHING, attributes=[Attribute.PHONE], resolve=False
    )
    assert alone.shared == []  # only ME's registry record has the phone


def test_fiu_sharers_are_counted_for_customs_not_shown(graph: GraphStore) -> None:
    customs = Scope.of("customs", "registry")
    got = shared_attributes(graph, ME, scope=customs, cap=50)
    by = _by(got)
    assert FIU_COMPANY not in {k for k, _ in by[Attribute.ADDRESS]}
    assert Attribute.ACCOUNT not in by  # its only other holder is an FIU record
    (director,) = [v for v in got.shared if v.attribute == Attribute.DIRECTOR]
    assert [s.key for s in director.sharers] == [DIRECTED]
    (address,) = [v for v in got.shared if v.attribute == Attribute.ADDRESS]
    assert address.total == 9
    markers = {(w.compartment, w.kind): w.count for w in got.withheld}
    # The FIU company at the address and on the account; the FIU's record of the director
    # (whose directorships customs therefore cannot follow).
    assert markers == {("fiu", "sharers"): 2, ("fiu", "shared values"): 1}
    assert "Secret" not in got.model_dump_json()
