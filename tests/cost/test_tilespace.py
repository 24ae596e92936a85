"""Poly algebra and the per-dimension counting of regions, against direct sums over the tiles."""

from __future__ import annotations

from itertools import product
from math import prod

from hypothesis import given, settings
from hypothesis import strategies as st

from deeploy_tiler.cost.tilespace import Poly, TileSpace, dim_tables, grid_count, grid_elements, grid_runs
from deeploy_tiler.ops.geometry import Follow, Full, contiguous_runs


def test_poly_algebra_and_grid() -> None:
    a = Poly.table(0, (3, 2, 1))
    b = Poly.table(1, (5, 4))
    p = a * b + a * 2 - 1
    assert p.value((0, 1)) == 3 * 4 + 6 - 1
    grid = p.grid((3, 2))
    assert all(grid[i, j] == p.value((i, j)) for i in range(3) for j in range(2))
    assert Poly.table(0, (4, 4, 4)).constant == 4  # constant tables fold
    assert (a - a).terms == ()
    lo, hi = p.bounds()
    assert lo <= int(grid.min()) and int(grid.max()) <= hi


@st.composite
def _case(draw: st.DrawFn) -> tuple[TileSpace, list[Follow | Full], tuple[int, ...]]:
    rank = draw(st.integers(1, 3))
    out_shape = tuple(draw(st.integers(1, 6)) for _ in range(rank))
    cands = tuple(tuple(sorted({-(-d // k) for k in range(1, d + 1)}, reverse=True)) for d in out_shape)
    maps: list[Follow | Full] = []
    shape: list[int] = []
    for d in draw(st.permutations(list(range(rank)))):
        if draw(st.booleans()):
            maps.append(Full("x"))
            shape.append(draw(st.integers(1, 4)))
        else:
            s, w = draw(st.integers(1, 2)), draw(st.integers(1, 3))
            p = draw(st.integers(0, w - 1))
            extent = (out_shape[d] - 1) * s + w - p + draw(st.integers(-min(p, w - 1), 2))
            maps.append(Follow(d, s, w, p))
            shape.append(max(extent, 1))
    return TileSpace(out_shape, cands), maps, tuple(shape)


@settings(max_examples=60, deadline=None)
@given(_case(), st.integers(1, 3))
def test_grid_counts_match_direct_sums(
    case: tuple[TileSpace, list[Follow | Full], tuple[int, ...]], max_dims: int
) -> None:
    space, maps, shape = case
    tables = [dim_tables(m, e, space) for m, e in zip(maps, shape, strict=True)]
    views = [t.all for t in tables]
    for choice in product(*(range(len(c)) for c in space.candidates)):
        uniq = _distinct_by_followed(space, maps, shape, choice)  # each distinct tile region once
        assert grid_count(views).value(choice) == len(uniq)
        assert grid_elements(views).value(choice) == sum(prod(z for _, z in r) for r in uniq)
        assert grid_runs(views).value(choice) == sum(contiguous_runs(r, shape) for r in uniq)
        assert grid_runs(views, max_dims - 1).value(choice) == sum(contiguous_runs(r, shape, max_dims) for r in uniq)
        maxima = prod(max(r[k][1] for r in uniq) for k in range(len(shape)))
        max_el = Poly.const(1)
        for t in tables:
            max_el = max_el * t.max_extent
        assert max_el.value(choice) == maxima


def _distinct_by_followed(
    space: TileSpace, maps: list[Follow | Full], shape: tuple[int, ...], choice: tuple[int, ...]
) -> list[tuple[tuple[int, int], ...]]:
    per_dim = []
    for m, e in zip(maps, shape, strict=True):
        if isinstance(m, Full):
            per_dim.append([(0, e)])
        else:
            per_dim.append([m.span(s, z, e) for s, z in space.tiles(m.out_dim, choice[m.out_dim])])
    return [tuple(r) for r in product(*per_dim)]
