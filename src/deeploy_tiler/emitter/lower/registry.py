"""op_type -> lowering function: the one table the emitter dispatches on (one entry per operator the
emitter can lower; the family modules hold the functions)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from ...errors import UnsupportedOperatorError
from .call import KernelCall, StepContext
from .conv2d import lower_conv
from .copy import lower_concat, lower_gather, lower_pad, lower_slice, lower_transpose
from .eltwise import lower_eltwise
from .gemm import lower_gemm, lower_matmul
from .pool import lower_pool
from .reduce_mean import lower_reduce
from .rowwise import lower_rowwise

Lowering = Callable[[StepContext], list[KernelCall]]

LOWERINGS: Mapping[str, Lowering] = MappingProxyType(
    {
        "Conv": lower_conv,
        "MaxPool": lower_pool,
        "AveragePool": lower_pool,
        "GlobalAveragePool": lower_pool,
        "Gemm": lower_gemm,
        "MatMul": lower_matmul,
        "Add": lower_eltwise,
        "Sub": lower_eltwise,
        "Mul": lower_eltwise,
        "RequantShift": lower_eltwise,
        "Relu": lower_eltwise,
        "Clip": lower_eltwise,
        "iHardswish": lower_eltwise,
        "iGELU": lower_eltwise,
        "TrueIntegerDiv": lower_eltwise,
        "Transpose": lower_transpose,
        "Concat": lower_concat,
        "Slice": lower_slice,
        "Pad": lower_pad,
        "Gather": lower_gather,
        "iSoftmax": lower_rowwise,
        "ITAMax": lower_rowwise,
        "iRMSNorm": lower_rowwise,
        "iLayerNorm": lower_rowwise,
        "IntegerMean": lower_reduce,
        "ReduceMean": lower_reduce,
    }
)


def lower_step(ctx: StepContext) -> list[KernelCall]:
    fn = LOWERINGS.get(ctx.node.op_type)
    if fn is None:
        raise UnsupportedOperatorError({ctx.node.op_type: [ctx.node.name]})
    return fn(ctx)
