"""Box algebra over `Region`s (per dimension `(start, size)`) and the size arithmetic of the checks."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..plan import Region


def volume(r: Region) -> int:
    return math.prod(size for _, size in r)


def is_empty(r: Region) -> bool:
    return any(size == 0 for _, size in r)


def contains(outer: Region, inner: Region) -> bool:
    if len(outer) != len(inner):
        return False
    if is_empty(inner):
        return True
    return all(o0 <= i0 and i0 + isz <= o0 + osz for (o0, osz), (i0, isz) in zip(outer, inner, strict=True))


def in_bounds(r: Region, shape: Sequence[int]) -> bool:
    return len(r) == len(shape) and all(s >= 0 and n >= 0 and s + n <= d for (s, n), d in zip(r, shape, strict=True))


def full_region(shape: Sequence[int]) -> Region:
    return tuple((0, int(d)) for d in shape)


def bbox(a: Region, b: Region) -> Region:
    if is_empty(a):
        return b
    if is_empty(b):
        return a
    out = []
    for (a0, an), (b0, bn) in zip(a, b, strict=True):
        lo, hi = min(a0, b0), max(a0 + an, b0 + bn)
        out.append((lo, hi - lo))
    return tuple(out)


def fmt(r: Region) -> str:
    return "[" + ", ".join(f"{s}:{s + n}" for s, n in r) + "]"


def fits(r: Region, tile_shape: Sequence[int]) -> bool:
    return len(r) == len(tile_shape) and all(n <= t for (_, n), t in zip(r, tile_shape, strict=True))


# Own copies of ceil_div / align_up on purpose: the validator shares no arithmetic with the code it checks.
def ceil_div(n: int, d: int) -> int:
    return -(-n // d)


def align_up(n: int, a: int) -> int:
    return ceil_div(n, a) * a


def min_runs(region: Region, shape: Sequence[int]) -> tuple[int, int]:
    """(fewest contiguous runs of a row-major box, elements per run)."""
    k = len(shape) - 1
    while k >= 0 and region[k] == (0, shape[k]):
        k -= 1
    if k < 0:
        return 1, volume(region)
    return math.prod(n for _, n in region[:k]), region[k][1] * math.prod(shape[k + 1 :])
