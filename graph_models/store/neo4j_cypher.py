"""All Cypher the Neo4j store runs: named constants and small builders.

Values only ever travel as ``$parameters``. Labels, relationship types and property names
cannot be parameters in Cypher, so builders accept only ``Label``/``RelType`` members and
property names declared in the schema, and re-check them here before formatting.
"""

from __future__ import annotations

from collections.abc import Sequence

from graph_models.errors import SchemaError
from graph_models.merge import DERIVED_SETS
from graph_models.schema import PROVENANCE_PROPERTIES, SCHEMA, Label, RelType


def _label(label: Label) -> str:
    return Label(label).value


def _rel_type(rel_type: RelType) -> str:
    return RelType(rel_type).value


def _prop(label: Label, prop: str) -> str:
    if prop not in SCHEMA.node(label).properties:
        raise SchemaError(f"{label} has no property {prop!r}")
    return prop


# Where a node row (a map) keeps each provenance field.
_NODE_ROW = {f: f"row.{f}" for f in PROVENANCE_PROPERTIES}

# A relationship row is a list, not a map: packing eight map keys per row cost the client
# more than the values did. The source list repeats across a batch (usually one load of one
# file), so the row holds an index into ``$provs`` instead.
# The end nodes' keys travel too: ends are matched by element id, and an id remembered from an
# earlier batch may have been freed and reused since (see element_ids.py), so the statement
# counts rows whose ends do not carry the expected keys and the store rolls such a batch back.
(
    REL_START,
    REL_END,
    REL_KEY,
    REL_PROPS,
    REL_RECORDS,
    REL_PROV,
    REL_FIRST,
    REL_LAST,
    REL_START_KEY,
    REL_END_KEY,
) = range(10)
# Relationships do not store ``agencies`` and ``compartments``: each source already names its
# agency ("agency|file|load"), so both lists are derived from ``sources`` on read
# (merge.derive_sets). Every string list is a dynamic-array record Neo4j writes and commits,
# and relationships are the bulk of a load: the two lists were a sixth of the server's time
# per relationship. Nodes keep them (fewer writes, and ``NODES_BY_AGENCY`` reads them).
REL_PROVENANCE = tuple(f for f in PROVENANCE_PROPERTIES if f not in DERIVED_SETS)
_DROP_DERIVED = [f"r.{f} = null" for f in DERIVED_SETS]
_REL_ROW = {
    "sources": f"$provs[row[{REL_PROV}]]",
    "record_ids": f"row[{REL_RECORDS}]",
    "first_seen": f"row[{REL_FIRST}]",
    "last_seen": f"row[{REL_LAST}]",
}


def _rel_prop(rel_type: RelType, prop: str) -> str:
    if prop not in SCHEMA.relationship(rel_type).properties:
        raise SchemaError(f"{rel_type} has no property {prop!r}")
    return prop


def _provenance_create(var: str, row: dict[str, str]) -> str:
    # A new element takes the batch's provenance as it is: no list look-ups needed, which is
    # most of the cost of a first load.
    return ", ".join(f"{var}.{f} = {value}" for f, value in row.items())


def _provenance_merge(var: str, row: dict[str, str]) -> str:
    """The merge rules of graph_models.merge.merge_flat, in Cypher, for the fields in ``row``."""

    def union(field: str, cap: str | None = None) -> str:
        current = f"coalesce({var}.{field}, [])"
        merged = f"{current} + [x IN {row[field]} WHERE NOT x IN {current}]"
        return f"{var}.{field} = " + (f"({merged})[0..{cap}]" if cap else merged)

    sets = [union(f) for f in ("agencies", "compartments", "sources") if f in row]
    return ",\n    ".join(
        [
            *sets,
            union("record_ids", "$cap"),
            _earliest(var, "first_seen", "<=", row["first_seen"]),
            _earliest(var, "last_seen", ">=", row["last_seen"]),
        ]
    )


def _earliest(var: str, field: str, keep_if: str, new: str) -> str:
    # first_seen keeps the smaller date (keep_if "<="), last_seen the larger (">=").
    current = f"{var}.{field}"
    return (
        f"{current} = CASE WHEN {new} IS NULL OR ({current} IS NOT NULL"
        f" AND {current} {keep_if} {new}) THEN {current} ELSE {new} END"
    )


