from __future__ import annotations

import dataclasses
import pickle

import pytest

from deeploy_tiler.memory.alloc import AllocationResult, AllocStats, Buffer, conflicts


def test_buffer_is_frozen_and_has_area() -> None:
    b = Buffer("x", 2, 5, 8)
    assert b.lifetime == 3 and b.area == 24 and b.alignment == 1 and b.fixed_offset is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.size = 3  # type: ignore[misc]


def test_half_open_conflicts() -> None:
    a = Buffer("a", 0, 3, 1)
    assert not conflicts(a, Buffer("b", 3, 5, 1))
    assert conflicts(a, Buffer("c", 2, 5, 1))
    assert conflicts(Buffer("d", 1, 2, 1), a)


def test_result_owns_its_offsets_and_pickles() -> None:
    src = {"a": 0}
    r = AllocationResult(src, 4, 4, 8, True, "greedy", AllocStats(0.0, "feasible"))
    src["a"] = 3
    assert r.offsets == {"a": 0} and r.optimal
    assert pickle.loads(pickle.dumps(r)) == r
