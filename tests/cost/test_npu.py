"""cost.npu: the NPU compute Poly equals the task model summed tile by tile (npu_task_cycles, written out
directly), for every or randomly drawn tile choices of conv (3x3, 1x1, depthwise) and gemm nodes."""

from __future__ import annotations

import itertools
import random

import pytest

from deeploy_tiler.cost.npu import npu_compute_poly
from deeploy_tiler.cost.tilespace import TileSpace
from deeploy_tiler.hw import load_hw
from deeploy_tiler.ir import Graph
from deeploy_tiler.ops.engines import engine_policy
from deeploy_tiler.ops.npu import NpuTask, npu_task_cycles
from deeploy_tiler.planner.setup import tile_space
from tests.solver.graphs import conv, gemm

HW = load_hw("siracusa_neureka")


def _task_and_space(graph: Graph) -> tuple[NpuTask, TileSpace]:
    geom, policy = engine_policy(graph.nodes[0], graph, HW.engine("neureka"), "L1")
    assert isinstance(policy.task, NpuTask)
    return policy.task, tile_space(geom, policy, preferred=False)


def _tile_by_tile(task: NpuTask, space: TileSpace, choice: tuple[int, ...]) -> int:
    per_dim = [space.tiles(d, i) for d, i in enumerate(choice)]
    total = 0
    for tile in itertools.product(*per_dim):
        sizes = [z for _, z in tile]
        total += npu_task_cycles(task, sizes[task.channel_dim], [sizes[d] for d in task.spatial])
    return total


GRAPHS = {
    "conv3x3": lambda: conv(16, 48, 10, 9, 3, 1, 1),
    "conv1x1": lambda: conv(24, 40, 7, 13, 1, 1, 0),
    "depthwise": lambda: conv(40, 40, 9, 6, 3, 1, 1, depthwise=True),
    "gemm": lambda: gemm(1, 64, 128),
    "gemm_rows": lambda: gemm(21, 32, 96),
}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_poly_equals_the_sum_of_task_cycles_over_tiles(name: str) -> None:
    task, space = _task_and_space(GRAPHS[name]())
    poly = npu_compute_poly(task, space)
    rng = random.Random(name)
    choices = list(itertools.product(*(range(len(c)) for c in space.candidates)))
    picked = choices if len(choices) <= 40 else [*choices[:2], *rng.sample(choices, 38)]
    assert space.free_dims, "the case must tile something"
    for choice in picked:
        assert poly.value(choice) == _tile_by_tile(task, space, choice), choice


def test_untiled_is_one_task() -> None:
    task, space = _task_and_space(conv(16, 48, 10, 9, 3, 1, 1))
    untiled = (0,) * len(space.out_shape)
    channels = space.out_shape[task.channel_dim]
    extents = [space.out_shape[d] for d in task.spatial]
    assert npu_compute_poly(task, space).value(untiled) == npu_task_cycles(task, channels, extents)
