from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deeploy_tiler.errors import AllocationError
from deeploy_tiler.memory.alloc import Buffer, allocate, check_allocation, lower_bound, max_live

from .conftest import buffer_lists

# Every greedy order and fit needs 11 bytes here; the exact search fits the 9-byte lower bound.
GREEDY_TRAP = [Buffer("b0", 5, 6, 5), Buffer("b1", 3, 4, 6), Buffer("b2", 4, 6, 3), Buffer("b3", 0, 5, 3)]


def test_empty_problem() -> None:
    r = allocate([], 16)
    assert r.solved and r.offsets == {} and r.peak == 0 and r.stats.status == "empty"


def test_trivial_conflict_stacks_and_touching_lifetimes_share() -> None:
    r = allocate([Buffer("a", 0, 2, 8), Buffer("b", 1, 3, 8)], 16)
    assert r.solved and sorted(r.offsets.values()) == [0, 8]
    r = allocate([Buffer("a", 0, 2, 8), Buffer("b", 2, 3, 8)], 8)
    assert r.solved and r.offsets == {"a": 0, "b": 0}


def test_buffer_too_big_names_it() -> None:
    with pytest.raises(AllocationError, match="'huge'") as ei:
        allocate([Buffer("ok", 0, 1, 4), Buffer("huge", 0, 1, 40)], 32)
    assert ei.value.buffer == "huge" and ei.value.excess_bytes == 8


def test_fixed_offset_conflict_names_it() -> None:
    with pytest.raises(AllocationError, match="fixed offsets") as ei:
        allocate([Buffer("p", 0, 4, 8, fixed_offset=0), Buffer("q", 3, 6, 8, fixed_offset=4)], 64)
    assert ei.value.buffer == "q"


def test_infeasible_capacity_reports_time_and_excess() -> None:
    bufs = [Buffer("a", 0, 4, 10), Buffer("b", 2, 6, 5), Buffer("c", 4, 8, 20)]
    with pytest.raises(AllocationError, match="at time 4") as ei:
        allocate(bufs, 24)
    assert ei.value.time == 4 and ei.value.excess_bytes == 1 and ei.value.buffer == "c"


def test_bad_strategy_and_time_limit() -> None:
    with pytest.raises(AllocationError, match="strategy"):
        allocate([Buffer("a", 0, 1, 1)], 4, strategy="magic")
    with pytest.raises(AllocationError, match="time_limit"):
        allocate([Buffer("a", 0, 1, 1)], 4, time_limit=0)


def test_tight_fit_where_greedy_fails_and_exact_succeeds() -> None:
    assert max_live(GREEDY_TRAP).bytes == 9
    g = allocate(GREEDY_TRAP, 9, strategy="greedy")
    assert not g.solved and g.peak == 11 and g.stats.status == "overflow"
    for strategy in ("search", "cpsat", "auto"):
        r = allocate(GREEDY_TRAP, 9, strategy=strategy, time_limit=20)
        assert r.solved and r.peak == 9 and r.optimal, strategy
        assert check_allocation(GREEDY_TRAP, r.offsets, 9) == []
    assert allocate(GREEDY_TRAP, 9).strategy == "search"


def test_proven_infeasible_returns_best_greedy_unsolved() -> None:
    # The live bytes fit (4 of 4), but the pinned byte at address 1 leaves no 3 contiguous bytes for "x".
    bufs = [Buffer("p", 0, 2, 1, fixed_offset=1), Buffer("x", 0, 2, 3), Buffer("y", 2, 3, 4)]
    assert max_live(bufs).bytes == 4
    for strategy in ("search", "cpsat", "auto"):
        r = allocate(bufs, 4, strategy=strategy, time_limit=20)
        assert not r.solved and r.peak > 4, strategy
        assert r.stats.status == "infeasible" and r.strategy == "greedy"
        assert r.offsets["p"] == 1
        assert check_allocation(bufs, r.offsets, r.peak) == []


def test_alignment_is_honoured() -> None:
    bufs = [Buffer("a", 0, 4, 3), Buffer("b", 1, 5, 8, alignment=8), Buffer("c", 2, 6, 4, alignment=4)]
    for strategy in ("greedy", "search", "cpsat", "auto"):
        r = allocate(bufs, 24, strategy=strategy, time_limit=20)
        assert r.solved, strategy
        assert r.offsets["b"] % 8 == 0 and r.offsets["c"] % 4 == 0
        assert check_allocation(bufs, r.offsets, 24) == []


def test_fixed_offsets_are_kept() -> None:
    bufs = [Buffer("io", 0, 10, 4, fixed_offset=4), Buffer("x", 0, 5, 4), Buffer("y", 5, 10, 8)]
    for strategy in ("search", "cpsat", "auto"):
        r = allocate(bufs, 16, strategy=strategy, time_limit=20)
        assert r.solved and r.offsets["io"] == 4, strategy
        assert check_allocation(bufs, r.offsets, 16) == []


def test_deterministic() -> None:
    bufs = [Buffer(f"t{i}", i % 7, i % 7 + 1 + i % 3, 1 + (5 * i) % 9) for i in range(40)]
    cap = max_live(bufs).bytes
    for strategy in ("greedy", "search", "cpsat", "auto"):
        a = allocate(bufs, cap + 2, strategy=strategy, time_limit=20, seed=3)
        b = allocate(bufs, cap + 2, strategy=strategy, time_limit=20, seed=3)
        assert dict(a.offsets) == dict(b.offsets) and a.solved == b.solved, strategy


@given(buffer_lists(max_buffers=12, aligned=True), st.integers(0, 6), st.sampled_from(["greedy", "search", "auto"]))
@settings(max_examples=60, deadline=None)
def test_results_always_validate(bufs: list[Buffer], slack: int, strategy: str) -> None:
    lb = lower_bound(bufs)
    cap = max([lb + slack, *(b.size for b in bufs), 1])
    r = allocate(bufs, cap, strategy=strategy, time_limit=10)
    assert set(r.offsets) == {b.id for b in bufs}
    assert r.peak >= r.lower_bound == lb
    assert r.solved == (r.peak <= cap)
    assert check_allocation(bufs, r.offsets, cap if r.solved else r.peak) == []
    if strategy != "greedy":
        assert r.solved or r.stats.status in ("infeasible", "timeout")


def test_work_limit_bounds_the_search_reproducibly(monkeypatch: pytest.MonkeyPatch) -> None:
    # a wall clock that runs 1000x fast (a very busy machine) changes nothing under a work limit
    from deeploy_tiler.memory.alloc import api as alloc_api

    first = allocate(GREEDY_TRAP, 9, time_limit=600.0, work_limit=1.0)
    assert first.solved and first.strategy == "search"
    real = alloc_api.time.perf_counter
    monkeypatch.setattr(alloc_api.time, "perf_counter", lambda: real() * 1000.0)
    again = allocate(GREEDY_TRAP, 9, time_limit=600.0, work_limit=1.0)
    assert again.offsets == first.offsets and again.strategy == first.strategy


def test_work_limit_caps_the_search_nodes() -> None:
    tiny = allocate(GREEDY_TRAP, 9, strategy="auto", work_limit=1e-5)  # 0 search nodes, then CP-SAT
    assert tiny.solved and tiny.strategy == "cpsat"
    assert any(a.startswith("search:") and not a.endswith(":feasible") for a in tiny.stats.attempts)
