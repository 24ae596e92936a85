"""float32 reference kernels with a defined evaluation order, so the C kernels reproduce them bit for bit.

Values arrive and leave as IEEE-754 bit patterns in int64 arrays (the IR's FLOAT32 convention); every
arithmetic step is one float32 operation rounded to nearest even (numpy float32 ufuncs: no fused
multiply-add, no wider intermediate). The order, which the C kernels under emitter/c/kernels/f32_*.tmpl.h
follow exactly (docs/float32.md):

* Conv: per output, acc = +0; for ci (the group's input channels), ky, kx in that nested order, taps
  inside the input only (padding is skipped, not added): acc = acc + x * w; then y = acc + bias.
* Gemm / MatMul: acc = +0; for k = 0 .. K-1: acc = acc + a[i, k] * b[k, j]; then y = acc + c (Gemm).
* Add / Sub / Mul: one rounding per element (broadcast). Relu: x > 0 ? x : +0. Clip: x < lo ? lo :
  (x > hi ? hi : x).
* MaxPool: m = -inf; for ky, kx over the taps inside the input: m = v > m ? v : m.
* AveragePool / GlobalAveragePool: s = +0; for ky, kx over the taps inside the input: s = s + v; then
  y = s / float(count) (count: those taps, or with count_include_pad the taps inside the padded input;
  +0 for a window of padding only).

The whole reduction of an output element is one call: K is never split across tiles (the geometry of
Conv / Gemm / MatMul / pools makes the reduced dimensions whole in every tile, ops.geometry).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from ..frontend.requant import bits_float, float_bits
from .kernels import Array, _spatial_attrs, _window_geometry

F32 = npt.NDArray[np.float32]
Attrs = Mapping[str, Any]
FloatKernel = Callable[[Sequence[Array | None], Attrs], Array]

_ZERO = np.float32(0.0)


def _window_taps(
    x: F32, kernel: Sequence[int], attrs: Attrs, ceil_mode: bool
) -> tuple[list[int], list[tuple[F32, npt.NDArray[np.bool_]]], tuple[int, ...], tuple[int, ...]]:
    """Output sizes and, per kernel offset in row-major order, the strided input values of every output
    (N, C, *outs) and whether that tap lies inside the input (*outs); plus the strides and pads."""
    st, pd, dl = _spatial_attrs(
        x.astype(np.int64),  # only its shape is read
        kernel,
        attrs.get("strides"),
        attrs.get("pads"),
        attrs.get("dilations"),
        str(attrs.get("auto_pad", "NOTSET")),
    )
    n = x.ndim - 2
    outs, extra = _window_geometry(x.shape[2:], kernel, st, dl, pd, ceil_mode)
    widths = [(0, 0), (0, 0)] + [(pd[i], pd[i + n] + extra[i]) for i in range(n)]
    xp = np.pad(x, widths)
    inside = np.pad(np.ones(x.shape[2:], dtype=bool), widths[2:])
    taps = []
    for offs in np.ndindex(*kernel):
        idx = tuple(slice(o * d, o * d + s * (m - 1) + 1, s) for o, s, d, m in zip(offs, st, dl, outs, strict=True))
        taps.append((xp[(slice(None), slice(None), *idx)], inside[idx]))
    return outs, taps, st, pd


def conv_f32(x: F32, w: F32, b: F32 | None, *, group: int, attrs: Attrs) -> F32:
    """Conv in the documented order (channels of the group, then the kernel offsets; bias last)."""
    if x.ndim < 3 or w.ndim != x.ndim:
        raise ValueError(f"Conv input {x.shape} and weight {w.shape} ranks differ or are < 3")
    m_out, c_group = w.shape[:2]
    if group < 1 or x.shape[1] != c_group * group or m_out % group:
        raise ValueError(f"Conv channels: input {x.shape} vs weight {w.shape} with group {group}")
    outs, taps, _, _ = _window_taps(x, w.shape[2:], attrs, False)
    first_channel = (np.arange(m_out) // (m_out // group)) * c_group  # the group's channel 0, per output
    acc = np.zeros((x.shape[0], m_out, *outs), dtype=np.float32)
    wk = w.reshape(m_out, c_group, -1)
    bshape = (1, m_out) + (1,) * len(outs)
    for ci in range(c_group):
        for k, (xs, inside) in enumerate(taps):
            prod = (xs[:, first_channel + ci] * wk[:, ci, k].reshape(bshape)).astype(np.float32)
            acc = np.where(inside, (acc + prod).astype(np.float32), acc)
    if b is not None:
        if b.shape != (m_out,):
            raise ValueError(f"Conv bias shape {b.shape} != ({m_out},)")
        acc = (acc + b.reshape(bshape)).astype(np.float32)
    return acc


def matmul_f32(a: F32, b: F32) -> F32:
    """(Batched, broadcast) matrix product, k sequential from 0; 1-D operands as in numpy / ONNX."""
    a2 = a.reshape(1, -1) if a.ndim == 1 else a
    b2 = b.reshape(-1, 1) if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(f"MatMul inner dimensions differ: {a.shape} @ {b.shape}")
    shape = (*np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]), a2.shape[-2], b2.shape[-1])
    acc = np.zeros(shape, dtype=np.float32)
    for k in range(a2.shape[-1]):
        acc = (acc + (a2[..., :, k : k + 1] * b2[..., k : k + 1, :]).astype(np.float32)).astype(np.float32)
    if a.ndim == 1:
        acc = acc[..., 0, :]
    if b.ndim == 1:
        acc = acc[..., 0]
    return acc


def gemm_f32(a: F32, b: F32, c: F32 | None, *, trans_a: bool, trans_b: bool) -> F32:
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"Gemm needs 2-D operands, got {a.shape} and {b.shape}")
    y = matmul_f32(a.T if trans_a else a, b.T if trans_b else b)
    return y if c is None else (y + c).astype(np.float32)


def clip_f32(x: F32, lo: float | None, hi: float | None) -> F32:
    lo32 = np.float32(-np.inf if lo is None else lo)
    hi32 = np.float32(np.inf if hi is None else hi)
    return np.where(x < lo32, lo32, np.where(x > hi32, hi32, x)).astype(np.float32)


def pool_f32(x: F32, attrs: Attrs, *, average: bool) -> F32:
    """MaxPool / AveragePool in the documented order."""
    kernel = tuple(int(k) for k in attrs["kernel_shape"])
    if average and int(attrs.get("ceil_mode", 0)) and int(attrs.get("count_include_pad", 0)):
        raise ValueError("AveragePool with ceil_mode and count_include_pad is not supported in float32")
    outs, taps, st, pd = _window_taps(x, kernel, attrs, bool(int(attrs.get("ceil_mode", 0))))
    n = x.ndim - 2
    if not average:
        m = np.full((*x.shape[:2], *outs), -np.inf, dtype=np.float32)
        for xs, inside in taps:
            m = np.where(inside & (xs > m), xs, m).astype(np.float32)
        return m
    s = np.zeros((*x.shape[:2], *outs), dtype=np.float32)
    count = np.zeros(tuple(outs), dtype=np.int64)
    for xs, inside in taps:
        s = np.where(inside, (s + xs).astype(np.float32), s)
        count += inside
    if int(attrs.get("count_include_pad", 0)):
        # taps inside the explicitly padded input: per dim, the kernel offsets whose index is in range
        per_dim = []
        for i in range(n):
            o = np.arange(outs[i]) * st[i]
            d = int(tuple(attrs.get("dilations", (1,) * n))[i])
            offs = o[:, None] + np.arange(kernel[i])[None, :] * d  # padded coordinates
            per_dim.append(np.sum(offs < x.shape[2 + i] + pd[i] + pd[i + n], axis=1))
        count = np.ones(tuple(outs), dtype=np.int64)
        for i, c in enumerate(per_dim):
            count = count * c.reshape((1,) * i + (-1,) + (1,) * (n - 1 - i))
    safe = np.maximum(count, 1).astype(np.float32)
    return np.where(count > 0, (s / safe).astype(np.float32), _ZERO).astype(np.float32)  # padding only: +0


def global_average_pool_f32(x: F32) -> F32:
    s = np.zeros(x.shape[:2], dtype=np.float32)
    flat = x.reshape(*x.shape[:2], -1)
    for i in range(flat.shape[2]):
        s = (s + flat[:, :, i]).astype(np.float32)
    y = (s / np.float32(flat.shape[2])).astype(np.float32)
    return y.reshape(*x.shape[:2], *([1] * (x.ndim - 2)))


def _float_attr(a: Attrs, name: str) -> float | None:
    v = a.get(name)
    if isinstance(v, tuple):
        v = v[0] if v else None
    return None if v is None else float(v)


def _lift(fn: Callable[[list[F32 | None], Attrs], F32]) -> FloatKernel:
    """A float kernel over bit patterns: bits in, float32 computation, bits out."""

    def run(ops: Sequence[Array | None], a: Attrs) -> Array:
        vals = [None if o is None else bits_float(o) for o in ops]
        if any(v is None for v in vals[:1]):
            raise ValueError("required operand #0 is missing")
        return float_bits(fn(vals, a))

    return run


def _need(v: F32 | None) -> F32:
    if v is None:
        raise ValueError("a required operand is missing")
    return v


def _gemm(v: list[F32 | None], a: Attrs) -> F32:
    if float(a.get("alpha", 1)) != 1 or (len(v) > 2 and v[2] is not None and float(a.get("beta", 1)) != 1):
        raise ValueError("Gemm alpha / beta other than 1 are not supported in float32")
    c = v[2] if len(v) > 2 else None
    return gemm_f32(
        _need(v[0]), _need(v[1]), c, trans_a=bool(int(a.get("transA", 0))), trans_b=bool(int(a.get("transB", 0)))
    )


FLOAT_KERNELS: Mapping[str, FloatKernel] = MappingProxyType(
    {
        "Conv": _lift(
            lambda v, a: conv_f32(
                _need(v[0]), _need(v[1]), v[2] if len(v) > 2 else None, group=int(a.get("group", 1)), attrs=a
            )
        ),
        "Gemm": _lift(_gemm),
        "MatMul": _lift(lambda v, a: matmul_f32(_need(v[0]), _need(v[1]))),
        "Add": _lift(lambda v, a: (_need(v[0]) + _need(v[1])).astype(np.float32)),
        "Sub": _lift(lambda v, a: (_need(v[0]) - _need(v[1])).astype(np.float32)),
        "Mul": _lift(lambda v, a: (_need(v[0]) * _need(v[1])).astype(np.float32)),
        "Relu": _lift(lambda v, a: np.where(_need(v[0]) > _ZERO, _need(v[0]), _ZERO).astype(np.float32)),
        "Clip": _lift(lambda v, a: clip_f32(_need(v[0]), _float_attr(a, "min"), _float_attr(a, "max"))),
        "MaxPool": _lift(lambda v, a: pool_f32(_need(v[0]), a, average=False)),
        "AveragePool": _lift(lambda v, a: pool_f32(_need(v[0]), a, average=True)),
        "GlobalAveragePool": _lift(lambda v, a: global_average_pool_f32(_need(v[0]))),
    }
)
# Operators whose integer kernels are exact on float32 bit patterns (they only move elements).
BIT_MOVEMENT_OPS = frozenset({"Flatten", "Reshape", "Transpose", "Identity", "Squeeze", "Unsqueeze", "Concat", "Slice"})
