"""``iffgraph serve --workers N``: worker processes with a socket each, over real HTTP."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.workers import listening_socket

SERVE = "from app.cli import main; main()"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "IFFGRAPH_ENVIRONMENT": "test",
        "IFFGRAPH_JWT_SECRET": secrets.token_urlsafe(48),
        "IFFGRAPH_STORE": "embedded",
        "IFFGRAPH_EMBEDDED_PATH": str(tmp_path / "graph.sqlite"),
        "IFFGRAPH_SERVICE_DB": str(tmp_path / "service.sqlite"),
    }


def _workers(pid: int) -> set[int]:
    """Child processes running a worker (multiprocessing's resource tracker is not one)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.add(int(child))
    return found


def test_workers_answer_on_one_port_and_stop_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, "serve", "--port", str(port), "--workers", "2"],
        env=_env(tmp_path),
        stderr=subprocess.PIPE,
    )
    try:
        answered = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).is_success
            except httpx.HTTPError:
                answered = False
            if answered:
                break
            time.sleep(0.2)  # start-up wait, not a measurement
        assert answered, "no worker answered /health"
        assert len(_workers(proc.pid)) == 2
        # Fresh connections (a client each) are all answered, whichever worker takes them.
        statuses = [httpx.get(f"http://127.0.0.1:{port}/health").status_code for _ in range(20)]
        assert statuses == [200] * 20
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_port_in_use_fails_at_once_with_the_address(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))  # bound without SO_REUSEPORT: nobody else may bind it
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-c", SERVE, "serve", "--port", str(port), "--workers", "2"],
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Address already in use" in done.stderr
    assert "Traceback" not in done.stderr


def test_sockets_of_one_port_can_be_bound_by_each_worker() -> None:
    first = listening_socket("127.0.0.1", 0)
    second = listening_socket("127.0.0.1", first.getsockname()[1])
    assert second.getsockname() == first.getsockname()
    second.close()
    first.close()
