"""Integer dtype inference: what each operator's output holds, from attributes and operand dtypes.

Accumulating operators produce int32 (the kernels' accumulator width); operators with a
quantization attribute (n_levels, signed) produce the narrowest type of that range; data-movement
operators keep their input's type. `tests/reference/test_dtypes.py` checks these rules against the
value ranges the reference interpreter actually produces on every shared model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..ir import DType

ACCUMULATING = frozenset({"Conv", "Gemm", "MatMul", "Add", "Sub", "Mul", "iGELU", "iHardswish", "TrueIntegerDiv"})
SAME_AS_INPUT = frozenset(
    {
        "MaxPool",
        "AveragePool",
        "GlobalAveragePool",
        "Flatten",
        "Reshape",
        "Transpose",
        "Gather",
        "Slice",
        "Squeeze",
        "Unsqueeze",
        "Pad",
        "Relu",
        "Clip",
        "Identity",
        "IntegerMean",
        "ReduceMean",
    }
)
# Operators whose output is an n_levels-quantized probability or normalized value. The softmaxes
# (iSoftmax, ITAMax) produce QuantLib's unsigned probabilities in [0, n_levels - 1] (ITAMax reaches 204
# on ICCT); the norms are signed.
_LEVELED_SIGNED = {
    "iRMSNorm": True,
    "iLayerNorm": True,
    "ITAMax": False,
    "iSoftmax": False,
    "Softmax": False,
    "LayerNormalization": True,
}

# Role-based widths for constant operands: (op, input index) -> dtype the kernel reads.
INT32_CONST_OPERANDS = {("Conv", 2), ("Gemm", 2), ("RequantShift", 1), ("RequantShift", 2)}
INT32_CONST_OPERANDS |= {("RequantFloat", 1), ("RequantFloat", 2)}


def _widest(dts: Sequence[DType]) -> DType:
    lo = min(d.min for d in dts)
    hi = max(d.max for d in dts)
    return DType.smallest_holding(lo, hi)


def output_dtype(op: str, attrs: Mapping[str, Any], in_dtypes: Sequence[DType]) -> DType:
    if op in ("RequantShift", "RequantFloat", "QAdd"):
        return DType.from_levels(int(attrs["n_levels_out"]), bool(attrs.get("signed", 1)))
    if op in _LEVELED_SIGNED:
        return DType.from_levels(int(attrs.get("n_levels", 256)), _LEVELED_SIGNED[op])
    if op == "Concat":
        return _widest(in_dtypes)
    if op in ACCUMULATING:
        return DType.INT32
    if op in SAME_AS_INPUT:
        return in_dtypes[0]
    if op == "QuantizeLinear":
        return in_dtypes[2] if len(in_dtypes) > 2 else DType.UINT8
    raise KeyError(op)
