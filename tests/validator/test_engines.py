"""Engine rules: unknown engines, operators an engine does not run, and the NPU's legality and tile rules."""

from __future__ import annotations

from deeploy_tiler.ir import Graph, Node
from deeploy_tiler.validator import validate

from .builders import NPU_HW, K, assert_clean, conv_graph, kinds, single_plan, with_node
from .cases import RQ8, W3, conv1x1_passes, conv_plan, matmul_tiles, maxpool_tiles


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
