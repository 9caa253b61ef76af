"""The load runner every source format shares.

A format is a ``SourceFormat``: it streams raw records out of a file, names the pydantic model
that validates one record, and turns a valid record into graph observations through a
``GraphBuilder``. The runner does the rest the same way for every format: provenance, the
batched writer, quarantine with file / record / field / reason, duplicate counting, progress
and the load report. Read = loaded + quarantined is an invariant of this loop.
"""

from __future__ import annotations

import abc
import hashlib
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from graph_models.errors import IffgraphError, SchemaError
from graph_models.merge import Observed
from graph_models.records import Agency, Provenance, Scalar
from graph_models.schema import SCHEMA, Label, RelType
from graph_models.store.base import GraphStore
from loaders import keys
from loaders.reference_data import hs_nomenclature
from loaders.report import LoadReport, QuarantineEntry, QuarantineWriter
from loaders.writer import BatchWriter

_VALUE_PREVIEW = 200
T = TypeVar("T")


class LoadError(IffgraphError):
    """A whole file cannot be loaded: wrong kind, missing columns, bad encoding, broken XML."""

    def __init__(
        self,
        file: str | Path,
        message: str,
        *,
        location: str | None = None,
        field: str | None = None,
    ) -> None:
        self.file = str(file)
        self.location = location
        self.field = field
        where = f" at {location}" if location else ""
        what = f" (field {field!r})" if field else ""
        super().__init__(f"{self.file}{where}{what}: {message}")


class RecordProblem(Exception):  # noqa: N818 - a record-level signal, not an error the CLI shows
    """Raised while converting one record; the runner quarantines the record with this reason."""

    def __init__(self, field: str | None, reason: str, value: Any = None) -> None:
        self.field = field
        self.reason = reason
        self.value = value
        super().__init__(reason)


@dataclass
class RawRecord:
    """One record as read from the file, before validation."""

    record_id: str
    data: dict[str, Any]
    position: int = 0
    problem: RecordProblem | None = None


# Nodes whose properties come from reference data alone (a country's name, an HS code's
# description): one observation per load says all there is, so later records of the same load
# do not repeat it. Each mention's own provenance is on the relationship it creates.
REFERENCE_LABELS = frozenset({Label.COUNTRY, Label.COMMODITY})
# Fragments one load remembers (GraphBuilder.fragment) before it starts afresh: bounds memory
# whatever the file's size; a file with more distinct parties than this only builds some twice.
FRAGMENT_CACHE = 50_000

NodeObs = tuple[Label, str, dict[str, Any]]
RelObs = tuple[RelType, str, str, str, dict[str, Any]]


@dataclass
class GraphBuilder:
    """Collects the nodes and relationships one record contributes.

    Each observation is checked against the schema here (label of the key, declared and
    required properties, value types, allowed end labels) with plain-dict look-ups: this runs
    for every observation of every record, so it avoids building a pydantic model per
    observation. The runner hands a record's observations to the writer only when the whole
    record converted, so a record is loaded entirely or quarantined entirely.
    """

    nodes: list[NodeObs] = field(default_factory=list)
    rels: list[RelObs] = field(default_factory=list)
    # Reference nodes (countries, HS codes) already written by this load; see REFERENCE_LABELS.
    emitted: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)
    # What earlier records of this load built for the same input (see ``fragment``).
    fragments: dict[Hashable, tuple[Any, list[NodeObs], list[RelObs]]] = field(default_factory=dict)

    def fragment(self, key: Hashable, build: Callable[[], T]) -> T:
        """``build()``, or what it added for the same ``key`` earlier in this load.

        A party named in row after row (every customs row names up to five) is built from
        the same values each time: its key, its address and country, the schema checks.
        ``key`` must hold every input ``build`` reads; the observations it added are replayed
        as they were (they are checked and never changed afterwards). Reference nodes follow
        the same rule as in ``node``: emitted once per load.
        """
        cached = self.fragments.get(key)
        if cached is None:
            first_node, first_rel = len(self.nodes), len(self.rels)
            result = build()
            if len(self.fragments) >= FRAGMENT_CACHE:
                self.fragments.clear()
            self.fragments[key] = (result, self.nodes[first_node:], self.rels[first_rel:])
            return result
        result, nodes, rels = cached
        for entry in nodes:
            if entry[0] in REFERENCE_LABELS:
                if entry[1] in self.emitted:
                    continue
                self.references.append(entry[1])
            self.nodes.append(entry)
        self.rels.extend(rels)
        return result

    def node(self, label: Label, key: str, **props: Scalar | None) -> str:
        if label in REFERENCE_LABELS and key in self.emitted:
            return key
        clean = {k: v for k, v in props.items() if v is not None}
        if SCHEMA.label_of_key(key) != label:
            raise SchemaError(f"key {key!r} does not belong to label {label}")
        SCHEMA.check_properties(label, clean, rel=False)
        self.nodes.append((label, key, clean))
        if label in REFERENCE_LABELS:
            self.references.append(key)
        return key

    def classify(self, record: str, hs_code: str) -> str:
        """Link a record to its HS 6 ``Commodity`` (described from the nomenclature)."""
        hs6 = hs_code[:6]
        commodity = self.node(
            Label.COMMODITY,
            keys.commodity_key(hs6),
            hs_code=hs6,
            description=hs_nomenclature().get(hs6),
        )
        self.rel(RelType.CLASSIFIED_AS, record, commodity)
        return commodity

    def rel(
        self, rel_type: RelType, start: str, end: str, key: str = "", **props: Scalar | None
    ) -> None:
        clean = {k: v for k, v in props.items() if v is not None}
        SCHEMA.check_ends(rel_type, SCHEMA.label_of_key(start), SCHEMA.label_of_key(end))
        SCHEMA.check_properties(rel_type, clean, rel=True)
        self.rels.append((rel_type, start, end, key, clean))


