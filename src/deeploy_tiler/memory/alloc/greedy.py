"""Greedy packings (milliseconds): place buffers one by one in a priority order, each into a free
address gap among the already-placed buffers it conflicts with, or on top of them when no gap is large
enough. ``best`` fit takes the tightest gap (the lowest on ties), ``first`` fit the lowest gap. Pinned
buffers are placed first.

Orders (ties by larger size, then input position): ``size``, ``conflicts`` (bytes of the buffers it
conflicts with), ``lifetime``, ``area`` (size x lifetime): larger first; ``start``: earlier first.
`greedy_best` runs every order with both fits and keeps the lowest peak. Greedy packings ignore the
capacity: the peak may exceed it.

Speed (networks of thousands of buffers, most of them weights live over the whole run): a gap search
depends only on the union of the occupied address ranges, and a gap too small for the smallest buffer
at the finest alignment can never be used. So the placed whole-run buffers are kept as one sorted list
of blocks (unusable gaps merged away: a handful of blocks), and a short-lived buffer meets only the
placed short-lived buffers of its own time steps (an index by time segment). A whole-run buffer meets
everything placed, kept as a second block list. The packing is the one of the plain definition (every
placed conflicting buffer, sorted by address), element for element; tests compare the two.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ...units import align_up
from .instance import Instance, IntArray

__all__ = ["GREEDY_FITS", "GREEDY_ORDERS", "GreedyPacking", "greedy_best", "greedy_pack"]

GREEDY_ORDERS: tuple[str, ...] = ("size", "conflicts", "lifetime", "area", "start")
GREEDY_FITS: tuple[str, ...] = ("best", "first")

# Above this many (buffer, time segment) memberships per buffer the time index costs more than a
# vectorised scan of every placed buffer; both find the same conflicting set.
_INDEX_SPAN_PER_BUFFER = 24


@dataclass(frozen=True, slots=True)
class GreedyPacking:
    order: str  # "<order>/<fit>"
    offsets_u: list[int]  # in units, input order
    peak_u: int


def conflict_bytes(inst: Instance) -> IntArray:
    """Per buffer, the bytes (units) of the other buffers live at the same time, by prefix sums: j
    conflicts with i iff start_j < end_i and not end_j <= start_i (the second set is inside the first)."""
    size = inst.size_u
    by_start = np.argsort(inst.start, kind="stable")
    by_end = np.argsort(inst.end, kind="stable")
    cum_s = np.concatenate(([0], np.cumsum(size[by_start])))
    cum_e = np.concatenate(([0], np.cumsum(size[by_end])))
    started = cum_s[np.searchsorted(inst.start[by_start], inst.end, side="left")]
    ended = cum_e[np.searchsorted(inst.end[by_end], inst.start, side="right")]
    out: IntArray = started - ended - size
    return out


def _priority(inst: Instance, order: str) -> list[int]:
    n = inst.n
    size = inst.size_u
    life = inst.end - inst.start
    if order == "size":
        key = size
    elif order == "lifetime":
        key = life
    elif order == "area":
        key = size * life
    elif order == "start":
        key = -inst.start
    elif order == "conflicts":
        key = conflict_bytes(inst) if n else size
    else:
        raise ValueError(f"unknown greedy order {order!r} (one of {', '.join(GREEDY_ORDERS)})")
    # secondary: size, then input position
    perm = np.lexsort((np.arange(n), -size, -key))
    movable = [int(i) for i in perm if inst.fixed_u[i] < 0]
    fixed = [int(i) for i in perm if inst.fixed_u[i] >= 0]
    return fixed + movable


class _Blocks:
    """Occupied address ranges as sorted disjoint blocks; gaps no buffer can use are merged away."""

    __slots__ = ("his", "los", "min_align", "min_size")

    def __init__(self, min_size: int, min_align: int) -> None:
        self.los: list[int] = []
        self.his: list[int] = []
        self.min_size = min_size
        self.min_align = min_align

    def _joins(self, hi: int, lo: int) -> bool:
        """True when the gap [hi, lo) is empty or too small for any buffer."""
        a = self.min_align
        return align_up(hi, a) + self.min_size > lo

    def add(self, lo: int, hi: int) -> None:
        los, his = self.los, self.his
        j0 = bisect_right(los, lo)
        if j0 and (his[j0 - 1] >= lo or self._joins(his[j0 - 1], lo)):
            j0 -= 1
            lo = los[j0]
            hi = max(hi, his[j0])
        j1 = j0
        while j1 < len(los) and (los[j1] <= hi or self._joins(hi, los[j1])):
            hi = max(hi, his[j1])
            j1 += 1
        los[j0:j1] = [lo]
        his[j0:j1] = [hi]


def _gap_scan(iv: list[tuple[int, int]], s: int, a: int, first_fit: bool) -> int:
    best_o, best_gap = -1, -1
    cur = 0  # lowest free address so far
    for lo_j, hi_j in iv:
        cand = align_up(cur, a)
        if lo_j > cur and cand + s <= lo_j:
            gap = lo_j - cur
            if best_o < 0 or (gap < best_gap and not first_fit):
                best_o, best_gap = cand, gap
                if first_fit:
                    return best_o
        if hi_j > cur:
            cur = hi_j
    return best_o if best_o >= 0 else align_up(cur, a)


def greedy_pack(inst: Instance, order: str = "size", fit: str = "best") -> GreedyPacking:
    if fit not in GREEDY_FITS:
        raise ValueError(f"unknown greedy fit {fit!r} (one of {', '.join(GREEDY_FITS)})")
    first_fit = fit == "first"
    n = inst.n
    priority = _priority(inst, order)
    if n == 0:
        return GreedyPacking(f"{order}/{fit}", [], 0)
    size = inst.size_u.tolist()
    align = inst.align_u.tolist()
    fixed = inst.fixed_u.tolist()
    start = inst.start.tolist()
    end = inst.end.tolist()
    whole = ((inst.start <= inst.start.min()) & (inst.end >= inst.end.max())).tolist()
    min_size, min_align = int(inst.size_u.min()), int(inst.align_u.min())
    whole_blocks = _Blocks(min_size, min_align)  # the placed whole-run buffers
    all_blocks = _Blocks(min_size, min_align)  # every placed buffer (what a whole-run buffer meets)
    # Time segments between consecutive distinct start/end times; a buffer covers [seg(start), seg(end)).
    times = sorted(set(start) | set(end))
    seg = {t: k for k, t in enumerate(times)}
    first_seg = [seg[t] for t in start]
    last_seg = [seg[t] for t in end]
    span = sum(e - s for s, e, w in zip(first_seg, last_seg, whole, strict=True) if not w)
    indexed = span <= _INDEX_SPAN_PER_BUFFER * n
    buckets: list[list[int]] = [[] for _ in times]
    local_placed = np.zeros(n, dtype=bool)  # for the vectorised scan when the index would be too large
    seen = [-1] * n
    offs = [-1] * n
    peak = 0
    for i in priority:
        s = size[i]
        if fixed[i] >= 0:
            o = fixed[i]
        elif whole[i]:
            o = _gap_scan(list(zip(all_blocks.los, all_blocks.his, strict=True)), s, align[i], first_fit)
        else:
            if indexed:
                nb: list[int] = []
                for k in range(first_seg[i], last_seg[i]):
                    for j in buckets[k]:
                        if seen[j] != i:
                            seen[j] = i
                            nb.append(j)
            else:
                nb = np.flatnonzero(local_placed & (inst.start < end[i]) & (inst.end > start[i])).tolist()
            iv = [(offs[j], offs[j] + size[j]) for j in nb]
            iv.extend(zip(whole_blocks.los, whole_blocks.his, strict=True))
            iv.sort()
            o = _gap_scan(iv, s, align[i], first_fit)
        offs[i] = o
        all_blocks.add(o, o + s)
        if whole[i]:
            whole_blocks.add(o, o + s)
        elif indexed:
            for k in range(first_seg[i], last_seg[i]):
                buckets[k].append(i)
        else:
            local_placed[i] = True
        peak = max(peak, o + s)
    return GreedyPacking(f"{order}/{fit}", offs, peak)


def greedy_best(
    inst: Instance, orders: Sequence[str] = GREEDY_ORDERS, fits: Sequence[str] = GREEDY_FITS
) -> GreedyPacking:
    """The lowest-peak packing over ``orders`` x ``fits`` (the first on ties)."""
    best: GreedyPacking | None = None
    for o in orders:
        for f in fits:
            p = greedy_pack(inst, o, f)
            if best is None or p.peak_u < best.peak_u:
                best = p
    assert best is not None
    return best
