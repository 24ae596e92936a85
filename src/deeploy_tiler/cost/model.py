"""Analytic latency model and roofline lower bound of one node on one engine, from the HwSpec.

Everything is in *scaled cycles* (cycles * `scale`, with `scale` the denominator of 1 / bandwidth, 8 on
Siracusa), so every quantity is an exact integer; reported cycles are rounded up once per node.

Per node, for a choice of tile sizes and a buffering mode (single / double) per buffer:

* compute   C = ceil(MACs / effective MAC rate + non-MAC ops / elementwise rate) + N * call_overhead
  (N = number of tiles; the work itself does not depend on the tiling: every output is computed once)
  on a cluster; on an accelerator its task model (registry cost.tasks; ops.npu for the NPU) summed over
  the tiles (NPU: PE-array subtiles, output channel passes, input-channel blocks, per-task setup), which
  does depend on the tile shapes.
* weights an NPU reads in place from its weight memory are no buffer: no DMA, no L1; their words are
  consumed by the task model at the memory's port bandwidth.
* one DMA transfer of `bytes` over a region with `rows` contiguous runs issued as `hw` strided
  transfers of at most `max_dims` dimensions: setup * hw + per_row * rows + bytes / bandwidth.
* a buffer's DMA: the sum over its transfers. Inputs are loaded whenever their region changes in the
  fixed loop order (a region that does not depend on the inner loops stays resident); outputs are
  stored once per tile. The counts are exact, border tiles and halos included (ops.tilespace).
* edge_b: the transfer of buffer b that cannot overlap any compute: the first tile's load for an
  input (the prologue), the last tile's store for the output (the epilogue).
  steady_b = dma_b - edge_b.
* total = sum_b edge_b + sum_{b single} steady_b + max(C, sum_{b double} steady_b).
  A single-buffered buffer's steady transfers wait for / block the compute (its one slot is in use);
  a double-buffered one's overlap the compute of the neighbouring tile. One DMA engine serves all.
* L1 bytes = sum_b copies_b * align(largest region of b) + align(scratch)
  + copies-weighted DESCRIPTOR_BYTES per buffer slot (aligned), against the plan budget.

Lower bounds (no choice of tiles or modes, whatever the budget, beats them under this model):
* roofline RB = max(C_min + sum_b edge_min_b, sum_b dma_min_b), with C_min = work + one call overhead
  (NPU: the least task-model compute of any choice),
  edge_min_b = setup + per_row + (bytes of b's smallest possible first / last region) / bandwidth,
  dma_min_b = setup + per_row + (bytes of the elements of b any tile needs, each once) / bandwidth.
* pipeline PB = max(min_tiles (C + sum_b edge_b), min_tiles sum_b dma_b): since
  total >= edges + C and total >= all DMA for every choice; it accounts for the call overhead each
  extra tile costs, which the roofline ignores. Computed by enumerating the tile space.
  The reported bound is max(RB, PB) (= PB when the space is enumerable; RB <= PB always).

`NodeCostModel.evaluate` and the CP-SAT model (solver.tiling) are built from the same `Poly`
objects, so the solver minimizes exactly the number `evaluate` returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from itertools import pairwise
from math import ceil, prod
from typing import Literal

import numpy as np

from ..errors import PlanError
from ..hw.spec import ComputeEngine, HwSpec
from ..hw.target import EngineTarget, exact_rate, target_of
from ..ops.geometry import Follow, Full, Geometry, OperandMap
from ..ops.policy import KernelPolicy
from ..plan import CycleBreakdown
from ..units import align_up, ceil_div
from .tasks import task_compute_poly
from .tilespace import (
    Poly,
    TileSpace,
    View,
    dim_tables,
    grid_count,
    grid_elements,
    grid_runs,
    output_maps,
    reload_factor,
)

DESCRIPTOR_BYTES = 32  # bytes of one DMA descriptor; one per buffer slot the DMA reads or writes
GRID_BOUND_LIMIT = 1_000_000  # tile spaces up to this many choices are enumerated for the bound


@dataclass(frozen=True)
class CostParams:
    """The hardware figures the node model uses, as exact numbers."""

    engine: str
    l1_level: str
    home_level: str
    setup: int  # cycles per DMA transfer
    per_row: int  # cycles per contiguous run
    bandwidth: Fraction  # bytes per cycle
    max_dims: int  # dimensions one DMA transfer describes
    call_overhead: int  # cycles per kernel call
    alignment: int  # L1 buffer alignment, bytes

    @staticmethod
    def from_target(target: EngineTarget) -> CostParams:
        """The figures of one engine of a target view (hw.target): its local level, home DMA, overhead."""
        return CostParams(
            engine=target.name,
            l1_level=target.local.name,
            home_level=target.home.name,
            setup=target.dma.setup_cycles,
            per_row=target.dma.per_row_cycles,
            bandwidth=target.dma.bandwidth,
            max_dims=target.dma.max_dims,
            call_overhead=target.call_overhead,
            alignment=target.local.alignment,
        )

    @staticmethod
    def from_hw(hw: HwSpec, engine: str | None = None) -> CostParams:
        """`from_target` of engine `engine` (None: the cluster) of `hw`'s target view."""
        return CostParams.from_target(target_of(hw).engine(engine))

    @property
    def scale(self) -> int:
        """Sub-cycle units per cycle: bytes / bandwidth is an integer number of them."""
        return (1 / self.bandwidth).denominator

    @property
    def byte_cost(self) -> int:
        """Scaled cycles per byte moved."""
        return int(self.scale / self.bandwidth)

    @property
    def descriptor_slot_bytes(self) -> int:
        return align_up(DESCRIPTOR_BYTES, self.alignment)

    def transfer_scaled(self, nbytes: int, rows: int, hw_transfers: int) -> int:
        """Scaled cycles of one planned transfer (the formula in the module docstring)."""
        return self.scale * (self.setup * hw_transfers + self.per_row * rows) + self.byte_cost * nbytes

    def to_cycles(self, scaled: int) -> int:
        return ceil_div(scaled, self.scale)


