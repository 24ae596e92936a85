"""Lowering of one compute step (one output tile of one node) to kernel calls.

Each operator maps the step's views (where every operand of the tile lives) to the argument block of
a portable C kernel (c/kernels/dt_kernels.h): pointers, extents, strides, per-tile padding and the
requantization epilogue. Checks that the buffers hold what the tile needs raise `EmitError`.

One module per kernel family, named after its C template (c/kernels/<stem>.tmpl.h): conv2d, gemm,
pool, eltwise, rowwise, reduce_mean; copy holds the data movement operators (eltwise copies and
dt_gather). `registry.LOWERINGS` maps op_type -> lowering.
"""

from .call import KernelCall, RequantArgs, StepContext, instance_name, render_field
from .registry import LOWERINGS, Lowering, lower_step

__all__ = [
    "LOWERINGS",
    "KernelCall",
    "Lowering",
    "RequantArgs",
    "StepContext",
    "instance_name",
    "lower_step",
    "render_field",
]
