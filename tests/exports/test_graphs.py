"""GraphML and GEXF: read back with networkx."""

from __future__ import annotations

import io
from collections.abc import Callable

import networkx as nx
import pytest

from app.exports.graphs import write_gexf, write_graphml
from app.exports.model import ExportMaterial, Files
from graph_models.schema import RelType
from queries.access import rel_id
from tests.exports.conftest import BELL, DE_ACCOUNT, NL_ACCOUNT, SCRIPT, SCRIPT_NAME, TXN

Reader = Callable[[io.BytesIO], nx.Graph]


@pytest.mark.parametrize(
    ("write", "read"),
    [(write_graphml, nx.read_graphml), (write_gexf, nx.read_gexf)],
    ids=["graphml", "gexf"],
)
def test_the_graph_file_reads_back_with_every_node_edge_and_attribute(
    material: ExportMaterial, write: Callable[[ExportMaterial], Files], read: Reader
) -> None:
    (data,) = write(material).values()
    graph = read(io.BytesIO(data))
    assert set(graph.nodes) == {n.key for n in material.nodes}
    assert graph.number_of_edges() == len(material.relationships)
    assert graph.is_directed()
    script = graph.nodes[SCRIPT]
    assert script["label"] == SCRIPT_NAME  # escaped on the way out, exact on the way back
    assert script["node_type"] == "Company"
    assert script["sources"] == "customs|declarations.csv|load-1"
    assert graph.nodes[BELL]["label"] == "Bell Imports"
    assert graph.nodes[TXN]["amount"] == 9500.0
    paid = [d for _, _, d in graph.edges(data=True) if d["rel_type"] == RelType.PAID.value]
    assert [(d["amount"], d["currency"]) for d in paid] == [(9500.0, "EUR")]
    assert {(u, v) for u, v, d in graph.edges(data=True) if d["rel_type"] == "PAID"} == {
        (DE_ACCOUNT, NL_ACCOUNT)
    }


def test_parallel_relationships_stay_apart_and_mixed_types_become_one(
    material: ExportMaterial,
) -> None:
    paid = next(r for r in material.relationships if r.type == RelType.PAID)
    other = paid.model_copy(
        update={"key": "transaction:x", "properties": {**paid.properties, "amount": 7}}
    )
    material.relationships.append(other)
    # The same property as text on one edge and a number on another: GraphML types a key once.
    material.relationships[-1].properties["currency"] = 978
    graph = nx.read_graphml(io.BytesIO(write_graphml(material)["graph.graphml"]))
    edges = graph.get_edge_data(DE_ACCOUNT, NL_ACCOUNT)
    assert sorted(edges) == sorted([rel_id(paid), rel_id(other)])
    assert sorted(str(d["currency"]) for d in edges.values()) == ["978", "EUR"]
    assert sorted(d["amount"] for d in edges.values()) == [7.0, 9500.0]
