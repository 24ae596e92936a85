"""The per-node CP-SAT tiling model: pure `build(problem, options) -> (CpModel, handles)` and
`extract(solver, handles) -> TilingResult`, plus `solve` (early exit, CP-SAT, fallback).

Variables: x[d][i] (candidate i of dimension d; exactly one per dimension), dbl[b] (buffer b is
double-buffered; absent when double buffering is off or cannot change b's timing). Every cost
quantity is a `Poly` from cost.py, a sum of products of per-dimension tables. Products are
linearized in one of two exact ways:
* grid (joint space <= options.grid_limit): one boolean g[k] per joint choice k (the product of its
  x's; x[d][i] = sum of the g[k] choosing i on d), every Poly is then linear in g with coefficients
  from `Poly.grid`; joint choices whose single-buffered L1 exceeds the budget are left out. The LP
  relaxation is exact for a fixed buffering, so CP-SAT closes these models in a few branches.
* factored (larger spaces): one product variable per multi-dimension term,
  AddMultiplicationEquality of per-dimension factor variables shared between terms.
Objective: modeled cycles (scaled), then L1 bytes as a tie-break.
See solver_models/tiling.md for the formulation in math.

Variables are named by meaning (what a dump, `SolverOptions.dump_dir`, shows): `tile[dim1]=16`,
`tiles[16x8]` (a joint choice), `dbuf[input x]`, `slot_words[weight w]`, `total_scaled_cycles`, ...;
buffers are labelled by role and index unless the caller passes their names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from ..cost.model import Choice, NodeCost, NodeCostModel
from ..cost.tilespace import Poly, Table
from ..plan import SolveStats
from ..units import align_up, ceil_div
from .options import SolverOptions, apply_raw_parameters, cp_solver, dump_model
from .problem import TilingProblem, early_exit

Expr = cp_model.LinearExpr
Factors = tuple[tuple[int, Table], ...]


@dataclass(frozen=True)
class Handles:
    """The variables `extract` reads back."""

    model: NodeCostModel
    x: tuple[tuple[cp_model.IntVar, ...], ...]  # per dimension (empty tuple: a single candidate)
    double: tuple[cp_model.IntVar | None, ...]  # per buffer
    total: cp_model.IntVar  # scaled cycles
    l1: cp_model.IntVar
    weight: int  # objective = total * weight + (l1 if weight > 1 else 0)


@dataclass(frozen=True)
class TilingResult:
    choice: Choice
    cost: NodeCost
    stats: SolveStats


class _Compiler:
    """Poly -> CP-SAT linear expression, sharing factor and product variables."""

    def __init__(self, m: cp_model.CpModel, x: Sequence[Sequence[cp_model.IntVar]]) -> None:
        self.m = m
        self.x = x
        self._factors: dict[tuple[int, Table], cp_model.IntVar] = {}
        self._products: dict[Factors, cp_model.IntVar] = {}

    def _factor(self, d: int, table: Table) -> cp_model.IntVar:
        key = (d, table)
        v = self._factors.get(key)
        if v is None:
            domain = cp_model.Domain.from_values(sorted(set(table)))
            v = self.m.new_int_var_from_domain(domain, f"factor[dim{d}]#{len(self._factors)}")
            self.m.add(v == cp_model.LinearExpr.weighted_sum(list(self.x[d]), list(table)))
            self._factors[key] = v
        return v

    def _product(self, factors: Factors) -> cp_model.IntVar:
        v = self._products.get(factors)
        if v is None:
            lo = hi = 1
            for _, t in factors:
                lo, hi = lo * min(t), hi * max(t)
            dims = "*".join(f"dim{d}" for d, _ in factors)
            v = self.m.new_int_var(lo, hi, f"product[{dims}]#{len(self._products)}")
            self.m.add_multiplication_equality(v, [self._factor(d, t) for d, t in factors])
            self._products[factors] = v
        return v

    def expr(self, poly: Poly) -> Expr:
        variables: list[cp_model.IntVar] = []
        coefs: list[int] = []
        const = 0
        for term in poly.terms:
            if not term.factors:
                const += term.coef
            elif len(term.factors) == 1:
                d, table = term.factors[0]
                for v, xv in zip(table, self.x[d], strict=True):
                    if v:
                        variables.append(xv)
                        coefs.append(term.coef * v)
            else:
                variables.append(self._product(term.factors))
                coefs.append(term.coef)
        return cp_model.LinearExpr.weighted_sum(variables, coefs) + const


class _GridCompiler:
    """Poly -> CP-SAT linear expression over one boolean per joint choice that fits the budget."""

    def __init__(self, m: cp_model.CpModel, x: Sequence[Sequence[cp_model.IntVar]], problem: TilingProblem) -> None:
        model = problem.model
        p = model.params
        self.shape = model.space.shape
        l1 = np.full(self.shape, model.fixed_l1_bytes, dtype=np.int64)
        for b in model.buffers:
            raw = model.slot_bytes(b).grid(self.shape)
            l1 += align_up(raw, p.alignment)
        self.kept = np.flatnonzero(l1.ravel() <= problem.budget)
        cands = model.space.candidates
        joint = np.unravel_index(self.kept, self.shape)
        self.g = [
            m.new_bool_var("tiles[" + "x".join(str(cands[d][int(joint[d][j])]) for d in range(len(cands))) + "]")
            for j in range(len(self.kept))
        ]
        m.add_exactly_one(self.g)
        index = np.unravel_index(self.kept, self.shape)
        for d, xs in enumerate(x):
            if len(xs) > 1:
                for i, xv in enumerate(xs):
                    sel = np.flatnonzero(index[d] == i).tolist()
                    m.add(xv == sum(self.g[k] for k in sel))

    def expr(self, poly: Poly) -> Expr:
        c = poly.constant
        if c is not None:
            return cp_model.LinearExpr.constant(c)
        values = poly.grid(self.shape).ravel()[self.kept]
        base = int(values.min())
        return cp_model.LinearExpr.weighted_sum(self.g, (values - base).tolist()) + base


def buffer_labels(model: NodeCostModel) -> tuple[str, ...]:
    """Name-free labels of a model's buffers: role and index (`input 0`, `weight 1`, `output 2`)."""
    return tuple(f"{b.role} {i}" for i, b in enumerate(model.buffers))


