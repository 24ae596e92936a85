"""One sweep point: the budgets and overrides it runs at, planning it through `dt.plan`, and what the
plan costs (`SweepPoint`). A point whose planning raises anything but `InfeasibleBudget` is recorded with
status "error" and its message; the sweep goes on."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import InfeasibleBudget
from ..hw.spec import HwSpec
from ..ir import Graph

if TYPE_CHECKING:
    from ..solver import SolverOptions

__all__ = ["SweepPoint", "decode_tokens_per_step"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SweepPoint(_Frozen):
    """One grid point: the budgets, the spec overrides, and what the plan at them costs."""

    index: int = Field(ge=0, description="position in the grid (the result's order)")
    l1: int = Field(ge=0, description="L1 budget, bytes")
    l2: int = Field(ge=0, description="L2 budget, bytes (the spec default resolved when not swept)")
    double_buffer: bool
    overrides: dict[str, Any] = Field(default_factory=dict, description="spec fields replaced (dotted paths)")
    status: Literal["ok", "infeasible", "error"]
    feasible: bool
    total_cycles: int | None = None
    lower_bound_cycles: int | None = None
    latency_s: float | None = Field(default=None, description="total_cycles at the spec clock")
    tokens_per_s: float | None = Field(default=None, description="for decode steps: tokens per step / latency")
    tiles: int | None = None
    dma_bytes: int | None = None
    compute_cycles: int | None = Field(default=None, description="kernel cycles, call overheads included")
    exposed_dma_cycles: int | None = Field(default=None, description="DMA cycles not hidden behind compute")
    l1_used: int | None = Field(default=None, description="largest L1 footprint of any node, bytes")
    l2_used: int | None = Field(default=None, description="L2 peak of the static memory plan, bytes")
    l3_used: int | None = Field(default=None, description="L3 peak, when constants spill there")
    l3_bytes: int | None = Field(
        default=None, description="bytes the L3 DMA moves per run (staged copies in and back); 0: all resident in L2"
    )
    l3_bytes_per_token: float | None = Field(default=None, description="for decode steps: l3_bytes / tokens per step")
    l3_wait_cycles: int | None = Field(default=None, description="cycles nodes wait for L3 copies (in total_cycles)")
    within_capacity: bool = Field(default=True, description="budgets within the levels' usable bytes")
    infeasible_level: str | None = None
    required_bytes: int | None = Field(default=None, description="smallest budget of that level every node fits")
    message: str | None = Field(default=None, description="why infeasible, or the error")
    seconds: float = Field(default=0.0, description="wall time of this point (differs run to run)")


# --- what a run of the graph is ------------------------------------------------------------------------------


def decode_tokens_per_step(graph: Graph) -> int | None:
    """Tokens one run produces when the graph is one autoregressive decode step, else None.

    A decode step takes a (batch, 1, hidden) state and rank-4 (batch, heads, cached tokens, head dim)
    KV caches among its inputs, and yields one token per batch row.
    """
    if not graph.inputs:
        return None
    x = graph.inputs[0]
    caches = [t for t in graph.inputs[1:] if len(t.shape) == 4]
    if len(x.shape) == 3 and x.shape[1] == 1 and caches and x.shape[0] >= 1:
        return int(x.shape[0])
    return None


@dataclass
class _Context:
    graph: Graph
    hw: HwSpec
    tokens_per_step: int | None
    solver_options: dict[str, Any]
    variants: dict[tuple[tuple[str, Any], ...], HwSpec] = field(default_factory=dict)

    def spec(self, overrides: tuple[tuple[str, Any], ...]) -> HwSpec:
        if overrides not in self.variants:
            self.variants[overrides] = self.hw.with_overrides(dict(overrides)) if overrides else self.hw
        return self.variants[overrides]

    def options(self) -> SolverOptions:
        from ..solver import SolverOptions

        return SolverOptions(**self.solver_options)


@dataclass(frozen=True)
class _PointTask:
    index: int
    l1: int
    l2: int | None
    double_buffer: bool
    overrides: tuple[tuple[str, Any], ...]


def _freeze(overrides: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(overrides.items()))


# --- one point -----------------------------------------------------------------------------------------------


def _run_point(ctx: _Context, task: _PointTask) -> SweepPoint:
    from ..api import plan

    t0 = time.perf_counter()
    hw = ctx.spec(task.overrides)
    l2 = hw.budget_bytes("L2") if task.l2 is None else task.l2
    within = task.l1 <= hw.memory("L1").usable_bytes and l2 <= hw.memory("L2").usable_bytes
    common: dict[str, Any] = {
        "index": task.index,
        "l1": task.l1,
        "l2": l2,
        "double_buffer": task.double_buffer,
        "overrides": dict(task.overrides),
        "within_capacity": within,
    }
    try:
        p = plan(ctx.graph, hw, l1=task.l1, l2=l2, double_buffer=task.double_buffer, **ctx.solver_options)
    except InfeasibleBudget as e:
        return SweepPoint(
            **common,
            status="infeasible",
            feasible=False,
            infeasible_level=e.level,
            required_bytes=e.required_bytes,
            message=str(e),
            seconds=time.perf_counter() - t0,
        )
    except Exception as e:  # one bad point must not lose the others: recorded, the sweep goes on
        return SweepPoint(
            **common,
            status="error",
            feasible=False,
            message=f"{type(e).__name__}: {e}",
            seconds=time.perf_counter() - t0,
        )
    latency = p.total_cycles / hw.clock_hz
    tps = ctx.tokens_per_step / latency if ctx.tokens_per_step and latency > 0 else None
    peaks = {lv.level: lv.peak for lv in p.levels}
    nodes = [n for n in p.nodes if n.alias_of is None]
    return SweepPoint(
        **common,
        status="ok",
        feasible=True,
        total_cycles=p.total_cycles,
        lower_bound_cycles=p.lower_bound_cycles,
        latency_s=latency,
        tokens_per_s=tps,
        tiles=p.num_tiles,
        dma_bytes=sum(n.dma_bytes for n in nodes),
        compute_cycles=sum(n.cycles.compute for n in nodes),
        exposed_dma_cycles=sum(n.cycles.exposed_dma for n in nodes),
        l1_used=max((n.l1_bytes for n in nodes), default=0),
        l2_used=peaks.get("L2"),
        l3_used=peaks.get("L3"),
        l3_bytes=p.l3_bytes,
        l3_bytes_per_token=p.l3_bytes / ctx.tokens_per_step if ctx.tokens_per_step else None,
        l3_wait_cycles=sum(s.exposed_cycles for s in p.staging),
        seconds=time.perf_counter() - t0,
    )
