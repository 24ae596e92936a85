"""Buffer views: where the elements of one operand of one tile live, as C pointer expressions.

A `View` is a dense row-major box of a tensor held somewhere: an L1 slot of the plan (the region the
compute step names) or the tensor's home (the whole tensor). Kernels get pointers into views plus
element strides; `Ptr` keeps a symbol and a byte offset apart so offsets stay exact integers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from ..errors import EmitError
from ..ir import DType

Box = tuple[tuple[int, int], ...]  # per dimension (start, size), as Plan regions
ITEMSIZE = {dt: dt.itemsize for dt in DType}


@dataclass(frozen=True)
class Ptr:
    """`symbol + byte_offset` as a C address constant (`symbol` is a byte array or a typed array)."""

    symbol: str
    offset: int
    const: bool

    def __add__(self, nbytes: int) -> Ptr:
        return Ptr(self.symbol, self.offset + nbytes, self.const)

    def c(self) -> str:
        qual = "const " if self.const else ""
        base = f"({qual}uint8_t *){self.symbol}"
        expr = f"{base} + {self.offset}" if self.offset else base
        return f"({qual}void *)({expr})"


def dense_strides(shape: Sequence[int]) -> tuple[int, ...]:
    out = []
    acc = 1
    for d in reversed(shape):
        out.append(acc)
        acc *= d
    return tuple(reversed(out))


@dataclass(frozen=True)
class View:
    """A dense box `[start, start + shape)` of tensor `tensor` (full shape `full`) stored at `base`."""

    tensor: str
    base: Ptr
    dtype: DType
    start: tuple[int, ...]
    shape: tuple[int, ...]
    full: tuple[int, ...]
    where: str  # "L1 slot" / "home" for messages

    @property
    def rank(self) -> int:
        return len(self.shape)

    @cached_property
    def strides(self) -> tuple[int, ...]:
        return dense_strides(self.shape)

    @cached_property
    def itemsize(self) -> int:
        return ITEMSIZE[self.dtype]

    def covers(self, box: Box) -> bool:
        return all(
            s0 <= s and s + n <= s0 + n0 for (s, n), s0, n0 in zip(box, self.start, self.shape, strict=True) if n > 0
        )

    def require(self, box: Box, what: str) -> None:
        if not self.covers(box):
            raise EmitError(
                f"{what}: the {self.where} of {self.tensor} holds "
                f"{_fmt(tuple(zip(self.start, self.shape, strict=True)))} but the step needs {_fmt(box)}"
            )

    def linear(self, coords: Sequence[int]) -> int:
        return sum((c - s) * st for c, s, st in zip(coords, self.start, self.strides, strict=True))

    def ptr(self, coords: Sequence[int]) -> Ptr:
        lin = self.linear(coords)
        if lin < 0:
            raise EmitError(
                f"{self.tensor}: element {tuple(coords)} lies before the {self.where} starting at {self.start}"
            )
        return self.base + lin * self.itemsize

    def reshaped(self, shape: tuple[int, ...]) -> View:
        """The same bytes seen with another shape (only for views holding the whole tensor)."""
        if self.shape != self.full or any(self.start):
            raise EmitError(f"{self.tensor}: cannot reshape a partial {self.where} view")
        return View(self.tensor, self.base, self.dtype, (0,) * len(shape), shape, shape, self.where)

    def with_unit_dim(self, axis: int) -> View:
        """Insert a dimension of extent 1 at `axis` (1-D convolutions as 2-D, vector MatMul operands)."""
        return View(
            self.tensor,
            self.base,
            self.dtype,
            (*self.start[:axis], 0, *self.start[axis:]),
            (*self.shape[:axis], 1, *self.shape[axis:]),
            (*self.full[:axis], 1, *self.full[axis:]),
            self.where,
        )


def _fmt(box: Box) -> str:
    return "[" + ", ".join(f"{s}:{s + n}" for s, n in box) + "]"


def broadcast_operand(view: View, out_start: Sequence[int]) -> tuple[Ptr, list[int]]:
    """Pointer and per-output-dimension strides of an operand broadcast (numpy rules) to the output.

    Output dimension k maps to operand dimension k - (R - r); operand dimensions of full extent 1 are
    broadcast (stride 0, coordinate 0).
    """
    rank_out = len(out_start)
    lead = rank_out - view.rank
    if lead < 0:
        raise EmitError(f"{view.tensor}: operand rank {view.rank} exceeds output rank {rank_out}")
    coords = []
    strides = [0] * rank_out
    vs = view.strides
    for d in range(view.rank):
        k = d + lead
        if view.full[d] == 1:
            coords.append(0)
        else:
            coords.append(out_start[k])
            strides[k] = vs[d]
    return view.ptr(coords), strides


def collapse(extents: Sequence[int], strides: Sequence[Sequence[int]]) -> tuple[list[int], list[list[int]]]:
    """Merge adjacent dimensions that are contiguous for every operand; drop dimensions of extent 1.

    `strides[o][d]` is operand o's element stride of dimension d (outer first). Returns the reduced
    extents and strides (at least one dimension).
    """
    ext = [e for e in extents]
    st = [list(s) for s in strides]
    keep = [d for d in range(len(ext)) if ext[d] != 1]
    ext = [ext[d] for d in keep]
    st = [[s[d] for d in keep] for s in st]
    if not ext:
        return [1], [[0] for _ in st]
    out_e = [ext[-1]]
    out_s = [[s[-1]] for s in st]
    for d in range(len(ext) - 2, -1, -1):
        if all(s[d] == out_e[0] * os[0] for s, os in zip(st, out_s, strict=True)):
            out_e[0] *= ext[d]
        else:
            out_e.insert(0, ext[d])
            for s, os in zip(st, out_s, strict=True):
                os.insert(0, s[d])
    return out_e, out_s


def split_leading(
    extents: list[int], strides: list[list[int]], keep: int
) -> tuple[list[int], list[list[int]], list[list[int]]]:
    """Fit `extents` into `keep` kernel dimensions: extra leading dimensions become separate calls.

    Returns (kernel extents padded with leading 1s to `keep`, kernel strides, per call the element
    offset of every operand).
    """
    extra = max(0, len(extents) - keep)
    lead_e, lead_s = extents[:extra], [s[:extra] for s in strides]
    ke = extents[extra:]
    ks = [s[extra:] for s in strides]
    pad = keep - len(ke)
    ke = [1] * pad + ke
    ks = [[0] * pad + s for s in ks]
    offsets: list[list[int]] = [[0] * len(strides)]
    for d in range(len(lead_e)):
        offsets = [[o + i * lead_s[k][d] for k, o in enumerate(off)] for off in offsets for i in range(lead_e[d])]
    return ke, ks, offsets
