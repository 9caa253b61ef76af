"""Entity resolution on a real generated delivery (scale 100: about a million party records).

Issue #4's speed target: resolving scale 100 in <= 10 minutes on 2 cores and <= 8 GiB, with the
number of compared pairs against n². Unlike ``benchmarks/resolution.py --large`` (scale-10
records cloned with rotated names), this resolves the generator's own scale-100 delivery, so
its name pools, namesakes and block sizes are the real ones, and it scores the result against
the delivery's ``truth.json``.

Steps, each cached or isolated:

1. the delivery is generated once (``benchmarks.load.delivery``, under .iffgraph/bench-data);
2. it is loaded once into its own embedded store (``scale-<S>-resolution.sqlite`` next to the
   delivery; not the detection benchmark's store, since resolution writes into it), in a child
   process whose time and peak memory are printed;
3. a child process removes what an earlier run of this benchmark wrote (``retract``,
   untimed), so every timed run starts from scratch;
4. a fresh child process runs ``resolution.commands.resolve(store)`` and reports wall time and
   its own peak resident memory (the load's memory is never counted), then scores the stored
   SAME_AS links against the truth: pairwise precision and recall over party node keys, for
   all parties, companies only and persons only.

    .venv/bin/python -m benchmarks.resolution_scale [--scale 100] [--seed 7]

Measured on the shared 2-core machine (load average 2-8 from other jobs), scale 100, seed 7:
generated in 227 s; loaded 2,670,008 source rows in 3,645 s (733 rows/s, peak 3,203 MiB;
3,566,788 nodes, 10,474,412 relationships, 653,352 party records); resolved in 184 s wall
(156 s CPU), peak 4,596 MiB resident of which 2,030 MiB anonymous; 2,967,212 pairs compared
(6.95e-06 of n²); precision / recall companies 0.9886 / 0.9776, persons 0.9877 / 0.9915,
all parties 0.9885 / 0.9791.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from benchmarks.common import ROOT, peak_rss_mib
from benchmarks.load import DATA, delivery
from graph_models.schema import Label, RelType
from graph_models.store.embedded import EmbeddedStore
from resolution.features import PARTY_LABELS

TARGET_SECONDS = 600
TARGET_MIB = 8 * 1024


def own_peak_mib() -> float:
    """This process's peak resident memory: VmHWM belongs to the process image, so unlike
    ``ru_maxrss`` it never carries over a parent's peak through fork."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mib()


class AnonPeak:
    """The peak of this process's anonymous resident memory (RssAnon), sampled on a thread.

    The embedded store maps its file into memory (``mmap_size``), and the mapped pages it reads
    count in the resident set: on a large store the peak resident set thus includes up to a few
    GiB of file pages the kernel can drop at will. RssAnon is what the process itself holds.
    """

    def __init__(self, every: float = 0.25) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def _run(self, every: float) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, _rss_anon_kib())
            self._stop.wait(every)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, _rss_anon_kib())
        return self.peak_kib / 1024


