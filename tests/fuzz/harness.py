"""Each fuzz case runs in a worker process under a memory limit (RLIMIT_AS) and a wall-clock timeout.

One long-lived worker serves many cases (the package is imported once); a case that overruns the
timeout is a "hang" (the worker is killed and replaced), one that dies is a "crash", one that hits the
memory limit a "memory" outcome.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
from multiprocessing.connection import Connection
from typing import Any

MEMORY_LIMIT = 1 << 30  # 1 GiB of address space per worker
TIMEOUT_S = 10.0


def _serve(conn: Connection, memory_limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    from .cases import run_case

    while True:
        case = conn.recv()
        if case is None:
            return
        try:
            conn.send(run_case(case))
        except MemoryError:
            conn.send(("memory", "MemoryError outside the case"))


class Worker:
    """A worker process that runs cases one at a time (`run` never raises for a misbehaving case)."""

    def __init__(self, memory_limit: int = MEMORY_LIMIT) -> None:
        self.memory_limit = memory_limit
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(["deeploy_tiler", "deeploy_tiler.api", "numpy", "onnx"])
        self._proc: Any = None
        self._conn: Connection | None = None

    def _start(self) -> Connection:
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=_serve, args=(child, self.memory_limit), daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent
        return parent

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join(5)
        self._proc, self._conn = None, None

    def run(self, case: dict[str, Any], timeout: float = TIMEOUT_S) -> tuple[str, str]:
        conn = self._conn or self._start()
        try:
            conn.send(case)
            if not conn.poll(timeout):
                self._kill()
                return "hang", f"no answer within {timeout} s"
            outcome: tuple[str, str] = conn.recv()
            return outcome
        except (EOFError, BrokenPipeError, ConnectionResetError):
            code = self._proc.exitcode if self._proc is not None else None
            self._kill()
            return "crash", f"worker died (exit code {code})"

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.send(None)
                self._proc.join(5)
            except (BrokenPipeError, OSError):
                pass
        self._kill()
