"""Read results built without validation equal what pydantic would have built."""

from __future__ import annotations

from pydantic import BaseModel, Field

from graph_models.merge import split_stored
from graph_models.records import Node, Relationship, StoredProvenance
from graph_models.schema import Label, RelType
from graph_models.store import rows
from queries.models import NodeView

FLAT = {
    "key": "company:customs:tax:GB1",
    "name": "Acme Trading",
    "agencies": ["customs", "tax"],
    "compartments": ["customs", "tax"],
    "sources": ["customs|a.csv|l1"],
    "record_ids": ["a.csv|3"],
    "first_seen": "2024-01-02",
}


def test_a_node_equals_the_validated_node() -> None:
    built = rows.node(Label.COMPANY, "company:customs:tax:GB1", dict(FLAT))
    props, prov = split_stored(dict(FLAT))
    expected = Node(
        label=Label.COMPANY,
        key="company:customs:tax:GB1",
        properties=props,
        provenance=StoredProvenance.model_validate(prov.model_dump()),
    )
    assert built == expected
    assert built.model_dump_json() == expected.model_dump_json()
    assert built.model_fields_set == expected.model_fields_set
    assert built.provenance.last_seen is None


def test_a_relationship_equals_the_validated_relationship() -> None:
    flat = {**FLAT, "role": "importer"}
    built = rows.relationship(RelType.DECLARED, "a", "b", "k", flat)
    props, prov = split_stored(flat)
    expected = Relationship(
        type=RelType.DECLARED, start="a", end="b", key="k", properties=props, provenance=prov
    )
    assert built == expected
    assert built.model_dump() == expected.model_dump()


def test_instances_do_not_share_their_field_sets() -> None:
    a = rows.node(Label.COMPANY, "k1", dict(FLAT))
    b = rows.node(Label.COMPANY, "k2", dict(FLAT))
    a.key = "changed"  # assignment adds to the instance's own set of set fields
    assert a.model_fields_set is not b.model_fields_set
    assert b.key == "k2"


def test_missing_or_unknown_fields_fall_back_to_model_construct() -> None:
    view = rows.trusted(
        NodeView,
        {"label": Label.COMPANY, "key": "k", "properties": {}, "provenance": StoredProvenance()},
    )
    # The default was applied (model_construct applies defaults; the direct path does not).
    assert view.model_dump()["partial"] is False
    assert view == NodeView.model_construct(
        label=Label.COMPANY, key="k", properties={}, provenance=StoredProvenance()
    )


class _Aliased(BaseModel):
    value: int = Field(alias="v")


def test_models_with_aliases_take_the_model_construct_path() -> None:
    built = rows.trusted(_Aliased, {"v": 3})
    assert built.value == 3
