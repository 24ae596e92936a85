"""Engine choice over a whole graph: pure `build(problem, options) -> (CpModel, handles)` and
`extract(solver, handles) -> EngineChoice`, plus `solve`.

Every compute node has one or more legal options, each with its best modeled cycles from its own
tiling solve (cached): the cluster, the NPU with its weights DMA'd from L2 through L1, the NPU reading
its weights in place from the weight memory (WMEM). One boolean per (node, option), exactly one per node.
Weight placement: one boolean per weight tensor kept in WMEM, implied by every option reading it there;
the placed tensors' packed bytes (aligned; the largest any option states) share the WMEM capacity (a
knapsack). Handover: switching
engine between consecutive compute nodes (the run starts on the cluster) costs `handover` cycles.
Objective: total modeled cycles = sum of the chosen options' cycles + handover * switches.
See solver_models/engine_choice.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ortools.sat.python import cp_model

from .options import SolverOptions, apply_raw_parameters, cp_solver, dump_model

OptionKind = Literal["cluster", "npu_l1", "npu_wmem"]


@dataclass(frozen=True)
class EngineOption:
    """One legal way to run a node."""

    kind: OptionKind
    engine: str
    cycles: int
    wmem_tensor: str | None = None  # npu_wmem: the weight tensor read in place
    wmem_bytes: int = 0  # its packed bytes, aligned to the weight memory

    @property
    def on_npu(self) -> bool:
        return self.kind != "cluster"


@dataclass(frozen=True)
class ChoiceProblem:
    """The options of every compute node in execution order (alias nodes left out), the WMEM capacity
    and the handover cost."""

    options: tuple[tuple[EngineOption, ...], ...]
    wmem_capacity: int
    handover: int

    def __post_init__(self) -> None:
        for i, opts in enumerate(self.options):
            if not opts:
                raise ValueError(f"node {i} has no legal option")
        if self.wmem_capacity < 0 or self.handover < 0:
            raise ValueError("WMEM capacity and handover cycles must be >= 0")


@dataclass(frozen=True)
class EngineChoice:
    picks: tuple[int, ...]  # option index per node
    switches: tuple[bool, ...]  # per node: its engine differs from the previous node's (start: cluster)
    objective: int
    wmem_bytes: int
    status: str

    def cycles(self, problem: ChoiceProblem) -> int:
        return sum(problem.options[i][k].cycles for i, k in enumerate(self.picks)) + problem.handover * sum(
            self.switches
        )


@dataclass(frozen=True)
class Handles:
    x: tuple[tuple[cp_model.IntVar, ...], ...]
    placed: dict[str, cp_model.IntVar]


def _on_npu(xs: Sequence[cp_model.IntVar], opts: Sequence[EngineOption]) -> tuple[int | None, cp_model.LinearExpr]:
    """(1 / 0 when the node must / cannot run on the NPU, else None; the sum of its NPU booleans)."""
    npu = [v for v, o in zip(xs, opts, strict=True) if o.on_npu]
    fixed = 0 if not npu else (1 if len(npu) == len(opts) else None)
    return fixed, cp_model.LinearExpr.sum(npu)


def _handover_terms(
    m: cp_model.CpModel, x: Sequence[Sequence[cp_model.IntVar]], problem: ChoiceProblem
) -> cp_model.LinearExprT:
    """handover * (engine switches between consecutive nodes), the run starting on the cluster:
    s_i >= |npu_i - npu_{i-1}| with a boolean s_i where either side is a decision."""
    switches: list[cp_model.IntVar] = []
    fixed = 0
    prev_c: int | None = 0
    prev: cp_model.LinearExpr = cp_model.LinearExpr.constant(0)
    for i, (xs, opts) in enumerate(zip(x, problem.options, strict=True)):
        cur_c, cur = _on_npu(xs, opts)
        if cur_c is not None and prev_c is not None:
            fixed += int(cur_c != prev_c)
        else:
            s = m.new_bool_var(f"switch[before node {i}]")
            m.add(s >= cur - prev)
            m.add(s >= prev - cur)
            switches.append(s)
        prev_c, prev = cur_c, cur
    return problem.handover * (cp_model.LinearExpr.sum(switches) + fixed)


def build(problem: ChoiceProblem, options: SolverOptions) -> tuple[cp_model.CpModel, Handles]:
    m = cp_model.CpModel()
    x: list[tuple[cp_model.IntVar, ...]] = []
    terms: list[cp_model.LinearExprT] = []
    for i, opts in enumerate(problem.options):
        xs = tuple(m.new_bool_var(f"pick[node {i}]={o.kind}#{k}") for k, o in enumerate(opts))
        m.add_exactly_one(xs)
        x.append(xs)
        base = min(o.cycles for o in opts)
        terms.append(cp_model.LinearExpr.weighted_sum(list(xs), [o.cycles - base for o in opts]) + base)
    sizes: dict[str, int] = {}
    placed: dict[str, cp_model.IntVar] = {}
    for xs, opts in zip(x, problem.options, strict=True):
        for v, o in zip(xs, opts, strict=True):
            if o.wmem_tensor is None:
                continue
            if o.wmem_tensor not in placed:
                placed[o.wmem_tensor] = m.new_bool_var(f"in_weight_memory[{o.wmem_tensor}]")
            sizes[o.wmem_tensor] = max(sizes.get(o.wmem_tensor, 0), o.wmem_bytes)
            m.add_implication(v, placed[o.wmem_tensor])
    if placed:
        names = sorted(placed)
        m.add(
            cp_model.LinearExpr.weighted_sum([placed[t] for t in names], [sizes[t] for t in names])
            <= problem.wmem_capacity
        )
    if problem.handover:
        terms.append(_handover_terms(m, x, problem))
    for xs, opts in zip(x, problem.options, strict=True):
        # Hint: the cheapest option using no WMEM (always within the knapsack); at a tight L1 budget a
        # node may have none (only the NPU reading its weights in place fits), then its cheapest option.
        no_wmem = [k for k, o in enumerate(opts) if o.wmem_tensor is None]
        k = min(no_wmem or range(len(opts)), key=lambda k: opts[k].cycles)
        for j, v in enumerate(xs):
            m.add_hint(v, j == k)
    m.minimize(cp_model.LinearExpr.sum(terms))
    return m, Handles(x=tuple(x), placed=placed)


def extract(solver: cp_model.CpSolver, handles: Handles, problem: ChoiceProblem, status: str) -> EngineChoice:
    picks = tuple(next(k for k, v in enumerate(xs) if solver.boolean_value(v)) for xs in handles.x)
    return _choice(problem, picks, status)


def _choice(problem: ChoiceProblem, picks: tuple[int, ...], status: str) -> EngineChoice:
    switches: list[bool] = []
    prev = False
    wmem: dict[str, int] = {}
    for opts, k in zip(problem.options, picks, strict=True):
        o = opts[k]
        switches.append(o.on_npu != prev)
        prev = o.on_npu
        if o.wmem_tensor is not None:
            wmem[o.wmem_tensor] = max(wmem.get(o.wmem_tensor, 0), o.wmem_bytes)
    base = sum(problem.options[i][k].cycles for i, k in enumerate(picks))
    return EngineChoice(
        picks=picks,
        switches=tuple(switches),
        objective=base + problem.handover * sum(switches),
        wmem_bytes=sum(wmem.values()),
        status=status,
    )


def _parameters(options: SolverOptions) -> cp_model.CpSolver:
    solver: cp_model.CpSolver = cp_solver(options)
    apply_raw_parameters(solver, options)
    return solver


def solve(problem: ChoiceProblem, options: SolverOptions) -> EngineChoice:
    """The cheapest legal assignment. When a single option per node exists, no model is built; when
    CP-SAT finds nothing in its limits, the cheapest options that use no weight memory are returned."""
    if all(len(opts) == 1 for opts in problem.options):
        return _choice(problem, (0,) * len(problem.options), "FIXED")
    cp, handles = build(problem, options)
    dump_model(cp, options, "engine_choice")
    solver = _parameters(options)
    status = solver.solve(cp)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return extract(solver, handles, problem, solver.status_name(status))
    picks = tuple(
        min((k for k, o in enumerate(opts) if o.wmem_tensor is None), key=lambda k: opts[k].cycles)
        for opts in problem.options
    )
    return _choice(problem, picks, "FALLBACK")
