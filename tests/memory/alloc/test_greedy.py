from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deeploy_tiler.memory.alloc import Buffer, check_allocation
from deeploy_tiler.memory.alloc.bounds import max_live
from deeploy_tiler.memory.alloc.greedy import GREEDY_FITS, GREEDY_ORDERS, _priority, greedy_best, greedy_pack
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


def _plain_greedy(inst: Instance, order: str, fit: str) -> list[int]:
    """The packing by its definition: every placed conflicting buffer, sorted by address, scanned for gaps."""
    ov = inst.overlap_matrix()
    perm = np.lexsort((np.arange(inst.n), -inst.size_u, -(ov.astype(np.int64) @ inst.size_u)))
    if order != "conflicts":
        prio = _priority(inst, order)
    else:
        prio = [int(i) for i in perm if inst.fixed_u[i] >= 0] + [int(i) for i in perm if inst.fixed_u[i] < 0]
    offs = [-1] * inst.n
    for i in prio:
        s, a = int(inst.size_u[i]), int(inst.align_u[i])
        if inst.fixed_u[i] >= 0:
            offs[i] = int(inst.fixed_u[i])
            continue
        iv = sorted((offs[j], offs[j] + int(inst.size_u[j])) for j in range(inst.n) if ov[i, j] and offs[j] >= 0)
        best_o, best_gap, cur = -1, -1, 0
        for lo, hi in iv:
            cand = -(-cur // a) * a
            if lo > cur and cand + s <= lo and (best_o < 0 or (fit == "best" and lo - cur < best_gap)):
                best_o, best_gap = cand, lo - cur
            cur = max(cur, hi)
        offs[i] = best_o if best_o >= 0 else -(-cur // a) * a
    return offs


@st.composite
def _network_like(draw: st.DrawFn) -> list[Buffer]:
    """Many whole-run buffers (weights) beside short-lived ones, mixed alignments, some pinned."""
    horizon = draw(st.integers(2, 14))
    out = []
    for i in range(draw(st.integers(1, 28))):
        whole = draw(st.booleans())
        s = 0 if whole else draw(st.integers(0, horizon - 1))
        e = horizon if whole else draw(st.integers(s + 1, min(horizon, s + 4)))
        size = draw(st.integers(1, 40)) * draw(st.sampled_from([1, 4]))
        pinned = draw(st.integers(0, 9)) == 0
        out.append(Buffer(f"b{i}", s, e, size, draw(st.sampled_from([1, 4, 16])), i * 4096 if pinned else None))
    return out


@given(_network_like())
@settings(max_examples=150, deadline=None)
def test_indexed_packing_equals_the_plain_definition(bufs: list[Buffer]) -> None:
    inst = Instance.build(bufs, 1 << 20)
    for order, fit in itertools.product(GREEDY_ORDERS, GREEDY_FITS):
        assert greedy_pack(inst, order, fit).offsets_u == _plain_greedy(inst, order, fit), (order, fit)


def test_long_lived_buffers_use_the_vectorised_scan() -> None:
    """Lifetimes spanning many time segments skip the time index; the packing is the same."""
    bufs = [Buffer(f"b{i}", i, i + 60, 8 + i % 5, 4) for i in range(40)] + [Buffer("w", 0, 100, 12, 4)]
    inst = Instance.build(bufs, 1 << 20)
    for order, fit in itertools.product(GREEDY_ORDERS, GREEDY_FITS):
        assert greedy_pack(inst, order, fit).offsets_u == _plain_greedy(inst, order, fit)
