"""CP-SAT model of the allocation (a complementary, model-based strategy).

Per independent time partition (no buffer crosses its ends), in units of the instance's GCD:

* ``x_i`` offset, ``0 <= x_i <= C - s_i`` (``x_i = a_i * y_i`` for alignment ``a_i``; a constant when pinned);
* address interval ``[x_i, x_i + s_i)`` and time interval ``[lo_i, hi_i)`` over *sections* (the
  compressed time axis of `timeline.sections`; two buffers conflict iff their section ranges meet);
* ``NoOverlap2D`` over (time, address) rectangles;
* redundant ``Cumulative`` over time with demands ``s_i`` and capacity ``C`` (the live-bytes bound);
* symmetry breaking: buffers with identical lifetime, size and alignment are stacked in input order;
* a solution hint from the best greedy packing (the buffers it places below ``C``).

No objective: the model asks for any fit. One worker and a fixed seed make the result reproducible.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from .instance import Instance
from .timeline import sections

__all__ = ["CpsatOutcome", "cpsat_solve", "partitions"]


@dataclass(frozen=True, slots=True)
class CpsatOutcome:
    status: str  # "feasible" | "infeasible" | "timeout"
    offsets_u: list[int] | None
    branches: int
    detail: str


def partitions(
    lo: np.ndarray[Any, np.dtype[np.int64]], hi: np.ndarray[Any, np.dtype[np.int64]], count: int
) -> list[list[int]]:
    """Groups of buffer indices that share no section boundary with other groups, in time order."""
    if len(lo) == 0:
        return []
    delta = np.bincount(lo, minlength=count + 1) - np.bincount(hi - 1, minlength=count + 1)
    cuts = np.cumsum(delta)[: max(count - 1, 0)]
    bounds = np.concatenate([[0], np.flatnonzero(cuts == 0) + 1, [count]])
    piece = np.searchsorted(bounds, lo, side="right") - 1
    return [np.flatnonzero(piece == p).tolist() for p in np.unique(piece).tolist()]


def _solve_part(
    inst: Instance,
    part: list[int],
    lo: list[int],
    hi: list[int],
    hint: Sequence[int] | None,
    time_limit: float | None,
    seed: int,
    workers: int,
    deterministic_limit: float | None = None,
) -> tuple[str, dict[int, int], int, str]:
    C = inst.capacity_u
    size = inst.size_u.tolist()
    align = inst.align_u.tolist()
    fixed = inst.fixed_u.tolist()
    m = cp_model.CpModel()
    xs: dict[int, Any] = {}
    tiv: list[Any] = []
    aiv: list[Any] = []
    for i in part:
        s = size[i]
        if fixed[i] >= 0:
            x: Any = m.new_constant(fixed[i])
        elif align[i] > 1:
            y = m.new_int_var(0, (C - s) // align[i], f"y{i}")
            x = m.new_int_var(0, C - s, f"x{i}")
            m.add(x == align[i] * y)
        else:
            x = m.new_int_var(0, C - s, f"x{i}")
        xs[i] = x
        aiv.append(m.new_fixed_size_interval_var(x, s, f"a{i}"))
        tiv.append(m.new_fixed_size_interval_var(lo[i], hi[i] - lo[i], f"t{i}"))
    m.add_no_overlap_2d(tiv, aiv)
    m.add_cumulative(tiv, [size[i] for i in part], C)
    groups: dict[tuple[int, int, int, int], list[int]] = {}
    for i in part:
        if fixed[i] < 0:
            groups.setdefault((lo[i], hi[i], size[i], align[i]), []).append(i)
    for g in groups.values():
        for a, b in itertools.pairwise(g):
            m.add(xs[a] + size[a] <= xs[b])
    if hint is not None:
        for i in part:
            if fixed[i] < 0 and 0 <= hint[i] <= C - size[i] and hint[i] % align[i] == 0:
                m.add_hint(xs[i], hint[i])
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.random_seed = seed
    if time_limit is not None:
        solver.parameters.max_time_in_seconds = max(time_limit, 0.001)
    if deterministic_limit is not None:  # reproducible: binds the same way however loaded the machine is
        solver.parameters.max_deterministic_time = deterministic_limit
    st = solver.solve(m)
    if st in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return "feasible", {i: int(solver.value(xs[i])) for i in part}, int(solver.num_branches), ""
    if st == cp_model.INFEASIBLE:
        return "infeasible", {}, int(solver.num_branches), ""
    if st == cp_model.MODEL_INVALID:  # pragma: no cover - a bug in the model, not the input
        raise RuntimeError(f"CP-SAT rejected the allocation model: {m.validate()}")
    return "timeout", {}, int(solver.num_branches), solver.status_name(st)


def cpsat_solve(
    inst: Instance,
    *,
    time_limit: float | None = None,
    seed: int = 0,
    workers: int = 1,
    hint: Sequence[int] | None = None,
    deterministic_limit: float | None = None,
) -> CpsatOutcome:
    """Solve ``inst`` within ``inst.capacity_u``: offsets in units, or a proof of infeasibility, or timeout.
    ``deterministic_limit`` bounds each partition's solve in CP-SAT's deterministic time units."""
    t0 = time.perf_counter()
    secs = sections(inst.start, inst.end)
    lo = secs.lo.tolist()
    hi = secs.hi.tolist()
    offs = [-1] * inst.n
    branches = 0
    for part in partitions(secs.lo, secs.hi, secs.count):
        left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
        if left is not None and left <= 0:
            return CpsatOutcome("timeout", None, branches, "time limit reached between partitions")
        status, got, br, detail = _solve_part(inst, part, lo, hi, hint, left, seed, workers, deterministic_limit)
        branches += br
        if status != "feasible":
            return CpsatOutcome(status, None, branches, detail)
        for i, v in got.items():
            offs[i] = v
    return CpsatOutcome("feasible", offs, branches, "")
