"""The accelerator seam: task models dispatch to their registered compute Poly; an unregistered one is
named, not silently costed as a cluster node."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from deeploy_tiler.cost.npu import npu_compute_poly
from deeploy_tiler.cost.tasks import TASK_COMPUTE, task_compute_poly
from deeploy_tiler.errors import PlanError
from deeploy_tiler.hw import load_hw
from deeploy_tiler.ops.engines import ENGINE_POLICIES, engine_policy
from deeploy_tiler.ops.npu import NpuTask
from deeploy_tiler.ops.policy import TaskModel
from deeploy_tiler.planner.setup import tile_space
from tests.solver.graphs import conv

HW = load_hw("siracusa_neureka")


@dataclass(frozen=True)
class _OtherAccelerator:
    packed_weight_bytes: int | None = None


def test_npu_task_dispatches_to_its_poly() -> None:
    graph = conv(16, 64, 12, 12, 3, 1, 1)
    geom, policy = engine_policy(graph.nodes[0], graph, HW.engine("neureka"), "L1")
    assert isinstance(policy.task, NpuTask) and TASK_COMPUTE[NpuTask] is npu_compute_poly
    space = tile_space(geom, policy, preferred=False)
    via_registry = task_compute_poly(policy.task, space)
    direct = npu_compute_poly(policy.task, space)
    assert via_registry.grid(space.shape).tolist() == direct.grid(space.shape).tolist()


def test_cluster_policy_has_no_task_and_the_kinds_are_registered() -> None:
    graph = conv(16, 64, 12, 12, 3, 1, 1)
    _, policy = engine_policy(graph.nodes[0], graph, HW.engine("cluster"), "L1")
    assert policy.task is None and policy.macs > 0
    assert set(ENGINE_POLICIES) == {"cluster", "npu"}  # every engine kind a spec may declare


def test_unregistered_task_model_is_named() -> None:
    task: TaskModel = _OtherAccelerator()
    graph = conv(16, 64, 12, 12, 3, 1, 1)
    geom, policy = engine_policy(graph.nodes[0], graph, HW.engine("cluster"), "L1")
    with pytest.raises(PlanError, match=r"no compute model registered for task model _OtherAccelerator"):
        task_compute_poly(task, tile_space(geom, policy, preferred=False))


def test_packed_weight_registry_agrees_with_the_task() -> None:
    from deeploy_tiler.ops.engines import packed_weight_bytes

    for graph in (conv(16, 64, 12, 12, 3, 1, 1), conv(8, 40, 13, 7, 1, 1, 0)):
        node = graph.nodes[0]
        _, policy = engine_policy(node, graph, HW.engine("neureka"), "L1")
        assert isinstance(policy.task, NpuTask)
        assert packed_weight_bytes(node, graph, HW.engine("neureka")) == policy.task.packed_weight_bytes
        assert packed_weight_bytes(node, graph, HW.engine("cluster")) is None  # plain tensors
    unsupported = conv(16, 64, 12, 12, 5, 1, 2)  # a 5x5 kernel: the NPU cannot run it
    assert packed_weight_bytes(unsupported.nodes[0], unsupported, HW.engine("neureka")) is None
