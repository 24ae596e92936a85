"""The smallest feasible budget per level of one configuration, by search (not by the grid): bisection
from the planner's own lower bound, over `dt.plan`'s two stages (`planner.pipeline`), checked through
`dt.plan` itself."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import Field

from ..errors import InfeasibleBudget
from ..hw.spec import HwSpec
from ..ir import Graph
from ..plan import Plan
from .points import _Context, _Frozen

if TYPE_CHECKING:
    from ..solver import SolverOptions

__all__ = ["MinFeasible", "min_feasible", "min_feasible_l1"]


class MinFeasible(_Frozen):
    """Smallest budgets with a plan, found by search (not by the grid), for one configuration: the
    smallest L1, and the smallest L2 at that L1 (`dt.plan` tiles within L1, then maps the tensors of
    that tiling into L2 / L3 / weight memory).

    *verified* per level: `dt.plan` at (L1, L2) succeeded and raised `InfeasibleBudget` for that level
    one byte below. A value equal to its *lower bound* (the planner's own answer at 0 B) is minimal
    outright; otherwise minimality relies on feasibility growing with the budget.
    """

    double_buffer: bool
    overrides: dict[str, Any] = Field(default_factory=dict)
    budgets: dict[str, int | None] = Field(description="level -> smallest feasible budget, None: none fits")
    capacity: dict[str, int] = Field(description="level -> usable bytes (the search ceiling)")
    verified: dict[str, bool]
    lower_bounds: dict[str, int] = Field(
        default_factory=dict,
        description="level -> the planner's proven lower bound (its answer at 0 B); a budget "
        "equal to it is minimal without any monotonicity assumption",
    )
    l3_bytes: int | None = Field(
        default=None,
        description="bytes the L3 DMA moves per run in the plan at the smallest budgets (> 0: the smallest L2 is "
        "where streaming from L3 still fits, not where everything is resident)",
    )
    probes: int = Field(ge=0, description="plans (or memory plans) the search ran")
    notes: dict[str, str] = Field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class _SearchTask:
    index: int
    double_buffer: bool
    overrides: tuple[tuple[str, Any], ...]


# --- smallest feasible budgets -------------------------------------------------------------------------------


@dataclass
class _Search:
    """Smallest b in [0, ceiling] with probe(b) true (None: feasible), by bisection, assuming monotonicity.

    Starts from the lower bound the infeasibility answer at 0 B names (when it is about `level`), usually
    exact; the value returned was probed feasible and one byte below probed infeasible."""

    probe: Callable[[int], InfeasibleBudget | None]
    ceiling: int
    level: str
    probes: int = 0
    known: dict[int, bool] = field(default_factory=dict)
    bound: int = 0  # the proven lower bound (0 when the answer at 0 B was about another level)

    def ok(self, b: int) -> bool:
        if b < 0:
            return False
        if b not in self.known:
            self.probes += 1
            self.known[b] = self.probe(b) is None
        return self.known[b]

    def run(self) -> tuple[int | None, str]:
        """(value or None, note)."""
        first = self.probe(0)
        self.probes += 1
        self.known[0] = first is None
        if first is None:
            return 0, ""
        if first.level == self.level:
            self.bound = first.required_bytes
        hi = max(self.bound, 1)
        lo = hi - 1  # infeasible by the bound; probed at the end before it is reported
        if hi > self.ceiling:
            return None, f"needs at least {hi} B, more than the usable {self.ceiling} B"
        while not self.ok(hi):
            lo = hi
            if hi >= self.ceiling:
                return None, f"no plan within the usable {self.ceiling} B"
            hi = min(2 * hi, self.ceiling)
        while True:
            while lo + 1 < hi:
                mid = (lo + hi) // 2
                if self.ok(mid):
                    hi = mid
                else:
                    lo = mid
            if not self.ok(hi - 1):
                return hi, ""
            hi, lo = hi - 1, -1  # the bound was wrong (a planner bug): bisect everything below


def _l1_stage(
    graph: Graph, hw: HwSpec, double_buffer: bool, options: SolverOptions, keep: dict[str, Plan]
) -> Callable[[int], InfeasibleBudget | None]:
    """`dt.plan`'s first stage (tiling, the one that raises for L1); keeps the plan of the smallest
    feasible budget probed so far in `keep["plan"]`."""
    from ..planner.pipeline import tile_network

    def probe(budget: int) -> InfeasibleBudget | None:
        try:
            tiled = tile_network(graph, hw, l1=budget, double_buffer=double_buffer, options=options)
        except InfeasibleBudget as e:
            return e
        if "plan" not in keep or budget < keep["plan"].budgets.get("L1", budget + 1):
            keep["plan"] = tiled
        return None

    return probe


def _l2_stage(graph: Graph, hw: HwSpec, tiled: Plan) -> Callable[[int], InfeasibleBudget | None]:
    """`dt.plan`'s early memory check, then its second stage (the L2 / L3 / weight-memory map of the tiled
    plan, streaming from L3 what does not stay resident), at an L2 budget. The check's answer at 0 B is the
    least L2 with streaming (planner.feasibility), the search's lower bound."""
    from ..planner.feasibility import check_memory_levels
    from ..planner.pipeline import place_memory

    def probe(budget: int) -> InfeasibleBudget | None:
        try:
            check_memory_levels(graph, hw, budget)
            place_memory(tiled, graph, hw, l2=budget)
        except InfeasibleBudget as e:
            return e
        return None

    return probe


