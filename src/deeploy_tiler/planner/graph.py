"""Plan a whole graph (or one node): engine per node, tiles, buffering modes, L1 buffers, DMA schedule.

Single engine (a spec without an NPU, or `engine="cluster"`): every node's minimum L1 is computed
directly first, so an impossible budget is answered with every offending node before any search; then
each node is solved (early exit, cache of identical subproblems, or CP-SAT) and scheduled.
With an NPU (`engine=None` on such a spec, or `engine=<npu name>` to force every node it can run onto
it): every legal (node, engine, weight placement) option is tiled, then one CP-SAT over the graph picks
the options (engine_plan.py, solver/engine_choice.py). `Plan.memory` / `Plan.levels` are left empty (the
L2 / L3 / WMEM allocator in memory_plan.py fills them). Plans hold no wall times, so their JSON is
byte-identical across runs; the timings come with `plan_graph_timed`.
"""

from __future__ import annotations

import time

from ..errors import PlanError
from ..hw.spec import HwSpec
from ..hw.target import target_of
from ..ir import Graph, Node
from ..plan import NodePlan, Plan
from ..solver import EngineOptions, SolverOptions
from .engines import plan_heterogeneous
from .feasibility import check_activations_fit, check_tile_counts
from .nodes import (
    Context,
    NodeTiming,
    PlanTimings,
    SolveCache,
    TiledGraph,
    alias_plan,
    infeasible,
    l1_need,
    make_context,
    node_plan,
    packed_weights,
    setup_node,
    solve_cached,
)
from .setup import NodeSetup, prepare

__all__ = [
    "NodeTiming",
    "PlanTimings",
    "TiledGraph",
    "l1_requirements",
    "plan_graph",
    "plan_graph_timed",
    "plan_node",
    "tile_graph",
]


def _engine_mode(hw: HwSpec, engine: str | None) -> str | None:
    """None: cluster only; else "auto" (choose by cost) or the NPU's name (forced where legal)."""
    target = target_of(hw)
    npu = target.npu
    if engine is None:
        return "auto" if npu is not None else None
    if engine == "cluster" or engine == target.cluster.name:
        return None
    if npu is not None and engine == npu.name:
        return engine
    known = ", ".join(["cluster", *(e.name for e in hw.engines)])
    raise PlanError(f"spec {hw.name!r}: engine {engine!r} is not one to plan for; choose None (by cost), {known}")


def _plan_single(graph: Graph, hw: HwSpec, ctx: Context, l2_budget: int, t0: float) -> TiledGraph:
    setups: dict[str, NodeSetup] = {}
    for node in graph.nodes:
        if not node.is_alias:
            setups[node.name] = setup_node(ctx, node, graph)
    bad = [s for s in setups.values() if not s.fits]
    if bad:
        raise infeasible(ctx, bad)
    t_check = time.perf_counter() - t0

    cache: SolveCache = {}
    plans: list[NodePlan] = []
    timings: list[NodeTiming] = []
    packed: dict[str, int] = {}
    for node in graph.nodes:
        ts = time.perf_counter()
        if node.is_alias:
            plans.append(alias_plan(node, graph, ctx.params.engine))
            timings.append(NodeTiming(node.name, time.perf_counter() - ts, "alias"))
            continue
        setup = setups[node.name]
        if (size := packed_weights(setup)) is not None:
            packed[node.name] = size
        result, how = solve_cached(setup, ctx, cache)
        plans.append(node_plan(node, setup, result, ctx))
        timings.append(NodeTiming(node.name, time.perf_counter() - ts, how))
    plan = Plan(
        model=graph.name,
        hw=hw.name,
        budgets={ctx.params.l1_level: ctx.l1, ctx.params.home_level: l2_budget},
        options={"engine": ctx.params.engine, "double_buffer": ctx.double_buffer, **ctx.options.to_dict()},
        nodes=tuple(plans),
        total_cycles=sum(p.cycles.total for p in plans),
        lower_bound_cycles=sum(p.lower_bound_cycles for p in plans),
    )
    timed = PlanTimings(total_s=time.perf_counter() - t0, check_s=t_check, nodes=tuple(timings))
    return TiledGraph(plan, timed, packed)