def compute_work_cycles(policy: KernelPolicy, engine: ComputeEngine) -> int:
    """Cycles of a node's arithmetic, independent of its tiling (call overheads not included)."""
    work = Fraction(0)
    if policy.macs:
        rate = engine.macs_per_cycle(policy.mac_dtype or "int8")
        if rate is None:
            raise PlanError(f"engine {engine.name} has no MAC rate for {policy.mac_dtype}")
        work += Fraction(policy.macs) / exact_rate(rate)
    if policy.elementwise_ops:
        if engine.elementwise_ops_per_cycle is None:
            raise PlanError(f"engine {engine.name} runs no standalone elementwise operations")
        work += Fraction(policy.elementwise_ops) / exact_rate(engine.elementwise_ops_per_cycle)
    return ceil(work)


# --- the symbolic model -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BufferModel:
    """DMA and L1 quantities of one buffer as Polys over the tile choice (no names: cache-friendly)."""

    role: Literal["input", "weight", "output"]
    itemsize: int
    transfers: Poly  # planned transfers over the node
    bytes: Poly
    rows: Poly
    hw_transfers: Poly
    edge_bytes: Poly  # the first load (inputs) / last store (output)
    edge_rows: Poly
    edge_hw: Poly
    max_elements: Poly  # elements of the largest region: the slot size before alignment
    union_elements: int  # elements any tile needs, each counted once (for the bound)

    def dma(self, p: CostParams) -> Poly:
        return self.hw_transfers * (p.scale * p.setup) + self.rows * (p.scale * p.per_row) + self.bytes * p.byte_cost

    def edge(self, p: CostParams) -> Poly:
        return (
            self.edge_hw * (p.scale * p.setup) + self.edge_rows * (p.scale * p.per_row) + self.edge_bytes * p.byte_cost
        )

    def steady(self, p: CostParams) -> Poly:
        return self.dma(p) - self.edge(p)


@dataclass(frozen=True)
class Choice:
    tiles: tuple[int, ...]  # candidate index per output dim (0 = the whole dimension)
    double: tuple[bool, ...]  # per buffer (operands in order, then the output)


