"""Shared benchmark plumbing: a Neo4j to measure against, and peak-memory reading."""

from __future__ import annotations

import os
import resource
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def neo4j_uri() -> str:
    """The Neo4j to benchmark: $IFFGRAPH_BENCH_NEO4J_URI, else one started by the launcher."""
    uri = os.environ.get("IFFGRAPH_BENCH_NEO4J_URI")
    if uri:
        return uri
    env = {**os.environ, "NEO4J_LOCAL_HOME": str(ROOT / ".neo4j-local-bench")}
    done = subprocess.run(
        [str(ROOT / "scripts" / "neo4j-local"), "start"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return done.stdout.strip().splitlines()[-1]


def neo4j_password() -> str:
    return os.environ.get("NEO4J_LOCAL_PASSWORD", "iffgraph-test-pw")


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
