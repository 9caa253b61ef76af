"""One human label per key of an export, shared by every writer so the formats agree.

A node's label is its display name (name, address text, account number …). A resolved entity
whose own name the requester may not see (rule 3 of :mod:`queries.access`) takes the name of
one of its visible member records in the export, exactly as the profile query does; a key the
export holds no node for is labelled by the key itself.
"""

from __future__ import annotations

from app.exports.model import ExportMaterial
from graph_models.records import StoredProvenance
from graph_models.schema import Label, RelType
from queries.access import display_name
from queries.models import NodeView


class Names:
    """Labels and lookups over one export's nodes and relationships."""

    def __init__(self, material: ExportMaterial) -> None:
        self.nodes: dict[str, NodeView] = {n.key: n for n in material.nodes}
        members: dict[str, list[str]] = {}
        for rel in material.relationships:
            if rel.type == RelType.SAME_AS and rel.start in self.nodes:
                members.setdefault(rel.end, []).append(rel.start)
        self._labels: dict[str, str] = {}
        for key, node in self.nodes.items():
            name = display_name(node)
            if name is None and node.label == Label.RESOLVED_ENTITY:
                names = sorted(
                    n for m in members.get(key, []) if (n := display_name(self.nodes[m]))
                )
                name = names[0] if names else None
            self._labels[key] = name or key

    def label(self, key: str) -> str:
        return self._labels.get(key, key)

    def kind(self, key: str) -> str:
        """The node's label (Company, Person …), or "" when the export holds no such node."""
        node = self.nodes.get(key)
        return node.label.value if node is not None else ""

    def node(self, key: str) -> NodeView | None:
        return self.nodes.get(key)


def sources(prov: StoredProvenance) -> str:
    """Where an element came from, as one line: agency|file|load id, "; "-separated."""
    return "; ".join(prov.sources)


def records(prov: StoredProvenance) -> str:
    return "; ".join(prov.record_ids)
