from __future__ import annotations

import pytest
from pydantic import ValidationError

from graph_models.errors import SchemaError
from graph_models.records import NodeWrite, RelWrite
from graph_models.schema import SCHEMA, Label, RelType, load_schema
from graph_models.store import neo4j_cypher as cy
from tests.factories import prov


def test_every_label_has_a_unique_prefix_and_a_key_constraint() -> None:
    prefixes = {nt.prefix for nt in SCHEMA.nodes.values()}
    assert len(prefixes) == len(Label)
    names = {cy.key_constraint(label)[0] for label in Label}
    assert len(names) == len(Label)


def test_key_prefix_names_the_label() -> None:
    assert SCHEMA.label_of_key("hs:010121") is Label.COMMODITY
    with pytest.raises(SchemaError, match="unknown prefix"):
        SCHEMA.label_of_key("widget:1")
    with pytest.raises(SchemaError, match="no label prefix"):
        SCHEMA.label_of_key("nocolon")


def test_schema_file_and_enums_must_agree() -> None:
    text = "nodes: {}\nrelationships: {}\n"
    with pytest.raises(SchemaError, match="disagree"):
        load_schema(text)


def test_node_write_rejects_wrong_label_unknown_and_missing_properties() -> None:
    with pytest.raises(ValidationError, match="does not belong"):
        NodeWrite(label=Label.PERSON, key="company:x", properties={"name": "A"}, provenance=prov())
    with pytest.raises(ValidationError, match="undeclared properties"):
        NodeWrite(
            label=Label.COMPANY,
            key="company:x",
            properties={"name": "A", "colour": "red"},
            provenance=prov(),
        )
    with pytest.raises(ValidationError, match="required properties missing"):
        NodeWrite(label=Label.COMPANY, key="company:x", properties={}, provenance=prov())
    with pytest.raises(ValidationError, match="not of type date"):
        NodeWrite(
            label=Label.COMPANY,
            key="company:x",
            properties={"name": "A", "incorporation_date": "03/01/2024"},
            provenance=prov(),
        )


def test_relationship_write_checks_end_labels() -> None:
    with pytest.raises(ValidationError, match="cannot link Address to Company"):
        RelWrite(type=RelType.DIRECTOR_OF, start="address:x", end="company:y", provenance=prov())


def test_cypher_builders_refuse_names_outside_the_schema() -> None:
    with pytest.raises(SchemaError):
        cy.find_nodes(Label.COMPANY, "name} DETACH DELETE n //")
    with pytest.raises(ValueError, match="Company\\)"):
        cy.merge_nodes("Company) DETACH DELETE (n")  # type: ignore[arg-type]


def test_generated_merge_uses_parameters_only() -> None:
    text = cy.merge_relationships(RelType.PAID, Label.ACCOUNT, Label.PERSON)
    assert text.startswith("UNWIND $rows AS row")
    assert "MERGE (a)-[r:PAID {key: row[2]}]->(b)" in text
    assert "MATCH (b:Person) WHERE elementId(b) = row[1]" in text
