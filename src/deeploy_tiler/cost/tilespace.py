"""The tile space of a node and exact per-dimension counting of what its tiles touch.

A tiling picks one candidate tile size per output dimension. Every quantity the cost model needs
(tiles, bytes moved, contiguous runs, DMA transfers, largest buffer) is a sum over tiles of products
over dimensions, so it is a `Poly`: a sum of terms `coef * prod_d table_d[choice_d]` where each table
is indexed by the candidate chosen on one output dimension. cost.py evaluates a Poly for a given
choice; the CP-SAT builder turns the very same Poly into model expressions. Neither re-derives the
other's formula.

Counting rules (all exact; see solver_models/tiling.md):

* A region along one operand dimension is the clipped span of the tile (`Follow.span`) or the whole
  dimension (`Full`). Regions of one operand over a tiling form a grid: the product over its
  dimensions of the per-dimension lists of spans.
* Contiguous runs of a row-major region: with j the innermost dimension not taken whole (0 if none),
  runs = prod_{i<j} extent_i. Summed over the grid this splits by j into per-dimension counts:
  sum_j [prod_{i<j} SumExt_i] * NotFull_j * prod_{k>j} FullCount_k  (with NotFull_0 := Count_0).
* DMA transfers when one transfer describes `max_dims` dimensions: prod_{i<j-(max_dims-1)} extent_i,
  the same split with the extents of the dimensions j-(max_dims-1) .. j-1 replaced by tile counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from math import prod

import numpy as np
import numpy.typing as npt

from ..ops.geometry import DimMap, Follow, Full, Geometry, OperandMap, dim_tiles
from ..units import ceil_div

Table = tuple[int, ...]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Term:
    coef: int
    factors: tuple[tuple[int, Table], ...]  # (output dim, table over its candidates), dims distinct, sorted

    def value(self, choice: Sequence[int]) -> int:
        v = self.coef
        for d, table in self.factors:
            v *= table[choice[d]]
        return v


@dataclass(frozen=True)
class Poly:
    """sum_terms coef * prod_d table_d[choice_d]; canonical (constant tables folded, like terms merged)."""

    terms: tuple[Term, ...] = ()

    @staticmethod
    def const(c: int) -> Poly:
        return Poly((Term(c, ()),)) if c else Poly()

    @staticmethod
    def table(dim: int, table: Sequence[int]) -> Poly:
        return _normalize([Term(1, ((dim, tuple(table)),))])

    def __add__(self, other: Poly | int) -> Poly:
        o = Poly.const(other) if isinstance(other, int) else other
        return _normalize([*self.terms, *o.terms])

    def __radd__(self, other: int) -> Poly:
        return self + other

    def __neg__(self) -> Poly:
        return Poly(tuple(Term(-t.coef, t.factors) for t in self.terms))

    def __sub__(self, other: Poly | int) -> Poly:
        o = Poly.const(other) if isinstance(other, int) else other
        return self + (-o)

    def __mul__(self, other: Poly | int) -> Poly:
        if isinstance(other, int):
            return _normalize([Term(t.coef * other, t.factors) for t in self.terms])
        return _normalize([_term_product(a, b) for a in self.terms for b in other.terms])

    def __rmul__(self, other: int) -> Poly:
        return self * other

    def value(self, choice: Sequence[int]) -> int:
        return sum(t.value(choice) for t in self.terms)

    def grid(self, shape: tuple[int, ...]) -> IntArray:
        """Values at every choice at once: an array of `shape` (candidates per dimension)."""
        out = np.zeros(shape, dtype=np.int64)
        for t in self.terms:
            arr = np.full((1,) * len(shape), t.coef, dtype=np.int64)
            for d, table in t.factors:
                axis = [1] * len(shape)
                axis[d] = len(table)
                arr = arr * np.asarray(table, dtype=np.int64).reshape(axis)
            out += arr
        return out

    @property
    def constant(self) -> int | None:
        """The value when the Poly does not depend on any choice, else None."""
        if all(not t.factors for t in self.terms):
            return sum(t.coef for t in self.terms)
        return None

    def bounds(self) -> tuple[int, int]:
        """Loose [lo, hi] over every choice (termwise; exact for a single term)."""
        lo = hi = 0
        for t in self.terms:
            vmin = vmax = t.coef
            for _, table in t.factors:
                cands = [vmin * x for x in (min(table), max(table))] + [vmax * x for x in (min(table), max(table))]
                vmin, vmax = min(cands), max(cands)
            lo, hi = lo + vmin, hi + vmax
        return lo, hi


def _term_product(a: Term, b: Term) -> Term:
    merged: dict[int, Table] = dict(a.factors)
    for d, tb in b.factors:
        ta = merged.get(d)
        merged[d] = tb if ta is None else tuple(x * y for x, y in zip(ta, tb, strict=True))
    return Term(a.coef * b.coef, tuple(sorted(merged.items())))


def _normalize(terms: Iterable[Term]) -> Poly:
    acc: dict[tuple[tuple[int, Table], ...], int] = {}
    for t in terms:
        coef = t.coef
        key = t.factors
        if any(table.count(table[0]) == len(table) for _, table in key):  # fold constant tables
            kept = []
            for d, table in key:
                if table.count(table[0]) == len(table):
                    coef *= table[0]
                else:
                    kept.append((d, table))
            key = tuple(kept)
        if coef:
            acc[key] = acc.get(key, 0) + coef
    if len(acc) == 1:
        ((f, c),) = acc.items()
        return Poly((Term(c, f),) if c else ())
    return Poly(tuple(Term(c, f) for f, c in sorted(acc.items()) if c))


# --- the tile space ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TileSpace:
    """Candidate tile sizes per output dimension, largest (= the whole dimension) first."""

    out_shape: tuple[int, ...]
    candidates: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        for d, (extent, cands) in enumerate(zip(self.out_shape, self.candidates, strict=True)):
            if not cands or cands[0] != extent or any(not 1 <= c <= extent for c in cands):
                raise ValueError(f"dim {d}: candidates {cands} must start with the whole extent {extent}")

    def tiles(self, dim: int, idx: int) -> tuple[tuple[int, int], ...]:
        return dim_tiles(self.out_shape[dim], self.candidates[dim][idx])

    def counts(self, dim: int) -> Table:
        return tuple(ceil_div(self.out_shape[dim], t) for t in self.candidates[dim])

    @property
    def free_dims(self) -> tuple[int, ...]:
        return tuple(d for d, c in enumerate(self.candidates) if len(c) > 1)

    @property
    def size(self) -> int:
        return prod(len(c) for c in self.candidates)

    @property
    def shape(self) -> tuple[int, ...]:
        """Candidates per dimension: the shape of `Poly.grid` arrays."""
        return tuple(len(c) for c in self.candidates)


# --- per-dimension tables of one buffer ---------------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """Per-dimension factors of a set of regions: all tiles, the first tile, or the last tile."""

    count: Poly  # regions along the dimension
    extent_sum: Poly  # sum of their extents
    full_count: Poly  # regions taking the whole dimension
    not_full: Poly  # regions not taking it whole


@dataclass(frozen=True)
class DimTables:
    all: View
    first: View
    last: View
    max_extent: Poly


def _view_of(spans_per_cand: Sequence[Sequence[int]], extent: int, dim: int) -> View:
    cnt = [len(s) for s in spans_per_cand]
    full = [sum(1 for e in s if e == extent) for s in spans_per_cand]
    return View(
        count=Poly.table(dim, cnt),
        extent_sum=Poly.table(dim, [sum(s) for s in spans_per_cand]),
        full_count=Poly.table(dim, full),
        not_full=Poly.table(dim, [c - f for c, f in zip(cnt, full, strict=True)]),
    )


def dim_tables(m: DimMap, extent: int, space: TileSpace) -> DimTables:
    """Tables of one operand dimension of size `extent` under map `m` over the candidates."""
    if isinstance(m, Full):
        one, ext = Poly.const(1), Poly.const(extent)
        v = View(count=one, extent_sum=ext, full_count=one, not_full=Poly())
        return DimTables(all=v, first=v, last=v, max_extent=ext)
    d = m.out_dim
    spans = [[m.span(s, z, extent)[1] for s, z in space.tiles(d, i)] for i in range(len(space.candidates[d]))]
    return DimTables(
        all=_view_of(spans, extent, d),
        first=_view_of([s[:1] for s in spans], extent, d),
        last=_view_of([s[-1:] for s in spans], extent, d),
        max_extent=Poly.table(d, [max(s) for s in spans]),
    )


def output_maps(geom: Geometry) -> tuple[DimMap, ...]:
    return tuple(Follow(d) for d in range(geom.rank))


def grid_count(views: Sequence[View]) -> Poly:
    return _product(v.count for v in views)


def grid_elements(views: Sequence[View]) -> Poly:
    return _product(v.extent_sum for v in views)


def grid_runs(views: Sequence[View], shift: int = 0) -> Poly:
    """Sum over the grid of prod_{i < j - shift} extent_i (j: innermost dimension not taken whole).

    shift = 0 counts contiguous runs (rows); shift = max_dims - 1 counts DMA transfers."""
    m = len(views)
    if m == 0:
        return Poly.const(1)
    total = Poly()
    for j in range(m):
        factors: list[Poly] = []
        for i in range(j):
            factors.append(views[i].extent_sum if i < j - shift else views[i].count)
        factors.append(views[0].count if j == 0 else views[j].not_full)
        factors.extend(views[k].full_count for k in range(j + 1, m))
        total = total + _product(factors)
    return total


def _product(polys: Iterable[Poly]) -> Poly:
    out = Poly.const(1)
    for p in polys:
        out = out * p
    return out


def reload_factor(op: OperandMap, geom: Geometry, space: TileSpace) -> Poly:
    """How many times each region of `op` is loaded: once per iteration of the loops outside the
    innermost loop that both moves `op`'s region and has more than one tile.

    For a loop dim d the operand does not follow: r_d = n_d if some followed dim e inside d has
    n_e > 1, else 1, i.e. r_d = n_d - (n_d - 1) * prod_{e followed, inside d} [n_e == 1]."""
    followed = op.followed
    pos = {d: p for p, d in enumerate(geom.loop_order)}
    r = Poly.const(1)
    for d in geom.loop_order:
        if d in followed or len(space.candidates[d]) == 1:
            continue
        n = space.counts(d)
        inner_untiled = _product(
            Poly.table(e, [int(c == 1) for c in space.counts(e)]) for e in followed if pos[e] > pos[d]
        )
        r = r * (Poly.table(d, n) - Poly.table(d, [c - 1 for c in n]) * inner_untiled)
    return r


def load_positions(op: OperandMap, geom: Geometry, choice_counts: Sequence[int]) -> int:
    """Loop positions (a prefix of loop_order) whose indices decide when `op` is (re)loaded: up to the
    innermost followed dimension with more than one tile. 0 means loaded once."""
    last = 0
    for p, d in enumerate(geom.loop_order):
        if d in op.followed and choice_counts[d] > 1:
            last = p + 1
    return last
