"""emitter.views: pointers and boxes by hand; collapse and split_leading checked against brute-force
enumeration of the element offsets every operand visits."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import pytest

from deeploy_tiler.emitter.views import Ptr, View, broadcast_operand, collapse, dense_strides, split_leading
from deeploy_tiler.errors import EmitError
from deeploy_tiler.ir import DType


def _offsets(extents: Sequence[int], strides: Sequence[Sequence[int]]) -> list[tuple[int, ...]]:
    """Per element (row-major order), the element offset of every operand."""
    return [
        tuple(sum(i * s for i, s in zip(idx, st, strict=True)) for st in strides)
        for idx in itertools.product(*(range(e) for e in extents))
    ]


def test_ptr_text_and_arithmetic() -> None:
    assert Ptr("buf", 0, True).c() == "(const void *)((const uint8_t *)buf)"
    assert (Ptr("buf", 4, False) + 8).c() == "(void *)((uint8_t *)buf + 12)"


def test_dense_strides() -> None:
    assert dense_strides((2, 3, 4)) == (12, 4, 1)
    assert dense_strides(()) == ()


def _view(start: tuple[int, ...], shape: tuple[int, ...], full: tuple[int, ...], dtype: DType = DType.INT16) -> View:
    return View("t", Ptr("l1", 100, False), dtype, start, shape, full, "L1 slot")


def test_view_pointer_cover_and_errors() -> None:
    v = _view((2, 4), (3, 5), (8, 16))
    assert v.ptr((3, 6)).offset == 100 + ((3 - 2) * 5 + (6 - 4)) * 2
    assert v.covers(((2, 3), (4, 5))) and not v.covers(((2, 3), (4, 6)))
    assert v.covers(((0, 0), (0, 0)))  # empty extents need nothing
    with pytest.raises(EmitError, match=r"step: the L1 slot of t holds \[2:5, 4:9\] but the step needs \[1:3, 4:5\]"):
        v.require(((1, 2), (4, 1)), "step")
    with pytest.raises(EmitError, match=r"element \(1, 4\) lies before the L1 slot starting at \(2, 4\)"):
        v.ptr((1, 4))
    with pytest.raises(EmitError, match=r"cannot reshape a partial L1 slot view"):
        v.reshaped((15,))
    whole = _view((0, 0), (2, 6), (2, 6)).reshaped((3, 4))
    assert whole.shape == whole.full == (3, 4) and whole.strides == (4, 1)
    u = v.with_unit_dim(1)
    assert (u.start, u.shape, u.full) == ((2, 0, 4), (3, 1, 5), (8, 1, 16))


def test_broadcast_operand_zero_strides_on_unit_dims() -> None:
    bias = _view((0, 0), (1, 5), (1, 5), DType.INT32)  # broadcast over rows, then batch
    ptr, strides = broadcast_operand(bias, (0, 7, 2))
    assert strides == [0, 0, 1] and ptr.offset == 100 + 2 * 4
    with pytest.raises(EmitError, match=r"operand rank 2 exceeds output rank 1"):
        broadcast_operand(bias, (0,))


def test_collapse_merges_contiguous_dims_by_hand() -> None:
    # Two dense operands of shape 2x3x4 collapse to one dimension of 24.
    assert collapse([2, 3, 4], [[12, 4, 1], [12, 4, 1]]) == ([24], [[1], [1]])
    # A broadcast operand (stride 0 on dim 1) keeps the dims apart; the extent-1 dim is dropped.
    assert collapse([2, 1, 3, 4], [[12, 12, 4, 1], [4, 0, 0, 1]]) == ([2, 3, 4], [[12, 4, 1], [4, 0, 1]])
    assert collapse([1, 1], [[5, 1]]) == ([1], [[0]])


def test_collapse_and_split_leading_visit_the_same_offsets_as_brute_force() -> None:
    rng = random.Random(3)
    for _ in range(200):
        rank = rng.randint(1, 5)
        ext = [rng.choice([1, 1, 2, 3, 4]) for _ in range(rank)]
        strides = []
        for _ in range(rng.randint(1, 3)):
            dense = list(dense_strides(ext))
            strides.append([0 if rng.random() < 0.2 else s * rng.choice([1, 1, 2]) for s in dense])
        expected = _offsets(ext, strides)
        ce, cs = collapse(ext, strides)
        assert _offsets(ce, cs) == expected, (ext, strides)
        assert len(ce) <= max(1, sum(e != 1 for e in ext))
        keep = rng.randint(1, 3)
        ke, ks, calls = split_leading(ce, cs, keep)
        assert len(ke) == keep and all(len(s) == keep for s in ks)
        inner = _offsets(ke, ks)
        visited = [tuple(o + x for o, x in zip(off, el, strict=True)) for off in calls for el in inner]
        assert visited == expected, (ce, cs, keep)
