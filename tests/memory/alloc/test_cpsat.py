from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from deeploy_tiler.memory.alloc import Buffer, check_allocation, lower_bound
from deeploy_tiler.memory.alloc.cpsat import cpsat_solve, partitions
from deeploy_tiler.memory.alloc.greedy import greedy_best
from deeploy_tiler.memory.alloc.instance import Instance
from deeploy_tiler.memory.alloc.search import canonical_search

from .conftest import buffer_lists


@given(buffer_lists(max_buffers=8, max_time=8, max_size=6, aligned=True))
@settings(max_examples=25, deadline=None)
def test_cpsat_agrees_with_search(bufs: list[Buffer]) -> None:
    cap = max([lower_bound(bufs), *(b.size for b in bufs), 1])
    inst = Instance.build(bufs, cap)
    cp = cpsat_solve(inst, time_limit=10, hint=greedy_best(inst).offsets_u if bufs else None)
    se = canonical_search(inst, time_limit=10)
    assert cp.status == se.status
    if cp.offsets_u is not None:
        assert check_allocation(bufs, inst.to_offsets(cp.offsets_u), cap) == []


def test_partitions_split_at_free_moments() -> None:
    lo = np.array([0, 1, 3, 3], dtype=np.int64)
    hi = np.array([2, 3, 4, 5], dtype=np.int64)
    assert partitions(lo, hi, 5) == [[0, 1], [2, 3]]
    assert partitions(np.zeros(0, np.int64), np.zeros(0, np.int64), 0) == []


def test_identical_buffers_and_fixed_offsets() -> None:
    bufs = [Buffer(f"same{i}", 0, 4, 4) for i in range(3)] + [Buffer("pin", 0, 4, 4, fixed_offset=0)]
    inst = Instance.build(bufs, 16)
    out = cpsat_solve(inst, time_limit=10)
    assert out.status == "feasible" and out.offsets_u is not None
    offs = inst.to_offsets(out.offsets_u)
    assert offs["pin"] == 0 and offs["same0"] < offs["same1"] < offs["same2"]
    assert cpsat_solve(Instance.build(bufs, 15), time_limit=10).status == "infeasible"
