"""Operator geometry as data: loop dimensions, what may be tiled, and affine operand access maps.

A node's loop dimensions are its output tensor's dimensions. An output tile is a box
`[o_d, o_d + t_d)` per output dimension. Every operand dimension is either

* `Full(reason)`: the whole dimension is needed by every tile (a reduction such as Conv's input
  channels or MatMul's K, a broadcast dimension of size 1, Concat's axis, ...), or
* `Follow(out_dim, stride, window, pad_begin)`: the output tile `[o0, o0 + t)` along `out_dim` needs
  operand indices `[o0 * stride - pad_begin, (o0 + t - 1) * stride - pad_begin + window)`, clipped
  to `[0, D)` (window = dilation * (kernel - 1) + 1; an identity map has stride 1, window 1, pad 0).

Kernel policy (preferred multiples, scratch, op costs) lives apart, in `ops.policy`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..ir import DType
from ..units import ceil_div

Region = tuple[tuple[int, int], ...]  # per dimension (start, size), as in plan.py


@dataclass(frozen=True)
class Follow:
    """Operand dimension indexed affinely by one output dimension."""

    out_dim: int
    stride: int = 1
    window: int = 1
    pad_begin: int = 0

    def span(self, start: int, size: int, extent: int) -> tuple[int, int]:
        """(start, size) of the operand interval an output tile [start, start + size) needs, clipped
        to [0, extent). The size is 0 when the tile only reads padding."""
        lo = start * self.stride - self.pad_begin
        hi = (start + size - 1) * self.stride - self.pad_begin + self.window
        lo_c, hi_c = max(lo, 0), min(hi, extent)
        return (lo_c, hi_c - lo_c) if hi_c > lo_c else (min(lo_c, extent), 0)

    @property
    def has_gaps(self) -> bool:
        """True when consecutive outputs skip operand indices (stride > window): the union of the
        tiles' regions is then smaller than the untiled region."""
        return self.stride > self.window


@dataclass(frozen=True)
class Full:
    """Operand dimension needed whole by every tile; `reason` says why (shown in infeasibility reports)."""

    reason: str


DimMap = Follow | Full


@dataclass(frozen=True)
class OperandMap:
    """One operand of a node and how an output tile indexes it."""

    index: int  # position in node.inputs
    tensor: str
    shape: tuple[int, ...]
    dtype: DType
    role: Literal["input", "weight"]  # weight: a constant operand
    dims: tuple[DimMap, ...]

    def __post_init__(self) -> None:
        if len(self.dims) != len(self.shape):
            raise ValueError(f"operand {self.tensor}: {len(self.dims)} maps for shape {self.shape}")
        outs = [m.out_dim for m in self.dims if isinstance(m, Follow)]
        if len(outs) != len(set(outs)):
            raise ValueError(f"operand {self.tensor}: two dimensions follow the same output dimension")

    @property
    def followed(self) -> frozenset[int]:
        """Output dimensions this operand's region depends on."""
        return frozenset(m.out_dim for m in self.dims if isinstance(m, Follow))

    def region(self, out_region: Region) -> Region:
        """The operand region an output tile needs (clipped; a size may be 0 for pure padding)."""
        out: list[tuple[int, int]] = []
        for m, extent in zip(self.dims, self.shape, strict=True):
            if isinstance(m, Full):
                out.append((0, extent))
            else:
                start, size = out_region[m.out_dim]
                out.append(m.span(start, size, extent))
        return tuple(out)


@dataclass(frozen=True)
class Geometry:
    """Loop space and access maps of one node (names kept for the schedule; the solver ignores them)."""

    op_type: str
    output: str
    out_shape: tuple[int, ...]
    out_dtype: DType
    untileable: tuple[str | None, ...]  # per output dim: None when tileable, else why not
    operands: tuple[OperandMap, ...]
    loop_order: tuple[int, ...]  # output dims, outermost loop first

    def __post_init__(self) -> None:
        rank = len(self.out_shape)
        if len(self.untileable) != rank or sorted(self.loop_order) != list(range(rank)):
            raise ValueError(f"{self.op_type}: untileable / loop_order do not match output rank {rank}")
        for op in self.operands:
            for m in op.dims:
                if isinstance(m, Follow) and not 0 <= m.out_dim < rank:
                    raise ValueError(f"{self.op_type}: operand {op.tensor} follows missing dim {m.out_dim}")

    @property
    def rank(self) -> int:
        return len(self.out_shape)

    def signature(self) -> tuple[object, ...]:
        """Everything but the tensor names: equal signatures tile alike."""
        ops = tuple((op.index, op.shape, op.dtype, op.role, op.dims) for op in self.operands)
        return (self.op_type, self.out_shape, self.out_dtype, self.untileable, ops, self.loop_order)

    def tileable(self, dim: int) -> bool:
        return self.untileable[dim] is None and self.out_shape[dim] > 1


def dim_tiles(extent: int, tile: int) -> tuple[tuple[int, int], ...]:
    """Tiles (start, size) of one dimension cut into pieces of `tile` (the last one may be shorter)."""
    if not 1 <= tile <= max(extent, 1):
        raise ValueError(f"tile {tile} outside [1, {extent}]")
    return tuple((s, min(tile, extent - s)) for s in range(0, extent, tile))


def tile_candidates(extent: int) -> tuple[int, ...]:
    """Distinct tile sizes ceil(D / k) for k = 1..D, largest first (every other size only adds tiles)."""
    sizes = {ceil_div(extent, k) for k in range(1, extent + 1)}
    return tuple(sorted(sizes, reverse=True)) if extent > 0 else (1,)


def region_numel(region: Region) -> int:
    n = 1
    for _, size in region:
        n *= size
    return n


def contiguous_runs(region: Region, shape: tuple[int, ...], max_dims: int = 0) -> int:
    """Maximal contiguous runs of a row-major region (max_dims = 0), or, with max_dims = k >= 1, the
    number of k-dimensional strided DMA transfers the runs are issued as (see cost.py)."""
    rank = len(shape)
    j = 0  # the run dimension: every dimension after it is taken whole
    for k in range(rank - 1, -1, -1):
        if region[k][1] != shape[k]:
            j = k
            break
    outer = max(j - (max_dims - 1), 0) if max_dims else j
    n = 1
    for i in range(outer):
        n *= region[i][1]
    return n
