from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from deeploy_tiler.errors import AllocationError
from deeploy_tiler.memory.alloc import Buffer, check_allocation, lower_bound
from deeploy_tiler.memory.alloc.instance import Instance
from deeploy_tiler.memory.alloc.search import canonical_search

from .conftest import buffer_lists


def brute_force_fits(bufs: list[Buffer], cap: int) -> bool:
    """Tiny exhaustive check: try every offset for every buffer (only for a handful of small buffers)."""
    ranges = [range(0, cap - b.size + 1, b.alignment) if b.fixed_offset is None else [b.fixed_offset] for b in bufs]
    for offs in itertools.product(*ranges):
        m = {b.id: o for b, o in zip(bufs, offs, strict=True)}
        if not check_allocation(bufs, m, cap):
            return True
    return False


@given(buffer_lists(max_buffers=5, max_time=6, max_size=4, aligned=True))
@settings(max_examples=120, deadline=None)
def test_search_agrees_with_brute_force(bufs: list[Buffer]) -> None:
    lb = max((sum(b.size for b in bufs if b.start <= t < b.end) for t in range(7)), default=0)
    for cap in {max(lb, max((b.size for b in bufs), default=1)), lb + 1, lb + 2}:
        if cap <= 0 or any(b.size > cap for b in bufs):
            continue
        inst = Instance.build(bufs, cap)
        out = canonical_search(inst, time_limit=10)
        assert out.status in ("feasible", "infeasible")
        if out.status == "feasible":
            assert out.offsets_u is not None
            assert check_allocation(bufs, inst.to_offsets(out.offsets_u), cap) == []
        assert (out.status == "feasible") == brute_force_fits(bufs, cap)


@given(
    buffer_lists(max_buffers=5, max_time=6, max_size=3),
    st.lists(st.integers(0, 4), min_size=5, max_size=5),
    st.integers(0, 3),
)
@settings(max_examples=120, deadline=None)
def test_search_with_pinned_buffers_agrees_with_brute_force(bufs: list[Buffer], pins: list[int], slack: int) -> None:
    bufs = [
        Buffer(b.id, b.start, b.end, b.size, fixed_offset=pins[i] if pins[i] < 3 else None) for i, b in enumerate(bufs)
    ]
    cap = lower_bound(bufs) + slack
    try:
        inst = Instance.build(bufs, cap)
    except AllocationError:
        assume(False)
        return
    out = canonical_search(inst, time_limit=10)
    if out.status == "feasible":
        assert out.offsets_u is not None
        assert check_allocation(bufs, inst.to_offsets(out.offsets_u), cap) == []
    assert (out.status == "feasible") == brute_force_fits(bufs, cap)


def test_fixed_buffers_in_search() -> None:
    bufs = [Buffer("p", 0, 4, 4, fixed_offset=4), Buffer("a", 0, 2, 4), Buffer("b", 2, 4, 4), Buffer("c", 1, 3, 4)]
    inst = Instance.build(bufs, 12)
    out = canonical_search(inst)
    assert out.status == "feasible" and out.offsets_u is not None
    offs = inst.to_offsets(out.offsets_u)
    assert offs["p"] == 4 and check_allocation(bufs, offs, 12) == []
    # with capacity 8, "c" conflicts with a, b and the pinned p: no room
    assert canonical_search(Instance.build(bufs, 8)).status == "infeasible"


def test_node_budget_gives_up_deterministically() -> None:
    bufs = [Buffer(f"b{i}", i % 5, i % 5 + 3, 1 + (7 * i) % 5) for i in range(30)]
    inst = Instance.build(bufs, 1000)
    assert canonical_search(inst).status == "feasible"
    tight = Instance.build(bufs, 24)
    a = canonical_search(tight, max_nodes=50)
    b = canonical_search(tight, max_nodes=50)
    assert a == b


def test_many_buffers_run_in_a_big_stack_thread() -> None:
    """Above 1500 buffers the (generator based) search runs in a helper thread with a large stack."""
    rng = random.Random(1)
    bufs = []
    for i in range(1600):
        s = rng.randint(0, 2000)
        bufs.append(Buffer(f"x{i}", s, s + rng.randint(1, 60), 16 * rng.randint(1, 8)))
    cap = lower_bound(bufs)
    inst = Instance.build(bufs, cap)
    out = canonical_search(inst, time_limit=30)
    assert out.status == "feasible" and out.offsets_u is not None
    assert check_allocation(bufs, inst.to_offsets(out.offsets_u), cap) == []


def test_resumed_round_robin_matches_a_single_order() -> None:
    """Resuming suspended orders must give the same offsets as running the winning order alone."""
    rng = random.Random(7)
    bufs = []
    for i in range(60):
        s = rng.randint(0, 40)
        bufs.append(Buffer(f"y{i}", s, s + rng.randint(1, 15), rng.randint(1, 9)))
    inst = Instance.build(bufs, lower_bound(bufs) + 1)
    out = canonical_search(inst, time_limit=30)
    alone = canonical_search(inst, time_limit=30, orders=(out.order,))
    assert out.status == alone.status and out.offsets_u == alone.offsets_u


def test_unknown_order_letter() -> None:
    with pytest.raises(ValueError, match="order"):
        canonical_search(Instance.build([Buffer("a", 0, 1, 1)], 1), orders=("WQ",))
