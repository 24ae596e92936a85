"""An independent checker of allocations: it trusts nothing the solvers computed.

`check_allocation` returns every violation it finds (an empty list means the allocation is valid):
a buffer without an offset, an offset for an unknown id, an offset below 0 or an end above the
capacity, a misaligned offset, a pinned buffer moved, and every pair of buffers that are live at the
same time and share addresses.
"""

from __future__ import annotations

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
    # Sweep over time: compare each buffer with the ones still live when it starts.
    placed.sort()
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
