"""A child process that writes the embedded store's bulk batches.

Why a process and not the batched writer's thread: SQLite releases the GIL for each row it
steps, then needs it back to bind the next row, and the loader's thread holds it for the next
record's conversion. Measured on a scale-3 delivery the two threads took turns rather than
overlapping (22.0 s CPU in 23.1 s wall on two cores). A process has its own interpreter, so
the loader converts on one core while SQLite writes on the other; only the encoded rows cross
over (strings, cheap to pickle).

The child opens the same SQLite file (WAL, ``BEGIN IMMEDIATE`` per batch), so readers and other
writers see exactly what they would see from an in-process write. One worker and a call that
waits for its answer keep the batches in order; an error in the child (a dangling
relationship, a database error) is raised in the caller as it would have been in-process, and
a child that dies is a ``StoreError``, never a hang or a silent loss.

The child is a plain ``python -m graph_models.store.embedded_process`` talking pickle over its
stdin and stdout, not ``multiprocessing``: spawn re-imports the parent's main script, which
breaks any caller whose script lacks a ``__main__`` guard, and fork copies a threaded parent.
The pipe is private to the two processes and carries only what this module sends.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import resource
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from graph_models.errors import StoreError

_ROOT = Path(__file__).resolve().parents[2]  # the folder holding the graph_models package


class WriterProcess:
    """One child process writing batches to one SQLite file, in the order they are sent."""

    def __init__(self, path: Path, *, busy_timeout_s: float) -> None:
        self.path = path
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH")) if p)
        self._child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", __name__, str(path), repr(busy_timeout_s)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self._lock = threading.Lock()

    @staticmethod
    def encode_write(sql: str, params: Sequence[tuple[str, ...]], ends: set[str] | None) -> bytes:
        """A batch as the message ``send`` takes: encoded by the caller, before its turn.

        One ``pickle.dumps`` and one write of the whole message, rather than pickling into
        the pipe: each chunk written to a pipe releases the GIL, and taking it back from the
        converting thread cost up to a switch interval (5 ms) per 64 KiB, which doubled the
        time of a scale-3 delivery's writes.
        """
        return _frame(("write", sql, list(params), ends))

    def send(self, message: bytes) -> Any:
        with self._lock:
            child = self._child
            assert child.stdin is not None
            assert child.stdout is not None
            try:
                child.stdin.write(message)
                child.stdin.flush()
                ok, value = pickle.load(child.stdout)  # noqa: S301 - our own child's answer
            except (OSError, EOFError, pickle.UnpicklingError) as e:
                code = child.poll()
                raise StoreError(
                    f"embedded store {self.path}: the writer process stopped (exit code {code});"
                    f" the batch being written was not committed ({e!r})"
                ) from e
        if not ok:
            raise value
        return value

    def write(self, sql: str, params: Sequence[tuple[str, ...]], ends: set[str] | None) -> int:
        return int(self.send(self.encode_write(sql, params, ends)))

    @property
    def pid(self) -> int:
        return self._child.pid

    def peak_rss_mib(self) -> float:
        """The child's peak resident memory: part of what a load costs."""
        return float(self.send(_frame(("peak",))))

    def close(self) -> None:
        child = self._child
        with self._lock:
            if child.stdin is not None:
                with contextlib.suppress(OSError):
                    child.stdin.close()  # end of input: the child exits
            child.wait()
            if child.stdout is not None:
                child.stdout.close()


_LENGTH = 8  # bytes of the big-endian length that starts each request


def _frame(request: tuple[Any, ...]) -> bytes:
    body = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
    return len(body).to_bytes(_LENGTH, "big") + body


def _read_request(requests: IO[bytes]) -> tuple[Any, ...] | None:
    head = requests.read(_LENGTH)
    if len(head) < _LENGTH:
        return None  # the parent closed the pipe: no more work
    body = requests.read(int.from_bytes(head, "big"))
    request: tuple[Any, ...] = pickle.loads(body)  # noqa: S301 - from the parent that started us
    return request


def _serve(path: str, busy_timeout_s: float, requests: IO[bytes], answers: IO[bytes]) -> None:
    from graph_models.store.embedded import EmbeddedStore  # noqa: PLC0415 - child side only

    # The child writes in its own thread: it never hands batches on to a process again.
    store = EmbeddedStore(path, busy_timeout_s=busy_timeout_s, process_min_rows=None)
    try:
        while True:
            request = _read_request(requests)
            if request is None:
                return
            try:
                if request[0] == "write":
                    answer: tuple[bool, Any] = (True, store.write_rows_here(*request[1:]))
                else:
                    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                    answer = (True, peak)
            except Exception as e:  # every error goes back to the caller
                answer = (False, e)
            pickle.dump(answer, answers, protocol=pickle.HIGHEST_PROTOCOL)
            answers.flush()
    finally:
        store.close()


if __name__ == "__main__":
    # Ctrl-C reaches the whole process group: the parent decides what to do about it, and a
    # batch half-way through its transaction is better finished than killed. The child exits
    # when the parent closes the pipe or dies.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Stray prints must not corrupt the answers: the protocol keeps the real stdout.
    _answers = sys.stdout.buffer
    sys.stdout = sys.stderr
    _serve(sys.argv[1], float(sys.argv[2]), sys.stdin.buffer, _answers)