@dataclass(frozen=True)
class NodeCost:
    scale: int
    compute: int  # cycles
    dma_scaled: int
    total_scaled: int
    l1_bytes: int
    num_tiles: int

    @property
    def total(self) -> int:
        return ceil_div(self.total_scaled, self.scale)

    @property
    def breakdown(self) -> CycleBreakdown:
        total = self.total
        return CycleBreakdown(
            compute=self.compute,
            dma=ceil_div(self.dma_scaled, self.scale),
            exposed_dma=total - self.compute,
            total=total,
        )


@dataclass(frozen=True)
class NodeCostModel:
    space: TileSpace
    buffers: tuple[BufferModel, ...]  # operands in geometry order, then the output (last)
    params: CostParams
    work_cycles: int
    scratch_bytes: int  # aligned
    no_gaps: bool  # no access map skips operand indices (stride <= window everywhere)
    compute_cycles: Poly | None = None  # task model summed over tiles (cost.tasks); None: work + N * overhead
    num_tiles: Poly = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "num_tiles", grid_count([_out_view(self.space, d) for d in range(len(self.space.out_shape))])
        )

    # --- polys shared with the solver ---------------------------------------------------------------
    def compute_scaled(self) -> Poly:
        p = self.params
        if self.compute_cycles is not None:
            return self.compute_cycles * p.scale
        return Poly.const(p.scale * self.work_cycles) + self.num_tiles * (p.scale * p.call_overhead)

    @cached_property
    def _compute_min(self) -> int:
        """Fewest compute cycles of any choice (the roofline's compute side)."""
        if self.compute_cycles is None:
            return self.work_cycles + self.params.call_overhead
        if self.space.size <= GRID_BOUND_LIMIT:
            return int(self.compute_cycles.grid(self.space.shape).min())
        return max(self.compute_cycles.bounds()[0], 0)

    @cached_property
    def compute_dominated(self) -> bool:
        """True when every choice computes at least as long as the untiled one plus one call overhead per
        extra tile: C(c) >= C(U) + (N(c) - 1) * overhead (what the early exit's proof needs). Always true
        for work + N * overhead; checked by enumeration for a task model, False when too large to check."""
        if self.compute_cycles is None:
            return True
        if self.space.size > GRID_BOUND_LIMIT:
            return False
        shape = self.space.shape
        c = self.compute_cycles.grid(shape)
        n = self.num_tiles.grid(shape)
        c_u = self.compute_cycles.value(self.untiled().tiles)
        return bool((c - c_u - (n - 1) * self.params.call_overhead >= 0).all())

    def slot_bytes(self, b: BufferModel) -> Poly:
        """Unaligned bytes of one slot (the solver and `evaluate` align it the same way)."""
        return b.max_elements * b.itemsize

    @property
    def fixed_l1_bytes(self) -> int:
        """L1 bytes that do not depend on the choice: scratch plus one descriptor per single slot."""
        return self.scratch_bytes + len(self.buffers) * self.params.descriptor_slot_bytes

    # --- evaluation ---------------------------------------------------------------------------------
    def evaluate(self, choice: Choice) -> NodeCost:
        p = self.params
        idx = choice.tiles
        c = self.compute_scaled().value(idx)
        edge = steady_single = steady_double = dma = 0
        l1 = self.fixed_l1_bytes
        for b, dbl in zip(self.buffers, choice.double, strict=True):
            e = b.edge(p).value(idx)
            d = b.dma(p).value(idx)
            dma += d
            edge += e
            if dbl:
                steady_double += d - e
            else:
                steady_single += d - e
            slot = align_up(self.slot_bytes(b).value(idx), p.alignment)
            l1 += slot * (2 if dbl else 1) + (p.descriptor_slot_bytes if dbl else 0)
        total = edge + steady_single + max(c, steady_double)
        return NodeCost(
            scale=p.scale,
            compute=c // p.scale,
            dma_scaled=dma,
            total_scaled=total,
            l1_bytes=l1,
            num_tiles=self.num_tiles.value(idx),
        )

    def best_by_enumeration(
        self, budget: int, double_buffer: bool, limit: int = 4_000_000
    ) -> tuple[Choice | None, bool]:
        """Exhaustive minimum of (total, L1) over every tile choice and buffering mode that fits the
        budget, with the same Polys as `evaluate` (vectorized). Returns (choice, done); done is False
        when the space (choices x modes) exceeds `limit` and nothing was enumerated."""
        p = self.params
        shape = self.space.shape
        steady = [b.steady(p) for b in self.buffers]
        dbl = [i for i, s in enumerate(steady) if double_buffer and s.constant != 0]
        if self.space.size << len(dbl) > limit:
            return None, False
        comp = self.compute_scaled().grid(shape)
        dma = np.zeros(shape, dtype=np.int64)
        l1 = np.full(shape, self.fixed_l1_bytes, dtype=np.int64)
        slots = []
        for b in self.buffers:
            dma += b.dma(p).grid(shape)
            slot = align_up(self.slot_bytes(b).grid(shape), p.alignment)
            slots.append(slot)
            l1 += slot
        steady_g = [steady[i].grid(shape) for i in dbl]
        best: tuple[int, int, int, int] | None = None  # (total, l1, mask, flat index)
        for mask in range(1 << len(dbl)):
            dd = np.zeros(shape, dtype=np.int64)
            l1m = l1.copy()
            for j, i in enumerate(dbl):
                if mask >> j & 1:
                    dd += steady_g[j]
                    l1m += slots[i] + p.descriptor_slot_bytes
            total = dma - dd + np.maximum(comp, dd)
            ok = l1m <= budget
            if not ok.any():
                continue
            t_min = int(total[ok].min())
            sel = ok & (total == t_min)
            l_min = int(l1m[sel].min())
            k = int(np.flatnonzero((sel & (l1m == l_min)).ravel())[0])
            cand = (t_min, l_min, mask, k)
            if best is None or cand[:2] < best[:2]:
                best = cand
        if best is None:
            return None, True
        _, _, mask, k = best
        tiles = tuple(int(i) for i in np.unravel_index(k, shape))
        double = [False] * len(self.buffers)
        for j, i in enumerate(dbl):
            double[i] = bool(mask >> j & 1)
        return Choice(tiles=tiles, double=tuple(double)), True

    def untiled(self) -> Choice:
        return Choice(tiles=(0,) * len(self.space.out_shape), double=(False,) * len(self.buffers))

    def smallest(self) -> Choice:
        """Smallest candidate on every dimension, single-buffered: the least L1 when every buffer's
        largest region grows with the tile size (checked by `l1_monotone`)."""
        return Choice(tiles=tuple(len(c) - 1 for c in self.space.candidates), double=(False,) * len(self.buffers))

    def l1_monotone(self) -> bool:
        """True when every slot size is non-increasing along each dimension's candidate list."""
        for b in self.buffers:
            for t in self.slot_bytes(b).terms:
                if t.coef < 0:
                    return False
                for _, table in t.factors:
                    if any(x < y for x, y in pairwise(table)):
                        return False
        return True

    def l1_lower_bound(self) -> int:
        """L1 bytes no choice goes below (per-slot minima taken independently)."""
        return self.fixed_l1_bytes + sum(
            align_up(self.slot_bytes(b).bounds()[0], self.params.alignment) for b in self.buffers
        )

    def edge_min_scaled(self) -> int:
        """Smallest possible sum of edge transfers (prologue + epilogue) over every choice."""
        p = self.params
        return sum(p.scale * (p.setup + p.per_row) + p.byte_cost * b.edge_bytes.bounds()[0] for b in self.buffers)

    def roofline_scaled(self) -> int:
        """max(C_min + edge_min, DMA_min): every operand moved once, one call, the smallest edges."""
        p = self.params
        compute = p.scale * self._compute_min
        dma = sum(p.scale * (p.setup + p.per_row) + p.byte_cost * b.itemsize * b.union_elements for b in self.buffers)
        return max(compute + self.edge_min_scaled(), dma)

    def pipeline_bound_scaled(self) -> int | None:
        """min over tiles of (C + edges) and of total DMA, ignoring the budget and the buffering modes
        (None when the tile space is too large to enumerate)."""
        if self.space.size > GRID_BOUND_LIMIT:
            return None
        p = self.params
        shape = self.space.shape
        compute_side = self.compute_scaled()
        dma_side = Poly()
        for b in self.buffers:
            compute_side = compute_side + b.edge(p)
            dma_side = dma_side + b.dma(p)
        return max(int(compute_side.grid(shape).min()), int(dma_side.grid(shape).min()))

    def lower_bound_scaled(self) -> int:
        return self._bound

    @cached_property
    def _bound(self) -> int:
        return max(self.roofline_scaled(), self.pipeline_bound_scaled() or 0)

    def lower_bound(self) -> int:
        return self.params.to_cycles(self._bound)

    def roofline(self) -> int:
        return self.params.to_cycles(self.roofline_scaled())


