"""cost.py: parameters from the spec, a hand-computed node, and the bounds never exceeding any plan."""

from __future__ import annotations

from fractions import Fraction
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from deeploy_tiler.cost.model import Choice, CostParams, compute_work_cycles
from deeploy_tiler.hw import load_hw
from deeploy_tiler.ir import DType, Graph
from deeploy_tiler.planner.setup import prepare
from tests.solver import graphs

HW = load_hw("siracusa")
PARAMS = CostParams.from_hw(HW)


def test_params_from_siracusa() -> None:
    p = PARAMS
    assert (p.engine, p.l1_level, p.home_level) == ("cluster", "L1", "L2")
    assert (p.setup, p.per_row, p.max_dims, p.call_overhead, p.alignment) == (10, 2, 2, 100, 4)
    assert p.bandwidth == 8 and p.scale == 8 and p.byte_cost == 1
    assert p.transfer_scaled(64, 1, 1) == 8 * (10 + 2) + 64
    mcu = CostParams.from_hw(load_hw("rv32_mcu"), "cpu")
    assert mcu.scale == 4 and mcu.max_dims == 1


def _setup(graph: Graph, budget: int = 64000, db: bool = True):  # type: ignore[no-untyped-def]
    return prepare(graph.nodes[0], graph, HW.cluster_engine, PARAMS, budget, db)


def test_hand_computed_add() -> None:
    g = graphs.single_node("Add", [((1, 1, 64), DType.INT8, False), ((64,), DType.INT8, True)], {})
    model = _setup(g).problem.model
    cost = model.evaluate(model.untiled())
    # 64 adds at the spec's 1 op/cycle + one call; three 64-byte transfers of one row: 10 + 2 + 64 / 8 each
    assert HW.cluster_engine.elementwise_ops_per_cycle == 1.0
    assert cost.compute == 64 + 100
    assert cost.breakdown.dma == 3 * 20
    assert cost.total == 164 + 60
    assert cost.l1_bytes == 3 * 64 + 3 * 32
    assert model.lower_bound() == cost.total  # untiled is optimal: the pipeline bound is tight
    assert model.roofline() <= model.lower_bound()


def test_compute_work_uses_the_effective_mac_rate() -> None:
    g = graphs.conv(8, 16, 10, 10, 3, 1, 1)
    setup = _setup(g)
    assert compute_work_cycles(setup.policy, HW.cluster_engine) == -(-Fraction(g.nodes[0].macs) // Fraction(31, 2))
    assert setup.policy.scratch_bytes == 8 * 8 * 9


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["conv", "dw", "gemm", "matmul"]), st.integers(1, 8), st.integers(1, 8), st.integers(2, 7))
def test_bounds_below_every_choice(kind: str, a: int, b: int, c: int) -> None:
    g = {
        "conv": lambda: graphs.conv(a, b, c, c, 3, 1, 1),
        "dw": lambda: graphs.conv(a, a, c, c, 3, 2, 1, True),
        "gemm": lambda: graphs.gemm(a, 4 * b, c),
        "matmul": lambda: graphs.matmul(a, b, 3, c),
    }[kind]()
    model = _setup(g).problem.model
    bound, roof = model.lower_bound_scaled(), model.roofline_scaled()
    assert roof <= bound
    n = len(model.buffers)
    for tiles in product(*(range(len(cs)) for cs in model.space.candidates)):
        for modes in product((False, True), repeat=n):
            assert model.evaluate(Choice(tiles, modes)).total_scaled >= bound
    best, done = model.best_by_enumeration(10**9, True)
    assert done and best is not None
    assert model.evaluate(best).total_scaled >= bound


def test_enumeration_respects_the_budget() -> None:
    g = graphs.conv(4, 16, 12, 12, 3, 1, 1)
    model = _setup(g, 1500).problem.model
    best, done = model.best_by_enumeration(1500, True)
    assert done and best is not None and model.evaluate(best).l1_bytes <= 1500
    assert model.best_by_enumeration(10, True) == (None, True)
