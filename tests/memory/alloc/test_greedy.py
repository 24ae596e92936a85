from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings

from deeploy_tiler.memory.alloc import Buffer, check_allocation
from deeploy_tiler.memory.alloc.bounds import max_live
from deeploy_tiler.memory.alloc.greedy import GREEDY_FITS, GREEDY_ORDERS, greedy_best, greedy_pack
from deeploy_tiler.memory.alloc.instance import Instance

from .conftest import buffer_lists


@given(buffer_lists(max_buffers=14, aligned=True))
@settings(max_examples=80, deadline=None)
def test_every_order_packs_validly(bufs: list[Buffer]) -> None:
    cap = sum(b.size + b.alignment for b in bufs) or 1
    inst = Instance.build(bufs, cap)
    for order, fit in itertools.product(GREEDY_ORDERS, GREEDY_FITS):
        p = greedy_pack(inst, order, fit)
        offs = inst.to_offsets(p.offsets_u)
        peak = max((offs[b.id] + b.size for b in bufs), default=0)
        assert peak == p.peak_u * inst.unit
        assert peak >= max_live(bufs).bytes
        assert check_allocation(bufs, offs, max(peak, 1)) == []


def test_best_fit_uses_the_tightest_gap() -> None:
    # Pinned buffers leave a 6-byte gap [4, 10) and a 2-byte gap [14, 16); "e" (2 bytes) takes the tight one.
    bufs = [
        Buffer("a", 0, 10, 4, fixed_offset=0),
        Buffer("b", 0, 10, 4, fixed_offset=10),
        Buffer("c", 0, 10, 4, fixed_offset=16),
        Buffer("e", 5, 10, 2),
    ]
    inst = Instance.build(bufs, 100)
    for order in GREEDY_ORDERS:
        assert inst.to_offsets(greedy_pack(inst, order, "best").offsets_u)["e"] == 14
        assert inst.to_offsets(greedy_pack(inst, order, "first").offsets_u)["e"] == 4


def test_fixed_buffers_are_respected_and_alignment_honoured() -> None:
    bufs = [Buffer("p", 0, 4, 8, fixed_offset=8), Buffer("x", 0, 4, 4, alignment=16), Buffer("y", 0, 4, 4)]
    inst = Instance.build(bufs, 64)
    best = greedy_best(inst)
    offs = inst.to_offsets(best.offsets_u)
    assert offs["p"] == 8 and offs["x"] % 16 == 0
    assert check_allocation(bufs, offs, 64) == []


def test_unknown_order() -> None:
    with pytest.raises(ValueError, match="unknown greedy order"):
        greedy_pack(Instance.build([Buffer("a", 0, 1, 1)], 4), "random")
    with pytest.raises(ValueError, match="unknown greedy fit"):
        greedy_pack(Instance.build([Buffer("a", 0, 1, 1)], 4), "size", "worst")
