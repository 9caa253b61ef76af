"""The export as a graph file: GraphML (yEd, Gephi, networkx) and GEXF (Gephi).

Both are written by networkx from one projection: a directed multigraph whose node ids are
our keys and whose edges are keyed by relationship identity (parallel payments stay apart).
Attributes are plain values the formats can type: text, numbers, booleans, never None
(missing means absent) and never lists (joined with "; "). An attribute name holds one type
across the file, as both formats declare it once: a name seen with text and numbers is text,
with ints and floats float. Names the writers reserve (``label``, ``type``, ``start`` …, which
GEXF reads as the edge kind or as a time spell) get a ``prop_`` prefix.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping

import networkx as nx

from app.exports.labels import Names
from app.exports.model import ExportMaterial, Files
from app.exports.text import joined, xml_text
from graph_models.records import Scalar, StoredProvenance
from queries.access import rel_id

Value = str | int | float | bool
_RESERVED = frozenset(
    {"id", "label", "pid", "start", "end", "viz", "parents", "weight", "type", "key"}
    | {"spells", "slices", "networkx_key", "node_type", "rel_type"}
)


def _value(value: Scalar) -> Value:
    if isinstance(value, list):
        return xml_text(joined(value))
    if isinstance(value, str):
        return xml_text(value)
    return value


def _provenance(prov: StoredProvenance, partial: bool) -> dict[str, Value]:
    out: dict[str, Value] = {
        "agencies": "; ".join(prov.agencies),
        "compartments": "; ".join(prov.compartments),
        "sources": xml_text("; ".join(prov.sources)),
        "record_ids": xml_text("; ".join(prov.record_ids)),
        "partial": partial,
    }
    if prov.first_seen:
        out["first_seen"] = prov.first_seen
    if prov.last_seen:
        out["last_seen"] = prov.last_seen
    return out


def _properties(props: Mapping[str, Scalar]) -> dict[str, Value]:
    return {
        (f"prop_{k}" if k in _RESERVED else k): _value(v) for k, v in props.items() if v is not None
    }


def _unify(items: Iterable[dict[str, Value]]) -> None:
    """Give every attribute name one type across ``items`` (in place)."""
    rows = list(items)
    kinds: dict[str, set[type]] = {}
    for row in rows:
        for name, value in row.items():
            kinds.setdefault(name, set()).add(type(value))
    for name, seen in kinds.items():
        if len(seen) == 1:
            continue
        to_float = seen <= {int, float}
        for row in rows:
            if name in row:
                row[name] = float(row[name]) if to_float else joined(row[name])


def projection(material: ExportMaterial) -> nx.MultiDiGraph:
    """The export as a networkx graph (nodes by key, edges keyed by relationship identity)."""
    names = Names(material)
    graph = nx.MultiDiGraph(name=xml_text(material.title))
    node_rows: dict[str, dict[str, Value]] = {}
    for node in material.nodes:
        node_rows[node.key] = {
            **_properties(node.properties),
            **_provenance(node.provenance, node.partial),
            "label": xml_text(names.label(node.key)),
            "node_type": node.label.value,
        }
    edge_rows = []
    for rel in material.relationships:
        if rel.start not in node_rows or rel.end not in node_rows:
            continue  # a graph file cannot hold an edge to a node it does not have
        data: dict[str, Value] = {
            **_properties(rel.properties),
            **_provenance(rel.provenance, rel.partial),
            "label": rel.type.value,
            "rel_type": rel.type.value,
        }
        edge_rows.append((rel, data))
    _unify(node_rows.values())
    _unify(d for _, d in edge_rows)
    for key, node_data in node_rows.items():
        graph.add_node(xml_text(key), **node_data)
    for rel, edge_data in edge_rows:
        graph.add_edge(
            xml_text(rel.start), xml_text(rel.end), key=xml_text(rel_id(rel)), **edge_data
        )
    return graph


def write_graphml(material: ExportMaterial) -> Files:
    buffer = io.BytesIO()
    nx.write_graphml(projection(material), buffer, encoding="utf-8")
    return {"graph.graphml": buffer.getvalue()}


def write_gexf(material: ExportMaterial) -> Files:
    buffer = io.BytesIO()
    nx.write_gexf(projection(material), buffer, encoding="utf-8", version="1.2draft")
    return {"graph.gexf": buffer.getvalue()}
