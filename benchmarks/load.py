"""Load generated deliveries (scale 10 and 100) into each store; print records/s and peak memory.

Each (scale, store) run happens in a fresh child process so its peak resident memory is its
own. Targets on a 2-core machine: >= 30,000 source records/s into the embedded store,
>= 10,000/s into Neo4j, and peak memory flat in file size (scale 100 <= 1.5x scale 10).
The embedded store's peak is the loader's plus its writer process's (the sum of two peaks, so
an upper bound).

    .venv/bin/python -m benchmarks.load [--scales 10 100] [--stores embedded neo4j]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, neo4j_password, neo4j_uri, peak_rss_mib

DATA = ROOT / ".iffgraph" / "bench-data"


def delivery(scale: float, seed: int = 7) -> Path:
    """A generated delivery, cached: generation is not what this benchmark measures."""
    from datagen import generate  # noqa: PLC0415 - only the parent process generates

    out = DATA / f"scale-{scale:g}-seed-{seed}"
    if not (out / "truth.json").exists():
        t0 = time.perf_counter()
        generate(out, scale=scale, seed=seed)
        print(f"  generated scale {scale:g} in {time.perf_counter() - t0:.0f} s", flush=True)
    return out


def child(directory: Path, store_kind: str, uri: str | None) -> None:
    from graph_models.store.base import GraphStore  # noqa: PLC0415
    from graph_models.store.embedded import EmbeddedStore  # noqa: PLC0415
    from graph_models.store.neo4j_store import Neo4jStore  # noqa: PLC0415
    from loaders.base import LoadOptions  # noqa: PLC0415
    from loaders.catalog import load_dir  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        store: GraphStore
        if store_kind == "embedded":
            store = EmbeddedStore(Path(tmp) / "bench.sqlite")
        else:
            assert uri is not None
            store = Neo4jStore.connect(uri, "neo4j", neo4j_password())
        store.init_schema()
        store.clear()
        t0 = time.perf_counter()
        reports = load_dir(
            directory,
            store,
            LoadOptions(quiet=True, quarantine_dir=Path(tmp) / "q", reports_dir=None),
        )
        seconds = time.perf_counter() - t0
        # The loader's peak, taken before counting: counts() reads every row through the
        # store's memory map, and those file pages would then count as this process's memory.
        # The embedded store's writer process is part of the load: its peak counts too.
        peak = peak_rss_mib()
        writer_peak = store.writer_peak_rss_mib() if isinstance(store, EmbeddedStore) else 0.0
        counts = store.counts()
        if store_kind == "neo4j":
            store.clear()
        store.close()
    print(
        json.dumps(
            {
                "records": sum(r.read for r in reports),
                "quarantined": sum(r.quarantined for r in reports),
                "seconds": seconds,
                "peak_rss_mib": peak + writer_peak,
                "writer_peak_rss_mib": writer_peak,
                "nodes": counts.total_nodes,
                "relationships": counts.total_relationships,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[10, 100])
    parser.add_argument("--stores", nargs="+", default=["embedded", "neo4j"])
    parser.add_argument("--child", nargs=2, metavar=("DIR", "STORE"), help=argparse.SUPPRESS)
    parser.add_argument("--uri", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1], args.uri)
        return
    uri = neo4j_uri() if "neo4j" in args.stores else None
    peaks: dict[tuple[str, float], float] = {}
    for scale in args.scales:
        directory = delivery(scale)
        for kind in args.stores:
            cmd = [sys.executable, "-m", "benchmarks.load", "--child", str(directory), kind]
            if uri:
                cmd += ["--uri", uri]
            done = subprocess.run(
                cmd, capture_output=True, text=True, check=False, cwd=ROOT, env=dict(os.environ)
            )
            if done.returncode != 0:
                # The child's own traceback says what failed; without it only "exit 1" is left.
                sys.exit(f"scale {scale:g} {kind} failed (exit {done.returncode}):\n{done.stderr}")
            got = json.loads(done.stdout.strip().splitlines()[-1])
            peaks[(kind, scale)] = got["peak_rss_mib"]
            rate = got["records"] / got["seconds"]
            print(
                f"scale {scale:>5g} {kind:<8}: {got['records']:>10,} records"
                f" ({got['quarantined']:,} quarantined) in {got['seconds']:7.1f} s"
                f" = {rate:>8,.0f} records/s; peak {got['peak_rss_mib']:,.0f} MiB"
                f" (writer process {got['writer_peak_rss_mib']:,.0f});"
                f" {got['nodes']:,} nodes, {got['relationships']:,} relationships",
                flush=True,
            )
    for kind in args.stores:
        if len(args.scales) >= 2:
            small, large = min(args.scales), max(args.scales)
            ratio = peaks[(kind, large)] / peaks[(kind, small)]
            print(
                f"{kind}: peak memory scale {large:g} / scale {small:g} = {ratio:.2f}x"
                " (target <= 1.5x)"
            )


if __name__ == "__main__":
    main()