def merge_nodes(label: Label) -> str:
    return (
        "UNWIND $rows AS row\n"
        f"MERGE (n:{_label(label)} {{key: row.key}})\n"
        f"ON CREATE SET n += row.props, {_provenance_create('n', _NODE_ROW)}\n"
        f"ON MATCH SET n += row.props, {_provenance_merge('n', _NODE_ROW)}\n"
        # The ids let the next relationship batch skip the key-index seek (element_ids.py).
        "RETURN collect(n.key) AS keys, collect(elementId(n)) AS ids"
    )


def merge_relationships(
    rel_type: RelType, start: Label, end: Label, props: Sequence[str] = ()
) -> str:
    """Merge rows laid out as ``REL_*`` says; ``props`` names the domain properties present.

    End nodes come by element id (see ``element_ids_multi`` and element_ids.py); the statement
    returns how many rows it wrote and how many landed on a node with another key. Properties
    are set one by one rather than with ``r += map``: a map write makes the planner buffer
    every row (Eager) before the first MERGE, and ``coalesce`` keeps a stored value when a
    row lacks it, as ``+=`` does.
    """
    names = [_rel_prop(rel_type, p) for p in props]
    values = f"row[{REL_PROPS}]"
    create = [f"r.{p} = {values}.{p}" for p in names]
    update = [f"r.{p} = coalesce({values}.{p}, r.{p})" for p in names]
    return (
        "UNWIND $rows AS row\n"
        f"MATCH (a:{_label(start)}) WHERE elementId(a) = row[{REL_START}]\n"
        f"MATCH (b:{_label(end)}) WHERE elementId(b) = row[{REL_END}]\n"
        f"MERGE (a)-[r:{_rel_type(rel_type)} {{key: row[{REL_KEY}]}}]->(b)\n"
        f"ON CREATE SET {', '.join([*create, _provenance_create('r', _REL_ROW)])}\n"
        # Graphs written before relationships stopped storing the derived lists lose them on
        # their next merge, so a stale stored list never shadows the derivation.
        f"ON MATCH SET {', '.join([*update, _provenance_merge('r', _REL_ROW), *_DROP_DERIVED])}\n"
        # Keys are compared after the write, not in the MATCH: there the planner turns
        # `a.key = ...` into a locking unique-index seek, the cost the ids are there to avoid.
        # A misplaced row makes the store roll the whole transaction back.
        "RETURN count(r) AS written, count(CASE WHEN a.key <> row["
        f"{REL_START_KEY}] OR b.key <> row[{REL_END_KEY}] THEN 1 END) AS misplaced"
    )


def key_constraint(label: Label) -> tuple[str, str]:
    name = f"{_label(label).lower()}_key"
    return name, (
        f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{_label(label)}) REQUIRE n.key IS UNIQUE"
    )


def property_index(label: Label, prop: str) -> tuple[str, str]:
    name = f"{_label(label).lower()}_{_prop(label, prop)}"
    return name, f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{_label(label)}) ON (n.{prop})"


AWAIT_INDEXES = "CALL db.awaitIndexes(300)"
PING = "RETURN 1 AS ok"
SERVER_VERSION = (
    "CALL dbms.components() YIELD name, versions, edition RETURN name, versions, edition"
)


def get_nodes(label: Label) -> str:
    return (
        f"MATCH (n:{_label(label)}) WHERE n.key IN $keys "
        "RETURN n.key AS key, properties(n) AS props"
    )


def find_nodes(label: Label, prop: str) -> str:
    return (
        f"MATCH (n:{_label(label)}) WHERE n.{_prop(label, prop)} = $value "
        "RETURN n.key AS key, properties(n) AS props ORDER BY n.key LIMIT $limit"
    )


