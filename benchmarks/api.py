"""The API under load: 20 concurrent clients for 60 s on search / profile / neighbourhood.

Scale-10 data on each store, a real server (``iffgraph serve --workers 2``) in a child process,
real HTTP clients (aiohttp, asyncio). Every request is authenticated, needs a purpose and is
audited, as in production. Prints p50 / p95 / p99 latency per endpoint and requests per second
(targets: p95 < 100 ms, zero errors).

    .venv/bin/python -m benchmarks.api [--store embedded|neo4j|both] [--clients 20]
                                       [--seconds 60] [--warmup 10] [--scale 10]
                                       [--workers 2]

The scale-10 delivery and its embedded store are cached under .iffgraph/bench-data (see
benchmarks/detect.py); the Neo4j copy is loaded once into the benchmark Neo4j and reused
while its counts match the embedded store's.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx

from app.servicedb import ServiceDB
from app.users import Role, UserAgency, UserCreate, Users
from benchmarks.common import ROOT, neo4j_password, neo4j_uri
from benchmarks.detect import loaded_store
from graph_models.schema import Label
from graph_models.store.base import GraphStore
from graph_models.store.embedded import EmbeddedStore
from graph_models.store.neo4j_store import Neo4jStore
from loaders.base import LoadOptions
from loaders.catalog import load_dir

ENDPOINTS = ("search", "profile", "neighbourhood")
USER = "bench.analyst"
PASSWORD = secrets.token_urlsafe(16)


def neo4j_store(scale: float, embedded: EmbeddedStore, directory: Path) -> tuple[Neo4jStore, str]:
    uri = neo4j_uri()
    store = Neo4jStore.connect(uri, "neo4j", neo4j_password())
    store.init_schema()
    if store.counts().nodes != embedded.counts().nodes:
        print(f"  loading scale {scale:g} into Neo4j (once; kept for later runs) ...")
        store.clear()
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            load_dir(
                directory,
                store,
                LoadOptions(quiet=True, quarantine_dir=Path(tmp), reports_dir=None),
            )
        print(f"  loaded in {time.perf_counter() - t0:.0f} s")
    return store, uri


def samples(store: GraphStore, n: int = 400) -> tuple[list[str], list[str]]:
    """Party keys spread over the store, and search terms from their names."""
    keys: list[str] = []
    names: list[str] = []
    for label in (Label.COMPANY, Label.PERSON):
        for node in itertools.islice(store.iter_nodes([label]), 0, 40 * n, 40):
            keys.append(node.key)
            name = node.properties.get("name")
            if isinstance(name, str) and len(name) >= 3:
                names.append(name)
    rng = random.Random(7)
    rng.shuffle(keys)
    rng.shuffle(names)
    return keys[:n], names[:n]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    # What an operator runs: a worker process per core, each with its own socket.
    cmd = [
        sys.executable,
        "-c",
        "from app.cli import main; main()",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
    ]
    # The server's access log (a line per request) goes to a file, not the figures.
    log = (ROOT / ".iffgraph" / "bench-api-server.log").open("w")
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"the API server exited with {proc.returncode}")
        time.sleep(0.2)  # start-up wait, not a measurement
    proc.kill()
    raise SystemExit("the API server did not answer /health within 60 s")


async def client_loop(
    session: aiohttp.ClientSession,
    token: str,
    keys: list[str],
    names: list[str],
    until: float,
    seed: int,
    lat: dict[str, list[float]],
    errors: dict[str, int],
) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    purpose = {"purpose": "benchmark screening"}
    while time.monotonic() < until:
        endpoint = rng.choice(ENDPOINTS)
        if endpoint == "search":
            url, params = "/api/v1/search", {"q": rng.choice(names), **purpose}
        elif endpoint == "profile":
            url, params = f"/api/v1/entities/{rng.choice(keys)}", purpose
        else:
            url, params = f"/api/v1/entities/{rng.choice(keys)}/neighbourhood", purpose
        t0 = time.perf_counter()
        try:
            async with session.get(url, params=params, headers=headers) as resp:
                await resp.read()
                ok = resp.status == 200
        except aiohttp.ClientError:
            ok = False
        elapsed = time.perf_counter() - t0
        if ok:
            lat[endpoint].append(elapsed)
        else:
            errors[endpoint] += 1


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and all its descendants."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            # Fields after the command name: state is the first, utime and stime the 12th/13th.
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError, IndexError):
            continue  # a process that ended meanwhile
    return total


def neo4j_pid() -> int | None:
    """The benchmark Neo4j's launcher, when this script's launcher runs it (else unknown)."""
    if os.environ.get("IFFGRAPH_BENCH_NEO4J_URI"):
        return None
    try:
        return int((ROOT / ".neo4j-local-bench" / "neo4j.pid").read_text().strip())
    except (OSError, ValueError):
        return None


class CpuMeter:
    """CPU seconds of the server processes, the Neo4j server and this client over a window:
    on a shared machine requests per CPU-second vary far less than latency does."""

    def __init__(self, server: int, neo4j: int | None) -> None:
        self.pids = {"server": server, "neo4j": neo4j}
        self.start: dict[str, float] = {}
        self.used: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        out = {name: tree_cpu_s(pid) for name, pid in self.pids.items() if pid is not None}
        out["client"] = time.process_time()
        return out

    def begin(self) -> None:
        self.start = self._now()

    def end(self) -> None:
        self.used = {k: v - self.start[k] for k, v in self._now().items()}


async def run_clients(
    port: int,
    token: str,
    keys: list[str],
    names: list[str],
    clients: int,
    seconds: float,
    meter: CpuMeter,
    warmup: float,
) -> tuple[dict[str, list[float]], dict[str, int], float]:
    """``clients`` concurrent clients, each with its own keep-alive connection.

    aiohttp rather than httpx for the load: on this 2-core machine the load generator shares
    the cores with the server, and httpx spent 2.7 ms of CPU per request (a third of what the
    server spent), which measured the client as much as the service.
    """
    lat: dict[str, list[float]] = {e: [] for e in ENDPOINTS}
    errors = dict.fromkeys(ENDPOINTS, 0)
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(
        base_url=f"http://127.0.0.1:{port}",
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=30),
    ) as session:
        # Warm-up, not measured: a search on every connection, so each server worker has
        # built its name index (a per-process cache) before the clock starts.
        async def warm(i: int) -> None:
            async with session.get(
                "/api/v1/search",
                params={"q": names[i % len(names)], "purpose": "benchmark warm-up"},
                headers={"Authorization": f"Bearer {token}"},
            ) as resp:
                await resp.read()

        for _ in range(2):
            await asyncio.gather(*(warm(i) for i in range(clients)))

        async def load(
            until: float, seed: int, lat: dict[str, list[float]], errors: dict[str, int]
        ) -> None:
            await asyncio.gather(
                *(
                    client_loop(session, token, keys, names, until, seed + i, lat, errors)
                    for i in range(clients)
                )
            )

        if warmup > 0:
            # The same load, not measured but shown: the run that follows measures the steady
            # state. Right after a restart, Neo4j served the first 10 s at half the warm rate
            # and the next 40 s a fifth below it (JIT, page cache): the database warming up.
            warm_lat: dict[str, list[float]] = {e: [] for e in ENDPOINTS}
            warm_errors = dict.fromkeys(ENDPOINTS, 0)
            await load(time.monotonic() + warmup, 1000, warm_lat, warm_errors)
            done = [x for v in warm_lat.values() for x in v]
            print(
                f"  warm-up ({warmup:g} s, not counted): {len(done) / warmup:,.0f} req/s,"
                f" p95 {pct(done, 0.95):.1f} ms, errors {sum(warm_errors.values())}"
            )
        meter.begin()
        t0 = time.monotonic()
        await load(t0 + seconds, 0, lat, errors)
        wall = time.monotonic() - t0
        meter.end()
    return lat, errors, wall


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def bench(kind: str, args: argparse.Namespace) -> None:
    embedded, directory = loaded_store(args.scale)
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "IFFGRAPH_ENVIRONMENT": "test",
            "IFFGRAPH_JWT_SECRET": secrets.token_urlsafe(48),
            "IFFGRAPH_SERVICE_DB": str(Path(tmp) / "service.sqlite"),
        }
        if kind == "neo4j":
            store, uri = neo4j_store(args.scale, embedded, directory)
            env |= {
                "IFFGRAPH_STORE": "neo4j",
                "IFFGRAPH_NEO4J_URI": uri,
                "IFFGRAPH_NEO4J_PASSWORD": neo4j_password(),
            }
            keys, names = samples(store)
            store.close()
        else:
            env |= {"IFFGRAPH_STORE": "embedded", "IFFGRAPH_EMBEDDED_PATH": str(embedded.path)}
            keys, names = samples(embedded)
        embedded.close()
        # The benchmark user reads customs, FIU and tax: the widest (most work) scope.
        Users(ServiceDB(Path(env["IFFGRAPH_SERVICE_DB"]))).add(
            UserCreate(
                username=USER,
                password=PASSWORD,
                agency=UserAgency.CUSTOMS,
                roles=[Role.ANALYST],
                clearances=[UserAgency.FIU, UserAgency.TAX],
            )
        )
        port = free_port()
        server = start_server(env, port, args.workers)
        meter = CpuMeter(server.pid, neo4j_pid() if kind == "neo4j" else None)
        load_before = os.getloadavg()[0]
        try:
            token = httpx.post(
                f"http://127.0.0.1:{port}/api/v1/auth/token",
                data={"username": USER, "password": PASSWORD},
            ).json()["access_token"]
            lat, errors, wall = asyncio.run(
                run_clients(
                    port, token, keys, names, args.clients, args.seconds, meter, args.warmup
                )
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    total = sum(len(v) for v in lat.values())
    every = [x for v in lat.values() for x in v]
    print(
        f"{kind}: {args.clients} clients x {wall:.0f} s, {total:,} requests,"
        f" {total / wall:,.0f} req/s, errors {sum(errors.values())}"
    )
    for endpoint in ENDPOINTS:
        values = lat[endpoint]
        print(
            f"  {endpoint:<14} n={len(values):>6}  p50 {pct(values, 0.5):6.1f} ms"
            f"  p95 {pct(values, 0.95):6.1f} ms  p99 {pct(values, 0.99):6.1f} ms"
            f"  errors {errors[endpoint]}"
        )
    mean = statistics.fmean(every) * 1000 if every else float("nan")
    print(
        f"  all            p50 {pct(every, 0.5):6.1f} ms  p95 {pct(every, 0.95):6.1f} ms"
        f"  p99 {pct(every, 0.99):6.1f} ms  mean {mean:.1f} ms  (target p95 < 100 ms)"
    )
    cpu = "  ".join(f"{name} {used:.1f} s" for name, used in meter.used.items())
    server_cpu = meter.used["server"] + meter.used.get("neo4j", 0.0)
    print(
        f"  CPU {cpu};  {total / server_cpu:,.0f} requests per server CPU-second"
        f"  (load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["embedded", "neo4j", "both"], default="both")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--warmup", type=float, default=10, help="seconds of the same load before measuring"
    )
    parser.add_argument("--scale", type=float, default=10)
    # Two server processes for two cores: one Python process is bound by its GIL.
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    for kind in ("embedded", "neo4j") if args.store == "both" else (args.store,):
        bench(kind, args)


if __name__ == "__main__":
    main()
