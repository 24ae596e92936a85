"""Box algebra over regions: volumes, containment, bounds, bounding boxes, contiguous runs, size rounding."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from deeploy_tiler.plan import Region
from deeploy_tiler.validator.regions import (
    align_up,
    bbox,
    ceil_div,
    contains,
    fits,
    fmt,
    full_region,
    in_bounds,
    is_empty,
    min_runs,
    volume,
)


def test_volume_and_emptiness() -> None:
    assert volume(((0, 2), (3, 4))) == 8
    assert volume(()) == 1  # a scalar is one element
    assert is_empty(((0, 2), (1, 0))) and not is_empty(((0, 2), (1, 1))) and not is_empty(())
    assert volume(((0, 2), (1, 0))) == 0


def test_contains() -> None:
    outer = ((0, 4), (2, 6))
    assert contains(outer, ((1, 2), (2, 6)))
    assert contains(outer, outer)
    assert not contains(outer, ((1, 4), (2, 6)))  # sticks out at the end of dim 0
    assert not contains(outer, ((0, 4), (1, 2)))  # starts before dim 1
    assert not contains(outer, ((0, 1),))  # rank mismatch
    assert contains(outer, ((9, 0), (99, 3)))  # an empty box is inside anything of its rank


def test_bounds_full_and_fits() -> None:
    shape = (4, 6)
    assert full_region(shape) == ((0, 4), (0, 6))
    assert in_bounds(full_region(shape), shape)
    assert in_bounds(((4, 0), (0, 6)), shape)  # empty at the far edge
    assert not in_bounds(((1, 4), (0, 6)), shape)
    assert not in_bounds(((-1, 2), (0, 6)), shape)
    assert not in_bounds(((0, 4),), shape)
    assert fits(((7, 2), (0, 3)), (2, 3)) and not fits(((0, 3), (0, 3)), (2, 3)) and not fits(((0, 1),), (2, 3))


def test_bbox() -> None:
    assert bbox(((0, 2), (5, 1)), ((3, 1), (1, 2))) == ((0, 4), (1, 5))
    a = ((2, 2), (2, 2))
    assert bbox(a, ((0, 0), (9, 9))) == a and bbox(((0, 0), (9, 9)), a) == a  # an empty box adds nothing


def test_fmt_is_half_open_slices() -> None:
    assert fmt(((0, 2), (3, 4))) == "[0:2, 3:7]"
    assert fmt(()) == "[]"


def test_ceil_div_and_align_up() -> None:
    assert [ceil_div(n, 4) for n in (0, 1, 4, 5, 8)] == [0, 1, 1, 2, 2]
    assert [align_up(n, 4) for n in (0, 1, 3, 4, 5)] == [0, 4, 4, 4, 8]
    assert align_up(13, 1) == 13


def test_min_runs_examples() -> None:
    assert min_runs(((0, 4), (0, 6)), (4, 6)) == (1, 24)  # the whole tensor: one run
    assert min_runs(((1, 2), (0, 6)), (4, 6)) == (1, 12)  # whole rows: still contiguous
    assert min_runs(((1, 2), (2, 3)), (4, 6)) == (2, 3)  # part rows: one run per row
    # 4 channels x rows 0..4 of an 8x8 plane: one run of 5 rows x 8 per channel
    assert min_runs(((0, 1), (0, 4), (0, 5), (0, 8)), (1, 4, 8, 8)) == (4, 40)


def _brute_runs(region: Region, shape: tuple[int, ...]) -> int:
    """Contiguous runs of the box's flat indices, counted one by one."""
    flat = sorted(
        int(np.ravel_multi_index(idx, shape)) for idx in itertools.product(*(range(s, s + n) for s, n in region))
    )
    return sum(1 for i, f in enumerate(flat) if i == 0 or flat[i - 1] + 1 != f)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_min_runs_matches_a_brute_force_count(data: st.DataObject) -> None:
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=4), label="shape"))
    region = []
    for d in shape:
        start = data.draw(st.integers(0, d - 1))
        region.append((start, data.draw(st.integers(1, d - start))))
    box = tuple(region)
    runs, run_len = min_runs(box, shape)
    assert runs == _brute_runs(box, shape)
    assert runs * run_len == volume(box) == math.prod(n for _, n in box)
