"""The registry of accelerator compute models: each task-model type (ops.policy.TaskModel) maps to the
function that sums its cycles over every tile of a tiling as a Poly (the compute term of the node cost
model and of the CP-SAT objective). A second accelerator adds one line here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from ..errors import PlanError
from ..ops.npu import NpuTask
from ..ops.policy import TaskModel
from .npu import npu_compute_poly
from .tilespace import Poly, TileSpace

__all__ = ["TASK_COMPUTE", "TaskComputePoly", "task_compute_poly"]

TaskComputePoly = Callable[[Any, TileSpace], Poly]

TASK_COMPUTE: Mapping[type, TaskComputePoly] = MappingProxyType({NpuTask: npu_compute_poly})


def task_compute_poly(task: TaskModel, space: TileSpace) -> Poly:
    """The task model's cycles summed over the tiles of `space`; PlanError for an unregistered model."""
    fn = TASK_COMPUTE.get(type(task))
    if fn is None:
        known = ", ".join(t.__name__ for t in TASK_COMPUTE)
        raise PlanError(
            f"no compute model registered for task model {type(task).__name__} (known: {known}); "
            "add it to cost.tasks.TASK_COMPUTE"
        )
    return fn(task, space)
