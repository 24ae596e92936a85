"""Kernels of onnxruntime's quantized arithmetic (the `deeploy_tiler` dialect the ONNX frontend lowers QDQ and
QOperator models to). The formulas live in `frontend/requant.py`, shared with the constant folding there;
`docs/onnx_quantization.md` derives them from onnxruntime's CPU provider and says how they were checked."""

from __future__ import annotations

import numpy as np

from ..frontend import requant as R
from .kernels import Array, as_int64


def requant_float(acc: Array, scale_bits: Array, zero_point: Array, lo: int, hi: int) -> Array:
    """y = clip(round_half_even(float32(acc) * scale) + zero_point, lo, hi); scale as float32 bit patterns."""
    if np.any(np.abs(acc) >= 2**31):
        raise ValueError("RequantFloat: accumulator outside int32")
    return as_int64(R.requant_float(acc, scale_bits, zero_point, lo, hi))


def qadd(
    a: Array, b: Array, *, ratio_a: int, ratio_b: int, fixed: int, scalar_a: bool, scalar_b: bool, lo: int, hi: int
) -> Array:
    """onnxruntime's QLinearAdd: saturate(rne(fma(a, ratio_a, fma(b, ratio_b, fixed)))) (see requant.qadd)."""
    return as_int64(R.qadd(a, b, ratio_a, ratio_b, fixed, lo, hi, scalar_a, scalar_b))
