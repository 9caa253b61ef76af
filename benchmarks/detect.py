"""All detectors on a generated scale-10 delivery in the embedded store (target < 60 s).

The delivery is generated and loaded once and cached under .iffgraph/bench-data (loading is
benchmarks/load.py's business); this script times resolution-free and resolved detection.
Cycle detection at scale 100 and the comparison with networkx.simple_cycles live in
benchmarks/detect_cycles.py.

    .venv/bin/python -m benchmarks.detect [--scale 10]
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

from benchmarks.common import peak_rss_mib
from benchmarks.load import DATA, delivery
from datagen.truth import Truth
from graph_models.store.embedded import EmbeddedStore
from loaders.base import LoadOptions
from loaders.catalog import load_dir
from queries.detection import run_detectors
from queries.evaluation import evaluate


def loaded_store(scale: float) -> tuple[EmbeddedStore, Path]:
    directory = delivery(scale)
    db = DATA / f"scale-{scale:g}.sqlite"
    if not db.exists():
        partial = db.with_suffix(".partial")
        shutil.rmtree(partial, ignore_errors=True)
        store = EmbeddedStore(partial / "graph.sqlite")
        store.init_schema()
        t0 = time.perf_counter()
        load_dir(
            directory,
            store,
            LoadOptions(quiet=True, quarantine_dir=partial / "q", reports_dir=None),
        )
        store.close()
        (partial / "graph.sqlite").rename(db)
        print(f"  loaded scale {scale:g} in {time.perf_counter() - t0:.0f} s")
    return EmbeddedStore(db), directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10)
    args = parser.parse_args()
    store, directory = loaded_store(args.scale)
    t0 = time.perf_counter()
    run = run_detectors(store, save=False)
    seconds = time.perf_counter() - t0
    for timing in run.timings:
        print(f"  {timing.detector:<12} {timing.alerts:>6} alerts {timing.seconds:>8.1f} s")
    # The machine is shared: a time means little without the load it was measured under.
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"all detectors at scale {args.scale:g}: {seconds:.1f} s (target < 60 s),"
        f" {len(run.alerts):,} alerts, peak {peak_rss_mib():,.0f} MiB, load average {load}"
    )
    truth = Truth.read(directory / "truth.json")
    for score in evaluate(store, run.alerts, truth):
        p = "-" if score.precision is None else f"{score.precision:.2f}"
        r = "-" if score.recall is None else f"{score.recall:.2f}"
        print(
            f"  {score.typology.value:<25} precision {p:>5}  recall {r:>5}"
            f"  ({score.alerts} alerts, {score.schemes} schemes; without resolution)"
        )
    store.close()


if __name__ == "__main__":
    main()
