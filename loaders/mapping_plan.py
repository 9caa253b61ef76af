"""Compile a mapping: check it against the graph schema and turn it into a load plan.

Everything that can be wrong with a mapping is found here, before a data file is opened:
unknown labels, relationship types and properties, a key kind that makes another label's
keys, ``from``/``to`` naming an undeclared node, relationship ends the schema does not allow,
a schema-required property nobody fills, a constant that fails its own validation, and a
column read two incompatible ways. Each error names the mapping file and the key path.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from graph_models.records import Agency, Scalar
from graph_models.schema import SCHEMA, Label, PropertySpec, PropType, RelType
from loaders.mapping_keys import EXTRA_DERIVED, KINDS
from loaders.mapping_spec import (
    ColumnProperty,
    ColumnsKey,
    ConstantKey,
    MappingError,
    MappingSpec,
    NodeSpec,
    RelSpec,
)
from loaders.mapping_spec import PropertySpec as PropertyForm
from loaders.mapping_values import TEXT, ValueType, annotation, merge_types, property_type

# Shared values must meet the other loaders' nodes, which only their kind key guarantees.
SHARED_LABELS = frozenset(
    {Label.ADDRESS, Label.ACCOUNT, Label.PHONE, Label.EMAIL, Label.COUNTRY, Label.COMMODITY}
)


# Labels iffgraph derives (resolution, judgements, detection): loading them from a file
# would let a spreadsheet forge an analyst's judgement or an alert.
_DERIVED = frozenset({Label.RESOLVED_ENTITY, Label.JUDGEMENT, Label.ALERT})


@dataclass(frozen=True)
class PropPlan:
    name: str
    schema_type: PropType
    column: str | None = None
    constant: Scalar | None = None


@dataclass(frozen=True)
class KeyPlan:
    kind: str | None = None  # a kind key, or None for a columns key
    fields: tuple[tuple[str, str], ...] = ()  # kind keys: (key field, column)
    columns: tuple[str, ...] = ()  # columns keys
    fallback: tuple[str, ...] = ()
    constant: str | None = None  # relationship keys only

    @property
    def identifying(self) -> tuple[str, ...]:
        """The columns whose values make the key (any one of them suffices)."""
        if self.kind is None:
            return (*self.columns, *self.fallback)
        wanted = KINDS[self.kind].identifying
        return tuple(col for name, col in self.fields if name in wanted)


@dataclass(frozen=True)
class NodePlan:
    id: str
    label: Label
    key: KeyPlan
    props: tuple[PropPlan, ...]
    required: tuple[tuple[str, str | None], ...]  # (property, column to blame when empty)
    required_node: bool


@dataclass(frozen=True)
class RelPlan:
    type: RelType
    start: str
    end: str
    key: KeyPlan | None
    props: tuple[PropPlan, ...]
    required: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class MappingPlan:
    name: str
    description: str
    agency: Agency
    file: Path
    columns: tuple[tuple[str, ValueType], ...]  # every column the mapping reads, in order
    record_id: tuple[str, ...]
    seen: str | None
    nodes: tuple[NodePlan, ...]
    rels: tuple[RelPlan, ...]


class _Compiler:
    def __init__(self, spec: MappingSpec, file: Path) -> None:
        self.spec = spec
        self.file = file
        self.types: dict[str, tuple[ValueType, str]] = {}

    def fail(self, where: str, message: str) -> MappingError:
        return MappingError(self.file, message, location=where)

    def use(self, column: str, value_type: ValueType, where: str) -> None:
        """Record that ``where`` reads ``column`` as ``value_type``; refuse a conflict."""
        if column not in self.types:
            self.types[column] = (value_type, where)
            return
        seen, first = self.types[column]
        merged = merge_types(seen, value_type)
        if merged is None:
            raise self.fail(
                where,
                f"column {column!r} is read as {value_type.describe()} here but as"
                f" {seen.describe()} at {first}; a column has one type",
            )
        self.types[column] = (merged, where if seen == TEXT else first)

    def compile(self) -> MappingPlan:
        spec = self.spec
        ids: dict[str, Label] = {}
        nodes = []
        for i, node in enumerate(spec.nodes):
            where = f"nodes[{i}]"
            if node.id in ids:
                raise self.fail(f"{where}.id", f"duplicate node id {node.id!r}")
            plan = self.node(node, where)
            ids[node.id] = plan.label
            nodes.append(plan)
        rels = [self.rel(r, f"relationships[{i}]", ids) for i, r in enumerate(spec.relationships)]
        for i, col in enumerate(spec.record_id):
            self.use(col, TEXT, f"record_id[{i}]")
        if spec.seen:
            self.use(spec.seen, ValueType("date"), "seen")
        return MappingPlan(
            name=spec.name,
            description=spec.description,
            agency=spec.agency,
            file=self.file,
            columns=tuple((col, vt) for col, (vt, _) in self.types.items()),
            record_id=tuple(spec.record_id),
            seen=spec.seen,
            nodes=tuple(nodes),
            rels=tuple(rels),
        )

    def node(self, node: NodeSpec, where: str) -> NodePlan:
        label = self.label(node.label, f"{where}.label")
        declared = SCHEMA.nodes[label].properties
        key, derived = self.node_key(node, label, f"{where}.key")
        props = self.props(node.properties, declared, label.value, f"{where}.properties")
        required = self.required(node.properties, declared, f"{label}", where, derived)
        return NodePlan(node.id, label, key, props, required, node.required)

    def label(self, name: str, where: str) -> Label:
        try:
            label = Label(name)
        except ValueError:
            raise self.fail(
                where, f"unknown label {name!r}{_suggest(name, [x.value for x in Label])}"
            ) from None
        if label in _DERIVED:
            raise self.fail(where, f"{label} nodes are made by iffgraph itself, not loaded")
        return label

    def node_key(
        self, node: NodeSpec, label: Label, where: str
    ) -> tuple[KeyPlan, dict[str, str | None]]:
        """The key plan and the properties the key fills (property -> column to blame)."""
        key = node.key
        if isinstance(key, ColumnsKey):
            if label in SHARED_LABELS:
                wanted = next(k for k, v in KINDS.items() if v.label is label)
                raise self.fail(
                    where,
                    f"{label} nodes are shared values: key them with {{kind: {wanted}, ...}}"
                    " so they meet the other loaders' nodes",
                )
            for j, col in enumerate([*key.columns, *key.fallback]):
                self.use(col, TEXT, f"{where}.columns[{j}]")
            return KeyPlan(columns=tuple(key.columns), fallback=tuple(key.fallback)), {}
        kind = KINDS[key.kind]
        if kind.label is not label:
            raise self.fail(
                f"{where}.kind",
                f"key kind {key.kind!r} makes {kind.label} keys, but the node's label is {label}",
            )
        fields = tuple(
            (name, col)
            for name, col in key.model_dump(exclude={"kind"}).items()
            if isinstance(col, str)
        )
        for name, col in fields:
            self.use(col, kind.fields[name].value_type, f"{where}.{name}")
        plan = KeyPlan(kind=key.kind, fields=fields)
        blame = plan.identifying[0]
        derived: dict[str, str | None] = dict.fromkeys(EXTRA_DERIVED.get(key.kind, ()), blame)
        for name, col in fields:
            fills = kind.fields[name].fills
            if fills is not None:
                derived[fills] = col
        return plan, derived

    def props(
        self,
        props: dict[str, PropertyForm],
        declared: dict[str, PropertySpec],
        owner: str,
        where: str,
    ) -> tuple[PropPlan, ...]:
        out = []
        for name, form in props.items():
            at = f"{where}.{name}"
            if name not in declared:
                raise self.fail(
                    at,
                    f"{owner} has no property {name!r}{_suggest(name, list(declared))}"
                    f" (properties: {', '.join(declared) or 'none'})",
                )
            schema_type = declared[name].type
            read = ColumnProperty(column=form) if isinstance(form, str) else form
            if isinstance(read, ColumnProperty):
                if read.type is not None and read.type != schema_type:
                    raise self.fail(
                        f"{at}.type", f"{owner}.{name} is of type {schema_type}, not {read.type}"
                    )
                if read.format is not None and schema_type != "date":
                    raise self.fail(f"{at}.format", f"{owner}.{name} is not a date")
                self.use(read.column, property_type(name, schema_type, read.format), at)
                out.append(PropPlan(name, schema_type, column=read.column))
            else:
                value = self.constant(read.value, property_type(name, schema_type), f"{at}.value")
                out.append(PropPlan(name, schema_type, constant=value))
        return tuple(out)

    def constant(self, value: object, value_type: ValueType, where: str) -> Scalar:
        raw = value.isoformat() if isinstance(value, date) else value
        try:
            clean = TypeAdapter(annotation(value_type)).validate_python(raw)
        except ValidationError as e:
            reason = str(e.errors()[0]["msg"]).removeprefix("Value error, ")
            raise self.fail(where, reason) from None
        if clean is None:
            raise self.fail(where, "a constant needs a value")
        result: Scalar = clean
        return result

    def required(
        self,
        props: dict[str, PropertyForm],
        declared: dict[str, PropertySpec],
        owner: str,
        where: str,
        derived: dict[str, str | None],
    ) -> tuple[tuple[str, str | None], ...]:
        """(property, column to blame) for every property a present element must carry."""
        out: dict[str, str | None] = {}
        for name, spec in declared.items():
            if not spec.required:
                continue
            if name in props:
                out[name] = _column_of(props[name])
            elif name in derived:
                out[name] = derived[name]
            else:
                raise self.fail(
                    f"{where}.properties",
                    f"{owner} requires the property {name!r} but the mapping does not fill it",
                )
        for name, form in props.items():
            if isinstance(form, ColumnProperty) and form.required:
                out[name] = form.column
        return tuple(out.items())

    def rel(self, rel: RelSpec, where: str, ids: dict[str, Label]) -> RelPlan:
        try:
            rel_type = RelType(rel.type)
        except ValueError:
            names = [t.value for t in RelType]
            raise self.fail(
                f"{where}.type",
                f"unknown relationship type {rel.type!r}{_suggest(rel.type, names)}",
            ) from None
        spec = SCHEMA.relationships[rel_type]
        for end, node_id, allowed in (
            ("from", rel.from_, spec.from_labels),
            ("to", rel.to, spec.to_labels),
        ):
            if node_id not in ids:
                raise self.fail(
                    f"{where}.{end}",
                    f"no node with id {node_id!r} is declared (nodes: {', '.join(ids)})",
                )
            if ids[node_id] not in allowed:
                raise self.fail(
                    f"{where}.{end}",
                    f"{rel_type} cannot {'start at' if end == 'from' else 'end at'}"
                    f" {ids[node_id]} (node {node_id!r}); the schema allows"
                    f" {', '.join(allowed)}",
                )
        key: KeyPlan | None = None
        if isinstance(rel.key, ConstantKey):
            key = KeyPlan(constant=rel.key.value)
        elif isinstance(rel.key, ColumnsKey):
            for j, col in enumerate([*rel.key.columns, *rel.key.fallback]):
                self.use(col, TEXT, f"{where}.key.columns[{j}]")
            key = KeyPlan(columns=tuple(rel.key.columns), fallback=tuple(rel.key.fallback))
        props = self.props(rel.properties, spec.properties, rel_type.value, f"{where}.properties")
        required = self.required(rel.properties, spec.properties, rel_type.value, where, {})
        return RelPlan(rel_type, rel.from_, rel.to, key, props, required)


def _column_of(form: PropertyForm) -> str | None:
    if isinstance(form, str):
        return form
    return form.column if isinstance(form, ColumnProperty) else None


def _suggest(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def compile_mapping(spec: MappingSpec, file: Path) -> MappingPlan:
    """Check ``spec`` against the schema; MappingError names ``file`` and the key path."""
    return _Compiler(spec, file).compile()