def _raises_for(level: str, call: Callable[[], Any]) -> bool:
    try:
        call()
    except InfeasibleBudget as e:
        return e.level == level
    return False


def min_feasible(
    graph: Graph,
    hw: HwSpec,
    *,
    double_buffer: bool = True,
    options: SolverOptions | None = None,
    overrides: dict[str, Any] | None = None,
) -> MinFeasible:
    """Smallest feasible L1 budget, and the smallest L2 budget at that L1, of one configuration (`hw`
    with `overrides` applied), each within the level's usable bytes.

    The searches probe `dt.plan`'s two stages directly (tiling for L1, the memory map of that tiling for
    L2); the answer is then checked through `dt.plan` itself: a plan at (L1, L2), and InfeasibleBudget
    one byte below either. `verified` records that check per level.
    """
    from ..api import plan
    from ..solver import SolverOptions

    t0 = time.perf_counter()
    spec = hw.with_overrides(overrides) if overrides else hw
    opts = options or SolverOptions()
    capacity = {"L1": spec.memory("L1").usable_bytes, "L2": spec.memory("L2").usable_bytes}
    keep: dict[str, Plan] = {}
    s1 = _Search(_l1_stage(graph, spec, double_buffer, opts, keep), capacity["L1"], "L1")
    l1, note1 = s1.run()
    notes = {"L1": note1} if note1 else {}
    l2: int | None = None
    s2 = None
    if l1 is None:
        notes["L2"] = "not searched: no L1 budget plans"
    else:
        s2 = _Search(_l2_stage(graph, spec, keep["plan"]), capacity["L2"], "L2")  # the L1 probe kept its plan
        l2, note2 = s2.run()
        if note2:
            notes["L2"] = note2
    verified = {"L1": False, "L2": False}
    l3_bytes: int | None = None
    if l1 is not None and l2 is not None:
        kw: dict[str, Any] = {"double_buffer": double_buffer, **opts.to_dict()}
        try:
            at_min = plan(graph, spec, l1=l1, l2=l2, **kw)
        except InfeasibleBudget as e:
            notes["check"] = f"dt.plan at the found budgets raised: {e}"
        else:
            l3_bytes = at_min.l3_bytes
            verified["L1"] = l1 == 0 or _raises_for("L1", lambda: plan(graph, spec, l1=l1 - 1, l2=l2, **kw))
            verified["L2"] = l2 == 0 or _raises_for("L2", lambda: plan(graph, spec, l1=l1, l2=l2 - 1, **kw))
    bounds = {"L1": s1.bound, **({"L2": s2.bound} if s2 else {})}
    return MinFeasible(
        double_buffer=double_buffer,
        overrides=dict(overrides or {}),
        budgets={"L1": l1, "L2": l2},
        capacity=capacity,
        verified=verified,
        lower_bounds=bounds,
        l3_bytes=l3_bytes,
        probes=s1.probes + (s2.probes if s2 else 0),
        notes=notes,
        seconds=time.perf_counter() - t0,
    )


def min_feasible_l1(
    graph: Graph, hw: HwSpec, *, double_buffer: bool = True, options: SolverOptions | None = None
) -> int | None:
    """Smallest L1 budget the tiling plans (within the level's usable bytes), by search, not by grid."""
    from ..solver import SolverOptions

    value, _ = _Search(
        _l1_stage(graph, hw, double_buffer, options or SolverOptions(), {}), hw.memory("L1").usable_bytes, "L1"
    ).run()
    return value


def _run_search(ctx: _Context, task: _SearchTask) -> MinFeasible:
    try:
        return min_feasible(
            ctx.graph, ctx.hw, double_buffer=task.double_buffer, options=ctx.options(), overrides=dict(task.overrides)
        )
    except Exception as e:  # like a point: recorded, the sweep goes on
        return MinFeasible(
            double_buffer=task.double_buffer,
            overrides=dict(task.overrides),
            budgets={"L1": None, "L2": None},
            capacity={},
            verified={"L1": False, "L2": False},
            probes=0,
            notes={"error": f"{type(e).__name__}: {e}"},
        )
