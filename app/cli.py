"""The ``iffgraph`` command line: a thin layer over settings, stores, loaders and the API."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

import datagen
import resolution.commands as er
from app.api import create_app
from app.audit import AuditEntry, AuditLog
from app.devusers import DEV_USERS, seed_dev_users
from app.observability import configure_logging
from app.servicedb import ServiceDB
from app.settings import Settings, get_settings
from app.stores import open_store
from app.users import Role, UserAgency, UserCreate, Users
from app.workers import serve_workers
from datagen.truth import Truth
from graph_models.collector import settle_for_serving
from graph_models.errors import IffgraphError
from graph_models.records import GraphCounts
from graph_models.store.base import GraphStore
from loaders.base import LoadOptions, SourceFormat, load_file
from loaders.catalog import FORMATS, detect_kind, load_dir, make_format
from loaders.mapping import MappedTable
from loaders.report import LoadReport
from queries.alerts import Alert, Typology
from queries.detection import run_detectors
from queries.evaluation import TypologyScore
from queries.evaluation import evaluate as evaluate_alerts

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
    workers: Annotated[
        int | None,
        typer.Option(help="API processes, each with its own socket (default: settings)"),
    ] = None,
    access_log: Annotated[bool, typer.Option(help="a log line per request")] = True,
) -> None:
    """Run the HTTP API (FastAPI) on the configured store."""
    settings = get_settings()
    host = host or settings.api_host
    port = port or settings.api_port
    workers = workers or settings.api_workers
    if workers > 1:
        # Each worker builds its app from the environment (app.asgi), as uvicorn's would.
        try:
            status = serve_workers(host, port, workers, access_log=access_log)
        except OSError as e:
            err.print(f"[red]cannot listen on {host}:{port}:[/] {e.strerror or e}")
            raise typer.Exit(2) from e
        raise typer.Exit(status)
    configure_logging()
    api = create_app(settings)
    settle_for_serving()
    uvicorn.run(api, host=host, port=port, log_level="info", access_log=access_log)


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


@cli.command()
def generate(
    out: Annotated[Path, typer.Option(help="folder for the generated delivery")],
    scale: Annotated[float, typer.Option(help="1 is about 10,000 declarations")] = 1.0,
    seed: Annotated[int, typer.Option(help="same seed, same files")] = 0,
) -> None:
    """Write a realistic multi-agency delivery with planted schemes and truth.json."""
    summary = datagen.generate(out, scale=scale, seed=seed)
    table = Table(title=f"Generated delivery in {out}", title_justify="left")
    table.add_column("file")
    table.add_column("records", justify="right")
    for name, n in summary.files.items():
        table.add_row(name, f"{n:,}")
    console.print(table)
    console.print(
        f"{summary.entities:,} real-world entities, {summary.schemes} planted schemes"
        f" ({', '.join(f'{k} {v}' for k, v in summary.typologies.items())})"
    )


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def print_alerts(alerts: list[Alert], *, top: int) -> None:
    by_typology: dict[str, list[Alert]] = {}
    for alert in alerts:
        by_typology.setdefault(alert.typology.value, []).append(alert)
    for typology, found in sorted(by_typology.items()):
        table = Table(title=f"{typology}: {len(found)} alerts", title_justify="left")
        table.add_column("score", justify="right")
        table.add_column("summary")
        table.add_column("evidence")
        for alert in sorted(found, key=lambda a: (-a.score, a.id))[:top]:
            indicators = "; ".join(
                f"{i.name}={i.value}"
                + (f" (threshold {i.threshold})" if i.threshold is not None else "")
                for i in alert.indicators[:4]
            )
            records = ", ".join(r.key for r in alert.records[:3])
            more = f" +{len(alert.records) - 3} more" if len(alert.records) > 3 else ""
            table.add_row(f"{alert.score:.2f}", alert.summary, f"{indicators}\n{records}{more}")
        console.print(table)


@cli.command()
def detect(
    typology: Annotated[
        list[Typology] | None, typer.Option(help="only these typologies (repeatable)")
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="output format")
    ] = OutputFormat.TABLE,
    top: Annotated[int, typer.Option(help="alerts shown per typology in the table")] = 5,
    save: Annotated[bool, typer.Option(help="keep the alerts in the graph")] = True,
) -> None:
    """Run the detectors and print the alerts (stable ids: re-running does not duplicate)."""
    with store_session() as store:
        run = run_detectors(
            store, typologies=typology, save=save, progress=lambda m: err.print(m, style="dim")
        )
    if output is OutputFormat.JSON:
        typer.echo(json.dumps([a.model_dump(mode="json") for a in run.alerts], indent=2))
    elif output is OutputFormat.CSV:
        writer = csv.writer(sys.stdout)
        writer.writerow(["id", "typology", "score", "summary", "entities", "records"])
        for a in run.alerts:
            writer.writerow(
                [
                    a.id,
                    a.typology.value,
                    f"{a.score:.4f}",
                    a.summary,
                    " ".join(a.entities),
                    " ".join(r.key for r in a.records),
                ]
            )
    else:
        print_alerts(run.alerts, top=top)


def print_evaluation(scores: list[TypologyScore]) -> None:
    table = Table(title="Detectors against the planted truth", title_justify="left")
    for col in ("typology", "alerts", "schemes", "precision", "recall", "aggregate"):
        table.add_column(col, justify="left" if col == "typology" else "right")
    for sc in scores:
        p = "-" if sc.precision is None else f"{sc.precision:.2f}"
        r = "-" if sc.recall is None else f"{sc.recall:.2f}"
        table.add_row(sc.typology.value, str(sc.alerts), str(sc.schemes), p, r, str(sc.aggregate))
    console.print(table)
    console.print(
        "aggregate: alerts naming no party (partner statistics), not counted in precision",
        style="dim",
    )


@cli.command()
def evaluate(
    truth: Annotated[Path, typer.Option(help="truth.json of a generated delivery", exists=True)],
) -> None:
    """Precision and recall per typology of the detectors against a generated truth file."""
    with store_session() as store:
        run = run_detectors(store, save=False, progress=lambda m: err.print(m, style="dim"))
        print_evaluation(evaluate_alerts(store, run.alerts, Truth.read(truth)))


@cli.command()
def resolve(
    explain_pair: Annotated[
        tuple[str, str] | None,
        typer.Option("--explain", help="explain the decision for two record keys"),
    ] = None,
    export_to: Annotated[
        Path | None, typer.Option("--export", help="write record -> entity, score (CSV/JSONL)")
    ] = None,
    review: Annotated[bool, typer.Option(help="print the review queue of candidate pairs")] = False,
    full: Annotated[
        bool, typer.Option(help="re-resolve everything, not just what changed")
    ] = False,
    config: Annotated[Path | None, typer.Option(help="resolution config (JSON)")] = None,
) -> None:
    """Resolve companies and persons across agencies (incremental; judgements always win)."""
    with store_session() as store:
        if explain_pair is not None:
            typer.echo(er.explain(store, *explain_pair, config=er.load_config(config)).render())
            return
        if export_to is not None:
            done = er.export(store, export_to)
            console.print(done)
            return
        if review:
            typer.echo(er.format_review(er.review_queue(store)))
            return
        summary = er.resolve(
            store,
            config=er.load_config(config),
            full=full,
            progress=lambda m: err.print(m, style="dim"),
        )
        typer.echo(summary.render())


@cli.command()
def judge(
    left: Annotated[str, typer.Argument(help="a record key")],
    right: Annotated[str, typer.Argument(help="another record key")],
    verdict: Annotated[str, typer.Option(help="positive, negative or unsure")],
    user: Annotated[str, typer.Option(help="who decides")],
    note: Annotated[str | None, typer.Option(help="why")] = None,
) -> None:
    """Record an analyst's judgement on a pair; it survives every re-run and wins over the model."""
    with store_session() as store:
        console.print(er.judge(store, left, right, verdict, user, note=note))


