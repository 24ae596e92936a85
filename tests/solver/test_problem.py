"""solver.problem: early_exit returns the untiled choice exactly when the documented conditions hold, and
then the untiled choice is what exhaustive enumeration finds too."""

from __future__ import annotations

import dataclasses

from deeploy_tiler.cost.model import CostParams
from deeploy_tiler.hw import load_hw
from deeploy_tiler.ir import Graph
from deeploy_tiler.planner.setup import prepare
from deeploy_tiler.solver.problem import TilingProblem, early_exit
from tests.solver.graphs import conv, gemm

HW = load_hw("siracusa")
PARAMS = CostParams.from_hw(HW)


def _problem(graph: Graph, budget: int, double: bool, params: CostParams = PARAMS) -> TilingProblem:
    return prepare(graph.nodes[0], graph, HW.engine("cluster"), params, budget, double).problem


def _conditions(problem: TilingProblem) -> bool:
    """The module docstring's conditions, evaluated from the model's parts."""
    m, p = problem.model, problem.model.params
    cost = m.evaluate(m.untiled())
    ok = cost.l1_bytes <= problem.budget and m.no_gaps and p.call_overhead > 0 and m.compute_dominated
    if problem.double_buffer and m.space.free_dims:
        ok = ok and cost.dma_scaled < m.edge_min_scaled() + p.scale * p.call_overhead
    return ok


def test_untiled_returned_when_it_fits_single_buffered() -> None:
    problem = _problem(gemm(16, 64, 32), 10**6, False)
    choice = early_exit(problem)
    assert choice == problem.model.untiled()
    best, done = problem.model.best_by_enumeration(problem.budget, problem.double_buffer)
    assert done and best == choice


def test_none_when_the_untiled_choice_does_not_fit() -> None:
    big = _problem(gemm(16, 64, 32), 10**6, False)
    untiled_l1 = big.model.evaluate(big.model.untiled()).l1_bytes
    assert early_exit(dataclasses.replace(big, budget=untiled_l1)) is not None
    assert early_exit(dataclasses.replace(big, budget=untiled_l1 - 1)) is None


def test_none_without_call_overhead() -> None:
    params = dataclasses.replace(PARAMS, call_overhead=0)
    problem = _problem(gemm(16, 64, 32), 10**6, False, params)
    assert early_exit(problem) is None


def test_none_when_a_window_skips_input() -> None:
    # A stride-2 1x1 convolution reads every other pixel: the access map has gaps.
    problem = _problem(conv(8, 8, 8, 8, 1, 2, 0), 10**6, False)
    assert not problem.model.no_gaps
    assert early_exit(problem) is None


def test_double_buffering_needs_untiled_dma_below_the_smallest_edges() -> None:
    # A DMA-heavy gemm: moving everything once costs more than the smallest prologue + epilogue plus one
    # call overhead, so a pipelined tiling may win and the exit must not fire.
    heavy = _problem(gemm(64, 256, 256), 10**7, True)
    m, p = heavy.model, heavy.model.params
    assert m.evaluate(m.untiled()).dma_scaled >= m.edge_min_scaled() + p.scale * p.call_overhead
    assert early_exit(heavy) is None
    assert early_exit(dataclasses.replace(heavy, double_buffer=False)) == m.untiled()


def test_early_exit_agrees_with_the_conditions_on_a_sweep() -> None:
    fired = 0
    for graph in (gemm(4, 8, 8), gemm(16, 64, 32), conv(4, 8, 8, 8, 3, 1, 1), conv(8, 8, 6, 6, 1, 2, 0)):
        for double in (False, True):
            for budget in (600, 5000, 10**6):
                problem = _problem(graph, budget, double)
                got = early_exit(problem)
                assert (got is not None) == _conditions(problem), (graph.name, double, budget)
                if got is not None:
                    fired += 1
                    best, done = problem.model.best_by_enumeration(budget, double)
                    assert done and best == got
    assert fired >= 3
