"""Any table, loaded through a declarative YAML mapping: no code per layout.

The mapping language (after followthemoney's "mapping as data"; see ``loaders/mappings/``
for the shipped mappings and a walk-through)::

    name: money_transfers            # the format's kind becomes mapping:money_transfers
    description: one row per transfer
    agency: fiu                      # customs | fiu | tax | registry | external
    record_id: [transfer_id]         # optional: columns identifying a record (duplicates)
    seen: date                       # optional: the column holding the record's date
    nodes:
      - id: payer                    # a name for the relationships below
        label: Account               # a label of graph_models/schema.yaml
        key: {kind: account, number_or_iban: from_account}
        required: true               # optional: an empty key quarantines the row
        properties:                  # property: column, {column: ...} or {value: ...}
          institution: bank
    relationships:
      - type: PAID
        from: payer
        to: payee
        key: {columns: [transfer_id], fallback: [date, from_account, to_account, amount]}
        properties:
          date: {column: date, format: "%d/%m/%Y", required: true}
          amount: amount
          currency: {value: EUR}

**Keys.** A node's ``key`` is either a *kind* -- ``company`` (name, tax_id,
registration_number, country), ``person`` (name, id_number, birth_date), ``account`` (iban,
number, number_or_iban, institution), ``address`` (full, country), ``phone`` (number),
``email`` (address), ``country`` (code), ``commodity`` (hs_code) -- each field naming a
column, which makes the key with ``loaders.keys`` exactly as the built-in loaders do (parties
per agency, shared values without) and also fills the node's matching properties; or
``{columns: [a, b], fallback: [c]}``, a record key ``record_key(label, agency, a, b)`` for
record-like nodes (declarations, reports, seizures). A node whose key columns are all empty in a
row is skipped for that row, with every relationship touching it; ``required: true`` makes
that a quarantined row instead. A relationship ``key`` is ``{columns: ..., fallback: ...}``
(parallel edges per value; all empty quarantines the row) or a constant ``{value: role}``;
without one there is one edge per pair of nodes.

**Values.** A column has one type: the schema type of the property it fills, refined by the
property's name (``currency`` is ISO 4217; ``country``, ``nationality``, ``jurisdiction`` and
the declaration country properties are ISO 3166; ``hs_code`` an HS code), validated with the
rules of ``loaders.fields`` (no negative amounts, no future dates, no unknown codes).
Dates are ISO unless ``format`` gives a strptime format; a list property splits on ``;``.
Key and record-id parts use the cleaned value, so ``100`` and ``100.00`` are the same key.
A bad value quarantines the row naming its column; so does an empty value of a property the
schema or the mapping (``required: true``) requires on a node that is present.

A mapping that does not fit the schema raises ``MappingError`` (a ``LoadError``) naming the
mapping file and the key path (``nodes[1].key.kind``); a data file missing a mapped column
raises ``LoadError`` naming every missing column, before anything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, cast

from pydantic import BaseModel, ConfigDict, Field, create_model

from graph_models.records import Scalar
from loaders import keys
from loaders.base import GraphBuilder, RecordProblem
from loaders.mapping_keys import kind_key
from loaders.mapping_plan import KeyPlan, MappingPlan, NodePlan, PropPlan, compile_mapping
from loaders.mapping_spec import MappingError, read_mapping
from loaders.mapping_values import annotation
from loaders.tabular import TabularFormat

__all__ = ["MappedTable", "MappingError", "load_plan", "shipped_mapping"]

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"


def shipped_mapping(name: str) -> Path:
    """The path of a mapping shipped in ``loaders/mappings`` (``money_transfers``, ...)."""
    path = MAPPINGS_DIR / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml")))
        raise MappingError(path, f"no shipped mapping {name!r} (shipped: {known})")
    return path


def load_plan(path: str | Path) -> MappingPlan:
    """Read, shape-check and schema-check a mapping file."""
    file = Path(path)
    return compile_mapping(read_mapping(file), file)


def _row_model(plan: MappingPlan) -> type[BaseModel]:
    # Field names are positional (c0, c1, ...) because column names need not be identifiers;
    # the alias is the column name, so a validation error's field is the column.
    fields: dict[str, Any] = {
        f"c{i}": (annotation(value_type), Field(default=None, alias=column))
        for i, (column, value_type) in enumerate(plan.columns)
    }
    model: type[BaseModel] = create_model(
        f"{plan.name}_row", __config__=ConfigDict(extra="ignore"), **fields
    )
    return model


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


class MappedTable(TabularFormat):
    """A CSV/XLSX format defined by a mapping file; build one with ``from_file``."""

    plan: ClassVar[MappingPlan]

    @classmethod
    def from_file(cls, path: str | Path, *, encoding: str = "utf-8") -> MappedTable:
        """The format a mapping file describes (its own subclass: kind, agency and row model
        are class attributes of ``SourceFormat``)."""
        plan = load_plan(path)
        attrs = {
            "kind": f"mapping:{plan.name}",
            "agency": plan.agency,
            "model": _row_model(plan),
            "description": plan.description or f"tabular data mapped by {Path(path).name}",
            "plan": plan,
        }
        subclass = cast("type[MappedTable]", type(f"MappedTable_{plan.name}", (cls,), attrs))
        return subclass(encoding=encoding)

    def __init__(self, *, encoding: str = "utf-8") -> None:
        if not hasattr(type(self), "plan"):
            raise TypeError("build a MappedTable with MappedTable.from_file(mapping_path)")
        super().__init__(encoding=encoding)

    def required_columns(self) -> list[str]:
        return [column for column, _ in self.plan.columns]

    def known_columns(self) -> list[str]:
        return self.required_columns()

    def _values(self, row: BaseModel) -> dict[str, Any]:
        return {column: getattr(row, f"c{i}") for i, (column, _) in enumerate(self.plan.columns)}

    def identity(self, row: BaseModel) -> str:
        values = self._values(row)
        parts = [values[c] for c in self.plan.record_id]
        if not any(p is not None for p in parts):
            parts = list(values.values())  # no record id: identical rows are duplicates
        return "|".join("" if p is None else _text(p) for p in parts)

    def seen(self, row: BaseModel) -> str | None:
        if self.plan.seen is None:
            return None
        value = self._values(row)[self.plan.seen]
        return None if value is None else str(value)

    def build(self, row: BaseModel, graph: GraphBuilder) -> None:
        values = self._values(row)
        present: dict[str, str] = {}
        for node in self.plan.nodes:
            key = self._node(node, values, graph)
            if key is not None:
                present[node.id] = key
        if not present:
            columns = sorted({c for n in self.plan.nodes for c in n.key.identifying})
            raise RecordProblem(
                None, f"no mapped node has a key value in this row (key columns: {columns})"
            )
        for rel in self.plan.rels:
            start, end = present.get(rel.start), present.get(rel.end)
            if start is None or end is None:
                continue
            rel_key = "" if rel.key is None else self._rel_key(rel.key, values, rel.type.value)
            props = _properties(rel.props, values)
            _check_required(rel.required, props, rel.type.value)
            graph.rel(rel.type, start, end, rel_key, **props)

    def _node(self, node: NodePlan, values: dict[str, Any], graph: GraphBuilder) -> str | None:
        plan = node.key
        if all(values[c] is None for c in plan.identifying):
            if node.required_node:
                column = plan.identifying[0]
                raise RecordProblem(
                    column,
                    f"the {node.label} node {node.id!r} needs a value in"
                    f" {' or '.join(plan.identifying)}",
                )
            return None
        derived: dict[str, Scalar | None] = {}
        if plan.kind is not None:
            fields = {
                name: None if values[c] is None else _text(values[c]) for name, c in plan.fields
            }
            key, derived = kind_key(plan.kind, self.agency.value, fields)
        else:
            key = keys.record_key(node.label, self.agency.value, *_parts(plan, values))
        explicit = _properties(node.props, values)
        # An explicit column that is empty never hides what the key itself says.
        props = derived | {k: v for k, v in explicit.items() if v is not None}
        _check_required(node.required, props, node.label.value)
        return graph.node(node.label, key, **props)

    def _rel_key(self, plan: KeyPlan, values: dict[str, Any], owner: str) -> str:
        if plan.constant is not None:
            return plan.constant
        if all(values[c] is None for c in plan.identifying):
            raise RecordProblem(
                plan.columns[0],
                f"the {owner} relationship's key needs a value in {' or '.join(plan.identifying)}",
            )
        return ":".join(p.replace(":", " ") if p else "-" for p in _parts(plan, values))


def _parts(plan: KeyPlan, values: dict[str, Any]) -> list[str]:
    columns = plan.columns
    if all(values[c] is None for c in columns):
        columns = plan.fallback
    return ["" if values[c] is None else _text(values[c]) for c in columns]


def _properties(props: tuple[PropPlan, ...], values: dict[str, Any]) -> dict[str, Scalar | None]:
    out: dict[str, Scalar | None] = {}
    for prop in props:
        value = prop.constant if prop.column is None else values[prop.column]
        if value is not None and prop.schema_type == "str" and not isinstance(value, str):
            value = _text(value)  # a str property reading a column typed by another reading
        out[prop.name] = value
    return out


def _check_required(
    required: tuple[tuple[str, str | None], ...],
    props: dict[str, Scalar | None],
    owner: str,
) -> None:
    for name, column in required:
        if props.get(name) is None:
            raise RecordProblem(column, f"a value is required ({owner}.{name})")
