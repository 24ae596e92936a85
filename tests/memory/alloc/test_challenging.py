"""The MiniMalloc "challenging" instances: the search must fit a few of them quickly.

The full table (all 11, every strategy, against MiniMalloc's reference times) is
`benchmarks/bench_alloc.py`; here only the quick ones run, to keep the suite fast.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from deeploy_tiler.memory.alloc import allocate, check_allocation, max_live, read_csv

QUICK = ["G", "J", "K"]


@pytest.mark.parametrize("name", QUICK)
def test_search_fits_challenging_instance(challenging_dir: Path, name: str) -> None:
    prob = read_csv(challenging_dir / f"{name}.1048576.csv")
    assert prob.capacity is not None and prob.capacity == 1048576
    r = allocate(prob.buffers, prob.capacity, strategy="search", time_limit=30)  # speed: benchmarks/
    assert r.solved, f"{name}: {r.stats}"
    assert check_allocation(prob.buffers, r.offsets, prob.capacity) == []
    assert r.peak <= prob.capacity and r.lower_bound == max_live(prob.buffers).bytes


def test_auto_on_a_challenging_instance(challenging_dir: Path) -> None:
    prob = read_csv(challenging_dir / "K.1048576.csv")
    assert prob.capacity is not None
    r = allocate(prob.buffers, prob.capacity, time_limit=30)
    assert r.solved and r.strategy == "search"
    assert check_allocation(prob.buffers, r.offsets, prob.capacity) == []
