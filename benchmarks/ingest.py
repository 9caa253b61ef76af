"""Write 200,000 synthetic nodes and 400,000 relationships through each store.

Prints rows/s for the batched writer on the embedded store and on Neo4j, and for a naive
one-MERGE-per-row, one-transaction-per-row writer on Neo4j (on a 10,000-row sample) as the
baseline. Targets: batched Neo4j >= 20x naive, and >= 20,000 relationships/s.

    .venv/bin/python -m benchmarks.ingest [--nodes 200000] [--rels 400000] [--sample 10000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from neo4j import GraphDatabase, ManagedTransaction

from benchmarks.common import neo4j_password, neo4j_uri
from graph_models.merge import Observed
from graph_models.records import Agency, Provenance
from graph_models.schema import Label, RelType
from graph_models.store.base import GraphStore
from graph_models.store.embedded import EmbeddedStore
from graph_models.store.neo4j_store import Neo4jStore
from loaders.writer import BatchWriter

PROV = Observed.of(
    Provenance(agency=Agency.FIU, source_file="bench.csv", record_id="-", load_id="bench")
)


def _observed(i: int) -> Observed:
    return Observed(PROV.agency, PROV.compartment, PROV.source, f"bench.csv|row {i}", None)


def company(i: int) -> str:
    return f"company:fiu:bench:{i:07d}"


def account(i: int) -> str:
    return f"account:BENCH{i:09d}"


def nodes(n: int) -> Iterator[tuple[Label, str, dict[str, Any]]]:
    half = n // 2
    for i in range(half):
        yield Label.COMPANY, company(i), {"name": f"C{i}"}
        yield Label.ACCOUNT, account(i), {"account_number": f"BENCH{i:09d}"}


def rels(n_nodes: int, n_rels: int) -> Iterator[tuple[RelType, str, str, str, dict[str, Any]]]:
    half = n_nodes // 2
    for i in range(half):  # every company holds its account
        yield RelType.HOLDS, company(i), account(i), "", {}
    for j in range(n_rels - half):  # the rest are payments between accounts
        a, b = (j * 7919) % half, (j * 104729 + 1) % half
        props = {"date": "2024-01-01", "amount": float(j % 9000 + 100)}
        yield RelType.PAID, account(a), account(b), f"t{j}", props


def batched_run(store: GraphStore, n_nodes: int, n_rels: int, batch: int) -> tuple[float, float]:
    """Rows go through the writer as loaders send them: one observation per record, each with
    its own record id, merged per batch and written on the writer's background thread."""
    store.init_schema()
    store.clear()
    with BatchWriter(store, batch_size=batch) as writer:  # as loaders use it (see writer.py)
        t0 = time.perf_counter()
        for i, node in enumerate(nodes(n_nodes)):
            writer.observe([node], [], _observed(i))
        writer.flush()
        t1 = time.perf_counter()
        for j, rel in enumerate(rels(n_nodes, n_rels)):
            writer.observe([], [rel], _observed(j))
        writer.flush()
        t2 = time.perf_counter()
    counts = store.counts()
    assert counts.total_nodes == n_nodes, counts
    assert counts.total_relationships == n_rels, counts
    return n_nodes / (t1 - t0), n_rels / (t2 - t1)


NAIVE_NODE = "MERGE (n:Account {key: $key}) SET n.account_number = $number, n.agencies = ['fiu']"
NAIVE_REL = (
    "MATCH (a:Account {key: $a}) MATCH (b:Account {key: $b}) "
    "MERGE (a)-[r:PAID {key: $key}]->(b) SET r.amount = $amount, r.date = $date"
)


def naive_run(uri: str, sample: int) -> tuple[float, float]:
    """One MERGE per row, one transaction per row: the baseline the batched writer must beat."""
    with GraphDatabase.driver(uri, auth=("neo4j", neo4j_password())) as driver:
        driver.execute_query(
            "MATCH (n:Account) WHERE n.key STARTS WITH 'account:NAIVE' DETACH DELETE n",
            database_="neo4j",
        )

        def node_tx(tx: ManagedTransaction, i: int) -> None:
            tx.run(NAIVE_NODE, key=f"account:NAIVE{i:09d}", number=str(i)).consume()

        def rel_tx(tx: ManagedTransaction, j: int) -> None:
            tx.run(
                NAIVE_REL,
                a=f"account:NAIVE{j % sample:09d}",
                b=f"account:NAIVE{(j * 7919 + 1) % sample:09d}",
                key=f"n{j}",
                amount=float(j),
                date="2024-01-01",
            ).consume()

        with driver.session(database="neo4j") as session:
            t0 = time.perf_counter()
            for i in range(sample):
                session.execute_write(node_tx, i)
            t1 = time.perf_counter()
            for j in range(sample):
                session.execute_write(rel_tx, j)
            t2 = time.perf_counter()
        driver.execute_query(
            "MATCH (n:Account) WHERE n.key STARTS WITH 'account:NAIVE' DETACH DELETE n",
            database_="neo4j",
        )
    return sample / (t1 - t0), sample / (t2 - t1)


def _load() -> str:
    # The machine is shared: a figure means little without how busy it was meanwhile.
    return f"load {os.getloadavg()[0]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--rels", type=int, default=400_000)
    parser.add_argument("--sample", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=5_000)
    args = parser.parse_args()

    print(f"ingest: {args.nodes:,} nodes, {args.rels:,} relationships, batch {args.batch:,}")
    with tempfile.TemporaryDirectory() as tmp:
        emb = EmbeddedStore(Path(tmp) / "bench.sqlite")
        n_rate, r_rate = batched_run(emb, args.nodes, args.rels, args.batch)
        emb.close()
    print(
        f"embedded batched : {n_rate:>10,.0f} nodes/s  {r_rate:>10,.0f} relationships/s  {_load()}"
    )

    uri = neo4j_uri()
    neo = Neo4jStore.connect(uri, "neo4j", neo4j_password())
    bn, br = batched_run(neo, args.nodes, args.rels, args.batch)
    neo.clear()
    neo.close()
    print(f"neo4j batched    : {bn:>10,.0f} nodes/s  {br:>10,.0f} relationships/s  {_load()}")
    nn, nr = naive_run(uri, args.sample)
    print(
        f"neo4j naive      : {nn:>10,.0f} nodes/s  {nr:>10,.0f} relationships/s "
        f"{_load()} (one MERGE and one transaction per row, {args.sample:,}-row sample)"
    )
    print(
        f"speed-up batched/naive: nodes {bn / nn:.1f}x, relationships {br / nr:.1f}x "
        f"(target >= 20x); neo4j relationships/s {br:,.0f} (target >= 20,000)"
    )


if __name__ == "__main__":
    main()