@cli.command()
def split(
    entity: Annotated[str, typer.Argument(help="resolved entity id")],
    keys: Annotated[list[str], typer.Argument(help="record keys to split off")],
    user: Annotated[str, typer.Option(help="who decides")],
    note: Annotated[str | None, typer.Option(help="why")] = None,
) -> None:
    """Split records off a resolved entity (negative judgements against the rest)."""
    with store_session() as store:
        console.print(er.split(store, entity, keys, user, note=note))


@cli.command()
def members(entity: Annotated[str, typer.Argument(help="resolved entity id")]) -> None:
    """The source records of a resolved entity, grouped by agency."""
    with store_session() as store:
        typer.echo(er.members(store, entity).render())


@cli.command()
def demo(
    path: Annotated[Path, typer.Option(help="embedded store file for the demo")] = Path(
        ".iffgraph/demo.sqlite"
    ),
    data: Annotated[Path, typer.Option(help="folder for the generated demo delivery")] = Path(
        ".iffgraph/demo-data"
    ),
    scale: Annotated[float, typer.Option(help="size of the generated delivery")] = 1.0,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="stop after the report")] = False,
    port: Annotated[int, typer.Option(help="port for the API")] = 8000,
) -> None:
    """Generate a delivery, load it, resolve entities, run and evaluate the detectors, serve."""
    settings = Settings(store="embedded", embedded_path=path)
    console.rule("1. generate a multi-agency delivery")
    generate(out=data, scale=scale, seed=0)
    console.rule("2. load it into the embedded store")
    with store_session(settings) as store:
        store.init_schema()
        store.clear()
        reports = load_dir(data, store, _options(settings, False, path.parent / "demo-quarantine"))
        print_reports(reports)
        console.rule("3. the entity graph")
        print_counts(store.counts())
        console.rule("4. entity resolution across agencies")
        typer.echo(er.resolve(store, progress=lambda m: err.print(m, style="dim")).render())
        console.rule("5. detectors: top alerts per typology")
        run = run_detectors(store, progress=lambda m: err.print(m, style="dim"))
        print_alerts(run.alerts, top=2)
        console.rule("6. detectors against the planted truth")
        print_evaluation(evaluate_alerts(store, run.alerts, Truth.read(data / "truth.json")))
    if no_serve:
        return
    console.rule("7. the API (dev mode: demo users, random signing key)")
    served, created = demo_api(settings)
    table = Table(title="Demo users (dev mode only; passwords change every run)")
    for col in ("user", "agency", "roles", "password"):
        table.add_column(col)
    for name, pw in created.items():
        agency, roles = DEV_USERS[name]
        table.add_row(name, agency.value, ", ".join(r.value for r in roles), pw)
    console.print(table)
    console.print(
        f"API on http://127.0.0.1:{port}/docs  (Ctrl-C to stop). Try:\n"
        f"  TOKEN=$(curl -s -d 'username=customs.analyst&password=<pw>' "
        f"http://127.0.0.1:{port}/api/v1/auth/token | python3 -c "
        "'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')\n"
        f'  curl -H "Authorization: Bearer $TOKEN" '
        f"'http://127.0.0.1:{port}/api/v1/search?q=trading&purpose=demo+tour'"
    )
    configure_logging()
    uvicorn.run(create_app(served), host="127.0.0.1", port=port, log_level="warning")


