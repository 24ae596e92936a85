"""N-EUREKA mapping: legality reasons, the task model as a Poly against a direct per-tile count, packed
weight sizes, and hand-computed task cycles."""

from __future__ import annotations

from fractions import Fraction
from itertools import product

import pytest

from deeploy_tiler.cost.npu import npu_compute_poly
from deeploy_tiler.hw import load_hw
from deeploy_tiler.ir import DType, Graph
from deeploy_tiler.ops.builders import node_geometry
from deeploy_tiler.ops.npu import (
    NpuTask,
    NpuUnsupported,
    WeightSource,
    best_row_subtiles,
    npu_policy,
    npu_support,
    npu_task_cycles,
    npu_weight_bytes,
)
from deeploy_tiler.planner.setup import tile_space
from tests.solver.graphs import conv, gemm, matmul, single_node

HW = load_hw("siracusa_neureka")
NPU = HW.engine("neureka")
L1 = WeightSource("L1", False, Fraction(32))
WMEM = WeightSource("WMEM", True, Fraction(32))


def _npu(graph: Graph, source: WeightSource = L1):  # type: ignore[no-untyped-def]
    node = graph.nodes[0]
    return npu_policy(node, graph, node_geometry(node, graph), NPU, source)


@pytest.mark.parametrize(
    ("graph", "needle"),
    [
        (conv(8, 16, 8, 8, 3, 2, 1), "stride 2 not supported by the neureka driver"),
        (conv(8, 16, 8, 8, 5, 1, 2), "kernel 5x5 not supported"),
        (conv(8, 16, 8, 8, 1, 1, 1), "padding beyond 0"),
        (matmul(2, 4, 8, 8), "computed at run time"),
        (matmul(2, 4, 8, 8, b_batch=False), None),
        (single_node("Gemm", [((8, 4), DType.INT8, False), ((8, 16), DType.INT8, True)], {"transA": 1}), "transA"),
        (
            single_node(
                "Conv",
                [((1, 8, 6, 6), DType.INT16, False), ((8, 8, 1, 1), DType.INT8, True)],
                {"kernel_shape": (1, 1), "group": 1},
            ),
            "int16 activations",
        ),
        (
            single_node(
                "Conv",
                [((1, 8, 6, 6), DType.INT8, False), ((8, 4, 3, 3), DType.INT8, True)],
                {"kernel_shape": (3, 3), "group": 2, "pads": (1, 1, 1, 1)},
            ),
            "grouped convolution",
        ),
        (single_node("Relu", [((4, 8), DType.INT8, False)], {}), "does not run Relu"),
    ],
)
def test_legality_reasons(graph: Graph, needle: str | None) -> None:
    node = graph.nodes[0]
    if needle is None:
        assert npu_support(node, graph, NPU) == "1x1"
        return
    with pytest.raises(NpuUnsupported, match=needle):
        npu_support(node, graph, NPU)


def test_row_subtiles_follow_the_best_reshape() -> None:
    assert [best_row_subtiles(1, m, 6, 6) for m in (1, 6, 36, 28, 64, 37, 72)] == [1, 1, 1, 2, 3, 7, 2]
    assert best_row_subtiles(7, 10, 6, 6) == 2 * 2  # a batch grid as it is


def test_packed_weight_bytes() -> None:
    assert npu_weight_bytes(conv(8, 64, 4, 4, 1, 1, 0).nodes[0], conv(8, 64, 4, 4, 1, 1, 0), NPU) == 64 * 32
    g3 = conv(32, 16, 8, 8, 3, 1, 1)
    assert npu_weight_bytes(g3.nodes[0], g3, NPU) == 16 * 2 * 8 * 32  # c_in 32 = 2 blocks of 28, 8 bit planes
    dw = conv(40, 40, 8, 8, 3, 1, 1, depthwise=True)
    assert npu_weight_bytes(dw.nodes[0], dw, NPU) == 2 * 8 * 32
    g = gemm(4, 100, 10)  # transB: (N, K)
    assert npu_weight_bytes(g.nodes[0], g, NPU) == 10 * 4 * 32
    for graph in (conv(8, 64, 4, 4, 1, 1, 0), g3, dw, g):  # the task carries the same size, computed once
        _, policy = _npu(graph)
        assert isinstance(policy.task, NpuTask)
        assert policy.task.packed_weight_bytes == npu_weight_bytes(graph.nodes[0], graph, NPU)


def test_hand_computed_linear_task() -> None:
    """MatMul 1 x 64 by 64 x 64 to int32 (an autoregressive LLM projection), one task: setup 150, one
    unhidden activation load 6 + 36 + 6 = 48, two passes of 32 channels, each 2 input blocks of
    max(48, 10 + 32) = 48 cycles + 3 streamout exit + 1 pixel x 4 words of int32."""
    graph = matmul(1, 1, 64, 64, b_batch=False)
    _, policy = _npu(graph)
    task = policy.task
    assert isinstance(task, NpuTask) and task.mode == "1x1" and task.out_bytes == 4 and not task.normquant
    assert npu_task_cycles(task, 64, (1,)) == 150 + 48 + 2 * (2 * 48 + 3 + 4)


@pytest.mark.parametrize(
    "graph",
    [
        conv(8, 40, 13, 7, 1, 1, 0),
        conv(30, 36, 9, 14, 3, 1, 1),
        conv(60, 60, 8, 13, 3, 1, 1, depthwise=True),
        gemm(50, 70, 40),
        matmul(3, 17, 64, 70, b_batch=False),
    ],
)
@pytest.mark.parametrize("source", [L1, WMEM])
def test_task_poly_equals_the_sum_over_tiles(graph: Graph, source: WeightSource) -> None:
    geom, policy = _npu(graph, source)
    task = policy.task
    assert isinstance(task, NpuTask)
    space = tile_space(geom, policy, preferred=False)
    poly = npu_compute_poly(task, space)
    ranges = [range(len(c)) for c in space.candidates]
    for choice in product(*ranges):
        per_dim = [space.tiles(d, i) for d, i in enumerate(choice)]
        expect = 0
        for tile in product(*per_dim):
            channels = tile[task.channel_dim][1]
            expect += npu_task_cycles(task, channels, [tile[d][1] for d in task.spatial])
        assert poly.value(choice) == expect, choice


def test_policy_rules_and_in_place_weights() -> None:
    graph = conv(16, 96, 12, 12, 3, 1, 1)
    geom, policy = _npu(graph)
    assert policy.required_multiples == ((1, 32),)  # whole output-channel passes, always
    assert dict(policy.preferred_multiples) == {2: 6, 3: 6}  # the PE array, when the budget allows
    space = tile_space(geom, policy, preferred=False)
    assert all(c == 96 or c % 32 == 0 for c in space.candidates[1])
    in_place, _ = _npu(graph, WMEM)
    assert [op.index for op in in_place.operands] == [i for i in range(len(graph.nodes[0].inputs)) if i != 1]
    batched = matmul(3, 17, 64, 70, b_batch=False)
    g, _ = _npu(batched)
    assert g.untileable[0] is not None and "batch" in g.untileable[0]
