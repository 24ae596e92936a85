"""The Pareto front of sweep points in (L1 budget, L2 budget, latency)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .points import SweepPoint

__all__ = ["pareto_front"]


def _latency(p: SweepPoint) -> float:
    if p.latency_s is not None:
        return p.latency_s
    return float(p.total_cycles) if p.total_cycles is not None else math.inf


def _dominates(a: SweepPoint, b: SweepPoint) -> bool:
    la, lb = _latency(a), _latency(b)
    return a.l1 <= b.l1 and a.l2 <= b.l2 and la <= lb and (a.l1 < b.l1 or a.l2 < b.l2 or la < lb)


def pareto_front(points: Sequence[SweepPoint]) -> list[SweepPoint]:
    """Feasible points that no other feasible point dominates in (L1 budget, L2 budget, latency).

    A dominates B when it needs no more of either budget and is no slower, and is better in one. Equal
    points do not dominate each other (both stay). Latency is `latency_s` (seconds, so spec variants
    with other clocks compare fairly), else `total_cycles`. Sorted by memory, then latency.
    """
    feasible = [p for p in points if p.feasible and (p.latency_s is not None or p.total_cycles is not None)]
    front = [p for p in feasible if not any(_dominates(q, p) for q in feasible)]
    return sorted(front, key=lambda p: (p.l1 + p.l2, p.l1, _latency(p), p.index))
