"""Per-node planning steps shared by the single-engine and the heterogeneous planners: the planning
context of one engine variant, a node's setup, its cached solve, and its NodePlan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..cost.model import CostParams
from ..errors import InfeasibleBudget, PlanError
from ..hw.spec import ComputeEngine, HwSpec
from ..hw.target import EngineTarget, target_of
from ..ir import Graph, Node
from ..ops.policy import WeightSource
from ..plan import CycleBreakdown, EngineAlternative, NodePlan, Plan, SolveStats
from ..solver import SolverOptions, TilingProblem, TilingResult, solve
from .schedule import build_schedule
from .setup import ModelMemo, NodeSetup, binding_constraint, prepare

How = Literal["alias", "untiled", "solved", "cached", "fallback"]
SolveCache = dict[tuple[TilingProblem, SolverOptions], TilingResult]


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
class TiledGraph:
    """The tiling stage's result: the plan, its timings, and what the memory stage reads besides the plan:
    `packed_weights`, node -> bytes of its weights in its engine's own layout (from the node's task
    model, computed once when the task was built), for nodes whose task model packs them."""

    plan: Plan
    timings: PlanTimings
    packed_weights: dict[str, int] = field(default_factory=dict)


def packed_weights(setup: NodeSetup) -> int | None:
    task = setup.policy.task
    return task.packed_weight_bytes if task is not None else None


@dataclass(frozen=True)
class Context:
    """Planning one node on one engine variant: the engine, its cost figures, the L1 budget, and where
    an NPU reads its weights (None: the cluster, or weights in L1)."""

    hw: HwSpec
    params: CostParams
    l1: int
    double_buffer: bool
    options: SolverOptions
    weights: WeightSource | None = None
    memo: ModelMemo = field(default_factory=dict, compare=False)

    @property
    def engine(self) -> ComputeEngine:
        return self.hw.engine(self.params.engine)

    @property
    def target(self) -> EngineTarget:
        return target_of(self.hw).engine(self.params.engine)


def make_context(
    hw: HwSpec,
    engine: str | None,
    l1: int | None,
    double_buffer: bool,
    options: SolverOptions | None,
    weights: WeightSource | None = None,
    memo: ModelMemo | None = None,
) -> Context:
    target = target_of(hw).engine(engine)
    params = CostParams.from_target(target)
    budget = target.local.budget_bytes if l1 is None else l1
    usable = target.local.usable_bytes
    if not 0 <= budget <= usable:
        raise PlanError(
            f"{params.l1_level} budget {budget} B outside [0, {usable}] (size minus reserved bytes "
            f"of spec {hw.name!r}); derive a bigger part with HwSpec.with_overrides"
        )
    return Context(
        hw=hw,
        params=params,
        l1=budget,
        double_buffer=double_buffer,
        options=options or SolverOptions(),
        weights=weights,
        memo={} if memo is None else memo,
    )


def setup_node(ctx: Context, node: Node, graph: Graph) -> NodeSetup:
    return prepare(
        node,
        graph,
        ctx.engine,
        ctx.params,
        ctx.l1,
        ctx.double_buffer,
        preferred=ctx.options.preferred_multiples,
        memo=ctx.memo,
        weights=ctx.weights,
    )


def alias_plan(node: Node, graph: Graph, engine: str) -> NodePlan:
    out = graph.tensor(node.outputs[0])
    zero = CycleBreakdown(compute=0, dma=0, exposed_dma=0, total=0)
    return NodePlan(
        name=node.name,
        op_type=node.op_type,
        engine=engine,
        output_tensor=out.name,
        tile_shape=out.shape,
        num_tiles=1,
        loop_order=tuple(range(len(out.shape))),
        buffers=(),
        l1_bytes=0,
        transfers=(),
        steps=(),
        events=(),
        dma_bytes=0,
        cycles=zero,
        lower_bound_cycles=0,
        solve=SolveStats(status="ALIAS"),
        alias_of=node.inputs[0],
    )


def node_plan(
    node: Node,
    setup: NodeSetup,
    result: TilingResult,
    ctx: Context,
    *,
    handover: int = 0,
    alternatives: tuple[EngineAlternative, ...] = (),
) -> NodePlan:
    """The NodePlan of a solved node; `handover` cycles (an engine switch before it) are added to its
    compute (a synchronisation the compute stream waits for), total and lower bound."""
    model = setup.problem.model
    sched = build_schedule(setup.geometry, model, result.choice, ctx.params)
    if sched.l1_bytes != result.cost.l1_bytes:  # the schedule and the model count the same bytes
        raise PlanError(f"node {node.name}: schedule uses {sched.l1_bytes} B of L1, model {result.cost.l1_bytes}")
    tile = tuple(c[i] for c, i in zip(model.space.candidates, result.choice.tiles, strict=True))
    cycles = result.cost.breakdown
    if handover:
        cycles = CycleBreakdown(
            compute=cycles.compute + handover,
            dma=cycles.dma,
            exposed_dma=cycles.exposed_dma,
            total=cycles.total + handover,
        )
    return NodePlan(
        name=node.name,
        op_type=node.op_type,
        engine=ctx.params.engine,
        output_tensor=setup.geometry.output,
        tile_shape=tile,
        num_tiles=result.cost.num_tiles,
        loop_order=setup.geometry.loop_order,
        buffers=sched.buffers,
        l1_bytes=sched.l1_bytes,
        transfers=sched.transfers,
        steps=sched.steps,
        events=sched.events,
        dma_bytes=sched.dma_bytes,
        cycles=cycles,
        lower_bound_cycles=model.lower_bound() + handover,
        solve=result.stats,
        alternatives=alternatives,
    )


def l1_need(setup: NodeSetup) -> int:
    """The least L1 the node needs on its engine (exact or a lower bound)."""
    return setup.min_l1 if setup.min_l1_exact else setup.problem.model.l1_lower_bound()


def infeasible(ctx: Context, setups: list[NodeSetup]) -> InfeasibleBudget:
    needs = [(s.node, l1_need(s), binding_constraint(s)) for s in setups]
    return InfeasibleBudget(ctx.params.l1_level, ctx.l1, needs)


def solve_cached(setup: NodeSetup, ctx: Context, cache: SolveCache) -> tuple[TilingResult, How]:
    key = (setup.problem, ctx.options)
    hit = cache.get(key) if ctx.options.cache else None
    if hit is not None:
        stats = SolveStats(status="CACHED", objective=hit.stats.objective, best_bound=hit.stats.best_bound)
        return TilingResult(hit.choice, hit.cost, stats), "cached"
    geom = setup.geometry
    labels = [*(f"{op.role} {op.tensor}" for op in geom.operands), f"output {geom.output}"]
    result = solve(setup.problem, ctx.options, name=setup.node, labels=labels)
    if result is None:
        raise infeasible(ctx, [setup])
    cache[key] = result
    how: How = {"UNTILED": "untiled", "FALLBACK": "fallback"}.get(result.stats.status, "solved")  # type: ignore[assignment]
    return result, how