def _out_view(space: TileSpace, d: int) -> View:
    return dim_tables(Follow(d), space.out_shape[d], space).all


def _union_count(m: Follow | Full, extent: int, out_extent: int) -> int:
    if isinstance(m, Full):
        return extent
    covered: set[int] = set()
    for o in range(out_extent):
        start, size = m.span(o, 1, extent)
        covered.update(range(start, start + size))
    return len(covered)


def _buffer_model(
    maps: Sequence[Follow | Full],
    shape: tuple[int, ...],
    itemsize: int,
    role: Literal["input", "weight", "output"],
    reload: Poly,
    geom: Geometry,
    space: TileSpace,
    params: CostParams,
) -> BufferModel:
    tables = [dim_tables(m, e, space) for m, e in zip(maps, shape, strict=True)]
    views = [t.all for t in tables]
    edge = [t.last if role == "output" else t.first for t in tables]
    shift = params.max_dims - 1
    max_el = Poly.const(1)
    for t in tables:
        max_el = max_el * t.max_extent
    union = prod(
        _union_count(m, e, geom.out_shape[m.out_dim] if isinstance(m, Follow) else 0)
        for m, e in zip(maps, shape, strict=True)
    )
    return BufferModel(
        role=role,
        itemsize=itemsize,
        transfers=reload * grid_count(views),
        bytes=reload * grid_elements(views) * itemsize,
        rows=reload * grid_runs(views),
        hw_transfers=reload * grid_runs(views, shift),
        edge_bytes=grid_elements(edge) * itemsize,
        edge_rows=grid_runs(edge),
        edge_hw=grid_runs(edge, shift),
        max_elements=max_el,
        union_elements=union,
    )


