"""Memory-budget exploration: plan a model over a grid of budgets, find the Pareto front of latency
against memory, and the smallest feasible budget per level by search.

Points are independent, so they run on an executor (local processes by default, or Ray); results
are identical whichever executor runs them, and each point is handed to `on_point` as it finishes so
a caller can persist it before the sweep ends.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import DeeployTilerError, InfeasibleBudget
from .hw import HwSpec
from .ir import Graph
from .units import parse_bytes


class SweepPoint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    l1: int
    l2: int | None
    double_buffer: bool
    overrides: dict[str, Any] = Field(default_factory=dict)
    feasible: bool
    total_cycles: int | None = None
    lower_bound_cycles: int | None = None
    tiles: int | None = None
    dma_bytes: int | None = None
    tokens_per_s: float | None = Field(default=None, description="for one-token decode steps at the spec clock")
    infeasible_reason: str | None = None
    seconds: float = Field(default=0.0, description="wall time of this point's planning")


class SweepResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    hw: str
    points: tuple[SweepPoint, ...]
    pareto: tuple[SweepPoint, ...]
    min_feasible: dict[str, int | None] = Field(description="level -> smallest budget with a plan")


def parse_grid(text: str) -> list[int]:
    """`64000`, `16KiB,32KiB`, or a range `16KiB..256KiB` (doubling steps, both ends included)."""
    text = text.strip()
    if ".." in text:
        lo_s, _, hi_s = text.partition("..")
        step = 2.0
        if ":" in hi_s:
            hi_s, _, step_s = hi_s.partition(":")
            step = float(step_s)
        lo, hi = parse_bytes(lo_s), parse_bytes(hi_s)
        if lo <= 0 or hi < lo:
            raise ValueError(f"budget range {text!r} is empty or reversed")
        if step <= 1.0:
            raise ValueError(f"budget range {text!r}: the step factor must be > 1")
        values = []
        v = float(lo)
        while v < hi:
            values.append(int(v))
            v *= step
        values.append(hi)
        return sorted(set(values))
    values = [parse_bytes(p) for p in text.split(",") if p.strip()]
    if not values:
        raise ValueError(f"budget grid {text!r} is empty")
    return sorted(set(values))


@dataclass(frozen=True)
class _Job:
    graph: Graph
    hw: HwSpec
    l1: int
    l2: int | None
    double_buffer: bool
    overrides: tuple[tuple[str, Any], ...]


def _decode_tokens(graph: Graph) -> bool:
    # One autoregressive step: a single-token hidden state and KV caches among the inputs.
    return graph.inputs[0].shape[-2:-1] == (1,) and len(graph.inputs) > 3


def run_point(job: _Job) -> SweepPoint:
    """Plan one grid point. Module-level so process and Ray executors can ship it."""
    import time

    from .api import plan

    hw = job.hw.with_overrides(dict(job.overrides)) if job.overrides else job.hw
    t0 = time.perf_counter()
    common = {"l1": job.l1, "l2": job.l2, "double_buffer": job.double_buffer, "overrides": dict(job.overrides)}
    try:
        p = plan(job.graph, hw, l1=job.l1, l2=job.l2, double_buffer=job.double_buffer)
    except InfeasibleBudget as e:
        return SweepPoint(**common, feasible=False, infeasible_reason=str(e), seconds=time.perf_counter() - t0)
    tps = hw.clock_hz / p.total_cycles if _decode_tokens(job.graph) and p.total_cycles else None
    return SweepPoint(**common, feasible=True, total_cycles=p.total_cycles, lower_bound_cycles=p.lower_bound_cycles,
                      tiles=p.num_tiles, dma_bytes=sum(n.dma_bytes for n in p.nodes), tokens_per_s=tps,
                      seconds=time.perf_counter() - t0)


def pareto_front(points: Sequence[SweepPoint]) -> list[SweepPoint]:
    """Feasible points not dominated in (L1 + L2 budget, cycles): less memory or fewer cycles."""
    feasible = sorted((p for p in points if p.feasible and p.total_cycles is not None),
                      key=lambda p: (p.l1 + (p.l2 or 0), p.total_cycles or 0))
    front: list[SweepPoint] = []
    best = math.inf
    for p in feasible:
        assert p.total_cycles is not None
        if p.total_cycles < best:
            front.append(p)
            best = p.total_cycles
    return front


Executor = Literal["process", "serial", "ray"]


def _map(jobs: list[_Job], executor: Executor, workers: int, ray_address: str | None) -> Iterator[SweepPoint]:
    if executor == "serial" or workers <= 1 or len(jobs) <= 1:
        yield from map(run_point, jobs)
        return
    if executor == "ray":
        yield from _map_ray(jobs, ray_address)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures: list[Future[SweepPoint]] = [pool.submit(run_point, j) for j in jobs]
        for f in as_completed(futures):
            yield f.result()


def _map_ray(jobs: list[_Job], address: str | None) -> Iterator[SweepPoint]:
    try:
        import ray
    except ImportError as e:
        raise DeeployTilerError("the ray executor needs the optional extra: pip install 'deeploy_tiler[ray]'") from e
    try:
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
    except Exception as e:  # ray raises ConnectionError and others for an unreachable cluster
        raise DeeployTilerError(f"cannot reach the Ray cluster at {address!r}: {e}") from None
    remote = ray.remote(run_point)
    pending = [remote.remote(j) for j in jobs]
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        yield ray.get(done[0])


def _feasible(graph: Graph, hw: HwSpec, l1: int, l2: int | None, double_buffer: bool) -> bool:
    from .api import plan

    try:
        plan(graph, hw, l1=l1, l2=l2, double_buffer=double_buffer)
        return True
    except InfeasibleBudget:
        return False


def min_feasible_l1(graph: Graph, hw: HwSpec, *, l2: int | None, double_buffer: bool) -> int | None:
    """Smallest L1 budget with a plan, by search, not by grid.

    The planner's infeasibility answer names the smallest budget every node fits in; a plan at that
    budget and an infeasibility answer one byte below prove it. Should the two disagree (another level
    binding too), an exponential then binary search over real planning settles it.
    """
    from .api import plan

    try:
        plan(graph, hw, l1=1, l2=l2, double_buffer=double_buffer)
        return 1
    except InfeasibleBudget as e:
        if e.level != "L1":
            return None
        lo, hi = e.required_bytes - 1, e.required_bytes
    limit = hw.memory("L1").size_bytes
    while not _feasible(graph, hw, hi, l2, double_buffer):
        if hi >= limit:
            return None
        lo, hi = hi, min(2 * hi, limit)
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if _feasible(graph, hw, mid, l2, double_buffer):
            hi = mid
        else:
            lo = mid
    return hi


def sweep(graph: Graph, hw: HwSpec, *, l1_grid: Sequence[int], l2_grid: Sequence[int | None] = (None,),
          double_buffer: Sequence[bool] = (True,), overrides: Sequence[dict[str, Any]] = ({},),
          executor: Executor = "process", workers: int | None = None, ray_address: str | None = None,
          on_point: Callable[[SweepPoint], None] | None = None) -> SweepResult:
    if not l1_grid:
        raise ValueError("the L1 budget grid is empty")
    for ov in overrides:  # fail fast on an unknown spec field, before any point runs
        hw.with_overrides(ov)
    jobs = [_Job(graph, hw, l1, l2, db, tuple(sorted(ov.items())))
            for ov, l2, db, l1 in itertools.product(overrides, l2_grid, double_buffer, l1_grid)]
    n_workers = workers if workers is not None else min(len(jobs), os.cpu_count() or 1)
    points = []
    for p in _map(jobs, executor, n_workers, ray_address):
        points.append(p)
        if on_point:
            on_point(p)
    key = {(j.l1, j.l2, j.double_buffer, j.overrides): i for i, j in enumerate(jobs)}
    points.sort(key=lambda p: key[(p.l1, p.l2, p.double_buffer, tuple(sorted(p.overrides.items())))])
    l1_min = min_feasible_l1(graph, hw, l2=l2_grid[0], double_buffer=double_buffer[0])
    return SweepResult(model=graph.name, hw=hw.name, points=tuple(points), pareto=tuple(pareto_front(points)),
                       min_feasible={"L1": l1_min})