def demo_api(settings: Settings) -> tuple[Settings, dict[str, str]]:
    """The demo's API settings (dev mode, a fresh service DB next to the demo store) and its
    demo users with their one-time passwords."""
    served = settings.model_copy(
        update={
            "dev_mode": True,
            "service_db": settings.embedded_path.parent / "demo-service.sqlite",
            "attachments_dir": settings.embedded_path.parent / "demo-attachments",
            "exports_dir": settings.embedded_path.parent / "demo-exports",
        }
    )
    for leftover in ("", "-wal", "-shm"):
        Path(f"{served.service_db}{leftover}").unlink(missing_ok=True)
    return served, seed_dev_users(Users(ServiceDB(served.service_db)), served)


users_cli = typer.Typer(help="Manage the investigators who may use the API.", no_args_is_help=True)
audit_cli = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
cli.add_typer(users_cli, name="users")
cli.add_typer(audit_cli, name="audit")


def _service_db() -> ServiceDB:
    return ServiceDB(get_settings().service_db)


@users_cli.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="login name")],
    agency: Annotated[UserAgency, typer.Option(help="the user's agency")],
    role: Annotated[list[Role], typer.Option(help="a role (repeat for several)")],
    clearance: Annotated[
        list[UserAgency] | None,
        typer.Option(help="an extra compartment the user is cleared for (repeat)"),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Add a user; the password is prompted for (or read from stdin), never an argument."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        new = UserCreate(
            username=username,
            password=password,
            agency=agency,
            roles=role,
            clearances=clearance or [],
        )
    except ValidationError as e:
        raise typer.BadParameter(e.errors()[0]["msg"]) from e
    user = Users(_service_db()).add(new)
    AuditLog(_service_db()).append(
        AuditEntry(
            username="cli",
            agency="-",
            action="admin",
            endpoint="iffgraph users add",
            detail={"user": user.username, "op": "add"},
        )
    )
    console.print(f"added {user.username} ({user.agency.value}: {', '.join(user.roles)})")