def operand_model(op: OperandMap, geom: Geometry, space: TileSpace, params: CostParams) -> BufferModel:
    return _buffer_model(
        op.dims, op.shape, op.dtype.itemsize, op.role, reload_factor(op, geom, space), geom, space, params
    )


def build_cost_model(
    geom: Geometry, space: TileSpace, policy: KernelPolicy, engine: ComputeEngine, params: CostParams
) -> NodeCostModel:
    buffers = [operand_model(op, geom, space, params) for op in geom.operands]
    buffers.append(
        _buffer_model(
            output_maps(geom), geom.out_shape, geom.out_dtype.itemsize, "output", Poly.const(1), geom, space, params
        )
    )
    no_gaps = all(not (isinstance(m, Follow) and m.has_gaps) for op in geom.operands for m in op.dims)
    if policy.task is not None:
        return NodeCostModel(
            space=space,
            buffers=tuple(buffers),
            params=params,
            work_cycles=0,
            scratch_bytes=align_up(policy.scratch_bytes, params.alignment),
            no_gaps=no_gaps,
            compute_cycles=task_compute_poly(policy.task, space),
        )
    return NodeCostModel(
        space=space,
        buffers=tuple(buffers),
        params=params,
        work_cycles=compute_work_cycles(policy, engine),
        scratch_bytes=align_up(policy.scratch_bytes, params.alignment),
        no_gaps=no_gaps,
    )
