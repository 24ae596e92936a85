"""Kernels of onnxruntime's quantized arithmetic (the `deeploy_tiler` dialect the ONNX frontend lowers QDQ and
QOperator models to). `docs/onnx_quantization.md` derives each formula from onnxruntime's CPU provider (MLAS)
and says how it was checked element by element. Float32 values travel as their bit patterns in int64 arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .kernels import Array, as_int64

F32 = npt.NDArray[np.float32]


def bits_float(bits: Any) -> F32:
    """int32 bit patterns (held in int64) -> the float32 values they encode."""
    return np.asarray(bits, dtype=np.int64).astype(np.int32).view(np.float32)


def fma32(a: Any, b: Any, c: Any) -> F32:
    """float32 fused multiply-add: the product of two float32 is exact in float64, the float64 sum rounds once,
    the result rounds to float32. The C kernels evaluate the same float64 expression."""
    return np.asarray(np.asarray(a, np.float64) * np.asarray(b, np.float64) + np.asarray(c, np.float64), np.float32)


def requant_float(
    acc: Array, scale_bits: Array, zero_point: Array, lo: int, hi: int, *, zp_in_float: bool = False
) -> Array:
    """y = clip(round_half_even(float32(acc) * scale) + zero_point, lo, hi) (MLAS MlasRequantizeOutput).

    float32(acc) rounds to nearest even (cvtdq2ps); the clamp commutes with the rounding (integer bounds).
    zp_in_float (MLAS QLinearMul): y = clip(round_half_even(float32(acc) * scale + float32(zero_point))).
    """
    if acc.size and int(np.abs(acc).max()) >= 2**31:
        raise ValueError("RequantFloat: accumulator outside int32")
    prod = acc.astype(np.float32) * bits_float(scale_bits)
    if zp_in_float:
        return as_int64(np.clip(np.rint(prod + np.asarray(zero_point).astype(np.float32)).astype(np.int64), lo, hi))
    return as_int64(np.clip(np.rint(prod).astype(np.int64) + zero_point, lo, hi))


def qadd(
    a: Array, b: Array, *, ratio_a: int, ratio_b: int, fixed: int, scalar_a: bool, scalar_b: bool, lo: int, hi: int
) -> Array:
    """MLAS QLinearAdd (AVX2 kernel): y = saturate(rne(fma(a, ratio_a, fma(b, ratio_b, fixed)))).

    An operand that is one value per run of the innermost dimension (scalar_a / scalar_b) is first folded into
    the fixed part with a plain multiply and add: fixed' = float32(fixed + float32(v * ratio)).
    """
    ra, rb, fx = (bits_float(v) for v in (ratio_a, ratio_b, fixed))
    fa, fb = a.astype(np.float32), b.astype(np.float32)
    if scalar_a:
        t = fma32(fb, rb, np.float32(fx + np.float32(fa * ra)))
    elif scalar_b:
        t = fma32(fa, ra, np.float32(fx + np.float32(fb * rb)))
    else:
        t = fma32(fa, ra, fma32(fb, rb, fx))
    return as_int64(np.clip(np.rint(t).astype(np.int64), lo, hi))