def tile_graph(
    graph: Graph,
    hw: HwSpec,
    *,
    l1: int | None = None,
    l2: int | None = None,
    double_buffer: bool = True,
    options: SolverOptions | None = None,
    engine: str | None = None,
    engine_options: EngineOptions | None = None,
) -> TiledGraph:
    """`plan_graph` with its timings and the facts the memory stage reads besides the plan."""
    t0 = time.perf_counter()
    mode = _engine_mode(hw, engine)
    ctx = make_context(hw, None, l1, double_buffer, options)
    check_tile_counts(graph, ctx.params.l1_level, ctx.l1)
    l2_budget = ctx.target.home.budget_bytes if l2 is None else l2
    if mode is None:
        return _plan_single(graph, hw, ctx, l2_budget, t0)
    return plan_heterogeneous(
        graph, hw, ctx, l2_budget, forced=mode != "auto", engine_options=engine_options or EngineOptions(), t0=t0
    )


def plan_graph_timed(
    graph: Graph,
    hw: HwSpec,
    *,
    l1: int | None = None,
    l2: int | None = None,
    double_buffer: bool = True,
    options: SolverOptions | None = None,
    engine: str | None = None,
    engine_options: EngineOptions | None = None,
) -> tuple[Plan, PlanTimings]:
    """`plan_graph` plus its wall-clock timings."""
    tiled = tile_graph(
        graph,
        hw,
        l1=l1,
        l2=l2,
        double_buffer=double_buffer,
        options=options,
        engine=engine,
        engine_options=engine_options,
    )
    return tiled.plan, tiled.timings


def plan_graph(
    graph: Graph,
    hw: HwSpec,
    *,
    l1: int | None = None,
    l2: int | None = None,
    double_buffer: bool = True,
    options: SolverOptions | None = None,
    engine: str | None = None,
    engine_options: EngineOptions | None = None,
) -> Plan:
    """Plan every node of `graph` within the L1 budget `l1` (default: the spec's default budget); `l2` is
    recorded in `Plan.budgets` for the allocator.

    `engine`: None plans on the cluster, or on a spec with an NPU chooses the engine (and where the NPU
    reads its weights) per node by modeled cycles; "cluster" forces cluster-only; the NPU's name puts
    every node it can run on it. `engine_options` tunes the choice (weight memory, handover cycles).

    Raises InfeasibleBudget naming every node whose smallest legal tiles exceed the L1 budget on every
    engine it may run on."""
    return plan_graph_timed(
        graph,
        hw,
        l1=l1,
        l2=l2,
        double_buffer=double_buffer,
        options=options,
        engine=engine,
        engine_options=engine_options,
    )[0]


def plan_node(
    node: Node | str,
    graph: Graph,
    hw: HwSpec,
    *,
    l1: int | None = None,
    double_buffer: bool = True,
    options: SolverOptions | None = None,
    engine: str | None = None,
) -> NodePlan:
    """Plan a single node of `graph` on one engine (default: the cluster; an NPU reads its weights from
    L1); an alias node gets its data-free plan."""
    n = graph.node(node) if isinstance(node, str) else node
    ctx = make_context(hw, engine, l1, double_buffer, options)
    if n.is_alias:
        return alias_plan(n, graph, ctx.params.engine)
    home = ctx.params.home_level
    check_activations_fit(graph, home, hw.memory(home).usable_bytes, nodes=(n.name,))
    check_tile_counts(graph, ctx.params.l1_level, ctx.l1, nodes=(n.name,))
    setup = setup_node(ctx, n, graph)
    if not setup.fits:
        raise infeasible(ctx, [setup])
    result, _ = solve_cached(setup, ctx, {})
    return node_plan(n, setup, result, ctx)


def l1_requirements(
    graph: Graph,
    hw: HwSpec,
    *,
    double_buffer: bool = True,
    engine: str | None = None,
    options: SolverOptions | None = None,
) -> dict[str, int]:
    """Per non-alias node, the least L1 bytes any plan of it needs on `engine` (default: the cluster;
    smallest legal tiles, single-buffered); the largest value is the smallest L1 budget the whole graph
    can be planned in on that engine."""
    ctx = make_context(hw, engine, 0, double_buffer, options)
    out = {}
    for node in graph.nodes:
        if not node.is_alias:
            s = prepare(node, graph, ctx.engine, ctx.params, 0, double_buffer, preferred=False, memo=ctx.memo)
            out[node.name] = l1_need(s)
    return out
