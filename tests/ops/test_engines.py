"""ops.engines: the registries by engine kind dispatch to the right policy builder and packed-weight size."""

from __future__ import annotations

import pytest

from deeploy_tiler.errors import PlanError
from deeploy_tiler.hw import load_hw
from deeploy_tiler.ir import DType
from deeploy_tiler.ops.builders import node_geometry
from deeploy_tiler.ops.engines import ENGINE_POLICIES, PACKED_WEIGHTS, engine_policy, packed_weight_bytes
from deeploy_tiler.ops.npu import NpuTask, npu_weight_bytes
from deeploy_tiler.ops.policy import cluster_policy
from tests.solver.graphs import conv, single_node

HW = load_hw("siracusa_neureka")


def test_cluster_engine_gets_the_cluster_policy_and_the_node_geometry() -> None:
    graph = conv(8, 16, 6, 6, 3, 1, 1)
    node = graph.nodes[0]
    geom, policy = engine_policy(node, graph, HW.engine("cluster"), "L1")
    assert geom == node_geometry(node, graph)
    assert policy == cluster_policy(node, graph, geom, HW.engine("cluster"))
    assert packed_weight_bytes(node, graph, HW.engine("cluster")) is None  # plain tensors


def test_npu_engine_gets_a_task_and_packed_weights() -> None:
    graph = conv(8, 16, 6, 6, 3, 1, 1)
    node = graph.nodes[0]
    _, policy = engine_policy(node, graph, HW.engine("neureka"), "L1")
    assert isinstance(policy.task, NpuTask)
    size = packed_weight_bytes(node, graph, HW.engine("neureka"))
    assert size == npu_weight_bytes(node, graph, HW.engine("neureka")) == policy.task.packed_weight_bytes
    assert set(PACKED_WEIGHTS) <= set(ENGINE_POLICIES)


def test_npu_cannot_run_an_elementwise_node() -> None:
    graph = single_node("Relu", [((1, 8), DType.INT8, False)], {})
    node = graph.nodes[0]
    assert packed_weight_bytes(node, graph, HW.engine("neureka")) is None
    with pytest.raises(PlanError):
        engine_policy(node, graph, HW.engine("neureka"), "L1")


def test_unknown_engine_kind_is_named() -> None:
    engine = HW.engine("cluster").model_copy(update={"kind": "gpu"})
    graph = conv(8, 16, 6, 6, 3, 1, 1)
    with pytest.raises(PlanError, match=r"engine cluster: no kernel policy for engines of kind 'gpu'"):
        engine_policy(graph.nodes[0], graph, engine, "L1")
