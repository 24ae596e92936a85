"""`allocate`: static offsets for buffers with lifetimes, within a capacity.

Strategies
    ``greedy``  best-fit packings in four orders, keep the lowest peak (milliseconds, no proof).
    ``search``  the exact canonical depth-first search (`search.canonical_search`).
    ``cpsat``   the CP-SAT model (`cpsat.cpsat_solve`), hinted with the greedy packing.
    ``auto``    greedy; if it does not fit, the search (at most `AUTO_SEARCH_NODES` nodes and half the
                time limit); if that neither fits nor proves infeasibility, CP-SAT with the time left.
Every strategy is deterministic: the same buffers, capacity and seed give the same offsets.

Outcomes
    * malformed input (bad size, lifetime, alignment, duplicate id, a buffer larger than the capacity,
      colliding or out-of-range fixed offsets) raises `AllocationError` naming the buffer;
    * a capacity below the max-live-bytes lower bound raises `AllocationError` with the ``time`` where
      the live bytes exceed it and the ``excess_bytes``;
    * otherwise a result is returned: ``solved`` is True iff every buffer fits the capacity. When no
      strategy found a fit, the result holds the best greedy packing (peak over capacity) with
      ``solved=False`` and ``stats.status`` = ``"infeasible"`` (proved) or ``"timeout"``/``"overflow"``.
Every offset map a strategy returns is re-checked by the independent `validate.check_allocation`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from ...errors import AllocationError
from .bounds import lower_bound, max_live
from .cpsat import cpsat_solve
from .greedy import greedy_best
from .instance import Instance
from .problem import STRATEGIES, AllocationResult, AllocStats, Buffer
from .search import canonical_search
from .validate import check_allocation

__all__ = ["AUTO_SEARCH_NODES", "allocate"]

#: Node budget of the search inside ``auto`` before it hands over to CP-SAT (deterministic).
AUTO_SEARCH_NODES = 2_000_000
#: Search nodes per unit of ``work_limit`` (about a second of search on this kind of machine).
SEARCH_NODES_PER_WORK_UNIT = 100_000


def _check_capacity(buffers: Sequence[Buffer], capacity: int) -> None:
    lb = max_live(buffers)
    if lb.bytes > capacity:
        live = sorted((b for b in buffers if b.id in set(lb.live)), key=lambda b: (-b.size, b.id))
        shown = ", ".join(f"{b.id} ({b.size} B)" for b in live[:6]) + (", ..." if len(live) > 6 else "")
        raise AllocationError(
            f"infeasible capacity: at time {lb.time} the live buffers need {lb.bytes} B, "
            f"{lb.bytes - capacity} B more than the capacity of {capacity} B (live: {shown})",
            buffer=live[0].id,
            time=lb.time,
            excess_bytes=lb.bytes - capacity,
        )


def _left(t0: float, limit: float | None, share: float = 1.0) -> float | None:
    if limit is None:
        return None
    return max(0.0, (limit - (time.perf_counter() - t0)) * share)


def allocate(
    buffers: Sequence[Buffer],
    capacity: int,
    strategy: str = "auto",
    time_limit: float | None = None,
    seed: int = 0,
    *,
    work_limit: float | None = None,
) -> AllocationResult:
    """Place every buffer at an offset so that buffers live at the same time never share addresses.

    See the module documentation for strategies, errors and the meaning of the result. ``work_limit``
    bounds the effort reproducibly (search nodes and CP-SAT deterministic time, about seconds on an idle
    machine): the planner uses it so that a plan never depends on how loaded the machine is.
    """
    t0 = time.perf_counter()
    if strategy not in STRATEGIES:
        raise AllocationError(f"unknown allocation strategy {strategy!r} (one of {', '.join(STRATEGIES)})")
    if time_limit is not None and not time_limit > 0:
        raise AllocationError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    inst = Instance.build(buffers, capacity)
    bufs = inst.buffers
    _check_capacity(bufs, capacity)
    lb = lower_bound(bufs)
    if inst.n == 0:
        return AllocationResult({}, 0, 0, capacity, True, strategy, AllocStats(time.perf_counter() - t0, "empty"))

    def finish(
        offsets_u: Sequence[int],
        used: str,
        status: str,
        nodes: int = 0,
        backtracks: int = 0,
        attempts: Sequence[str] = (),
        detail: str = "",
    ) -> AllocationResult:
        offsets = inst.to_offsets(offsets_u)
        peak = max(o + b.size for b, o in zip(bufs, (offsets[b.id] for b in bufs), strict=True))
        solved = peak <= capacity
        bad = check_allocation(bufs, offsets, capacity if solved else peak)
        if bad:  # pragma: no cover - would be a solver bug; never hand out an invalid allocation
            raise RuntimeError(f"internal error: strategy {used!r} produced an invalid allocation: {bad[0]}")
        return AllocationResult(
            offsets,
            peak,
            lb,
            capacity,
            solved,
            used,
            AllocStats(time.perf_counter() - t0, status, nodes, backtracks, tuple(attempts), detail),
        )

    greedy = greedy_best(inst)
    g_fits = greedy.peak_u <= inst.capacity_u
    attempts = [f"greedy:{greedy.order}:{'feasible' if g_fits else 'overflow'}"]
    if strategy == "greedy" or (strategy == "auto" and g_fits):
        return finish(
            greedy.offsets_u,
            "greedy",
            "feasible" if g_fits else "overflow",
            attempts=attempts,
            detail=f"order {greedy.order}",
        )

    nodes = backtracks = 0
    status = "timeout"
    if strategy in ("search", "auto"):
        share = 0.5 if strategy == "auto" else 1.0
        max_nodes = AUTO_SEARCH_NODES if strategy == "auto" else None
        if work_limit is not None:
            max_nodes = int(work_limit * share * SEARCH_NODES_PER_WORK_UNIT)
        out = canonical_search(inst, time_limit=_left(t0, time_limit, share), max_nodes=max_nodes)
        nodes, backtracks = out.nodes, out.backtracks
        attempts.append(f"search:{out.order}:{out.status}")
        if out.offsets_u is not None:
            return finish(out.offsets_u, "search", "feasible", nodes, backtracks, attempts, f"order {out.order}")
        status = out.status
        if status == "infeasible" or strategy == "search":
            return finish(
                greedy.offsets_u,
                "greedy",
                status,
                nodes,
                backtracks,
                attempts,
                "search proved that no allocation fits" if status == "infeasible" else "search gave up",
            )
    left = _left(t0, time_limit)
    if left is not None and left <= 0:
        attempts.append("cpsat:skipped")
        return finish(greedy.offsets_u, "greedy", "timeout", nodes, backtracks, attempts, "no time left")
    det = None if work_limit is None else work_limit * 0.5
    cp = cpsat_solve(inst, time_limit=left, seed=seed, hint=greedy.offsets_u, deterministic_limit=det)
    attempts.append(f"cpsat:{cp.status}")
    if cp.offsets_u is not None:
        return finish(cp.offsets_u, "cpsat", "feasible", nodes + cp.branches, backtracks, attempts)
    return finish(
        greedy.offsets_u,
        "greedy",
        cp.status,
        nodes + cp.branches,
        backtracks,
        attempts,
        "CP-SAT proved that no allocation fits" if cp.status == "infeasible" else cp.detail,
    )
