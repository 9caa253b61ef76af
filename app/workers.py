"""API worker processes, each listening on its own socket bound with ``SO_REUSEPORT``.

One Python process serves on one core at a time (its GIL), so a machine with several cores
runs several API processes. uvicorn's ``--workers`` shares one listening socket between them,
and asyncio accepts every pending connection when its socket turns readable: when twenty
clients connected at once the first worker to wake took most of their keep-alive connections
(14 to 6 in one measured run), and the busy one served with one core while the other idled
(Neo4j API benchmark runs fell to 170-190 requests/s from 300-340 with a third of the CPU
idle). With a socket per worker the kernel spreads new connections over the workers.

The supervisor restarts a worker that dies, and stops them all on SIGTERM or SIGINT.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn

# A worker that dies within this many seconds of its start is not restarted (a configuration
# error would otherwise restart it forever).
MIN_LIFETIME_S = 10.0


def listening_socket(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A TCP socket bound with ``SO_REUSEPORT``, so that each worker can bind its own."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    return sock


def run_worker(host: str, port: int, log_level: str, access_log: bool) -> None:
    """One worker: its own socket, the app from ``app.asgi`` (settings from the environment)."""
    sock = listening_socket(host, port)
    config = uvicorn.Config(
        "app.asgi:app", log_level=log_level, access_log=access_log, lifespan="on"
    )
    uvicorn.Server(config).run(sockets=[sock])


def serve_workers(
    host: str, port: int, workers: int, *, log_level: str = "info", access_log: bool = True
) -> int:
    """Run ``workers`` worker processes until SIGTERM / SIGINT; the exit status to return."""
    # The port is bound here first, so that a port in use fails at once with a clear error
    # rather than in every worker; the supervisor's socket is closed without accepting.
    listening_socket(host, port).close()
    ctx = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> tuple[BaseProcess, float]:
        proc = ctx.Process(
            target=run_worker, args=(host, port, log_level, access_log), daemon=False
        )
        proc.start()
        return proc, time.monotonic()

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    running = [start() for _ in range(workers)]
    status = 0
    try:
        while not stopping:
            for i, (proc, started) in enumerate(running):
                proc.join(timeout=0.5 / len(running))
                if proc.exitcode is None or stopping:
                    continue
                if time.monotonic() - started < MIN_LIFETIME_S:
                    status = proc.exitcode or 1
                    stopping = True
                    break
                running[i] = start()
    finally:
        for proc, _ in running:
            if proc.is_alive():
                proc.terminate()  # uvicorn finishes the requests in flight on SIGTERM
        for proc, _ in running:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return status
