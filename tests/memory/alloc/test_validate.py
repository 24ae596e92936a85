from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from deeploy_tiler.memory.alloc import Buffer, Violation, ViolationKind, allocate, check_allocation

from .conftest import buffer_lists


def kinds(v: list[Violation]) -> set[ViolationKind]:
    return {x.kind for x in v}


def test_valid_allocation_has_no_violation() -> None:
    bufs = [Buffer("a", 0, 2, 4), Buffer("b", 1, 3, 4), Buffer("c", 2, 4, 4)]
    assert check_allocation(bufs, {"a": 0, "b": 4, "c": 0}, 8) == []


def test_catches_each_kind() -> None:
    bufs = [
        Buffer("a", 0, 2, 4),
        Buffer("b", 1, 3, 4, alignment=4),
        Buffer("c", 0, 4, 4, fixed_offset=8),
        Buffer("d", 5, 6, 4),
    ]
    v = check_allocation(bufs, {"a": 2, "b": 3, "c": 4, "zz": 0}, 8)
    assert kinds(v) == {
        ViolationKind.UNKNOWN,
        ViolationKind.MISSING,
        ViolationKind.MISALIGNED,
        ViolationKind.FIXED_MOVED,
        ViolationKind.OVERLAP,
    }
    overlap = [x for x in v if x.kind is ViolationKind.OVERLAP]
    assert {x.buffers for x in overlap} == {("a", "b"), ("a", "c"), ("b", "c")}
    assert [x.buffers for x in v if x.kind is ViolationKind.MISSING] == [("d",)]
    assert kinds(check_allocation([Buffer("a", 0, 1, 4)], {"a": 6}, 8)) == {ViolationKind.OUT_OF_RANGE}
    assert kinds(check_allocation([Buffer("a", 0, 1, 4)], {"a": -1}, 8)) == {ViolationKind.OUT_OF_RANGE}


def test_touching_lifetimes_may_share() -> None:
    assert check_allocation([Buffer("a", 0, 2, 4), Buffer("b", 2, 3, 4)], {"a": 0, "b": 0}, 4) == []


@given(buffer_lists(max_buffers=10), st.data())
@settings(max_examples=60, deadline=None)
def test_planted_overlap_is_caught(bufs: list[Buffer], data: st.DataObject) -> None:
    """Take a valid allocation, move one buffer onto a conflicting one: the checker must notice."""
    if not bufs:
        return
    cap = sum(b.size for b in bufs)
    r = allocate(bufs, cap, strategy="greedy")
    assert check_allocation(bufs, r.offsets, cap) == []
    pairs = [(a, b) for a in bufs for b in bufs if a.id < b.id and a.start < b.end and b.start < a.end]
    if not pairs:
        return
    a, b = data.draw(st.sampled_from(pairs))
    offs = dict(r.offsets)
    offs[a.id] = offs[b.id]
    v = check_allocation(bufs, offs, cap + max(x.size for x in bufs))
    assert any(x.kind is ViolationKind.OVERLAP and set(x.buffers) == {a.id, b.id} for x in v)


@given(buffer_lists(max_buffers=12, max_size=6), st.data())
@settings(max_examples=120, deadline=None)
def test_fast_sweep_agrees_with_the_pairwise_definition(bufs: list[Buffer], data: st.DataObject) -> None:
    """Random offsets (often overlapping): exactly the overlapping live pairs are reported."""
    offs = {b.id: data.draw(st.integers(0, 12)) for b in bufs}
    cap = max((offs[b.id] + b.size for b in bufs), default=1)
    found = {x.buffers for x in check_allocation(bufs, offs, cap) if x.kind is ViolationKind.OVERLAP}
    expected = {
        tuple(sorted((a.id, b.id)))
        for a in bufs
        for b in bufs
        if a.id < b.id
        and a.start < b.end
        and b.start < a.end
        and offs[a.id] < offs[b.id] + b.size
        and offs[b.id] < offs[a.id] + a.size
    }
    assert found == expected
