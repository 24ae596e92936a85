"""The pipeline: the one place where the stages are chained. Tiling (engine choice, per-node CP-SAT solves,
DMA schedules) gives a tiled plan; the whole-network memory plan places its buffers in L2 / L3 / WMEM.

`dt.plan` is `plan_network`; the sweep's smallest-budget searches probe the two stages separately.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import InfeasibleBudget
from ..hw.spec import HwSpec
from ..hw.target import target_of
from ..ir import Graph
from ..memory.network import plan_memory
from ..plan import Plan
from ..solver import EngineOptions, SolverOptions
from .feasibility import check_activations_fit
from .graph import plan_graph, tile_graph

__all__ = ["place_memory", "plan_network", "tile_network"]


def tile_network(
    graph: Graph,
    hw: HwSpec,
    *,
    l1: int | None = None,
    l2: int | None = None,
    double_buffer: bool = True,
    engine: str | None = None,
    options: SolverOptions | None = None,
    engine_options: EngineOptions | None = None,
) -> Plan:
    """Stage 1: engine, tiles, L1 buffers and DMA schedule of every node (raises for an infeasible L1)."""
    return plan_graph(
        graph,
        hw,
        l1=l1,
        l2=l2,
        double_buffer=double_buffer,
        options=options or SolverOptions(),
        engine=engine,
        engine_options=engine_options,
    )


def place_memory(
    tiled: Plan, graph: Graph, hw: HwSpec, *, l2: int | None = None, packed_weights: Mapping[str, int] | None = None
) -> Plan:
    """Stage 2: the static memory map of a tiled plan (raises for an infeasible L2 / L3 / WMEM).

    Tiles stream between L2 and L1 only, so every weight they read stays resident in L2. `packed_weights`
    is the tiling stage's record of packed weight sizes (TiledGraph.packed_weights)."""
    home = target_of(hw).home.name  # where activations (and streamed weights) live: the L2 budget's key
    budget = tiled.budgets[home] if l2 is None else l2
    at = tiled if l2 is None else tiled.model_copy(update={"budgets": {**tiled.budgets, home: l2}})
    memory = plan_memory(graph, hw, l2_budget=budget, plan=at, packed_weights=packed_weights)
    return at.model_copy(update={"memory": memory.placed, "levels": memory.levels})


def plan_network(
    graph: Graph,
    hw: HwSpec,
    *,
    l1: int | None = None,
    l2: int | None = None,
    double_buffer: bool = True,
    engine: str | None = None,
    options: SolverOptions | None = None,
    engine_options: EngineOptions | None = None,
) -> Plan:
    """Both stages: the complete plan. A budget the activations alone exceed is answered first."""
    home = target_of(hw).home.name
    budget = hw.budget_bytes(home) if l2 is None else l2
    try:
        check_activations_fit(graph, home, budget)
    except InfeasibleBudget:
        if not hw.has_npu:
            # Without in-place weights the memory stage's requirement needs no tiling plan, and with the
            # activations alone over budget it raises before allocating: the exact requirement, still cheap.
            plan_memory(graph, hw, l2_budget=budget)
        raise
    tiled = tile_graph(
        graph,
        hw,
        l1=l1,
        l2=l2,
        double_buffer=double_buffer,
        options=options or SolverOptions(),
        engine=engine,
        engine_options=engine_options,
    )
    return place_memory(tiled.plan, graph, hw, packed_weights=tiled.packed_weights)
