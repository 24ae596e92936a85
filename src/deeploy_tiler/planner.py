"""Plan a whole graph (or one node) on one engine: tiles, buffering modes, L1 buffers, DMA schedule.

Flow: every node's minimum L1 is computed directly first, so an impossible budget is answered with
every offending node before any search; then each node is solved (early exit, cache of identical
subproblems, or CP-SAT) and scheduled. `Plan.memory` / `Plan.levels` are left empty (the L2 / L3
allocator fills them). Plans hold no wall times, so their JSON is byte-identical across runs; the
timings come with `plan_graph_timed`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

from .cost import CostParams
from .errors import InfeasibleBudget, PlanError
from .hw import HwSpec
from .ir import Graph, Node
from .plan import CycleBreakdown, NodePlan, Plan, SolveStats
from .solver import SolverOptions, TilingProblem, TilingResult, binding_constraint, build_schedule, prepare, solve
from .solver.problem import ModelMemo, NodeSetup

__all__ = ["NodeTiming", "PlanTimings", "l1_requirements", "plan_graph", "plan_graph_timed", "plan_node"]

How = Literal["alias", "untiled", "solved", "cached", "fallback"]


@dataclass(frozen=True)
class NodeTiming:
    node: str
    seconds: float
    how: How


@dataclass(frozen=True)
class PlanTimings:
    """Wall-clock facts of one planning run (kept out of the Plan so its JSON stays reproducible)."""

    total_s: float  # the whole plan_graph call
    check_s: float  # minimum-L1 pass (the infeasibility answer)
    nodes: tuple[NodeTiming, ...]

    def count(self, how: How) -> int:
        return sum(1 for n in self.nodes if n.how == how)


@dataclass(frozen=True)
class _Context:
    hw: HwSpec
    params: CostParams
    l1: int
    double_buffer: bool
    options: SolverOptions
    memo: ModelMemo = field(default_factory=dict, compare=False)


def _context(hw: HwSpec, engine: str | None, l1: int | None, double_buffer: bool,
             options: SolverOptions | None) -> _Context:
    params = CostParams.from_hw(hw, engine)
    budget = hw.budget_bytes(params.l1_level) if l1 is None else l1
    usable = hw.memory(params.l1_level).usable_bytes
    if not 0 <= budget <= usable:
        raise PlanError(f"{params.l1_level} budget {budget} B outside [0, {usable}] (size minus reserved bytes "
                        f"of spec {hw.name!r}); derive a bigger part with HwSpec.with_overrides")
    return _Context(hw=hw, params=params, l1=budget, double_buffer=double_buffer,
                    options=options or SolverOptions())


def _setup(ctx: _Context, node: Node, graph: Graph) -> NodeSetup:
    return prepare(node, graph, ctx.hw.engine(ctx.params.engine), ctx.params, ctx.l1, ctx.double_buffer,
                   preferred=ctx.options.preferred_multiples, memo=ctx.memo)


def _alias_plan(node: Node, graph: Graph, engine: str) -> NodePlan:
    out = graph.tensor(node.outputs[0])
    zero = CycleBreakdown(compute=0, dma=0, exposed_dma=0, total=0)
    return NodePlan(name=node.name, op_type=node.op_type, engine=engine, output_tensor=out.name,
                    tile_shape=out.shape, num_tiles=1, loop_order=tuple(range(len(out.shape))), buffers=(),
                    l1_bytes=0, transfers=(), steps=(), events=(), dma_bytes=0, cycles=zero,
                    lower_bound_cycles=0, solve=SolveStats(status="ALIAS"), alias_of=node.inputs[0])


def _node_plan(node: Node, setup: NodeSetup, result: TilingResult, ctx: _Context) -> NodePlan:
    model = setup.problem.model
    sched = build_schedule(setup.geometry, model, result.choice, ctx.params)
    if sched.l1_bytes != result.cost.l1_bytes:  # the schedule and the model count the same bytes
        raise PlanError(f"node {node.name}: schedule uses {sched.l1_bytes} B of L1, model {result.cost.l1_bytes}")
    tile = tuple(c[i] for c, i in zip(model.space.candidates, result.choice.tiles, strict=True))
    return NodePlan(name=node.name, op_type=node.op_type, engine=ctx.params.engine,
                    output_tensor=setup.geometry.output, tile_shape=tile, num_tiles=result.cost.num_tiles,
                    loop_order=setup.geometry.loop_order, buffers=sched.buffers, l1_bytes=sched.l1_bytes,
                    transfers=sched.transfers, steps=sched.steps, events=sched.events,
                    dma_bytes=sched.dma_bytes, cycles=result.cost.breakdown,
                    lower_bound_cycles=model.lower_bound(), solve=result.stats)


def _infeasible(ctx: _Context, setups: list[NodeSetup]) -> InfeasibleBudget:
    needs = [(s.node, s.min_l1 if s.min_l1_exact else s.problem.model.l1_lower_bound(), binding_constraint(s))
             for s in setups]
    return InfeasibleBudget(ctx.params.l1_level, ctx.l1, needs)


def _solve_cached(setup: NodeSetup, ctx: _Context,
                  cache: dict[tuple[TilingProblem, SolverOptions], TilingResult]) -> tuple[TilingResult, How]:
    key = (setup.problem, ctx.options)
    hit = cache.get(key) if ctx.options.cache else None
    if hit is not None:
        stats = SolveStats(status="CACHED", objective=hit.stats.objective, best_bound=hit.stats.best_bound)
        return TilingResult(hit.choice, hit.cost, stats), "cached"
    result = solve(setup.problem, ctx.options)
    if result is None:
        raise _infeasible(ctx, [setup])
    cache[key] = result
    how: How = {"UNTILED": "untiled", "FALLBACK": "fallback"}.get(result.stats.status, "solved")  # type: ignore[assignment]
    return result, how


def plan_graph_timed(graph: Graph, hw: HwSpec, *, l1: int | None = None, l2: int | None = None,
                     double_buffer: bool = True, options: SolverOptions | None = None,
                     engine: str | None = None) -> tuple[Plan, PlanTimings]:
    """`plan_graph` plus its wall-clock timings."""
    t0 = time.perf_counter()
    ctx = _context(hw, engine, l1, double_buffer, options)
    l2_budget = hw.budget_bytes(ctx.params.home_level) if l2 is None else l2
    setups: dict[str, NodeSetup] = {}
    for node in graph.nodes:
        if not node.is_alias:
            setups[node.name] = _setup(ctx, node, graph)
    bad = [s for s in setups.values() if not s.fits]
    if bad:
        raise _infeasible(ctx, bad)
    t_check = time.perf_counter() - t0

    cache: dict[tuple[TilingProblem, SolverOptions], TilingResult] = {}
    plans: list[NodePlan] = []
    timings: list[NodeTiming] = []
    for node in graph.nodes:
        ts = time.perf_counter()
        if node.is_alias:
            plans.append(_alias_plan(node, graph, ctx.params.engine))
            timings.append(NodeTiming(node.name, time.perf_counter() - ts, "alias"))
            continue
        setup = setups[node.name]
        result, how = _solve_cached(setup, ctx, cache)
        plans.append(_node_plan(node, setup, result, ctx))
        timings.append(NodeTiming(node.name, time.perf_counter() - ts, how))
    plan = Plan(model=graph.name, hw=hw.name,
                budgets={ctx.params.l1_level: ctx.l1, ctx.params.home_level: l2_budget},
                options={"engine": ctx.params.engine, "double_buffer": double_buffer, **ctx.options.to_dict()},
                nodes=tuple(plans), total_cycles=sum(p.cycles.total for p in plans),
                lower_bound_cycles=sum(p.lower_bound_cycles for p in plans))
    return plan, PlanTimings(total_s=time.perf_counter() - t0, check_s=t_check, nodes=tuple(timings))


def plan_graph(graph: Graph, hw: HwSpec, *, l1: int | None = None, l2: int | None = None,
               double_buffer: bool = True, options: SolverOptions | None = None,
               engine: str | None = None) -> Plan:
    """Plan every node of `graph` on `engine` (default: the spec's cluster) within the L1 budget `l1`
    (default: the spec's default budget). `l2` is recorded in `Plan.budgets` for the allocator.

    Raises InfeasibleBudget naming every node whose smallest legal tiles exceed the L1 budget."""
    return plan_graph_timed(graph, hw, l1=l1, l2=l2, double_buffer=double_buffer, options=options,
                            engine=engine)[0]


def plan_node(node: Node | str, graph: Graph, hw: HwSpec, *, l1: int | None = None, double_buffer: bool = True,
              options: SolverOptions | None = None, engine: str | None = None) -> NodePlan:
    """Plan a single node of `graph` (an alias node gets its data-free plan)."""
    n = graph.node(node) if isinstance(node, str) else node
    ctx = _context(hw, engine, l1, double_buffer, options)
    if n.is_alias:
        return _alias_plan(n, graph, ctx.params.engine)
    setup = _setup(ctx, n, graph)
    if not setup.fits:
        raise _infeasible(ctx, [setup])
    result, _ = _solve_cached(setup, ctx, {})
    return _node_plan(n, setup, result, ctx)


def l1_requirements(graph: Graph, hw: HwSpec, *, double_buffer: bool = True, engine: str | None = None,
                    options: SolverOptions | None = None) -> dict[str, int]:
    """Per non-alias node, the least L1 bytes any plan of it needs (smallest legal tiles, single-buffered);
    the largest value is the smallest L1 budget the whole graph can be planned in."""
    ctx = _context(hw, engine, 0, double_buffer, options)
    out = {}
    for node in graph.nodes:
        if not node.is_alias:
            s = prepare(node, graph, hw.engine(ctx.params.engine), ctx.params, 0, double_buffer, preferred=False,
                        memo=ctx.memo)
            out[node.name] = s.min_l1 if s.min_l1_exact else s.problem.model.l1_lower_bound()
    return out