def build(
    problem: TilingProblem, options: SolverOptions, labels: Sequence[str] | None = None
) -> tuple[cp_model.CpModel, Handles]:
    """The CP-SAT model of `problem`; `labels` name the buffers in variable names (default: by role)."""
    model = problem.model
    p = model.params
    names = tuple(labels) if labels is not None else buffer_labels(model)
    if len(names) != len(model.buffers):
        raise ValueError(f"{len(names)} buffer labels for {len(model.buffers)} buffers")
    m = cp_model.CpModel()
    x: list[tuple[cp_model.IntVar, ...]] = []
    for d, cands in enumerate(model.space.candidates):
        if len(cands) == 1:
            x.append(())
            continue
        bools = tuple(m.new_bool_var(f"tile[dim{d}]={t}") for t in cands)
        m.add_exactly_one(bools)
        x.append(bools)
    one = m.new_constant(1)
    comp: _Compiler | _GridCompiler
    if model.space.size <= options.grid_limit:
        comp = _GridCompiler(m, x, problem)
    else:
        comp = _Compiler(m, [xs if xs else (one,) for xs in x])

    compute = comp.expr(model.compute_scaled())
    edges: list[Expr] = []
    steadies: list[Expr] = []
    overlapped: list[cp_model.IntVar] = []
    doubles: list[cp_model.IntVar | None] = []
    l1_terms: list[Expr] = [cp_model.LinearExpr.constant(model.fixed_l1_bytes)]
    for i, b in enumerate(model.buffers):
        edge_p, steady_p = b.edge(p), b.steady(p)
        edges.append(comp.expr(edge_p))
        steady = comp.expr(steady_p)
        steadies.append(steady)
        raw_lo, raw_hi = model.slot_bytes(b).bounds()
        slot_q = m.new_int_var(ceil_div(raw_lo, p.alignment), ceil_div(raw_hi, p.alignment), f"slot_words[{names[i]}]")
        raw = comp.expr(model.slot_bytes(b))
        m.add(p.alignment * slot_q >= raw)
        m.add(p.alignment * slot_q <= raw + p.alignment - 1)
        l1_terms.append(p.alignment * slot_q)
        if not problem.double_buffer or steady_p.constant == 0:
            doubles.append(None)
            continue
        dbl = m.new_bool_var(f"dbuf[{names[i]}]")
        lo, hi = steady_p.bounds()
        sd = m.new_int_var(min(lo, 0), max(hi, 0), f"overlapped_dma[{names[i]}]")
        m.add(sd == steady).only_enforce_if(dbl)
        m.add(sd == 0).only_enforce_if(~dbl)
        overlapped.append(sd)
        dslot = m.new_int_var(0, align_up(raw_hi, p.alignment), f"second_slot_bytes[{names[i]}]")
        m.add(dslot == p.alignment * slot_q).only_enforce_if(dbl)
        m.add(dslot == 0).only_enforce_if(~dbl)
        l1_terms.append(dslot + p.descriptor_slot_bytes * dbl)
        doubles.append(dbl)

    c_lo, c_hi = model.compute_scaled().bounds()
    d_hi = sum(max(b.steady(p).bounds()[1], 0) for b in model.buffers)
    overlap = m.new_int_var(c_lo, max(c_hi, d_hi), "max(compute, overlapped_dma)")
    overlapped_sum = cp_model.LinearExpr.sum(overlapped)
    edge_sum, steady_sum = cp_model.LinearExpr.sum(edges), cp_model.LinearExpr.sum(steadies)
    m.add_max_equality(overlap, [compute, overlapped_sum])
    t_hi = sum(b.dma(p).bounds()[1] for b in model.buffers) + max(c_hi, d_hi)
    total = m.new_int_var(0, t_hi, "total_scaled_cycles")
    m.add(total == edge_sum + steady_sum - overlapped_sum + overlap)
    # Redundant cuts (the pipeline bound): total >= edges + compute, total >= every DMA cycle.
    m.add(total >= edge_sum + compute)
    m.add(total >= edge_sum + steady_sum)
    l1 = m.new_int_var(0, problem.budget, "l1_bytes")
    m.add(l1 == cp_model.LinearExpr.sum(l1_terms))
    best = model.best_by_enumeration(problem.budget, problem.double_buffer)[0] if options.hint else None
    # With the (total, L1)-lexicographic optimum as hint, minimizing the total alone keeps it: CP-SAT
    # only replaces the hint by a strictly better total. Without a hint the tie-break is weighted in.
    weight = problem.budget + 1 if options.tie_break_l1 and best is None else 1
    m.minimize(total * weight + l1 if weight > 1 else total)
    handles = Handles(model=model, x=tuple(x), double=tuple(doubles), total=total, l1=l1, weight=weight)
    if best is not None:
        _add_hint(m, handles, best, comp)
    return m, handles