def _set_disabled(username: str, disabled: bool) -> None:
    user = Users(_service_db()).set_disabled(username, disabled)
    op = "disable" if disabled else "enable"
    AuditLog(_service_db()).append(
        AuditEntry(
            username="cli",
            agency="-",
            action="admin",
            endpoint=f"iffgraph users {op}",
            detail={"user": user.username, "op": op},
        )
    )
    console.print(f"{user.username}: {'disabled' if user.disabled else 'enabled'}")


@users_cli.command("disable")
def users_disable(username: Annotated[str, typer.Argument()]) -> None:
    """Disable a user: their live tokens stop working at once."""
    _set_disabled(username, True)


@users_cli.command("enable")
def users_enable(username: Annotated[str, typer.Argument()]) -> None:
    """Enable a disabled user again."""
    _set_disabled(username, False)


@users_cli.command("list")
def users_list() -> None:
    """The users, their agency, roles, clearances and state."""
    table = Table(title="Users", title_justify="left")
    for col in ("user", "agency", "roles", "clearances", "state", "created"):
        table.add_column(col)
    for u in Users(_service_db()).list():
        table.add_row(
            u.username,
            u.agency.value,
            ", ".join(u.roles),
            ", ".join(u.clearances) or "-",
            "disabled" if u.disabled else "enabled",
            u.created_at,
        )
    console.print(table)


@audit_cli.command("verify")
def audit_verify() -> None:
    """Walk the hash chain; exit 1 naming the first record that was altered or removed."""
    result = AuditLog(_service_db()).verify()
    if result.ok:
        console.print(f"[green]audit log intact[/]: {result.records} records chain correctly")
        return
    err.print(f"[red]audit log broken[/] at record {result.first_bad_seq}: {result.problem}")
    raise typer.Exit(1)


@audit_cli.command("show")
def audit_show(
    user: Annotated[str | None, typer.Option(help="only this user")] = None,
    entity: Annotated[str | None, typer.Option(help="only records touching this key")] = None,
    since: Annotated[str | None, typer.Option(help="from this UTC date")] = None,
    until: Annotated[str | None, typer.Option(help="to this UTC date")] = None,
    limit: Annotated[int, typer.Option(help="records to print")] = 50,
) -> None:
    """Audit records as JSON lines, oldest first."""
    records, _ = AuditLog(_service_db()).query(
        username=user, entity=entity, since=since, until=until, limit=limit
    )
    for record in records:
        typer.echo(record.model_dump_json())


def main() -> None:
    try:
        cli()
    except IffgraphError as e:
        err.print(f"[red]error:[/] {e}")
        raise SystemExit(2) from e
