"""An independent checker of allocations: it trusts nothing the solvers computed.

`check_allocation` returns every violation it finds (an empty list means the allocation is valid):
a buffer without an offset, an offset for an unknown id, an offset below 0 or an end above the
capacity, a misaligned offset, a pinned buffer moved, and every pair of buffers that are live at the
same time and share addresses.

The pair search first sweeps time with the live buffers' address ranges in one sorted list (disjoint
while nothing overlaps, so each new buffer is compared with its two address neighbours: n log n); only
when that finds an overlap (or a range it cannot order, such as an empty one) does the plain sweep run,
which lists every overlapping pair.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .problem import Buffer

__all__ = ["Violation", "ViolationKind", "check_allocation"]


class ViolationKind(StrEnum):
    MISSING = "missing"
    UNKNOWN = "unknown"
    OUT_OF_RANGE = "out_of_range"
    MISALIGNED = "misaligned"
    FIXED_MOVED = "fixed_moved"
    OVERLAP = "overlap"


@dataclass(frozen=True, slots=True)
class Violation:
    kind: ViolationKind
    buffers: tuple[str, ...]
    message: str
    time: int | None = None

    def __str__(self) -> str:
        return self.message


def check_allocation(buffers: Sequence[Buffer], offsets: Mapping[str, int], capacity: int) -> list[Violation]:
    out: list[Violation] = []
    ids = {b.id for b in buffers}
    for k in sorted(set(offsets) - ids):
        out.append(Violation(ViolationKind.UNKNOWN, (k,), f"offset given for unknown buffer {k!r}"))
    placed: list[tuple[int, int, int, int, str]] = []  # start, end, lo addr, hi addr, id
    for b in buffers:
        if b.id not in offsets:
            out.append(Violation(ViolationKind.MISSING, (b.id,), f"buffer {b.id!r} has no offset"))
            continue
        o = offsets[b.id]
        if o < 0 or o + b.size > capacity:
            out.append(
                Violation(
                    ViolationKind.OUT_OF_RANGE,
                    (b.id,),
                    f"buffer {b.id!r} occupies [{o}, {o + b.size}), outside [0, {capacity})",
                    b.start,
                )
            )
        if b.alignment > 0 and o % b.alignment:
            out.append(
                Violation(
                    ViolationKind.MISALIGNED, (b.id,), f"buffer {b.id!r} offset {o} is not a multiple of {b.alignment}"
                )
            )
        if b.fixed_offset is not None and o != b.fixed_offset:
            out.append(
                Violation(
                    ViolationKind.FIXED_MOVED,
                    (b.id,),
                    f"buffer {b.id!r} is pinned at {b.fixed_offset} but placed at {o}",
                )
            )
        placed.append((b.start, b.end, o, o + b.size, b.id))
    placed.sort()
    if _disjoint_while_live(placed):
        return out
    # Sweep over time: compare each buffer with the ones still live when it starts.
    live: list[tuple[int, int, int, int, str]] = []
    for cur in placed:
        s, _e, lo, hi, bid = cur
        live = [x for x in live if x[1] > s]
        for x in live:
            if lo < x[3] and x[2] < hi:
                a, b2 = sorted((x[4], bid))
                out.append(
                    Violation(
                        ViolationKind.OVERLAP,
                        (a, b2),
                        f"buffers {a!r} and {b2!r} are both live at t={s} and share addresses "
                        f"[{max(lo, x[2])}, {min(hi, x[3])})",
                        s,
                    )
                )
        live.append(cur)
    return out


def _disjoint_while_live(placed: Sequence[tuple[int, int, int, int, str]]) -> bool:
    """True iff no two buffers (sorted by start) share addresses while both live; False also when some
    range is empty or reversed (the plain sweep then decides)."""
    ending: list[tuple[int, int]] = []  # heap of (end, lo) of the live buffers
    los: list[int] = []  # live address ranges, sorted and disjoint
    his: list[int] = []
    for s, e, lo, hi, _ in placed:
        if hi <= lo or e <= s:
            return False
        while ending and ending[0][0] <= s:
            _, old = heapq.heappop(ending)
            k = bisect_left(los, old)
            del los[k], his[k]
        k = bisect_left(los, lo)
        if (k < len(los) and los[k] < hi) or (k and his[k - 1] > lo):
            return False
        los.insert(k, lo)
        his.insert(k, hi)
        heapq.heappush(ending, (e, lo))
    return True
