"""Bit-exact integer kernels of the standard ONNX operators (numpy, int64 arithmetic).

Every kernel is a pure function on int64 arrays that returns a new int64 array; the docstring gives
its formula. Integer conventions (the C emitter must follow the same ones):

* divisions are explicit: `floor_div` rounds toward -inf, `round_div` rounds half up
  (`floor(a / b + 1/2)`), `trunc_div` rounds toward zero (C's `/`);
* averages (AveragePool, GlobalAveragePool, ReduceMean) round half up, like QuantLib's IntegerMean;
* accumulating kernels check that no int64 intermediate can overflow and raise `ValueError` otherwise.

Kernels raise `ValueError` for attributes they cannot honour; the interpreter turns it into a
`ReferenceError_` naming the node. The integer dialect (iSoftmax, ITAMax, ...) lives in `intops.py`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..frontend.shapes import window_output_size

Array = npt.NDArray[np.int64]

_INT64_LIMIT = 2**62  # keep one bit of head-room: a + b of two checked values cannot overflow


# --- integer helpers ---------------------------------------------------------------------------
def as_int64(x: npt.ArrayLike) -> Array:
    """`x` as an int64 array (no copy when it already is one)."""
    return np.asarray(x, dtype=np.int64)


def abs_max(x: Array) -> int:
    """Largest magnitude in `x` (0 for an empty array), as a Python int."""
    if x.size == 0:
        return 0
    return max(abs(int(x.max())), abs(int(x.min())))


def check_range(bound: int, what: str) -> None:
    """Raise `ValueError` when an intermediate bounded by `bound` in magnitude may overflow int64."""
    if bound >= _INT64_LIMIT:
        raise ValueError(f"{what}: intermediate values up to {bound} overflow 64-bit arithmetic")


def floor_div(a: Array, b: Array | int) -> Array:
    """floor(a / b), exact (numpy's integer `//` rounds toward -inf)."""
    return as_int64(np.floor_divide(a, b))


def trunc_div(a: Array, b: Array | int) -> Array:
    """a / b rounded toward zero (C semantics), exact."""
    q = np.floor_divide(a, b)
    r = a - q * b
    # floor and truncation differ when the division is inexact and the quotient is negative
    return as_int64(np.where((r != 0) & ((np.asarray(a) < 0) != (np.asarray(b) < 0)), q + 1, q))


def round_div(a: Array, b: Array | int) -> Array:
    """floor(a / b + 1/2) for b > 0 (round half up), exact: floor((2a + b) / 2b)."""
    return as_int64(np.floor_divide(2 * a + b, 2 * np.asarray(b, dtype=np.int64)))


def shift_right_floor(a: Array, s: Array) -> Array:
    """floor(a / 2**s) for s >= 0, exact for any s (shifts of 63 or more give 0 or -1)."""
    return as_int64(np.right_shift(a, np.minimum(s, 63)))


def _ints(value: Any, name: str) -> tuple[int, ...]:
    if isinstance(value, int | float):
        value = (value,)
    out = []
    for v in value:
        if float(v) != int(v):
            raise ValueError(f"attribute {name}={value!r} must hold integers")
        out.append(int(v))
    return tuple(out)


def integral(value: Any, name: str) -> int:
    """An attribute that must be an integer (float attributes holding integers are accepted)."""
    if isinstance(value, tuple) and len(value) == 1:
        value = value[0]
    if not isinstance(value, int | float) or not math.isfinite(value) or float(value) != int(value):
        raise ValueError(f"attribute {name}={value!r} must be an integer for integer arithmetic")
    return int(value)


# --- requantization ----------------------------------------------------------------------------
def level_bounds(n_levels: int, signed: bool) -> tuple[int, int]:
    """Range of an n_levels-quantized tensor: [-n/2, n/2 - 1] signed, [0, n - 1] unsigned."""
    if signed:
        return -(n_levels // 2), n_levels // 2 - 1
    return 0, n_levels - 1


def requant_shift(x: Array, mul: Array, add: Array, *, div: int, n_levels: int, signed: bool) -> Array:
    """RequantShift: y = clip(floor((x*mul + add + div//2) / div), lo, hi).

    lo, hi = -n/2, n/2-1 when signed else 0, n-1; mul/add are scalars or per channel ([C,1,1]),
    broadcast against x. The `div//2` term makes the floor a round-half-up.
    """
    if div <= 0:
        raise ValueError(f"RequantShift div must be positive, got {div}")
    check_range(abs_max(x) * abs_max(mul) + abs_max(add) + div, "RequantShift")
    lo, hi = level_bounds(n_levels, signed)
    return as_int64(np.clip(floor_div(x * mul + add + div // 2, div), lo, hi))


# --- sliding windows (Conv, pools) ----------------------------------------------------------------
def _window_geometry(
    spatial: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
    pads: Sequence[int],
    ceil_mode: bool,
) -> tuple[list[int], list[int]]:
    """Output sizes (the frontend's rule, `window_output_size`) and extra right padding (ceil_mode) per
    spatial dim."""
    n = len(spatial)
    outs, extra = [], []
    for i in range(n):
        size = window_output_size(spatial[i], kernel[i], strides[i], dilations[i], pads[i], pads[i + n], ceil_mode)
        if size is None:
            raise ValueError(f"kernel {tuple(kernel)} larger than padded input {tuple(spatial)}")
        q = size - 1
        outs.append(size)
        needed = q * strides[i] + dilations[i] * (kernel[i] - 1) + 1
        extra.append(max(0, needed - (spatial[i] + pads[i] + pads[i + n])))
    return outs, extra


def _windows(
    xp: Array, kernel: Sequence[int], strides: Sequence[int], dilations: Sequence[int], outs: Sequence[int]
) -> Array:
    """Stack the strided views of every kernel offset: shape (prod(kernel), *xp.shape[:2], *outs)."""
    views = []
    for offs in itertools.product(*(range(k) for k in kernel)):
        idx: list[slice] = [slice(None), slice(None)]
        for o, s, d, n in zip(offs, strides, dilations, outs, strict=True):
            start = o * d
            idx.append(slice(start, start + s * (n - 1) + 1, s))
        views.append(xp[tuple(idx)])
    return as_int64(np.stack(views))


def _spatial_attrs(
    x: Array,
    kernel: Sequence[int],
    strides: Sequence[int] | None,
    pads: Sequence[int] | None,
    dilations: Sequence[int] | None,
    auto_pad: str,
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    n = x.ndim - 2
    if len(kernel) != n:
        raise ValueError(f"kernel {tuple(kernel)} does not match input rank {x.ndim}")
    st = _ints(strides, "strides") if strides is not None else (1,) * n
    dl = _ints(dilations, "dilations") if dilations is not None else (1,) * n
    pd = _ints(pads, "pads") if pads is not None else (0,) * (2 * n)
    if auto_pad == "VALID":
        pd = (0,) * (2 * n)
    elif auto_pad not in ("NOTSET", ""):
        raise ValueError(f"auto_pad={auto_pad!r} is not supported; give explicit pads")
    if len(st) != n or len(dl) != n or len(pd) != 2 * n:
        raise ValueError(f"strides/dilations/pads {st}/{dl}/{pd} do not match {n} spatial dims")
    if min(st) < 1 or min(dl) < 1 or min(pd, default=0) < 0:
        raise ValueError(f"strides/dilations must be >= 1 and pads >= 0, got {st}/{dl}/{pd}")
    return st, pd, dl


def _pad_spatial(x: Array, pads: Sequence[int], extra: Sequence[int], value: int) -> Array:
    n = x.ndim - 2
    widths = [(0, 0), (0, 0)] + [(pads[i], pads[i + n] + extra[i]) for i in range(n)]
    return as_int64(np.pad(x, widths, mode="constant", constant_values=value))


# --- linear operators ------------------------------------------------------------------------------
def conv(
    x: Array,
    w: Array,
    b: Array | None = None,
    *,
    group: int = 1,
    strides: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    dilations: Sequence[int] | None = None,
    auto_pad: str = "NOTSET",
) -> Array:
    """Conv (N-D, NC* layout): y[n,m,o] = b[m] + sum_{c,k} x_pad[n, g*Cg + c, o*s + k*d] * w[m,c,k].

    g = m // (M/group); zero padding; depthwise is group == C.
    """
    if x.ndim < 3 or w.ndim != x.ndim:
        raise ValueError(f"Conv input {x.shape} and weight {w.shape} ranks differ or are < 3")
    n_batch, c_in = x.shape[:2]
    m_out, c_group = w.shape[:2]
    if group < 1 or c_in != c_group * group or m_out % group:
        raise ValueError(f"Conv channels: input {x.shape} vs weight {w.shape} with group {group}")
    kernel = w.shape[2:]
    st, pd, dl = _spatial_attrs(x, kernel, strides, pads, dilations, auto_pad)
    outs, extra = _window_geometry(x.shape[2:], kernel, st, dl, pd, False)
    k_numel = int(np.prod(kernel, dtype=np.int64))
    check_range(abs_max(x) * abs_max(w) * c_group * k_numel + (abs_max(b) if b is not None else 0), "Conv")
    win = _windows(_pad_spatial(x, pd, extra, 0), kernel, st, dl, outs)  # (K, N, C, *outs)
    p = int(np.prod(outs, dtype=np.int64))
    # columns: (N, G, Cg*K, P) with the channel index outer, the kernel offset inner (matches w's layout)
    cols = win.reshape(k_numel, n_batch, group, c_group, p).transpose(1, 2, 3, 0, 4)
    cols = cols.reshape(n_batch, group, c_group * k_numel, p)
    wm = w.reshape(group, m_out // group, c_group * k_numel)
    y = np.matmul(wm, cols).reshape(n_batch, m_out, *outs)
    if b is not None:
        if b.shape != (m_out,):
            raise ValueError(f"Conv bias shape {b.shape} != ({m_out},)")
        y = y + b.reshape(m_out, *([1] * len(outs)))
    return as_int64(y)


def gemm(
    a: Array,
    b: Array,
    c: Array | None = None,
    *,
    alpha: int = 1,
    beta: int = 1,
    trans_a: bool = False,
    trans_b: bool = False,
) -> Array:
    """Gemm: y = alpha * A' @ B' + beta * C, A' = A^T if transA, B' = B^T if transB; C broadcasts."""
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"Gemm needs 2-D operands, got {a.shape} and {b.shape}")
    a2 = a.T if trans_a else a
    b2 = b.T if trans_b else b
    if a2.shape[1] != b2.shape[0]:
        raise ValueError(f"Gemm inner dimensions differ: {a2.shape} @ {b2.shape}")
    acc_bound = abs_max(a) * abs_max(b) * a2.shape[1]
    check_range(abs(alpha) * acc_bound + (abs(beta) * abs_max(c) if c is not None else 0), "Gemm")
    y = np.matmul(a2, b2)
    if alpha != 1:
        y = alpha * y
    if c is not None and beta != 0:
        y = y + beta * c
    return as_int64(y)


def matmul(a: Array, b: Array) -> Array:
    """MatMul with numpy semantics: batched, broadcast batch dims, 1-D operands promoted and squeezed."""
    k = a.shape[-1]
    check_range(abs_max(a) * abs_max(b) * k, "MatMul")
    return as_int64(np.matmul(a, b))


def add(a: Array, b: Array) -> Array:
    """Add: y = a + b (broadcast)."""
    check_range(abs_max(a) + abs_max(b), "Add")
    return as_int64(a + b)


def sub(a: Array, b: Array) -> Array:
    """Sub: y = a - b (broadcast)."""
    check_range(abs_max(a) + abs_max(b), "Sub")
    return as_int64(a - b)


def mul(a: Array, b: Array) -> Array:
    """Mul: y = a * b (broadcast)."""
    check_range(abs_max(a) * abs_max(b), "Mul")
    return as_int64(a * b)


# --- pools and reductions -----------------------------------------------------------------------------
def max_pool(
    x: Array,
    *,
    kernel_shape: Sequence[int],
    strides: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    dilations: Sequence[int] | None = None,
    ceil_mode: bool = False,
    auto_pad: str = "NOTSET",
) -> Array:
    """MaxPool: y[n,c,o] = max_k x_pad[n, c, o*s + k*d]; padding never wins (it is -inf)."""
    st, pd, dl = _spatial_attrs(x, kernel_shape, strides, pads, dilations, auto_pad)
    outs, extra = _window_geometry(x.shape[2:], kernel_shape, st, dl, pd, ceil_mode)
    low = np.iinfo(np.int64).min
    win = _windows(_pad_spatial(x, pd, extra, low), kernel_shape, st, dl, outs)
    return as_int64(win.max(axis=0))


def average_pool(
    x: Array,
    *,
    kernel_shape: Sequence[int],
    strides: Sequence[int] | None = None,
    pads: Sequence[int] | None = None,
    dilations: Sequence[int] | None = None,
    ceil_mode: bool = False,
    count_include_pad: bool = False,
    auto_pad: str = "NOTSET",
) -> Array:
    """AveragePool: y = round_half_up(sum of the window / count).

    count = window elements inside the input (plus the explicit pads when count_include_pad);
    positions added by ceil_mode never count.
    """
    st, pd, dl = _spatial_attrs(x, kernel_shape, strides, pads, dilations, auto_pad)
    outs, extra = _window_geometry(x.shape[2:], kernel_shape, st, dl, pd, ceil_mode)
    n = x.ndim - 2
    sums = _windows(_pad_spatial(x, pd, extra, 0), kernel_shape, st, dl, outs).sum(axis=0)
    ones = np.ones((1, 1, *x.shape[2:]), dtype=np.int64)
    if count_include_pad:
        ones = _pad_spatial(ones, pd, [0] * n, 1)
        ones = _pad_spatial(ones, [0] * (2 * n), extra, 0)
    else:
        ones = _pad_spatial(ones, pd, extra, 0)
    counts = _windows(ones, kernel_shape, st, dl, outs).sum(axis=0)
    if np.any(counts == 0):
        raise ValueError("AveragePool window lies entirely in the padding")
    return round_div(as_int64(sums), counts)


def global_average_pool(x: Array) -> Array:
    """GlobalAveragePool: y[n,c,1..] = round_half_up(sum over spatial dims / their size)."""
    axes = tuple(range(2, x.ndim))
    return reduce_mean(x, axes=axes, keepdims=True)


def reduce_mean(x: Array, *, axes: Sequence[int] | None = None, keepdims: bool = True) -> Array:
    """ReduceMean (integer): y = floor(sum / count + 1/2) over `axes` (all axes when None)."""
    ax = tuple(range(x.ndim)) if axes is None else tuple(int(a) % x.ndim for a in axes)
    count = int(np.prod([x.shape[a] for a in ax], dtype=np.int64)) if ax else 1
    if count == 0:
        raise ValueError("mean over an empty axis")
    s = as_int64(np.sum(x, axis=ax, keepdims=keepdims))
    return round_div(s, count)


# --- data movement ------------------------------------------------------------------------------------
def flatten(x: Array, *, axis: int = 1) -> Array:
    """Flatten: reshape to (prod(shape[:axis]), prod(shape[axis:]))."""
    axis = axis % x.ndim if axis < 0 else axis
    left = math.prod(x.shape[:axis])
    return as_int64(x.reshape(left, math.prod(x.shape[axis:])))


def reshape(x: Array, *, shape: Sequence[int]) -> Array:
    """Reshape: target dims, 0 copies the input dim at that position, -1 is inferred."""
    target = [x.shape[i] if int(d) == 0 else int(d) for i, d in enumerate(shape)]
    return as_int64(x.reshape(target))


def transpose(x: Array, *, perm: Sequence[int] | None = None) -> Array:
    """Transpose: y = x with axes permuted by `perm` (reversed when absent)."""
    return as_int64(np.transpose(x, None if perm is None else tuple(int(p) for p in perm)))


def concat(xs: Sequence[Array], *, axis: int) -> Array:
    """Concat: join along `axis`."""
    return as_int64(np.concatenate(list(xs), axis=axis))


def gather(data: Array, indices: Array, *, axis: int = 0) -> Array:
    """Gather: y = take(data, indices, axis); negative indices count from the end."""
    dim = data.shape[axis]
    if indices.size and (int(indices.min()) < -dim or int(indices.max()) >= dim):
        raise ValueError(f"Gather indices out of range for axis of size {dim}")
    return as_int64(np.take(data, np.where(indices < 0, indices + dim, indices), axis=axis))


def slice_(
    x: Array,
    *,
    starts: Sequence[int],
    ends: Sequence[int],
    axes: Sequence[int] | None = None,
    steps: Sequence[int] | None = None,
) -> Array:
    """Slice: Python slicing x[start:end:step] per listed axis (bounds clamped as ONNX does)."""
    ax = range(len(starts)) if axes is None else axes
    st = (1,) * len(starts) if steps is None else steps
    idx = [slice(None)] * x.ndim
    for s, e, a, step in zip(starts, ends, ax, st, strict=True):
        if int(step) == 0:
            raise ValueError("Slice step 0")
        idx[int(a) % x.ndim] = slice(int(s), int(e), int(step))
    return as_int64(x[tuple(idx)])


def squeeze(x: Array, *, axes: Sequence[int] | None = None) -> Array:
    """Squeeze: drop the listed size-1 axes (every size-1 axis when absent)."""
    if axes is None:
        return as_int64(np.squeeze(x))
    return as_int64(np.squeeze(x, axis=tuple(int(a) % x.ndim for a in axes)))


def unsqueeze(x: Array, *, axes: Sequence[int]) -> Array:
    """Unsqueeze: insert size-1 axes at the listed positions of the output."""
    rank = x.ndim + len(axes)
    out = list(x.shape)
    for a in sorted(int(a) % rank for a in axes):
        out.insert(a, 1)
    return as_int64(x.reshape(out))


def pad(x: Array, *, pads: Sequence[int], mode: str = "constant", constant_value: int = 0) -> Array:
    """Pad: pads = [begin_0.., end_0..]; mode constant (value), edge or reflect; negative pads crop."""
    n = x.ndim
    p = [int(v) for v in pads]
    if len(p) != 2 * n:
        raise ValueError(f"Pad pads {tuple(p)} do not match rank {n}")
    if mode not in ("constant", "edge", "reflect"):
        raise ValueError(f"Pad mode {mode!r} is not supported")
    widths = [(max(p[i], 0), max(p[i + n], 0)) for i in range(n)]
    if mode == "constant":
        y = np.pad(x, widths, mode="constant", constant_values=constant_value)
    else:
        y = np.pad(x, widths, mode=mode)  # type: ignore[call-overload]
    crop = tuple(slice(-min(p[i], 0), y.shape[i] + min(p[i + n], 0)) for i in range(n))
    return as_int64(y[crop])


# --- element-wise -------------------------------------------------------------------------------------
def relu(x: Array) -> Array:
    """Relu: y = max(x, 0)."""
    return as_int64(np.maximum(x, 0))


def clip(x: Array, *, lo: float | None = None, hi: float | None = None) -> Array:
    """Clip: y = min(max(x, ceil(lo)), floor(hi)); exact for integers even with fractional bounds."""
    info = np.iinfo(np.int64)
    y = x
    if lo is not None and lo > -math.inf:
        y = np.maximum(y, min(math.ceil(lo), info.max))
    if hi is not None and hi < math.inf:
        y = np.minimum(y, max(math.floor(hi), info.min))
    return as_int64(y)


def identity(x: Array) -> Array:
    """Identity: y = x."""
    return as_int64(x)
