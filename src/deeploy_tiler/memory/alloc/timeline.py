"""Time compression: the *sections* of a set of lifetimes.

Between two consecutive lifetime end points where at least one buffer started, the set of live
buffers only grows, so the set live just before an end point dominates every set live earlier in
that stretch. These dominant sets (the maximal cliques of the interval graph) are the sections; a
buffer occupies a contiguous range of them, ``[lo, hi)``. Any constraint of the form "the buffers
live at one moment must fit" only needs checking per section.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Sections", "sections"]

IntArray = np.ndarray[Any, np.dtype[np.int64]]


@dataclass(frozen=True, eq=False)
class Sections:
    count: int
    lo: IntArray  # first section of each buffer
    hi: IntArray  # one past its last section
    time: IntArray  # a time inside each section (the last moment before it closes)


def sections(start: IntArray, end: IntArray) -> Sections:
    n = len(start)
    if n == 0:
        z = np.zeros(0, dtype=np.int64)
        return Sections(0, z, z.copy(), z.copy())
    # Events: ends sort before starts at the same time (half-open lifetimes).
    times = np.concatenate([end, start])
    kinds = np.concatenate([np.zeros(n, np.int64), np.ones(n, np.int64)])
    who = np.concatenate([np.arange(n), np.arange(n)])
    order = np.lexsort((who, kinds, times))
    lo = np.zeros(n, dtype=np.int64)
    hi = np.zeros(n, dtype=np.int64)
    sec_time: list[int] = []
    count = 0
    opened = False
    for e in order.tolist():
        b = who[e]
        if kinds[e] == 0:  # an end
            if opened:
                sec_time.append(int(times[e]) - 1)
                count += 1
                opened = False
            hi[b] = count
        else:
            lo[b] = count
            opened = True
    return Sections(count, lo, hi, np.array(sec_time, dtype=np.int64))