# --- reads over keys of several labels, in one round trip ---------------------------------
# The investigator queries read a few nodes of many labels at a time; one query per label
# (and per direction) was twenty Bolt round trips for one neighbourhood. These builders take
# the labels present and read them all at once: each branch still matches by (label, key)
# through the label's uniqueness index; the keys of label i travel as parameter $k<i>.
def _keyed_nodes(labels: list[Label], param: str = "k") -> str:
    branches = "\n  UNION ALL\n  ".join(
        f"MATCH (n:{_label(label)}) WHERE n.key IN ${param}{i} RETURN n"
        for i, label in enumerate(labels)
    )
    return f"CALL () {{\n  {branches}\n}}\n"


def element_ids_multi(labels: list[Label]) -> str:
    """The element ids of the nodes among the keys (absent keys are left out).

    A read-only statement seeks the key index without locking; inside a write statement the
    same seek takes and later releases a lock per key, which cost a fifth of a relationship
    batch. The relationship writer uses the ids in the same transaction only.
    """
    return _keyed_nodes(labels) + "RETURN collect(n.key) AS keys, collect(elementId(n)) AS ids"


def get_nodes_multi(labels: list[Label]) -> str:
    return _keyed_nodes(labels) + "RETURN n.key AS key, properties(n) AS props"


def expand_multi(labels: list[Label], *, direction: str, typed: bool) -> str:
    pattern = {"out": "(n)-[r]->(m)", "in": "(n)<-[r]-(m)", "both": "(n)-[r]-(m)"}[direction]
    where = " WHERE type(r) IN $types" if typed else ""
    return (
        _keyed_nodes(labels) + f"MATCH {pattern}{where}\n"
        "RETURN type(r) AS type, startNode(r).key AS start, endNode(r).key AS end,"
        " r.key AS key, properties(r) AS props"
    )


def expand_with_ends_multi(labels: list[Label], *, direction: str, typed: bool) -> str:
    """``expand_multi`` plus each far end node (``m``) and its degree, counted as
    ``degrees_multi`` counts it."""
    return (
        expand_multi(labels, direction=direction, typed=typed)
        + ", m.key AS other, properties(m) AS other_props, COUNT { (m)--() } AS other_degree"
    )


def two_hops(label: Label) -> str:
    """What a two-hop neighbourhood of ``$key`` reads, in one record (see
    ``Neo4jStore.prefetch_neighbourhood``).

    ``first``: the start's relationships as ``[type, start, end, key, props]``; ``near``:
    their far ends as ``[key, props, degree]``, the degree counted as ``degrees_multi`` does;
    ``second``: every relationship of the far ends a second hop may expand (degree at most
    ``$hub_cap``), and ``far`` their end nodes not in ``near`` as ``[key, props]``. ``deep``
    is false, and the second hop not read, when ``$hops`` is 1 or the first hop alone may
    reach ``$limit`` nodes (the traversal then stops there, or asks for the second hop
    itself). Lists in one record, not a record per row: the driver's work per record was a
    fifth of the API's Python time in a neighbourhood.
    """
    rel = "[type(r), startNode(r).key, endNode(r).key, r.key, properties(r)]"
    return (
        f"MATCH (s:{_label(label)} {{key: $key}})\n"
        "CALL (s) {\n"
        "  MATCH (s)-[r]-(m) WHERE $types IS NULL OR type(r) IN $types\n"
        "  RETURN collect(DISTINCT r) AS rels, collect(DISTINCT m) AS ms\n"
        "}\n"
        "WITH s, rels, ms, [m IN ms | [m, COUNT { (m)--() }]] AS near\n"
        "WITH s, rels, ms, near, $hops >= 2 AND size(near) < $limit AS deep\n"
        "CALL (s, near, deep) {\n"
        "  UNWIND CASE WHEN deep THEN near ELSE [] END AS pair\n"
        "  WITH s, pair WHERE pair[1] <= $hub_cap AND pair[0] <> s\n"
        "  WITH pair[0] AS m\n"
        "  MATCH (m)-[r]-(o) WHERE $types IS NULL OR type(r) IN $types\n"
        "  RETURN collect(DISTINCT r) AS rels2, collect(DISTINCT o) AS far\n"
        "}\n"
        "RETURN properties(s) AS props, deep,\n"
        f"  [r IN rels | {rel}] AS first,\n"
        "  [p IN near | [p[0].key, properties(p[0]), p[1]]] AS near,\n"
        f"  [r IN rels2 | {rel}] AS second,\n"
        # First-hop nodes (and the start) met again are not sent twice.
        "  [o IN far WHERE o <> s AND NOT o IN ms | [o.key, properties(o)]] AS far"
    )


