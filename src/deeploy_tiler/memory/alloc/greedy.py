"""Greedy packings (milliseconds): place buffers one by one in a priority order, each into a free
address gap among the already-placed buffers it conflicts with, or on top of them when no gap is large
enough. ``best`` fit takes the tightest gap (the lowest on ties), ``first`` fit the lowest gap. Pinned
buffers are placed first.

Orders (ties by larger size, then input position): ``size``, ``conflicts`` (bytes of the buffers it
conflicts with), ``lifetime``, ``area`` (size x lifetime): larger first; ``start``: earlier first.
`greedy_best` runs every order with both fits and keeps the lowest peak. Greedy packings ignore the
capacity: the peak may exceed it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ...units import align_up
from .instance import Instance

__all__ = ["GREEDY_FITS", "GREEDY_ORDERS", "GreedyPacking", "greedy_best", "greedy_pack"]

GREEDY_ORDERS: tuple[str, ...] = ("size", "conflicts", "lifetime", "area", "start")
GREEDY_FITS: tuple[str, ...] = ("best", "first")


@dataclass(frozen=True, slots=True)
class GreedyPacking:
    order: str  # "<order>/<fit>"
    offsets_u: list[int]  # in units, input order
    peak_u: int


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
        key = inst.overlap_matrix().astype(np.int64) @ size if n else size
    else:
        raise ValueError(f"unknown greedy order {order!r} (one of {', '.join(GREEDY_ORDERS)})")
    # secondary: size, then input position
    perm = np.lexsort((np.arange(n), -size, -key))
    movable = [int(i) for i in perm if inst.fixed_u[i] < 0]
    fixed = [int(i) for i in perm if inst.fixed_u[i] >= 0]
    return fixed + movable


def greedy_pack(inst: Instance, order: str = "size", fit: str = "best") -> GreedyPacking:
    if fit not in GREEDY_FITS:
        raise ValueError(f"unknown greedy fit {fit!r} (one of {', '.join(GREEDY_FITS)})")
    first_fit = fit == "first"
    n = inst.n
    size = inst.size_u.tolist()
    align = inst.align_u.tolist()
    fixed = inst.fixed_u.tolist()
    ov = inst.overlap_matrix() if n else np.zeros((0, 0), dtype=bool)
    offs = [-1] * n
    placed = np.zeros(n, dtype=bool)
    peak = 0
    for i in _priority(inst, order):
        s = size[i]
        if fixed[i] >= 0:
            o = fixed[i]
        else:
            nb = np.flatnonzero(ov[i] & placed).tolist()
            iv = sorted((offs[j], offs[j] + size[j]) for j in nb)
            a = align[i]
            best_o, best_gap = -1, -1
            cur = 0  # lowest free address so far
            for lo_j, hi_j in iv:
                cand = align_up(cur, a)
                if lo_j > cur and cand + s <= lo_j:
                    gap = lo_j - cur
                    if best_o < 0 or (gap < best_gap and not first_fit):
                        best_o, best_gap = cand, gap
                if hi_j > cur:
                    cur = hi_j
            o = best_o if best_o >= 0 else align_up(cur, a)
        offs[i] = o
        placed[i] = True
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
