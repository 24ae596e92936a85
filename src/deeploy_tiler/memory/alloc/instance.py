"""Input checking and the integer arrays every strategy works on.

`Instance.build` rejects malformed problems with an `AllocationError` that names the buffer, then
divides every size, alignment and fixed offset by their greatest common divisor (the *unit*): the
solvers work in units, which keeps CP-SAT domains small and the search's numbers short. Offsets found
in units are multiplied back by `unit`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import AllocationError
from .problem import Buffer, conflicts

__all__ = ["Instance", "check_buffers"]

IntArray = np.ndarray[Any, np.dtype[np.int64]]


def _is_pow2(x: int) -> bool:
    return x > 0 and (x & (x - 1)) == 0


def check_buffers(buffers: Sequence[Buffer], capacity: int) -> None:
    """Raise `AllocationError` (naming the buffer) for any malformed buffer or inconsistent fixed offsets."""
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity <= 0:
        raise AllocationError(f"capacity must be a positive integer number of bytes, got {capacity!r}")
    seen: set[str] = set()
    for b in buffers:
        if not isinstance(b, Buffer):
            raise AllocationError(f"expected a Buffer, got {type(b).__name__}: {b!r}")
        for name in ("start", "end", "size", "alignment"):
            v = getattr(b, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise AllocationError(f"buffer {b.id!r}: {name} must be an integer, got {v!r}", buffer=b.id)
        if b.id in seen:
            raise AllocationError(f"duplicate buffer id {b.id!r}", buffer=b.id)
        seen.add(b.id)
        if b.size <= 0:
            raise AllocationError(f"buffer {b.id!r}: size must be positive, got {b.size}", buffer=b.id)
        if b.end <= b.start:
            raise AllocationError(
                f"buffer {b.id!r}: empty lifetime [{b.start}, {b.end}) (end must be > start)", buffer=b.id
            )
        if not _is_pow2(b.alignment):
            raise AllocationError(
                f"buffer {b.id!r}: alignment must be a positive power of two, got {b.alignment}", buffer=b.id
            )
        if b.size > capacity:
            raise AllocationError(
                f"buffer {b.id!r}: size {b.size} B exceeds the capacity {capacity} B by {b.size - capacity} B",
                buffer=b.id,
                time=b.start,
                excess_bytes=b.size - capacity,
            )
        if b.fixed_offset is not None:
            f = b.fixed_offset
            if isinstance(f, bool) or not isinstance(f, int) or f < 0:
                raise AllocationError(
                    f"buffer {b.id!r}: fixed offset must be a non-negative integer, got {f!r}", buffer=b.id
                )
            if f % b.alignment:
                raise AllocationError(
                    f"buffer {b.id!r}: fixed offset {f} is not a multiple of its alignment {b.alignment}", buffer=b.id
                )
            if f + b.size > capacity:
                raise AllocationError(
                    f"buffer {b.id!r}: fixed offset {f} + size {b.size} exceeds the capacity {capacity} B "
                    f"by {f + b.size - capacity} B",
                    buffer=b.id,
                    time=b.start,
                    excess_bytes=f + b.size - capacity,
                )
    fixed = sorted((b for b in buffers if b.fixed_offset is not None), key=lambda b: (b.start, b.id))
    for i, a in enumerate(fixed):
        for b in fixed[i + 1 :]:
            if b.start >= a.end:
                break
            assert a.fixed_offset is not None and b.fixed_offset is not None
            if (
                conflicts(a, b)
                and a.fixed_offset < b.fixed_offset + b.size
                and b.fixed_offset < a.fixed_offset + a.size
            ):
                raise AllocationError(
                    f"buffers {a.id!r} and {b.id!r} have fixed offsets {a.fixed_offset} and {b.fixed_offset} "
                    f"that overlap in memory while both are live (from t={max(a.start, b.start)})",
                    buffer=b.id,
                    time=max(a.start, b.start),
                )


@dataclass(frozen=True, eq=False)
class Instance:
    """A checked problem as arrays (buffers in input order). ``*_u`` arrays/values are in units."""

    buffers: tuple[Buffer, ...]
    capacity: int
    unit: int
    start: IntArray
    end: IntArray
    size_u: IntArray
    align_u: IntArray
    fixed_u: IntArray  # -1 where the buffer is movable
    capacity_u: int

    @property
    def n(self) -> int:
        return len(self.buffers)

    @property
    def ids(self) -> list[str]:
        return [b.id for b in self.buffers]

    @staticmethod
    def build(buffers: Sequence[Buffer], capacity: int) -> Instance:
        check_buffers(buffers, capacity)
        bs = tuple(buffers)
        g = 0
        for b in bs:
            g = math.gcd(g, b.size, b.alignment if b.alignment > 1 else 0, b.fixed_offset if b.fixed_offset else 0)
        g = max(g, 1)
        start = np.array([b.start for b in bs], dtype=np.int64)
        end = np.array([b.end for b in bs], dtype=np.int64)
        size = np.array([b.size // g for b in bs], dtype=np.int64)
        align = np.array([max(b.alignment // g, 1) for b in bs], dtype=np.int64)
        fixed = np.array([-1 if b.fixed_offset is None else b.fixed_offset // g for b in bs], dtype=np.int64)
        return Instance(
            buffers=bs,
            capacity=capacity,
            unit=g,
            start=start,
            end=end,
            size_u=size,
            align_u=align,
            fixed_u=fixed,
            capacity_u=capacity // g,
        )

    def overlap_matrix(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """``ov[i, j]`` iff buffers i and j conflict in time (i != j)."""
        s, e = self.start, self.end
        ov = (s[:, None] < e[None, :]) & (s[None, :] < e[:, None])
        np.fill_diagonal(ov, False)
        return ov

    def to_offsets(self, offsets_u: Sequence[int] | IntArray) -> dict[str, int]:
        return {b.id: int(o) * self.unit for b, o in zip(self.buffers, offsets_u, strict=True)}