def read_many(node_labels: list[Label], expansions: Sequence[tuple[list[Label], str, bool]]) -> str:
    """Nodes and several expansions in one statement, a record per part (see
    ``Neo4jStore.read_many``): part -1 the nodes as ``[key, props]`` (keys ``$n<j>``), part
    ``i`` expansion i's relationships as ``[type, start, end, key, props, other key, other
    props]`` (keys ``$e<i>_<j>``, types ``$t<i>``). ``expansions`` gives, per expansion,
    the labels of its keys, its direction and whether it filters by type."""
    parts = []
    if node_labels:
        parts.append(
            _keyed_nodes(node_labels, "n")
            + "RETURN -1 AS part, collect([n.key, properties(n)]) AS rows"
        )
    for i, (labels, direction, typed) in enumerate(expansions):
        pattern = {"out": "(n)-[r]->(m)", "in": "(n)<-[r]-(m)", "both": "(n)-[r]-(m)"}[direction]
        where = f" WHERE type(r) IN $t{i}" if typed else ""
        parts.append(
            _keyed_nodes(labels, f"e{i}_")
            + f"MATCH {pattern}{where}\n"
            + f"RETURN {int(i)} AS part, collect([type(r), startNode(r).key, endNode(r).key,"
            " r.key, properties(r), m.key, properties(m)]) AS rows"
        )
    return "\nUNION ALL\n".join(parts)


def degrees_multi(labels: list[Label]) -> str:
    return _keyed_nodes(labels) + "RETURN n.key AS key, COUNT { (n)--() } AS degree"


def iter_nodes(label: Label) -> str:
    # `n.key >= ''` lets the planner read the key index in order instead of sorting.
    return (
        f"MATCH (n:{_label(label)}) WHERE n.key >= '' "
        "RETURN n.key AS key, properties(n) AS props ORDER BY n.key"
    )


def iter_relationships(rel_type: RelType) -> str:
    return (
        f"MATCH (a)-[r:{_rel_type(rel_type)}]->(b) "
        "RETURN type(r) AS type, a.key AS start, b.key AS end, r.key AS key,"
        " properties(r) AS props"
    )


def count_label(label: Label) -> str:
    return f"MATCH (n:{_label(label)}) RETURN count(n) AS n"


def count_rel_type(rel_type: RelType) -> str:
    return f"MATCH ()-[r:{_rel_type(rel_type)}]->() RETURN count(r) AS n"


NODES_BY_AGENCY = "MATCH (n) UNWIND n.agencies AS agency RETURN agency, count(*) AS n"
# A relationship's agencies are the first fields of its sources (see REL_PROVENANCE), each
# counted once per relationship however many of that agency's files saw it.
RELS_BY_AGENCY = (
    "MATCH ()-[r]->() UNWIND reduce(seen = [], s IN r.sources |"
    " CASE WHEN split(s, '|')[0] IN seen THEN seen ELSE seen + split(s, '|')[0] END) AS agency"
    " RETURN agency, count(*) AS n"
)
# Deleting in batches keeps a large clear within the transaction memory limit. Relationships
# go first, on their own: batching DETACH DELETE by node does not bound a batch that holds a
# hub (a country or HS code of a scale-100 load has millions of relationships), and such a
# batch exceeded dbms.memory.transaction.total.max.
CLEAR = (
    "MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS",
    "MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 10000 ROWS",
)


def delete_relationships(rel_type: RelType, start: Label, end: Label) -> str:
    return (
        "UNWIND $rows AS row\n"
        f"MATCH (a:{_label(start)} {{key: row.start}})"
        f"-[r:{_rel_type(rel_type)} {{key: row.key}}]->(b:{_label(end)} {{key: row.end}})\n"
        "DELETE r RETURN count(r) AS deleted"
    )


def delete_nodes(label: Label) -> str:
    return (
        f"MATCH (n:{_label(label)}) WHERE n.key IN $keys DETACH DELETE n RETURN count(n) AS deleted"
    )
