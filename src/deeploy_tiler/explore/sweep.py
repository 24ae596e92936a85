"""Memory-budget exploration: plan a model over a grid of budgets, find the Pareto front of latency
against memory, and the smallest feasible budget per level by search.

Points are independent, so they run on an executor: local processes (default), serial, or a Ray
cluster. Results do not depend on the executor (the planner is deterministic: one CP-SAT worker, a
fixed seed, a deterministic-time limit); only the wall times (`seconds`) differ. Each point is handed
to `on_point` as soon as it finishes, so a caller can persist it before the sweep ends; an exception
(or Ctrl-C) stops the workers and propagates, and the points handed out so far are all there is.

The pieces live beside this module (grid, points, minimal, pareto, executors); their public names are
re-exported here, so `from deeploy_tiler.explore import sweep` is all a notebook needs.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from pydantic import Field

from ..hw.spec import HwSpec
from ..ir import Graph
from .executors import EXECUTORS, Executor, SweepError, _cpu_count, _map, _Payload, _Task
from .grid import parse_grid, parse_overrides
from .minimal import MinFeasible, _SearchTask, min_feasible, min_feasible_l1
from .pareto import pareto_front
from .points import SweepPoint, _Context, _freeze, _Frozen, _PointTask, decode_tokens_per_step

__all__ = [
    "EXECUTORS",
    "Executor",
    "MinFeasible",
    "SweepError",
    "SweepPoint",
    "SweepResult",
    "decode_tokens_per_step",
    "min_feasible",
    "min_feasible_l1",
    "pareto_front",
    "parse_grid",
    "parse_overrides",
    "sweep",
    "sweep_result",
]


class SweepResult(_Frozen):
    model: str
    hw: str
    clock_hz: int
    tokens_per_step: int | None = Field(description="tokens one run produces (decode steps), None otherwise")
    grid: dict[str, list[Any]] = Field(description="l1, l2, double_buffer, overrides as given")
    points: tuple[SweepPoint, ...]
    pareto: tuple[SweepPoint, ...] = Field(description="feasible points no other beats in L1, L2 and latency")
    min_feasible: tuple[MinFeasible, ...]
    complete: bool = Field(default=True, description="False when the sweep was stopped early")
    executor: str = "serial"
    workers: int = 1
    seconds: float = Field(default=0.0, description="wall time of the whole sweep")

    def to_json(self, *, indent: int | None = 1) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=indent) + "\n"

    @property
    def feasible_points(self) -> tuple[SweepPoint, ...]:
        return tuple(p for p in self.points if p.feasible)


# --- the sweep -----------------------------------------------------------------------------------------------


def sweep_result(
    graph: Graph,
    hw: HwSpec,
    points: Iterable[SweepPoint],
    searches: Iterable[MinFeasible],
    *,
    grid: dict[str, list[Any]],
    tokens_per_step: int | None,
    complete: bool = True,
    executor: str = "serial",
    workers: int = 1,
    seconds: float = 0.0,
) -> SweepResult:
    """Assemble a result from points (any order) and searches: sorted, with the Pareto front."""
    pts = sorted(points, key=lambda p: p.index)
    order = {
        (db, _freeze(ov)): i
        for i, (db, ov) in enumerate(itertools.product(grid.get("double_buffer", []), grid.get("overrides", [])))
    }
    found = sorted(searches, key=lambda m: order.get((m.double_buffer, _freeze(m.overrides)), len(order)))
    return SweepResult(
        model=graph.name,
        hw=hw.name,
        clock_hz=hw.clock_hz,
        tokens_per_step=tokens_per_step,
        grid=grid,
        points=tuple(pts),
        pareto=tuple(pareto_front(pts)),
        min_feasible=tuple(found),
        complete=complete,
        executor=executor,
        workers=workers,
        seconds=seconds,
    )


def sweep(
    graph: Graph,
    hw: HwSpec,
    *,
    l1_grid: Sequence[int],
    l2_grid: Sequence[int | None] = (None,),
    double_buffer: Sequence[bool] = (True,),
    overrides: Sequence[dict[str, Any]] = ({},),
    executor: Executor = "process",
    workers: int | None = None,
    ray_address: str | None = None,
    search: bool = True,
    tokens_per_step: int | Literal["auto"] | None = "auto",
    solver_options: dict[str, Any] | None = None,
    on_point: Callable[[SweepPoint], None] | None = None,
    on_search: Callable[[MinFeasible], None] | None = None,
) -> SweepResult:
    """Plan `graph` at every (overrides, L2, double buffering, L1) combination of the grids.

    With `search`, also the smallest feasible L1 and L2 budgets of each (double buffering, overrides)
    configuration (`min_feasible`), run as tasks beside the points. `tokens_per_step="auto"` detects
    decode steps (`decode_tokens_per_step`). Raises SweepError for empty grids, a bad executor or an
    unreachable Ray cluster, and HwSpecError for an unknown override field, all before any point runs.
    """
    if not l1_grid:
        raise SweepError("the L1 budget grid is empty")
    if not l2_grid or not double_buffer or not overrides:
        raise SweepError("the L2, double-buffering and overrides grids need at least one entry each")
    if any(b < 0 for b in l1_grid) or any(b is not None and b < 0 for b in l2_grid):
        raise SweepError("budgets must be >= 0 B")
    if executor not in EXECUTORS:
        raise SweepError(f"unknown executor {executor!r} (one of {', '.join(EXECUTORS)})")
    if workers is not None and workers < 1:
        raise SweepError(f"workers must be >= 1, got {workers}")
    for ov in overrides:  # fail fast on an unknown spec field (HwSpecError names it), before any point runs
        hw.with_overrides(ov)
    if solver_options:
        from ..solver import SolverOptions

        SolverOptions(**solver_options)  # fail fast on an unknown knob
    tps = decode_tokens_per_step(graph) if tokens_per_step == "auto" else tokens_per_step
    t0 = time.perf_counter()
    dbs = list(dict.fromkeys(double_buffer))
    frozen = list(dict.fromkeys(_freeze(ov) for ov in overrides))
    grid: dict[str, list[Any]] = {
        "l1": sorted(set(l1_grid)),
        "l2": sorted(set(l2_grid), key=lambda b: -1 if b is None else b),
        "double_buffer": dbs,
        "overrides": [dict(ov) for ov in frozen],
    }
    points = [
        _PointTask(i, l1, l2, db, ov)
        for i, (ov, l2, db, l1) in enumerate(itertools.product(frozen, grid["l2"], dbs, grid["l1"]))
    ]
    searches = [_SearchTask(i, db, ov) for i, (db, ov) in enumerate(itertools.product(dbs, frozen))] if search else []
    tasks: list[_Task] = [*searches, *points]  # the searches are the long chains: start them first
    n_workers = workers if workers is not None else max(1, min(len(tasks), _cpu_count()))
    options = tuple(sorted((solver_options or {}).items()))
    ctx = _Context(graph, hw, tps, dict(options))
    payload = _Payload(
        key=f"{os.getpid()}-{id(ctx)}-{time.time_ns()}", graph=graph, hw=hw, tokens_per_step=tps, solver_options=options
    )
    done_points: list[SweepPoint] = []
    done_searches: list[MinFeasible] = []
    outcomes = _map(ctx, payload, tasks, executor, n_workers, ray_address, workers is not None)
    try:
        for out in outcomes:
            if isinstance(out, SweepPoint):
                done_points.append(out)
                if on_point:
                    on_point(out)
            else:
                done_searches.append(out)
                if on_search:
                    on_search(out)
    finally:
        outcomes.close()  # stops the workers at once when a callback or Ctrl-C ends the loop early
    used = "serial" if executor != "ray" and (executor == "serial" or n_workers <= 1 or len(tasks) <= 1) else executor
    return sweep_result(
        graph,
        hw,
        done_points,
        done_searches,
        grid=grid,
        tokens_per_step=tps,
        executor=used,
        workers=n_workers if used != "serial" else 1,
        seconds=time.perf_counter() - t0,
    )
