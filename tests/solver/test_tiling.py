"""The CP-SAT tiling solver against an independent brute force, plus its contract with cost.py."""

from __future__ import annotations

from math import ceil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deeploy_tiler.cost.model import CostParams
from deeploy_tiler.errors import InfeasibleBudget
from deeploy_tiler.hw import HwSpec, load_hw
from deeploy_tiler.ir import Graph
from deeploy_tiler.planner.graph import plan_node
from deeploy_tiler.planner.setup import prepare
from deeploy_tiler.solver import SolverOptions, build, early_exit, extract
from deeploy_tiler.solver.tiling import _parameters
from tests.solver import graphs
from tests.solver.brute import brute_force, legal_candidates
from tests.solver.checks import recompute_cycles, simulate

HW = load_hw("siracusa")
PARAMS = CostParams.from_hw(HW)
# Cheap calls and slow MACs make double buffering pay off on small nodes; the MCU has 1-D DMA only.
SPECS = [
    HW,
    HW.with_overrides(
        {"engines.cluster.call_overhead_cycles": 2, "engines.cluster.effective_macs_per_cycle.int8": 1.0}
    ),
    load_hw("rv32_mcu"),
]
CPSAT_ONLY = SolverOptions(hint=False, early_exit=False)  # CP-SAT finds and proves the optimum alone
WHERE = st.floats(-0.05, 1.2)  # the budget between the least and the untiled L1 (below: infeasible)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def conv_graphs(draw: st.DrawFn) -> Graph:
    k = draw(st.integers(1, 3))
    stride = draw(st.integers(1, 2))
    pad = draw(st.integers(0, k - 1))
    h = draw(st.integers(max(k - 2 * pad, 1), 6))
    w = draw(st.integers(max(k - 2 * pad, 1), 6))
    return graphs.conv(
        draw(st.integers(1, 5)), draw(st.integers(1, 9)), h, w, k, stride, pad, depthwise=draw(st.booleans())
    )


@st.composite
def gemm_graphs(draw: st.DrawFn) -> Graph:
    return graphs.gemm(draw(st.integers(1, 6)), draw(st.integers(1, 24)), draw(st.integers(1, 12)))


@st.composite
def matmul_graphs(draw: st.DrawFn) -> Graph:
    return graphs.matmul(
        draw(st.integers(1, 3)),
        draw(st.integers(1, 5)),
        draw(st.integers(1, 12)),
        draw(st.integers(1, 9)),
        b_batch=draw(st.booleans()),
    )


def _budget(graph: Graph, where: float, hw: HwSpec = HW) -> int:
    """A budget `where` of the way from the node's least L1 (0.0) to its untiled single-buffered L1 (1.0)."""
    setup = prepare(graph.nodes[0], graph, hw.cluster_engine, CostParams.from_hw(hw), 10**9, False, preferred=False)
    model = setup.problem.model
    lo, hi = setup.min_l1, model.evaluate(model.untiled()).l1_bytes
    return max(int(lo + where * (hi - lo)), 0)


def _check_against_brute_force(graph: Graph, where: float, double_buffer: bool, hw: HwSpec) -> None:
    node = graph.nodes[0]
    budget = _budget(graph, where, hw)
    setup = prepare(node, graph, hw.cluster_engine, CostParams.from_hw(hw), budget, double_buffer)
    legal = legal_candidates(graph, hw.cluster_engine.cores)
    any_fit = brute_force(graph, hw, budget, double_buffer, legal)
    results = []
    for options in (SolverOptions(), CPSAT_ONLY):
        try:
            results.append(plan_node(node, graph, hw, l1=budget, double_buffer=double_buffer, options=options))
        except InfeasibleBudget as e:
            assert any_fit.total is None, "the solver claimed infeasibility but a tiling fits"
            assert e.nodes == [node.name]
            assert e.required_bytes > budget
            results.append(None)
    if any_fit.total is None:
        assert results == [None, None]
        return
    best = brute_force(graph, hw, budget, double_buffer, setup.problem.model.space.candidates)
    assert best.total is not None
    for plan in results:
        assert plan is not None
        assert plan.cycles.total == ceil(best.total), (plan.tile_shape, best.tiles)
        assert plan.l1_bytes <= budget
        assert recompute_cycles(plan, graph, hw) == plan.cycles.total
        simulate(plan)


@SETTINGS
@given(conv_graphs(), WHERE, st.booleans(), st.sampled_from(SPECS))
def test_conv_optimal_vs_brute_force(graph: Graph, where: float, double_buffer: bool, hw: HwSpec) -> None:
    _check_against_brute_force(graph, where, double_buffer, hw)


@SETTINGS
@given(gemm_graphs(), WHERE, st.booleans(), st.sampled_from(SPECS))
def test_gemm_optimal_vs_brute_force(graph: Graph, where: float, double_buffer: bool, hw: HwSpec) -> None:
    _check_against_brute_force(graph, where, double_buffer, hw)


@SETTINGS
@given(matmul_graphs(), WHERE, st.booleans(), st.sampled_from(SPECS))
def test_matmul_optimal_vs_brute_force(graph: Graph, where: float, double_buffer: bool, hw: HwSpec) -> None:
    _check_against_brute_force(graph, where, double_buffer, hw)


@pytest.mark.parametrize("grid_limit", [20_000, 0])  # joint-choice booleans / multiplication equalities
def test_solver_objective_equals_cost_model(grid_limit: int) -> None:
    graph = graphs.conv(4, 12, 9, 7, 3, 1, 1)
    node = graph.nodes[0]
    setup = prepare(node, graph, HW.cluster_engine, PARAMS, 1200, True)
    options = SolverOptions(hint=False, grid_limit=grid_limit)
    cp, handles = build(setup.problem, options)
    solver = _parameters(options)
    assert solver.solve(cp) == 4  # OPTIMAL
    choice = extract(solver, handles)
    cost = setup.problem.model.evaluate(choice)
    assert solver.value(handles.total) == cost.total_scaled
    assert solver.value(handles.l1) == cost.l1_bytes <= 1200
    assert cost.num_tiles > 1


def test_early_exit_matches_the_solver() -> None:
    for graph in (graphs.gemm(1, 16, 8), graphs.conv(2, 4, 3, 3, 1, 1, 0), graphs.matmul(1, 1, 4, 4)):
        node = graph.nodes[0]
        for db in (True, False):
            setup = prepare(node, graph, HW.cluster_engine, PARAMS, 64000, db)
            choice = early_exit(setup.problem)
            assert choice is not None, graph.name
            solved = plan_node(node, graph, HW, l1=64000, double_buffer=db, options=CPSAT_ONLY)
            assert solved.num_tiles == 1 and solved.solve.status == "OPTIMAL"
            assert solved.cycles == setup.problem.model.evaluate(choice).breakdown


def test_deterministic_solve() -> None:
    graph = graphs.conv(5, 16, 12, 12, 3, 2, 1)
    runs = [plan_node(graph.nodes[0], graph, HW, l1=1800, options=CPSAT_ONLY).model_dump_json() for _ in range(2)]
    assert runs[0] == runs[1]
