"""onnxruntime's requantization arithmetic, as constants the integer graph carries.

onnxruntime's CPU provider (MLAS) requantizes an int32 accumulator with float32 arithmetic:
``y = saturate(round_half_even(float32(acc) * scale) + zero_point)`` where ``scale`` is a float32 computed
once per tensor or channel (``(x_scale * w_scale) / y_scale`` for QLinearConv / QLinearMatMul / QGemm).
The graph stores every float32 as its IEEE-754 bit pattern in an int32 constant, so constants stay integers
and the C kernels reinterpret the bits. `docs/onnx_quantization.md` derives each formula.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

DOMAIN = "deeploy_tiler"  # the domain of the integer-dialect operators this frontend introduces
REQUANT_FLOAT = "RequantFloat"
QLINEAR_ADD = "QAdd"


def f32(x: Any) -> F32:
    return np.asarray(x, dtype=np.float32)


def float_bits(x: Any) -> I64:
    """float32 values -> their bit patterns as (signed) int32 values held in int64."""
    return f32(x).view(np.int32).astype(np.int64)


def bits_float(bits: Any) -> F32:
    """The inverse of `float_bits`."""
    return np.asarray(bits, dtype=np.int64).astype(np.int32).view(np.float32)


def conv_scale(x_scale: Any, w_scale: Any, y_scale: Any) -> F32:
    """QLinearConv / QLinearMatMul / QGemm output scale: (x_scale * w_scale) / y_scale, each step float32."""
    return f32(f32(f32(x_scale) * f32(w_scale)) / f32(y_scale))


def qadd_params(a_scale: float, a_zp: int, b_scale: float, b_zp: int, c_scale: float, c_zp: int) -> tuple[F32, ...]:
    """MLAS QLinearAdd constants: ratio_a = a_s / c_s, ratio_b = b_s / c_s and the fixed part
    c_zp - (ratio_a * a_zp + ratio_b * b_zp), all float32 (the sum contracted into one fused multiply-add)."""
    ra = f32(f32(a_scale) / f32(c_scale))
    rb = f32(f32(b_scale) / f32(c_scale))
    inner = fma32(f32(a_zp), ra, f32(rb * f32(b_zp)))
    fixed = f32(f32(c_zp) - inner)
    return ra, rb, fixed


def fma32(a: Any, b: Any, c: Any) -> F32:
    """float32 fused multiply-add round(a*b + c): the product of two float32 is exact in float64, and the
    float64 sum rounds once more; the C kernels compute the very same float64 expression."""
    return f32(np.asarray(a, np.float64) * np.asarray(b, np.float64) + np.asarray(c, np.float64))


def quantize_value(x: Any, scale: float, zp: int, lo: int, hi: int) -> I64:
    """QuantizeLinear: clip(rne(x / scale) + zp, lo, hi) in float32."""
    return np.clip(np.rint(f32(f32(x) / f32(scale))).astype(np.int64) + zp, lo, hi).astype(np.int64)


def dequantize_value(q: Any, scale: float, zp: int) -> F32:
    """DequantizeLinear: (q - zp) * scale in float32."""
    return f32(f32(np.asarray(q, np.int64) - zp) * f32(scale))


# Element-wise float functions an 8-bit -> 8-bit table can stand for (float32 as onnxruntime's CPU kernels).
UNARY_TABLE_OPS = frozenset({"Sigmoid", "HardSigmoid", "HardSwish", "LeakyRelu", "Tanh", "Relu"})


def unary_float(op: str, alpha: float | None, beta: float | None) -> Any:
    """The float32 function of a table-lowered element-wise operator (ONNX definitions, default attributes)."""
    one, zero = np.float32(1.0), np.float32(0.0)
    if op == "Sigmoid":
        return lambda v: one / (one + np.exp(-f32(v)))
    if op == "Tanh":
        return lambda v: np.tanh(f32(v))
    if op == "Relu":
        return lambda v: np.maximum(f32(v), zero)
    if op == "LeakyRelu":
        a = np.float32(0.01 if alpha is None else alpha)
        return lambda v: np.where(f32(v) >= 0, f32(v), f32(f32(v) * a))
    a = np.float32(0.2 if alpha is None else alpha) if op == "HardSigmoid" else np.float32(1 / 6)
    b = np.float32(0.5 if beta is None else beta) if op == "HardSigmoid" else np.float32(0.5)

    def hard_sigmoid(v: Any) -> Any:
        return np.clip(f32(f32(f32(v) * a) + b), zero, one)

    if op == "HardSigmoid":
        return hard_sigmoid
    if op == "HardSwish":
        return lambda v: f32(f32(v) * hard_sigmoid(v))
    raise KeyError(op)
