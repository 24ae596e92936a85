"""Lower bounds on the peak address of any allocation.

At every moment the live buffers need disjoint address ranges, so the peak of any allocation is at
least the largest sum of sizes live at one time (the *max live bytes*). A pinned buffer also forces the
peak up to its fixed offset plus its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .problem import Buffer

__all__ = ["LiveBound", "live_profile", "lower_bound", "max_live"]


@dataclass(frozen=True, slots=True)
class LiveBound:
    """``bytes`` live at ``time`` (the earliest moment where the maximum occurs), and who is live."""

    bytes: int
    time: int
    live: tuple[str, ...]


def live_profile(buffers: Sequence[Buffer]) -> list[tuple[int, int]]:
    """Step function ``[(time, live bytes from this time on), ...]`` at every time the live set changes."""
    delta: dict[int, int] = {}
    for b in buffers:
        delta[b.start] = delta.get(b.start, 0) + b.size
        delta[b.end] = delta.get(b.end, 0) - b.size
    out: list[tuple[int, int]] = []
    cur = 0
    for t in sorted(delta):
        cur += delta[t]
        out.append((t, cur))
    return out


def max_live(buffers: Sequence[Buffer]) -> LiveBound:
    """The largest number of bytes live at one time (0 at time 0 for an empty problem)."""
    best_t, best = 0, 0
    for t, v in live_profile(buffers):
        if v > best:
            best_t, best = t, v
    live = tuple(b.id for b in buffers if b.start <= best_t < b.end) if best else ()
    return LiveBound(best, best_t, live)


def lower_bound(buffers: Sequence[Buffer]) -> int:
    """Max live bytes, raised to any pinned buffer's ``fixed_offset + size``."""
    lb = max_live(buffers).bytes
    for b in buffers:
        if b.fixed_offset is not None:
            lb = max(lb, b.fixed_offset + b.size)
    return lb
