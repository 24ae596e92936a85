"""Bit-exact kernels of the integer operator dialect exported by QuantLib (PACTOps).

The formulas follow QuantLib's integer forward passes (I-BERT style approximations), written here
in exact integer arithmetic; `docs/integer_ops.md` derives each one, names its attributes and says how
it was verified against the shared models' `outputs.npz`. All reductions run over the LAST axis
unless stated otherwise. Kernels raise `ValueError` for attributes they cannot honour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .kernels import (
    Array,
    abs_max,
    as_int64,
    check_range,
    floor_div,
    level_bounds,
    round_div,
    shift_right_floor,
    trunc_div,
)

_MAX_ROOT = math.isqrt(2**63 - 1)  # 3037000499


def isqrt(x: Array) -> Array:
    """Element-wise floor(sqrt(x)) for x >= 0, exact (float estimate corrected by integer checks)."""
    if x.size and int(x.min()) < 0:
        raise ValueError("square root of a negative number")
    # Clipped to isqrt(2**63 - 1) so that r * r cannot wrap around in int64 (the float estimate of a
    # value near 2**63 rounds up to a root whose square overflows).
    r = np.minimum(np.floor(np.sqrt(x.astype(np.float64))), _MAX_ROOT).astype(np.int64)
    # the float estimate can be off by one either way for large x: fix it exactly
    r = np.where(r * r > x, r - 1, r)
    r = np.where((r < _MAX_ROOT) & ((r + 1) * (r + 1) <= x), r + 1, r)
    return as_int64(r)


def isoftmax(x: Array, *, coeff_a: int, coeff_b: int, coeff_c: int, log2: int, n_levels: int) -> Array:
    """iSoftmax (I-BERT exponential, unsigned output), over the last axis.

    xt = x - max(x);  z = floor(-xt / log2);  p = xt + z*log2          (p in (-log2, 0])
    e = floor((A*(p + B)^2 + C) / 2^z);  y = clip(floor(e*(n-1) / sum(e)), 0, n-1)
    """
    if log2 <= 0:
        raise ValueError(f"iSoftmax log2 must be positive, got {log2}")
    if x.shape[-1] == 0:
        return as_int64(x.copy())
    xt = x - x.max(axis=-1, keepdims=True)
    z = floor_div(-xt, log2)
    p = xt + z * log2
    check_range((log2 + abs(coeff_b)) ** 2 * abs(coeff_a) + abs(coeff_c), "iSoftmax")
    e = shift_right_floor(coeff_a * (p + coeff_b) ** 2 + coeff_c, z)
    total = e.sum(axis=-1, keepdims=True)
    if int(total.min()) <= 0:
        raise ValueError("iSoftmax: the sum of exponentials is not positive (check coeffA/B/C)")
    check_range(abs_max(e) * (n_levels - 1), "iSoftmax")
    return as_int64(np.clip(floor_div(e * (n_levels - 1), total), 0, n_levels - 1))


def _log2_exact(n_levels: int) -> int:
    b = n_levels.bit_length() - 1
    if n_levels <= 1 or 1 << b != n_levels:
        raise ValueError(f"ITAMax needs a power-of-two n_levels, got {n_levels}")
    return b


def floor_pow2_sum(n: int, shifts: Sequence[int]) -> int:
    """floor(sum_j n / 2^shifts[j]) for n > 0, shifts >= 0, exact with bounded Python integers.

    Splits at K = min(shift) + 32: floor((P + E) / 2^K) = floor((P + floor(E)) / 2^K), where
    P = sum over shifts <= K of n * 2^(K - s) and E = sum over the others of n / 2^(s - K), itself
    the same problem; a sum whose every shift is >= bitlen(n) + bitlen(count) is below 1.
    """
    if not shifts or min(shifts) >= n.bit_length() + len(shifts).bit_length():
        return 0
    k = min(shifts) + 32
    head = sum(n << (k - s) for s in shifts if s <= k)
    tail = [s - k for s in shifts if s > k]
    return (head + floor_pow2_sum(n, tail)) >> k


def itamax(x: Array, *, n_levels: int) -> Array:
    """ITAMax (ITA's shift-based softmax, unsigned output), over the last axis. B = log2(n).

    shift = floor((max(x) - x) * B / 2^B + 1/2)        (= (diff + 16) >> 5 for n = 256)
    s = floor(sum(n / 2^shift));  inv = floor(n*(n-1) / s);  y = floor(inv / 2^shift)
    """
    big_b = _log2_exact(n_levels)
    if x.shape[-1] == 0:
        return as_int64(x.copy())
    diff = x.max(axis=-1, keepdims=True) - x
    check_range(abs_max(diff) * big_b + n_levels, "ITAMax")
    shift = round_div(diff * big_b, 1 << big_b)
    top = int(shift.max())
    if top + big_b + x.shape[-1].bit_length() < 62:
        # exact rational sum: n / 2^shift = n * 2^(top - shift) / 2^top
        scaled = np.left_shift(np.int64(n_levels), top - shift).sum(axis=-1, keepdims=True)
        exp_sum = shift_right_floor(as_int64(scaled), np.full_like(scaled, top))
    else:  # very wide inputs: the same floor, computed in bounded pieces with Python integers
        rows = shift.reshape(-1, shift.shape[-1])
        sums = [floor_pow2_sum(n_levels, [int(v) for v in row]) for row in rows]
        exp_sum = as_int64(np.array(sums, dtype=np.int64).reshape(*shift.shape[:-1], 1))
    inv = as_int64(np.floor_divide(n_levels * (n_levels - 1), exp_sum))  # exp_sum >= n (the max scores n)
    return shift_right_floor(np.broadcast_to(inv, shift.shape), shift)


def irmsnorm(x: Array, weight: Array, *, d: int, n_levels: int) -> Array:
    """iRMSNorm over the last axis (L elements), signed n_levels output.

    rms = floor(sqrt(floor(sum(x^2) / L) + 1));  y = clip(floor(x*w / (rms*D)), -n/2, n/2-1)
    """
    if d <= 0:
        raise ValueError(f"iRMSNorm D must be positive, got {d}")
    length = x.shape[-1]
    check_range(abs_max(x) ** 2 * length + abs_max(x) * abs_max(weight), "iRMSNorm")
    ms = floor_div(np.sum(x * x, axis=-1, keepdims=True), length)
    rms = isqrt(ms + 1)
    lo, hi = level_bounds(n_levels, True)
    return as_int64(np.clip(floor_div(x * weight, rms * d), lo, hi))


def ilayernorm(x: Array, weight: Array, bias: Array, *, d: int, n_levels: int) -> Array:
    """iLayerNorm over the last axis (L elements), signed n_levels output.

    mean = trunc(sum(x) / L);  c = x - mean;  std = floor(sqrt(floor(sum(c^2) / L) + 1))
    y = clip(floor((trunc(c*w / std) + b) / D), -n/2, n/2-1)        (trunc: toward zero)
    """
    if d <= 0:
        raise ValueError(f"iLayerNorm D must be positive, got {d}")
    length = x.shape[-1]
    check_range(abs_max(x) * length, "iLayerNorm")
    mean = trunc_div(np.sum(x, axis=-1, keepdims=True), length)
    c = x - mean
    check_range(abs_max(c) ** 2 * length + abs_max(c) * abs_max(weight) + abs_max(bias), "iLayerNorm")
    var = floor_div(np.sum(c * c, axis=-1, keepdims=True), length)
    std = isqrt(var + 1)
    lo, hi = level_bounds(n_levels, True)
    return as_int64(np.clip(floor_div(trunc_div(c * weight, std) + bias, d), lo, hi))


def igelu(x: Array, *, b: int, one: int) -> Array:
    """iGELU (I-BERT second-order erf), int32 accumulator output (a RequantShift follows).

    L = sign(x) * (one - (min(|x|, -b) + b)^2);  y = x * floor((one + L) / 2)
    """
    if b > 0:
        raise ValueError(f"iGELU b must be <= 0, got {b}")
    q = np.minimum(np.abs(x), -b)
    check_range((abs(b) ** 2 + abs(one)) * abs_max(x), "iGELU")
    big_l = np.sign(x) * (one - (q + b) ** 2)
    return as_int64(x * floor_div(one + big_l, 2))


def ihardswish(x: Array, *, one_over_six: int, six: int, three: int) -> Array:
    """iHardswish, int32 accumulator output (a RequantShift follows).

    y = x * (clip(x + three, 0, six) * one_over_six)
    """
    if six < 0:
        raise ValueError(f"iHardswish six must be >= 0, got {six}")
    check_range(abs_max(x) * six * abs(one_over_six), "iHardswish")
    return as_int64(x * (np.clip(x + three, 0, six) * one_over_six))


def true_integer_div(x: Array, *, delta: int, eps: int, eta: int, y: int) -> Array:
    """TrueIntegerDiv (division by the constant y, scaled by Delta): a multiplication by a floored factor.

    k = floor(Delta * eta / (y * eta + eps));  out = x * k
    """
    den = y * eta + eps
    if den <= 0:
        raise ValueError(f"TrueIntegerDiv denominator y*eta + eps = {den} must be positive")
    factor = (delta * eta) // den
    check_range(abs_max(x) * abs(factor), "TrueIntegerDiv")
    return as_int64(x * factor)


def integer_mean(x: Array, *, axes: Sequence[int], keepdims: bool) -> Array:
    """IntegerMean: y = floor(mean(x over axes) + 1/2) (round half up)."""
    ax = tuple(int(a) % x.ndim for a in axes)
    count = math.prod(x.shape[a] for a in ax)
    if count == 0:
        raise ValueError("IntegerMean over an empty axis")
    return round_div(as_int64(np.sum(x, axis=ax, keepdims=keepdims)), count)
