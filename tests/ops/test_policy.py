"""ops.policy: elementwise operation counts per operator family, the im2col scratch formula, the SIMD
preferred multiple and the typed errors."""

from __future__ import annotations

import dataclasses

import pytest

from deeploy_tiler.errors import PlanError
from deeploy_tiler.hw import load_hw
from deeploy_tiler.ir import AttrValue, DType, Graph, Requant
from deeploy_tiler.ops.builders import node_geometry
from deeploy_tiler.ops.policy import OPS_PER_ELEMENT, REQUANT_OPS_PER_ELEMENT, KernelPolicy, cluster_policy
from tests.solver.graphs import conv, gemm, matmul, single_node

HW = load_hw("siracusa")
CLUSTER = HW.engine("cluster")


def _policy(graph: Graph) -> KernelPolicy:
    node = graph.nodes[0]
    return cluster_policy(node, graph, node_geometry(node, graph), CLUSTER)


def _unary(op: str, shape: tuple[int, ...], attrs: dict[str, AttrValue] | None = None) -> Graph:
    return single_node(op, [(shape, DType.INT8, False)], attrs or {})


def test_one_op_per_element_families() -> None:
    add = single_node("Add", [((2, 3, 5), DType.INT8, False), ((2, 3, 5), DType.INT8, False)], {})
    assert _policy(add).elementwise_ops == 30
    assert _policy(_unary("Relu", (4, 7))).elementwise_ops == 28


def test_table_counts_times_output_elements() -> None:
    for op, per in (("iGELU", 6), ("iHardswish", 4)):
        assert OPS_PER_ELEMENT[op] == per
        assert _policy(_unary(op, (3, 10))).elementwise_ops == 30 * per


def test_pool_counts_one_op_per_window_element_plus_the_average_division() -> None:
    attrs: dict[str, AttrValue] = {"kernel_shape": (3, 2), "strides": (1, 1), "pads": (0, 0, 0, 0)}
    mp = _policy(_unary("MaxPool", (1, 2, 5, 5), attrs))  # output 1x2x3x4 = 24 elements
    assert mp.elementwise_ops == 24 * 6
    ap = _policy(_unary("AveragePool", (1, 2, 5, 5), attrs))
    assert ap.elementwise_ops == 24 * 7


def test_global_average_pool_adds_every_input_element_then_divides() -> None:
    gap = _policy(_unary("GlobalAveragePool", (1, 3, 4, 5)))
    assert gap.elementwise_ops == 3 * 4 * 5 + 3
    assert gap.macs == 0 and gap.mac_dtype is None and gap.scratch_bytes == 0


def test_mac_operators_have_no_elementwise_ops_unless_requantized() -> None:
    graph = gemm(4, 16, 8)
    plain = _policy(graph)
    assert plain.elementwise_ops == 0 and plain.macs == 4 * 16 * 8 and plain.mac_dtype == "int8"
    rq = Requant(mul="m", add="a", div=1, n_levels=256, signed=True, source_node="rq")
    node = dataclasses.replace(graph.nodes[0], requant=rq)
    fused = cluster_policy(node, graph, node_geometry(graph.nodes[0], graph), CLUSTER)
    assert fused.elementwise_ops == 4 * 8 * REQUANT_OPS_PER_ELEMENT


def test_im2col_scratch_is_cores_times_fan_in_times_itemsize() -> None:
    p = _policy(conv(6, 8, 9, 9, 3, 1, 1))
    assert p.scratch_bytes == CLUSTER.cores * 6 * 3 * 3 * 1
    assert p.scratch_reason == f"im2col scratch of {CLUSTER.cores} cores x 54 B"
    dw = _policy(conv(6, 6, 9, 9, 3, 1, 1, depthwise=True))  # group = C_in: one channel per group
    assert dw.scratch_bytes == CLUSTER.cores * 1 * 9
    pointwise = _policy(conv(6, 8, 9, 9, 1, 1, 0))
    assert pointwise.scratch_bytes == 0 and pointwise.scratch_reason == ""


def test_simd_multiple_on_the_output_channel_dimension() -> None:
    assert _policy(conv(4, 8, 6, 6, 3, 1, 1)).preferred_multiples == ((1, 4),)
    assert _policy(gemm(4, 16, 8)).preferred_multiples == ((1, 4),)
    assert _policy(matmul(2, 4, 16, 8)).preferred_multiples == ((2, 4),)
    assert _policy(_unary("Relu", (4, 8))).preferred_multiples == ()


def test_mac_dtype_is_the_wider_operand() -> None:
    graph = single_node("Gemm", [((4, 8), DType.INT8, False), ((8, 8), DType.INT16, True)], {}, DType.INT32)
    assert _policy(graph).mac_dtype == "int16"


def test_operator_without_a_count_is_a_plan_error() -> None:
    graph = _unary("Relu", (4,))
    node = dataclasses.replace(graph.nodes[0], op_type="Frobnicate")
    with pytest.raises(PlanError, match=r"node n: no operation count for operator Frobnicate"):
        cluster_policy(node, graph, node_geometry(graph.nodes[0], graph), CLUSTER)


def test_engine_that_does_not_run_the_operator() -> None:
    npu = load_hw("siracusa_neureka").engine("neureka")
    graph = _unary("Relu", (4, 8))
    with pytest.raises(PlanError, match=r"node n: engine neureka does not run Relu"):
        cluster_policy(graph.nodes[0], graph, node_geometry(graph.nodes[0], graph), npu)