def _rss_anon_kib() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _run_child(*args: str) -> dict[str, object]:
    """Run this module as a child (its progress shows live) and return the JSON it wrote."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "benchmarks.resolution_scale", *args, "--result", str(out)]
        subprocess.run(cmd, check=True, cwd=ROOT, env=dict(os.environ))
        result: dict[str, object] = json.loads(out.read_text())
        return result


# --- children ------------------------------------------------------------------------------
def child_load(directory: Path, db: Path) -> dict[str, object]:
    from loaders.base import LoadOptions  # noqa: PLC0415 - only this child loads
    from loaders.catalog import load_dir  # noqa: PLC0415

    partial = db.with_suffix(".partial")
    shutil.rmtree(partial, ignore_errors=True)
    store = EmbeddedStore(partial / "graph.sqlite")
    store.init_schema()
    started = time.perf_counter()
    reports = load_dir(
        directory, store, LoadOptions(quiet=True, quarantine_dir=partial / "q", reports_dir=None)
    )
    seconds = time.perf_counter() - started
    counts = store.counts()
    store.close()
    (partial / "graph.sqlite").rename(db)
    shutil.rmtree(partial, ignore_errors=True)
    return {
        "records": sum(r.read for r in reports),
        "quarantined": sum(r.quarantined for r in reports),
        "seconds": seconds,
        "peak_mib": own_peak_mib(),
        "nodes": counts.total_nodes,
        "relationships": counts.total_relationships,
        "parties": sum(counts.nodes.get(label.value, 0) for label in PARTY_LABELS),
    }


def child_retract(db: Path) -> dict[str, object]:
    from resolution.commands import retract  # noqa: PLC0415

    store = EmbeddedStore(db)
    started = time.perf_counter()
    changes = retract(store, judgements=True)
    store.close()
    return {"seconds": time.perf_counter() - started, "deleted": changes.total}


def child_resolve(db: Path, truth: Path) -> dict[str, object]:
    from resolution.commands import resolve  # noqa: PLC0415

    store = EmbeddedStore(db)
    load_before = os.getloadavg()[0]
    cpu_before = _cpu_seconds()
    anon = AnonPeak()
    started = time.perf_counter()
    summary = resolve(store, full=True, progress=_timestamped(started))
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before
    peak = own_peak_mib()  # before scoring, which is not resolution's memory
    anon_peak = anon.stop()
    # On a shared machine the wall time counts other people's work too: the CPU time and the
    # load average say how much.
    print(
        f"    resolve: {seconds:,.0f} s wall, {cpu:,.0f} s CPU (both threads), load average"
        f" {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; peak {peak:,.0f} MiB"
        f" resident, {anon_peak:,.0f} MiB anonymous",
        flush=True,
    )
    kinds: Counter[str] = Counter()
    for kind_counts in summary.records.values():
        kinds.update(kind_counts)
    records = sum(kinds.values())
    scores = score_store(store, truth)
    store.close()
    return {
        "records": records,
        "records_by_kind": dict(kinds),
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_mib": peak,
        "peak_anon_mib": anon_peak,
        "pairs_compared": summary.pairs_compared,
        "same_kind_pairs": summary.all_pairs,
        "n_squared": records * records,
        "blocks": summary.blocks,
        "oversized_blocks": summary.oversized_blocks,
        "skipped_blocks": summary.skipped_blocks,
        "auto_links": summary.auto_links,
        "rule_links": summary.rule_links,
        "review_candidates": summary.review_candidates,
        "entities": summary.entities,
        "changes": summary.changes,
        "scores": scores,
    }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timestamped(started: float) -> Callable[[str], None]:
    def say(message: str) -> None:
        print(f"    [{time.perf_counter() - started:6.0f} s] {message}", flush=True)

    return say


# --- scoring -------------------------------------------------------------------------------
def _pairs(sizes: Iterable[int]) -> int:
    return sum(k * (k - 1) // 2 for k in sizes)


def pair_counts(rows: Iterable[tuple[str, str]]) -> tuple[int, int, int]:
    """(true pairs, predicted pairs, correct pairs) of records given as (truth entity, found
    entity): counted from group sizes, so a large cluster costs no n² set of pairs. The same
    figures as building both pair sets and intersecting them."""
    truth: Counter[str] = Counter()
    found: Counter[str] = Counter()
    both: Counter[tuple[str, str]] = Counter()
    for owner, entity in rows:
        truth[owner] += 1
        found[entity] += 1
        both[(owner, entity)] += 1
    return _pairs(truth.values()), _pairs(found.values()), _pairs(both.values())


def score_store(store: EmbeddedStore, truth_file: Path) -> dict[str, dict[str, float]]:
    """Pairwise precision and recall per kind over the party node keys the truth names once
    (as ``benchmarks.resolution.evaluate_store`` measures them; keys the truth gives to two
    entities are left out)."""
    from benchmarks.resolution import truth_groups  # noqa: PLC0415

    owner, ambiguous = truth_groups(truth_file)
    entity = {r.start: r.end for r in store.iter_relationships([RelType.SAME_AS])}
    rows: dict[str, list[tuple[str, str]]] = {"all parties": []}
    for node in store.iter_nodes(PARTY_LABELS):
        if node.key in owner:
            row = (owner[node.key], entity.get(node.key, node.key))
            rows.setdefault(node.label.value, []).append(row)
            rows["all parties"].append(row)
    out: dict[str, dict[str, float]] = {}
    for name in (Label.COMPANY.value, Label.PERSON.value, "all parties"):
        true, predicted, correct = pair_counts(rows.get(name, []))
        out[name] = {
            "precision": correct / predicted if predicted else 1.0,
            "recall": correct / true if true else 1.0,
            "true_pairs": true,
            "predicted_pairs": predicted,
            "correct_pairs": correct,
        }
    out["ambiguous keys"] = {"count": ambiguous}
    return out


# --- the parent ----------------------------------------------------------------------------
def prepared_store(scale: float, seed: int) -> tuple[Path, Path]:
    """The delivery and its loaded store, made once; prints the load's figures when it loads."""
    directory = delivery(scale, seed)
    db = DATA / f"scale-{scale:g}-seed-{seed}-resolution.sqlite"
    if not db.exists():
        print(f"== loading the scale-{scale:g} delivery into {db.name}", flush=True)
        got = _run_child("--child-load", str(directory), str(db))
        records, seconds = int(str(got["records"])), float(str(got["seconds"]))
        print(
            f"  loaded {records:,} source rows ({got['quarantined']} quarantined) in"
            f" {seconds:,.0f} s = {records / seconds:,.0f} rows/s; peak {got['peak_mib']:,.0f} MiB;"
            f" {got['nodes']:,} nodes, {got['relationships']:,} relationships,"
            f" {got['parties']:,} party records",
            flush=True,
        )
    return directory, db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child-load", nargs=2, metavar=("DIR", "DB"), help=argparse.SUPPRESS)
    parser.add_argument("--child-retract", metavar="DB", help=argparse.SUPPRESS)
    parser.add_argument("--child-resolve", nargs=2, metavar=("DB", "TRUTH"), help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_load or args.child_retract or args.child_resolve:
        if args.child_load:
            result = child_load(Path(args.child_load[0]), Path(args.child_load[1]))
        elif args.child_retract:
            result = child_retract(Path(args.child_retract))
        else:
            result = child_resolve(Path(args.child_resolve[0]), Path(args.child_resolve[1]))
        args.result.write_text(json.dumps(result))
        return

    directory, db = prepared_store(args.scale, args.seed)
    gone = _run_child("--child-retract", str(db))
    if gone["deleted"]:
        print(f"  removed an earlier run's output ({gone['deleted']:,} writes, untimed)")
    print(f"== resolve, scale {args.scale:g}, seed {args.seed} (a fresh process)", flush=True)
    got = _run_child("--child-resolve", str(db), str(directory / "truth.json"))
    report(got)


def report(got: dict[str, object]) -> None:
    def num(name: str) -> float:
        return float(str(got[name]))

    records, seconds, peak = int(num("records")), num("seconds"), num("peak_mib")
    compared = int(num("pairs_compared"))
    print(f"  source records resolved {records:,} ({got['records_by_kind']})")
    print(
        f"  resolve {seconds:,.0f} s (target <= {TARGET_SECONDS} s: "
        f"{'met' if seconds <= TARGET_SECONDS else 'MISSED'}),"
        f" {records / seconds:,.0f} records/s; {num('cpu_seconds'):,.0f} s of CPU"
    )
    print(
        f"  peak resident memory of the resolving process {peak:,.0f} MiB (target <="
        f" {TARGET_MIB:,} MiB: {'met' if peak <= TARGET_MIB else 'MISSED'}), of which at most"
        f" {num('peak_anon_mib'):,.0f} MiB anonymous (the rest: the store's file mapped in)"
    )
    print(
        f"  pairs compared {compared:,}: {compared / num('n_squared'):.2e} of n²"
        f" ({int(num('n_squared')):,}), {compared / max(num('same_kind_pairs'), 1):.2e} of all"
        f" same-kind pairs ({int(num('same_kind_pairs')):,})"
    )
    print(
        f"  blocks {int(num('blocks')):,}, oversized {int(num('oversized_blocks')):,},"
        f" skipped {int(num('skipped_blocks')):,}; auto-links {int(num('auto_links')):,}"
        f" ({int(num('rule_links')):,} by rule), review candidates"
        f" {int(num('review_candidates')):,}; entities {got['entities']}"
    )
    scores = got["scores"]
    assert isinstance(scores, dict)
    for name in (Label.COMPANY.value, Label.PERSON.value, "all parties"):
        s = scores[name]
        print(
            f"  {name:<18} precision {s['precision']:.4f}  recall {s['recall']:.4f}"
            f"  (true pairs {s['true_pairs']:,}, predicted {s['predicted_pairs']:,},"
            f" correct {s['correct_pairs']:,})"
        )
    print(f"  ({scores['ambiguous keys']['count']} node keys the truth gives to two entities)")


if __name__ == "__main__":
    main()
