"""The Pareto front in (L1, L2, latency)."""

from __future__ import annotations

from deeploy_tiler.explore import pareto
from deeploy_tiler.explore.points import SweepPoint


def _pt(index: int, l1: int, cycles: int | None, *, l2: int = 1000, clock: float = 1e6) -> SweepPoint:
    ok = cycles is not None
    return SweepPoint(
        index=index,
        l1=l1,
        l2=l2,
        double_buffer=True,
        status="ok" if ok else "infeasible",
        feasible=ok,
        total_cycles=cycles,
        latency_s=cycles / clock if cycles is not None else None,
    )


def test_pareto_front_dominance_2d() -> None:
    pts = [
        _pt(0, 100, None),  # infeasible: never on the front
        _pt(1, 200, 900),
        _pt(2, 400, 600),
        _pt(3, 400, 700),  # same memory as 2, slower: dominated
        _pt(4, 800, 600),  # more memory, same latency: dominated by 2
        _pt(5, 1600, 500),
    ]
    assert [p.index for p in pareto.pareto_front(pts)] == [1, 2, 5]


def test_pareto_front_ties_and_three_objectives() -> None:
    twins = [_pt(0, 200, 500), _pt(1, 200, 500)]  # equal points do not dominate each other
    assert [p.index for p in pareto.pareto_front(twins)] == [0, 1]
    # Less L1 but more L2 is a trade-off, not a dominance.
    pts = [_pt(0, 100, 800, l2=4000), _pt(1, 400, 800, l2=1000), _pt(2, 400, 800, l2=4000)]
    assert [p.index for p in pareto.pareto_front(pts)] == [1, 0]  # sorted by L1 + L2


def test_pareto_front_compares_seconds_across_clocks() -> None:
    slow_clock = _pt(0, 100, 1000, clock=1e6)  # 1 ms
    fast_clock = _pt(1, 100, 1500, clock=3e6)  # 0.5 ms: more cycles, yet faster
    assert [p.index for p in pareto.pareto_front([slow_clock, fast_clock])] == [1]
