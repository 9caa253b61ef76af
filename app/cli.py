"""The ``iffgraph`` command line: a thin layer over settings, stores, loaders and the API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from app.api import create_app
from app.settings import Settings, get_settings
from app.stores import open_store
from graph_models.errors import IffgraphError
from graph_models.records import GraphCounts, NodeWrite, RelWrite
from graph_models.store.base import GraphStore
from loaders.base import LoadOptions, SourceFormat, load_file
from loaders.catalog import FORMATS, detect_kind, load_dir, make_format
from loaders.mapping import MappedTable
from loaders.report import LoadReport
from loaders.writer import BatchWriter

cli = typer.Typer(
    name="iffgraph",
    help="Customs, FIU and tax records in one entity graph, with link analysis.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)


@contextmanager
def store_session(settings: Settings | None = None) -> Iterator[GraphStore]:
    """Open the configured store for one command and close it afterwards."""
    with open_store(settings or get_settings()) as store:
        yield store


@cli.command("init-db")
def init_db() -> None:
    """Create the constraints and indexes the schema declares (safe to repeat)."""
    with store_session() as store:
        names = store.init_schema()
        console.print(f"[green]{store.kind} store ready[/]: {len(names)} constraints and indexes")


@cli.command()
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of tables")] = False,
) -> None:
    """Counts per label, relationship type and source agency."""
    with store_session() as store:
        counts = store.counts()
    if as_json:
        typer.echo(counts.model_dump_json(indent=2))
    else:
        print_counts(counts)


def print_counts(counts: GraphCounts) -> None:
    for title, data in (
        ("Nodes per label", counts.nodes),
        ("Relationships per type", counts.relationships),
        ("Nodes per source agency", counts.nodes_by_agency),
        ("Relationships per source agency", counts.relationships_by_agency),
    ):
        table = Table(title=title, title_justify="left")
        table.add_column("name")
        table.add_column("count", justify="right")
        for name, n in sorted(data.items()):
            table.add_row(name, f"{n:,}")
        table.add_row("[bold]total[/]", f"[bold]{sum(data.values()):,}[/]")
        console.print(table)


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
) -> None:
    """Run the HTTP API (FastAPI) on the configured store."""
    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_level="info",
    )


def print_reports(reports: list[LoadReport]) -> None:
    table = Table(title="Load report", title_justify="left")
    for col in ("file", "kind", "read", "loaded", "quarantined", "duplicates", "records/s"):
        table.add_column(col, justify="left" if col in ("file", "kind") else "right")
    for r in reports:
        table.add_row(
            Path(r.file).name,
            r.kind,
            f"{r.read:,}",
            f"{r.loaded:,}",
            f"[red]{r.quarantined:,}[/]" if r.quarantined else "0",
            f"{r.duplicates:,}",
            f"{r.records_per_second:,.0f}",
        )
    if len(reports) > 1:
        table.add_row(
            "[bold]total[/]",
            "",
            f"[bold]{sum(r.read for r in reports):,}[/]",
            f"[bold]{sum(r.loaded for r in reports):,}[/]",
            f"[bold]{sum(r.quarantined for r in reports):,}[/]",
            f"[bold]{sum(r.duplicates for r in reports):,}[/]",
            "",
        )
    console.print(table)
    for r in reports:
        if r.quarantine_file:
            console.print(f"quarantined records of {Path(r.file).name}: {r.quarantine_file}")
        if r.ignored_columns:
            console.print(f"ignored columns in {Path(r.file).name}: {', '.join(r.ignored_columns)}")


QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="no progress display")]
EncodingOpt = Annotated[str, typer.Option(help="text encoding of CSV files")]
QuarantineOpt = Annotated[Path, typer.Option(help="where quarantine files (JSON lines) go")]


def _options(settings: Settings, quiet: bool, quarantine_dir: Path) -> LoadOptions:
    return LoadOptions(
        batch_size=settings.batch_size,
        quarantine_dir=quarantine_dir,
        reports_dir=quarantine_dir.parent / "reports",
        quiet=quiet,
        console=err,
    )


@cli.command()
def load(
    files: Annotated[list[Path], typer.Argument(help="files to load", exists=True)],
    kind: Annotated[
        str | None, typer.Option(help=f"format, one of: {', '.join(FORMATS)} (default: detect)")
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="a YAML mapping for a layout of your own", exists=True)
    ] = None,
    encoding: EncodingOpt = "utf-8",
    quiet: QuietOpt = False,
    quarantine_dir: QuarantineOpt = Path(".iffgraph/quarantine"),
) -> None:
    """Load source files (format detected from content unless --kind or --mapping)."""
    settings = get_settings()
    reports = []
    with store_session(settings) as store:
        store.init_schema()
        for path in files:
            if mapping is not None:
                fmt: SourceFormat = MappedTable.from_file(mapping, encoding=encoding)
            else:
                fmt = make_format(kind or detect_kind(path, encoding=encoding), encoding=encoding)
            reports.append(load_file(fmt, path, store, _options(settings, quiet, quarantine_dir)))
    print_reports(reports)


@cli.command("load-dir")
def load_dir_command(
    directory: Annotated[
        Path, typer.Argument(help="a delivery folder", exists=True, file_okay=False)
    ],
    encoding: EncodingOpt = "utf-8",
    quiet: QuietOpt = False,
    quarantine_dir: QuarantineOpt = Path(".iffgraph/quarantine"),
) -> None:
    """Load every CSV, XLSX and XML file of a delivery, register first, in the right order."""
    settings = get_settings()
    with store_session(settings) as store:
        store.init_schema()
        reports = load_dir(
            directory, store, _options(settings, quiet, quarantine_dir), encoding=encoding
        )
    print_reports(reports)


def load_fixture(store: GraphStore, lines: Iterator[str], *, batch_size: int) -> None:
    """Write a JSON-lines file of node/rel observations (the demo's sample graph)."""
    with BatchWriter(store, batch_size=batch_size) as writer:
        for line in lines:
            row = json.loads(line)
            kind = row.pop("kind")
            if kind == "node":
                writer.add_node(NodeWrite.model_validate(row))
            else:
                writer.add_relationship(RelWrite.model_validate(row))


@cli.command()
def demo(
    path: Annotated[Path, typer.Option(help="embedded store file for the demo")] = Path(
        ".iffgraph/demo.sqlite"
    ),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="stop after the report")] = False,
    port: Annotated[int, typer.Option(help="port for the API")] = 8000,
) -> None:
    """Build a sample graph in the embedded store, print its statistics, serve the API."""
    settings = Settings(store="embedded", embedded_path=path)
    with store_session(settings) as store:
        store.init_schema()
        store.clear()
        fixture = resources.files("app").joinpath("fixtures/sample_graph.jsonl")
        with fixture.open("r", encoding="utf-8") as fh:
            load_fixture(store, iter(fh), batch_size=settings.batch_size)
        console.print(f"[green]sample graph loaded into[/] {path}")
        print_counts(store.counts())
    if no_serve:
        return
    console.print(f"API on http://127.0.0.1:{port}/docs  (Ctrl-C to stop)")
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")


def main() -> None:
    try:
        cli()
    except IffgraphError as e:
        err.print(f"[red]error:[/] {e}")
        raise SystemExit(2) from e
