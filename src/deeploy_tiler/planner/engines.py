"""Heterogeneous planning on a spec with an NPU: every legal (node, engine, weight placement) option is
tiled on its own (the per-node CP-SAT, cached), then one CP-SAT over the whole graph
(solver.engine_choice) picks an option per node under the weight-memory capacity, with the handover
cost between engines. Each NodePlan lists its alternatives with their cycles, or the reason they are
illegal, and says why the chosen one won."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from ..cost.model import CostParams
from ..errors import InfeasibleBudget, PlanError
from ..hw.spec import HwSpec
from ..hw.target import target_of
from ..ir import Graph, Node
from ..ops.npu import NpuUnsupported, in_place_weight_source, local_weight_source
from ..plan import EngineAlternative, NodePlan, Plan
from ..solver import ChoiceProblem, EngineChoice, EngineOption, EngineOptions, TilingResult
from ..solver.engine_choice import OptionKind
from ..solver.engine_choice import solve as solve_choice
from ..units import align_up
from .nodes import (
    Context,
    How,
    NodeTiming,
    PlanTimings,
    SolveCache,
    TiledGraph,
    alias_plan,
    l1_need,
    node_plan,
    packed_weights,
    setup_node,
    solve_cached,
)
from .setup import NodeSetup, binding_constraint

__all__ = ["plan_heterogeneous"]

_DESCRIBE: dict[OptionKind, str] = {
    "cluster": "portable C kernels on the cluster",
    "npu_l1": "weights DMA'd from {home} into {local}",
    "npu_wmem": "weights read in place from {level}",
}


@dataclass(frozen=True)
class _Variant:
    kind: OptionKind
    ctx: Context


@dataclass
class _Entry:
    """One compute node: its legal options (with their setups) and the reasons of the illegal ones."""

    node: Node
    setups: list[tuple[_Variant, NodeSetup]] = field(default_factory=list)
    illegal: list[tuple[_Variant, str]] = field(default_factory=list)
    failed: list[NodeSetup] = field(default_factory=list)  # setups that do not fit L1
    seconds: float = 0.0
    options: list[EngineOption] = field(default_factory=list)
    solved: list[tuple[_Variant, NodeSetup, TilingResult, How]] = field(default_factory=list)


def _variants(hw: HwSpec, ctx: Context, weight_memory: bool) -> list[_Variant]:
    """The cluster, the NPU with weights in L1 (read through its 256-bit L1 port), and the NPU reading
    its weights in place from its weight memory (when the spec has one and it is enabled)."""
    npu = target_of(hw).npu
    assert npu is not None
    params = CostParams.from_target(npu)
    l1 = local_weight_source(npu.local.name, npu.local.port_bandwidth)
    out = [_Variant("cluster", ctx), _Variant("npu_l1", replace(ctx, params=params, weights=l1))]
    if weight_memory and npu.weight is not None:
        wmem = in_place_weight_source(npu.weight.name, npu.weight.port_bandwidth)
        out.append(_Variant("npu_wmem", replace(ctx, params=params, weights=wmem)))
    return out


def _setups(graph: Graph, variants: list[_Variant], forced: bool) -> list[_Entry]:
    entries: list[_Entry] = []
    for node in graph.nodes:
        if node.is_alias:
            continue
        e = _Entry(node)
        npu_reason: str | None = None
        for v in variants:
            if v.kind != "cluster" and npu_reason is not None:
                continue
            ts = time.perf_counter()
            try:
                s = setup_node(v.ctx, node, graph)
            except NpuUnsupported as err:
                npu_reason = str(err)
                e.illegal.append((v, npu_reason))
                continue
            finally:
                e.seconds += time.perf_counter() - ts
            if s.fits:
                e.setups.append((v, s))
            else:
                e.failed.append(s)
                e.illegal.append(
                    (v, f"no tiling fits the {v.ctx.params.l1_level} budget of {v.ctx.l1} B: {binding_constraint(s)}")
                )
        if forced and any(v.kind != "cluster" for v, _ in e.setups):
            for v, _ in [x for x in e.setups if x[0].kind == "cluster"]:
                e.illegal.append((v, "not considered: the NPU is forced wherever it can run"))
            e.setups = [x for x in e.setups if x[0].kind != "cluster"]
        entries.append(e)
    return entries


def _infeasible(entries: list[_Entry], ctx: Context) -> InfeasibleBudget | None:
    """Every node no engine can run within the L1 budget, with its smallest need over the engines."""
    needs = []
    for e in entries:
        if e.setups:
            continue
        tried = sorted((l1_need(s), binding_constraint(s)) for s in e.failed)
        need, why = tried[0] if tried else (0, "; ".join(r for _, r in e.illegal) or "no engine runs it")
        needs.append((e.node.name, need, why))
    return InfeasibleBudget(ctx.params.l1_level, ctx.l1, needs) if needs else None


def _wmem_bytes(setup: NodeSetup, hw: HwSpec, level: str) -> int:
    """The weights' bytes in the weight memory: the task's packed size (computed once, with the task)."""
    task = setup.policy.task
    packed = task.packed_weight_bytes if task is not None else None
    if packed is None:
        raise PlanError(f"node {setup.node}: reads weights in place but its task model has no packed size")
    return align_up(packed, target_of(hw).level(level).alignment)


def _solve(entries: list[_Entry], hw: HwSpec) -> None:
    cache: SolveCache = {}
    for e in entries:
        for v, s in e.setups:
            ts = time.perf_counter()
            result, how = solve_cached(s, v.ctx, cache)
            e.seconds += time.perf_counter() - ts
            e.solved.append((v, s, result, how))
            level = v.ctx.weights.level if v.ctx.weights is not None else ""
            wmem = v.kind == "npu_wmem"
            e.options.append(
                EngineOption(
                    kind=v.kind,
                    engine=v.ctx.params.engine,
                    cycles=result.cost.total,
                    wmem_tensor=e.node.inputs[1] if wmem else None,
                    wmem_bytes=_wmem_bytes(s, hw, level) if wmem else 0,
                )
            )


def _describe(v: _Variant, opt: EngineOption) -> str:
    level = v.ctx.weights.level if v.ctx.weights is not None else ""
    p = v.ctx.params
    text = _DESCRIBE[v.kind].format(level=level, home=p.home_level, local=p.l1_level)
    return f"{text} ({opt.wmem_bytes} B packed)" if opt.kind == "npu_wmem" else text


def _why_not(opt: EngineOption, chosen: EngineOption, choice: EngineChoice, problem: ChoiceProblem) -> str:
    gain = chosen.cycles - opt.cycles
    if opt.kind == "npu_wmem" and choice.wmem_bytes + opt.wmem_bytes > problem.wmem_capacity:
        return (
            f"{gain} cycles faster alone, not chosen: the weight memory holds {choice.wmem_bytes} of "
            f"{problem.wmem_capacity} B, no room for {opt.wmem_bytes} B"
        )
    if opt.on_npu != chosen.on_npu:
        return (
            f"{gain} cycles faster alone, not chosen: the engine switches it needs cost more "
            f"({problem.handover} cycles each)"
        )
    return f"{gain} cycles faster alone, not chosen: the weight memory is better spent on other nodes"


def _alternatives(e: _Entry, pick: int, choice: EngineChoice, problem: ChoiceProblem) -> tuple[EngineAlternative, ...]:
    chosen = e.options[pick]
    best = min(o.cycles for o in e.options)
    out: list[tuple[int, EngineAlternative]] = []
    for k, ((v, _, _, _), opt) in enumerate(zip(e.solved, e.options, strict=True)):
        text = _describe(v, opt)
        if k == pick:
            text = f"chosen ({'fastest' if opt.cycles == best else 'best joint choice'}): {text}"
        elif opt.cycles < chosen.cycles:
            text = f"{text}; {_why_not(opt, chosen, choice, problem)}"
        out.append((_ORDER[v.kind], EngineAlternative(engine=opt.engine, cycles=opt.cycles, reason=text)))
    for v, reason in e.illegal:
        out.append((_ORDER[v.kind], EngineAlternative(engine=v.ctx.params.engine, cycles=None, reason=reason)))
    return tuple(a for _, a in sorted(out, key=lambda p: p[0]))


_ORDER: dict[OptionKind, int] = {"cluster": 0, "npu_l1": 1, "npu_wmem": 2}


def plan_heterogeneous(
    graph: Graph, hw: HwSpec, ctx: Context, l2_budget: int, *, forced: bool, engine_options: EngineOptions, t0: float
) -> TiledGraph:
    target = target_of(hw)
    npu = target.npu
    assert npu is not None
    variants = _variants(hw, ctx, engine_options.weight_memory)
    entries = _setups(graph, variants, forced)
    bad = _infeasible(entries, ctx)
    if bad is not None:
        raise bad
    t_check = time.perf_counter() - t0
    _solve(entries, hw)
    weight = npu.weight if engine_options.weight_memory else None
    level = weight.name if weight is not None else None
    capacity = weight.budget_bytes if weight is not None else 0
    handover = (
        engine_options.handover_cycles if engine_options.handover_cycles is not None else target.cluster.call_overhead
    )
    problem = ChoiceProblem(options=tuple(tuple(e.options) for e in entries), wmem_capacity=capacity, handover=handover)
    choice = solve_choice(problem, ctx.options)
    by_name = {e.node.name: (i, e) for i, e in enumerate(entries)}
    plans: list[NodePlan] = []
    timings: list[NodeTiming] = []
    packed: dict[str, int] = {}
    for node in graph.nodes:
        if node.is_alias:
            plans.append(alias_plan(node, graph, ctx.params.engine))
            timings.append(NodeTiming(node.name, 0.0, "alias"))
            continue
        i, e = by_name[node.name]
        k = choice.picks[i]
        v, s, result, how = e.solved[k]
        if (size := packed_weights(s)) is not None:
            packed[node.name] = size
        plans.append(
            node_plan(
                node,
                s,
                result,
                v.ctx,
                handover=handover if choice.switches[i] else 0,
                alternatives=_alternatives(e, k, choice, problem),
            )
        )
        timings.append(NodeTiming(node.name, e.seconds, how))
    budgets = {ctx.params.l1_level: ctx.l1, ctx.params.home_level: l2_budget}
    if level is not None:
        budgets[level] = capacity
    options = {
        "engine": npu.name if forced else "auto",
        "double_buffer": ctx.double_buffer,
        "weight_memory": engine_options.weight_memory,
        "handover_cycles": handover,
        "engine_choice": choice.status,
        **ctx.options.to_dict(),
    }
    plan = Plan(
        model=graph.name,
        hw=hw.name,
        budgets=budgets,
        options=options,
        nodes=tuple(plans),
        total_cycles=sum(p.cycles.total for p in plans),
        lower_bound_cycles=sum(p.lower_bound_cycles for p in plans),
    )
    timed = PlanTimings(total_s=time.perf_counter() - t0, check_s=t_check, nodes=tuple(timings))
    return TiledGraph(plan, timed, packed)
