"""Engine rules: unknown engines, operators an engine does not run, and the NPU's legality and tile rules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import get_args

import pytest

from deeploy_tiler.hw.spec import ComputeEngine
from deeploy_tiler.ir import DType, Graph, Node
from deeploy_tiler.plan import NodePlan
from deeploy_tiler.validator import ENGINE_RULES, validate
from deeploy_tiler.validator.engines import Finding, npu_packed_bytes

from .builders import (
    HW,
    NPU_HW,
    K,
    assert_clean,
    constant,
    conv_graph,
    graph_input,
    kinds,
    one_node_graph,
    single_plan,
    with_node,
)
from .cases import RQ8, W3, conv1x1_passes, conv_plan, gemm_tiles, matmul_tiles, maxpool_tiles


def test_engine_rules() -> None:
    graph, plan = conv_plan()
    assert kinds(with_node(plan, engine="gpu"), graph) == {K.UNKNOWN_ENGINE}
    npu_plan = plan.model_copy(update={"hw": NPU_HW.name})
    assert kinds(with_node(npu_plan, engine="neureka"), graph, NPU_HW) == set()
    pool, pool_tiles = maxpool_tiles()
    pool_plan = single_plan(pool, pool_tiles, hw=NPU_HW)
    assert kinds(with_node(pool_plan, engine="neureka"), pool, NPU_HW) == {K.ENGINE_OP}
    strided = conv_graph(4, 8, 8, 3, stride=2)
    tiles = [
        {"x": ((0, 1), (0, 4), (0, 8), (0, 8)), "w": W3, "mul": RQ8, "add": RQ8, "y": ((0, 1), (0, 8), (0, 4), (0, 4))}
    ]
    strided_plan = single_plan(strided, tiles, hw=NPU_HW)
    assert_clean(strided_plan, strided, NPU_HW)
    assert kinds(with_node(strided_plan, engine="neureka"), strided, NPU_HW) == {K.NPU_RULE}
    gemm, gemm_t = matmul_tiles()  # runtime weights: the NPU needs constants
    assert kinds(with_node(single_plan(gemm, gemm_t, hw=NPU_HW), engine="neureka"), gemm, NPU_HW) == {K.NPU_RULE}


def test_npu_tile_rules() -> None:
    graph, tiles = conv1x1_passes()
    plan = single_plan(graph, tiles, hw=NPU_HW)
    assert_clean(with_node(plan, engine="neureka"), graph, NPU_HW)
    # output channels in tiles of 16: the second tile starts inside a 32-channel pass
    halves = [
        {
            "x": t["x"],
            "w": ((c, 16), (0, 8), (0, 1), (0, 1)),
            "mul": ((c, 16), (0, 1), (0, 1)),
            "add": ((c, 16), (0, 1), (0, 1)),
            "y": ((0, 1), (c, 16), (0, 4), (0, 4)),
        }
        for t, c in zip(tiles * 2, (0, 16, 32, 48), strict=True)
    ]
    split = single_plan(graph, halves, hw=NPU_HW)
    assert_clean(split, graph, NPU_HW)  # fine on the cluster
    found = validate(with_node(split, engine="neureka"), graph, NPU_HW)
    assert {v.kind for v in found} == {K.NPU_RULE} and "pass" in found[0].message
    # input channels split over two tiles is no valid conv tile anywhere; the NPU rule names it too
    k_split = [
        dict(t, x=((0, 1), (c, 4), (0, 4), (0, 4)), w=((0, 32), (c, 4), (0, 1), (0, 1)))
        for t, c in zip(tiles[:1] * 2, (0, 4), strict=True)
    ]
    messages = [
        v.message
        for v in validate(with_node(single_plan(graph, k_split, hw=NPU_HW), engine="neureka"), graph, NPU_HW)
        if v.kind is K.NPU_RULE
    ]
    assert any("all input channels" in m for m in messages) and any("full weights" in m for m in messages)


def test_npu_operator_rules() -> None:
    dilated = conv_graph(4, 8, 8, 3)
    node = dilated.nodes[0]
    attrs = tuple((k, (2, 2) if k == "dilations" else v) for k, v in node.attributes)
    g = Graph(
        dilated.name,
        dilated.tensors,
        (Node(node.name, node.op_type, node.inputs, node.outputs, attrs, requant=node.requant),),
        dilated.input_names,
        dilated.output_names,
    )
    tiles = [
        {"x": ((0, 1), (0, 4), (0, 8), (0, 8)), "w": W3, "mul": RQ8, "add": RQ8, "y": ((0, 1), (0, 8), (0, 6), (0, 6))}
    ]
    plan = single_plan(g, tiles, hw=NPU_HW)
    messages = [v.message for v in validate(with_node(plan, engine="neureka"), g, NPU_HW) if v.kind is K.NPU_RULE]
    assert any("dilated" in m for m in messages)
    k5 = conv_graph(4, 8, 8, 5)
    tiles5 = [
        {
            "x": ((0, 1), (0, 4), (0, 8), (0, 8)),
            "w": ((0, 8), (0, 4), (0, 5), (0, 5)),
            "mul": RQ8,
            "add": RQ8,
            "y": ((0, 1), (0, 8), (0, 8), (0, 8)),
        }
    ]
    assert kinds(with_node(single_plan(k5, tiles5, hw=NPU_HW), engine="neureka"), k5, NPU_HW) == {K.NPU_RULE}


def test_every_engine_kind_has_a_rule_table() -> None:
    kinds_in_spec = set(get_args(ComputeEngine.model_fields["kind"].annotation))
    assert set(ENGINE_RULES) == kinds_in_spec == {"cluster", "npu"}
    assert ENGINE_RULES["cluster"] == ()


def test_an_added_engine_rule_reports_through_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    """The extension point: a rule registered for an engine kind runs for every node on such an engine."""
    graph, plan = conv_plan()

    def no_conv(np_: NodePlan, node: Node, graph: Graph, engine: ComputeEngine) -> Iterable[Finding]:
        if node.op_type == "Conv":
            yield K.ENGINE_OP, f"{engine.name} refuses {node.name}"

    monkeypatch.setitem(ENGINE_RULES, "cluster", (no_conv,))
    found = validate(plan, graph, HW)
    assert [(v.kind, v.node, v.message) for v in found] == [(K.ENGINE_OP, "n", "cluster refuses n")]


def test_npu_packed_weight_bytes() -> None:
    """N-EUREKA packs weights in 32 B words: 1x1 per output channel ceil(c_in / 32) words, 3x3 ceil(c_in / 28)
    x 8 bits, depthwise ceil(C / 28) x 8 bits; Gemm / MatMul as 1x1."""
    npu = NPU_HW.engine("neureka")
    one = conv_graph(40, 64, 4, 1)
    assert npu_packed_bytes(one.nodes[0], one, npu) == 64 * 2 * 32
    three = conv_graph(4, 8, 8, 3)
    assert npu_packed_bytes(three.nodes[0], three, npu) == 8 * 1 * 8 * 32
    dw = conv_graph(30, 30, 6, 3, group=30)
    assert npu_packed_bytes(dw.nodes[0], dw, npu) == 2 * 8 * 32
    gemm, _ = gemm_tiles()  # b is (6, 8) with transB: 6 output channels of 8 inputs
    assert npu_packed_bytes(gemm.nodes[0], gemm, npu) == 6 * 1 * 32
    mm = one_node_graph("MatMul", [graph_input((4, 40), "a"), constant((40, 5), "b")], (4, 5), DType.INT32)
    assert npu_packed_bytes(mm.nodes[0], mm, npu) == 5 * 2 * 32
