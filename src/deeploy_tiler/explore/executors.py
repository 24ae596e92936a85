"""Executors of sweep tasks (points and searches): serial, local processes, or a Ray cluster.

Results do not depend on the executor (the planner is deterministic); only wall times differ. Each
executor is a generator of outcomes in completion order; closing it stops the workers at once.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import DeeployTilerError
from ..hw.spec import HwSpec
from ..ir import Graph
from . import minimal, points
from .minimal import MinFeasible, _SearchTask
from .points import SweepPoint, _Context, _PointTask

__all__ = ["EXECUTORS", "Executor", "SweepError"]

Executor = Literal["process", "serial", "ray"]
EXECUTORS: tuple[str, ...] = ("process", "serial", "ray")


class SweepError(DeeployTilerError):
    """Bad sweep input (grid, overrides, executor) or an executor that cannot run (unreachable Ray)."""


@dataclass(frozen=True)
class _Payload:
    """Everything a worker needs once: the graph, the spec, how to count tokens, solver knobs."""

    key: str
    graph: Graph
    hw: HwSpec
    tokens_per_step: int | None
    solver_options: tuple[tuple[str, Any], ...]


_Task = _PointTask | _SearchTask
_Outcome = SweepPoint | MinFeasible


# --- executors -----------------------------------------------------------------------------------------------

_WORKER: dict[str, _Context] = {}  # per worker process: payload key -> context (one graph unpacked once)


def _context(payload: _Payload) -> _Context:
    ctx = _WORKER.get(payload.key)
    if ctx is None:
        _WORKER.clear()
        ctx = _Context(payload.graph, payload.hw, payload.tokens_per_step, dict(payload.solver_options))
        _WORKER[payload.key] = ctx
    return ctx


def _execute(ctx: _Context, task: _Task) -> _Outcome:
    if isinstance(task, _SearchTask):
        return minimal._run_search(ctx, task)
    return points._run_point(ctx, task)  # looked up per call: tests wrap it


def _init_process(payload: _Payload) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the pool
    _context(payload)


def _execute_in_process(task: _Task) -> _Outcome:
    return _execute(next(iter(_WORKER.values())), task)


def _execute_payload(payload: _Payload, task: _Task) -> _Outcome:
    """Ray task body: the payload is a shared object, unpacked once per worker process."""
    return _execute(_context(payload), task)


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _map_serial(ctx: _Context, tasks: list[_Task]) -> Generator[_Outcome, None, None]:
    for t in tasks:
        yield _execute(ctx, t)


def _map_process(payload: _Payload, tasks: list[_Task], workers: int) -> Generator[_Outcome, None, None]:
    import multiprocessing

    # spawn, not fork: the parent may run threads (a progress bar, a Ray client, OR-tools), and a forked
    # child inherits their locks in whatever state they were.
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_process,
        initargs=(payload,),
    )
    finished = False
    try:
        futures: list[Future[_Outcome]] = [pool.submit(_execute_in_process, t) for t in tasks]
        for f in as_completed(futures):
            yield f.result()
        finished = True
    finally:
        if not finished:  # interrupted or failed: do not wait for the rest. Terminated workers make the
            # pool fail its pending futures itself (cancelling them first trips a 3.11 race in that path).
            for proc in list((getattr(pool, "_processes", None) or {}).values()):  # no public way before 3.14
                proc.terminate()
        pool.shutdown(wait=finished)


def _check_ray_address(address: str) -> None:
    import socket

    host_port = address.removeprefix("ray://")
    host, _, port = host_port.rpartition(":")
    if not host or not port.isdigit():
        raise SweepError(f"Ray address {address!r} is not HOST:PORT, ray://HOST:PORT, 'auto' or 'local'")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=3.0).close()
    except OSError as e:
        raise SweepError(f"the Ray cluster at {address!r} does not answer ({e.strerror or e})") from None


def _map_ray(
    payload: _Payload, tasks: list[_Task], workers: int | None, address: str | None
) -> Generator[_Outcome, None, None]:
    try:
        import ray
    except ImportError:
        raise SweepError("the ray executor needs Ray: pip install 'deeploy_tiler[ray]'") from None
    local = address in (None, "", "local")
    if not local and address != "auto":
        assert address is not None
        _check_ray_address(address)
    started = False
    if not ray.is_initialized():
        import logging

        try:
            ray.init(
                address=None if local else address,
                num_cpus=workers if local else None,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,
            )
        except Exception as e:  # ray raises ConnectionError, RuntimeError, ... for a cluster it cannot join
            raise SweepError(f"cannot reach the Ray cluster at {address!r}: {e}") from None
        started = True
    remote = ray.remote(num_cpus=1)(_execute_payload)
    pending: list[Any] = []
    try:
        shared = ray.put(payload)
        queue = list(tasks)
        limit = workers or len(queue)  # in flight at once; Ray schedules them on free CPUs
        while queue or pending:
            while queue and len(pending) < limit:
                pending.append(remote.remote(shared, queue.pop(0)))
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
        if started:
            ray.shutdown()


def _map(
    ctx: _Context,
    payload: _Payload,
    tasks: list[_Task],
    executor: Executor,
    workers: int,
    ray_address: str | None,
    workers_given: bool,
) -> Generator[_Outcome, None, None]:
    if executor == "ray":
        return _map_ray(payload, tasks, workers if workers_given else None, ray_address)
    if executor == "serial" or workers <= 1 or len(tasks) <= 1:
        return _map_serial(ctx, tasks)
    return _map_process(payload, tasks, workers)