def _add_hint(m: cp_model.CpModel, handles: Handles, choice: Choice, comp: _Compiler | _GridCompiler) -> None:
    for xs, i in zip(handles.x, choice.tiles, strict=True):
        for j, v in enumerate(xs):
            m.add_hint(v, j == i)
    for dv, d in zip(handles.double, choice.double, strict=True):
        if dv is not None:
            m.add_hint(dv, d)
    if isinstance(comp, _GridCompiler):
        k = int(np.ravel_multi_index(choice.tiles, comp.shape))
        for pos, g in zip(comp.kept.tolist(), comp.g, strict=True):
            m.add_hint(g, pos == k)


def extract(solver: cp_model.CpSolver, handles: Handles) -> Choice:
    tiles = tuple(next(i for i, v in enumerate(xs) if solver.boolean_value(v)) if xs else 0 for xs in handles.x)
    double = tuple(bool(solver.boolean_value(v)) if v is not None else False for v in handles.double)
    return Choice(tiles=tiles, double=double)


def _parameters(options: SolverOptions) -> cp_model.CpSolver:
    solver: cp_model.CpSolver = cp_solver(options)
    prm = solver.parameters
    prm.cp_model_presolve = options.presolve
    prm.cp_model_probing_level = options.probing_level
    apply_raw_parameters(solver, options)
    return solver


def solve(
    problem: TilingProblem, options: SolverOptions, *, name: str = "node", labels: Sequence[str] | None = None
) -> TilingResult | None:
    """The best choice for `problem`, or None when no choice fits the budget. `name` (the node) names the
    dump file when `options.dump_dir` is set; `labels` name the buffers in the model's variables."""
    model = problem.model
    if options.early_exit:
        choice = early_exit(problem)
        if choice is not None:
            cost = model.evaluate(choice)
            return TilingResult(choice, cost, SolveStats(status="UNTILED", objective=cost.total, best_bound=cost.total))
    cp, handles = build(problem, options, labels)
    dump_model(cp, options, name)
    solver = _parameters(options)
    status = solver.solve(cp)
    proto = cp.proto
    stats_common = {
        "num_variables": len(proto.variables),
        "num_constraints": len(proto.constraints),
        "branches": int(solver.num_branches),
    }
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        choice = extract(solver, handles)
        cost = model.evaluate(choice)
        bound = int(solver.best_objective_bound) // handles.weight
        return TilingResult(
            choice,
            cost,
            SolveStats(
                status=solver.status_name(status),
                objective=cost.total,
                best_bound=model.params.to_cycles(bound),
                **stats_common,
            ),
        )
    if status == cp_model.INFEASIBLE:
        return None
    # No answer within the limits: the smallest tiles, single-buffered, when they fit.
    fallback = model.smallest()
    cost = model.evaluate(fallback)
    if cost.l1_bytes > problem.budget:
        return None
    return TilingResult(fallback, cost, SolveStats(status="FALLBACK", objective=cost.total, **stats_common))