class SourceFormat(abc.ABC):
    """One source format. Subclasses set the class attributes and implement three methods."""

    kind: ClassVar[str]
    agency: ClassVar[Agency]
    model: ClassVar[type[BaseModel]]
    description: ClassVar[str] = ""

    @abc.abstractmethod
    def records(self, path: Path) -> Iterator[RawRecord]:
        """Stream raw records; raise LoadError for problems of the whole file."""

    @abc.abstractmethod
    def build(self, row: Any, graph: GraphBuilder) -> None:
        """Turn one validated record into observations; raise RecordProblem to quarantine it."""

    @abc.abstractmethod
    def identity(self, row: Any) -> str:
        """The record's business identity, to count duplicates within a file."""

    def seen(self, row: Any) -> str | None:
        """The record's own date (ISO), used for first/last seen."""
        return None

    def model_for(self, raw: RawRecord) -> type[BaseModel]:
        """The model that validates ``raw``: ``model``, unless a format has records of
        several kinds (a goAML file holds report headers and transactions)."""
        return self.model

    def total_size(self, path: Path) -> int:
        """The unit of RawRecord.position at the end of the file (bytes by default)."""
        return path.stat().st_size

    def ignored_columns(self) -> list[str]:
        return []


def file_load_id(path: Path) -> str:
    """A load id derived from the file's content: re-loading the same bytes is the same load."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()[:16]


@dataclass
class LoadOptions:
    batch_size: int | None = None  # None: the store's own (GraphStore.batch_size)
    quarantine_dir: Path = Path(".iffgraph/quarantine")
    reports_dir: Path | None = Path(".iffgraph/reports")
    quiet: bool = False
    console: Console | None = None


def _problem_from_validation(e: ValidationError, data: dict[str, Any]) -> RecordProblem:
    errors = e.errors()
    first = errors[0]
    loc = ".".join(str(p) for p in first["loc"]) or None
    reasons = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'record'}: {_message(err)}" for err in errors
    )
    return RecordProblem(loc, reasons, _value_at(data, first["loc"]))


def _value_at(data: dict[str, Any], loc: tuple[int | str, ...]) -> Any:
    """The raw value an error location points at, as deep as the raw data goes (nested
    models, such as XML elements, report the offending leaf rather than the whole record)."""
    if not loc:
        return None
    value: Any = data.get(str(loc[0]))
    for part in loc[1:]:
        in_dict = isinstance(value, dict) and part in value
        in_list = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        if not (in_dict or in_list):
            break
        value = value[part]
    return value


def _message(err: Any) -> str:
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def _convert(
    fmt: SourceFormat,
    raw: RawRecord,
    emitted: set[str],
    fragments: dict[Hashable, tuple[Any, list[NodeObs], list[RelObs]]],
) -> tuple[Any, GraphBuilder, str | None] | RecordProblem:
    """Validate one record and build its observations, or say why it cannot be loaded."""
    try:
        row = fmt.model_for(raw).model_validate(raw.data)
        graph = GraphBuilder(emitted=emitted, fragments=fragments)
        fmt.build(row, graph)
        return row, graph, fmt.seen(row)
    except ValidationError as e:
        return _problem_from_validation(e, raw.data)
    except RecordProblem as p:
        return p
    except SchemaError as e:
        # A format produced something the schema does not allow: a bug, but the record is
        # still accounted for rather than lost.
        return RecordProblem(None, f"cannot map record to the graph: {e}")


def load_file(
    fmt: SourceFormat, path: Path, store: GraphStore, options: LoadOptions | None = None
) -> LoadReport:
    """Load one file of one format into the store; return (and store) the report."""
    options = options or LoadOptions()
    path = Path(path)
    if not path.is_file():
        raise LoadError(path, "no such file")
    load_id = file_load_id(path)
    report = LoadReport(file=str(path), kind=fmt.kind, load_id=load_id)
    qpath = options.quarantine_dir / f"{path.name}.{load_id}.quarantine.jsonl"
    seen_ids: set[int] = set()
    emitted: set[str] = set()
    fragments: dict[Hashable, tuple[Any, list[NodeObs], list[RelObs]]] = {}
    # The provenance strings every record of this file shares (see graph_models.merge).
    file_prov = Observed.of(
        Provenance(agency=fmt.agency, source_file=path.name, record_id="-", load_id=load_id)
    )
    agency, compartment, source = file_prov.agency, file_prov.compartment, file_prov.source
    file_name = path.name.replace("|", "/")
    started = time.perf_counter()
    with (
        QuarantineWriter(qpath) as quarantine,
        BatchWriter(store, batch_size=options.batch_size) as writer,
        _progress(options, path, fmt) as tick,
    ):

        def reject(raw: RawRecord, problem: RecordProblem) -> None:
            value = None if problem.value is None else str(problem.value)[:_VALUE_PREVIEW]
            quarantine.add(
                QuarantineEntry(
                    file=str(path),
                    record=raw.record_id,
                    field=problem.field,
                    reason=problem.reason,
                    value=value,
                    load_id=load_id,
                )
            )
            report.quarantined += 1

        for raw in fmt.records(path):
            report.read += 1
            tick(raw.position, report.read)
            if raw.problem is not None:
                reject(raw, raw.problem)
                continue
            converted = _convert(fmt, raw, emitted, fragments)
            if isinstance(converted, RecordProblem):
                reject(raw, converted)
                continue
            row, graph, seen = converted
            ident = hash(fmt.identity(row))
            if ident in seen_ids:
                report.duplicates += 1
            seen_ids.add(ident)
            obs = Observed(agency, compartment, source, f"{file_name}|{raw.record_id}", seen)
            writer.observe(graph.nodes, graph.rels, obs)
            emitted.update(graph.references)
            report.loaded += 1
    report.nodes_written = writer.nodes_written
    report.relationships_written = writer.relationships_written
    report.ignored_columns = fmt.ignored_columns()
    report.quarantine_file = str(qpath) if quarantine.count else None
    report.seconds = round(time.perf_counter() - started, 3)
    if options.reports_dir is not None:
        options.reports_dir.mkdir(parents=True, exist_ok=True)
        out = options.reports_dir / f"{path.name}.{load_id}.report.json"
        out.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    return report


class _Ticker:
    """Updates a rich progress bar at most a few times a second (cheap in the hot loop)."""

    def __init__(self, progress: Progress | None, task: Any, total: int) -> None:
        self.progress = progress
        self.task = task
        self.total = total
        self.started = time.perf_counter()
        self.next_update = 0.0

    def __call__(self, position: int, read: int) -> None:
        if self.progress is None:
            return
        now = time.perf_counter()
        if now < self.next_update:
            return
        self.next_update = now + 0.25
        rate = read / max(now - self.started, 1e-9)
        self.progress.update(
            self.task,
            completed=min(position, self.total),
            description=f"{read:,} records  {rate:,.0f}/s",
        )


class _progress:  # noqa: N801 - used as a context manager like a function
    def __init__(self, options: LoadOptions, path: Path, fmt: SourceFormat) -> None:
        self.options = options
        self.path = path
        self.fmt = fmt
        self.progress: Progress | None = None

    def __enter__(self) -> _Ticker:
        total = max(self.fmt.total_size(self.path), 1)
        if self.options.quiet:
            return _Ticker(None, None, total)
        self.progress = Progress(
            TextColumn(f"[bold]{self.fmt.kind}[/] {self.path.name}"),
            BarColumn(),
            TextColumn("{task.description}"),
            TimeRemainingColumn(),
            console=self.options.console,
            transient=True,
        )
        self.progress.start()
        task = self.progress.add_task("starting", total=total)
        return _Ticker(self.progress, task, total)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()
