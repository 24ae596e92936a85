"""The pipeline: the one place where the stages are chained. Tiling (engine choice, per-node CP-SAT solves,
DMA schedules) gives a tiled plan; the whole-network memory plan places its buffers in L2 / L3 / WMEM.

Before tiling, the budgets are checked against the spec and the memory levels against the least any plan
needs (planner/residency.py), so an impossible L2 is answered at once. When the read-only tensors do not
all fit L2 beside the activations, the residency solve decides which stream from L3 (staged whole into
L2 before their readers, prefetched up to a few nodes ahead) and the plan records the copies.

`dt.plan` is `plan_network`; the sweep's smallest-budget searches probe the two stages separately.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..errors import InfeasibleBudget
from ..hw.spec import HwSpec
from ..hw.target import target_of
from ..ir import Graph
from ..memory.network import MemoryPlan, Streamed, plan_memory
from ..plan import Plan
from ..solver import EngineOptions, SolverOptions
from ..solver.residency import min_streamed_bytes
from .feasibility import check_memory_levels
from .graph import plan_graph, tile_graph
from .residency import Residency, check_budgets, decide_residency

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

    Everything resident in L2 when it fits; else the residency decision streams weights, KV caches and
    other graph inputs / outputs from L3 (module docstring), retried with a tighter live-bytes budget while
    the static packing needs more. `packed_weights` is the tiling stage's record of packed weight sizes
    (TiledGraph.packed_weights)."""
    home = target_of(hw).home.name  # where activations (and staged copies) live: the L2 budget's key
    budget = tiled.budgets[home] if l2 is None else l2
    check_budgets(hw, {home: budget})
    at = tiled if l2 is None else tiled.model_copy(update={"budgets": {**tiled.budgets, home: l2}})
    backing = target_of(hw).backing
    has_l3 = backing is not None and any(d.connects(backing.name, home) for d in hw.dmas)
    try:
        memory = plan_memory(graph, hw, l2_budget=budget, plan=at, packed_weights=packed_weights)
        return at.model_copy(update={"memory": memory.placed, "levels": memory.levels})
    except InfeasibleBudget:
        if not has_l3:
            raise
    live_budget = budget
    for _ in range(4):
        residency = decide_residency(at, graph, hw, live_budget)
        streamed = tuple(
            Streamed(c.name, j, c.first, c.last, c.copy_cycles, e)
            if c.producer is None
            else Streamed(c.name, c.first, c.producer, c.first - 1, c.copy_cycles, e, "out")
            for c, j, e in residency.streamed()
        )
        try:
            # a short packing search per attempt: a failure is answered by asking for fewer live bytes
            memory = plan_memory(
                graph, hw, l2_budget=budget, plan=at, packed_weights=packed_weights, streamed=streamed, work_limit=2.0
            )
        except InfeasibleBudget as err:
            # the live bytes fit but no static packing was found: ask for fewer live bytes
            live_budget -= max(budget // 50, err.required_bytes - budget, 1)
            continue
        return _with_streaming(at, memory, residency, hw)
    raise InfeasibleBudget(
        home, budget, [(graph.nodes[0].name, budget, f"no static {home} packing of the streamed plan found")]
    )


def _with_streaming(plan: Plan, memory: MemoryPlan, residency: Residency, hw: HwSpec) -> Plan:
    """The plan with its memory map, L3 copies, their waits in the total, and the L3 term in the bound."""
    p = residency.problem
    target = target_of(hw)
    assert target.backing is not None  # streaming happened
    dma = hw.dma(target.backing.name, target.home.name)
    # the L3 DMA moves at least what cannot stay resident even if staging took no room (one copy's setup)
    must_stream = min_streamed_bytes(p)
    l3_bound = math.ceil(dma.transfer_cycles(must_stream)) if must_stream else 0
    exposed = sum(s.exposed_cycles for s in memory.staging)
    return plan.model_copy(
        update={
            "memory": memory.placed,
            "levels": memory.levels,
            "staging": memory.staging,
            "total_cycles": plan.total_cycles + exposed,
            "lower_bound_cycles": max(plan.lower_bound_cycles, l3_bound),
        }
    )


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
    """Both stages: the complete plan. Budgets are checked against the spec (a `BudgetError`), and the memory
    levels against the least any plan needs, before any solve: `check_memory_levels`, one check for L2 and
    L3 (what may stream from L3 counted as staged just for its readers), with the total and its parts; it
    dominates the per-node activation bound, so it also keeps the structures built afterwards bounded."""
    home = target_of(hw).home.name
    check_budgets(hw, {hw.l1.name: l1, home: l2})
    budget = hw.budget_bytes(home) if l2 is None else l2
    check_memory_levels(graph, hw, budget)
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
