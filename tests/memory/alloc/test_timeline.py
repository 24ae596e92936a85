from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from deeploy_tiler.memory.alloc import Buffer, conflicts
from deeploy_tiler.memory.alloc.timeline import sections

from .conftest import buffer_lists


@given(buffer_lists(max_buffers=14))
@settings(max_examples=150, deadline=None)
def test_sections_capture_exactly_the_conflicts(bufs: list[Buffer]) -> None:
    s = sections(np.array([b.start for b in bufs], dtype=np.int64), np.array([b.end for b in bufs], dtype=np.int64))
    for i, a in enumerate(bufs):
        assert 0 <= s.lo[i] < s.hi[i] <= s.count
        # the recorded time of every section the buffer spans lies in its lifetime
        for k in range(s.lo[i], s.hi[i]):
            assert a.start <= s.time[k] < a.end
        for j, b in enumerate(bufs):
            meet = s.lo[i] < s.hi[j] and s.lo[j] < s.hi[i]
            assert meet == (i == j or conflicts(a, b))


def test_sections_are_maximal_cliques() -> None:
    bufs = [Buffer("a", 0, 4, 1), Buffer("b", 1, 2, 1), Buffer("c", 3, 6, 1), Buffer("d", 5, 6, 1)]
    s = sections(np.array([b.start for b in bufs]), np.array([b.end for b in bufs]))
    assert s.count == 3  # {a,b}, {a,c}, {c,d}
    assert s.lo.tolist() == [0, 0, 1, 2] and s.hi.tolist() == [2, 1, 3, 3]
