"""DMA schedule of one node from its chosen tiles: L1 buffers, transfers, compute steps, events.

Loop: tiles in the node's loop order (an odometer, outermost first). An input buffer is (re)loaded
when the loop indices up to its innermost followed dimension with more than one tile change (exactly
what cost.py counts); the output is stored after every tile.

Events (plan.py semantics), with `next` = tile i + 1:
  prologue: dma_start every input load of tile 0
  for tile i:
    dma_wait the loads of tile i
    dma_start the loads of `next` of double-buffered inputs (into their other slot)
    dma_wait the store that last used the output slot tile i writes (tile i-2 double, i-1 single)
    compute i
    dma_start the store of tile i
    dma_start the loads of `next` of single-buffered inputs (their one slot is free now)
  epilogue: dma_wait every store not waited for yet
No compute runs before its loads completed, no load lands in a slot a pending compute reads (compute
is synchronous and a slot is only reloaded after the compute that read it), no store starts before
its compute, and no compute overwrites an output slot whose store is pending.

Buffers are packed from offset 0 in order (operands, output, scratch, descriptors), every slot
rounded up to the L1 alignment: they are all live together within a node.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from ..cost.model import Choice, CostParams, NodeCostModel
from ..cost.tilespace import load_positions
from ..ops.geometry import Geometry, OperandMap, Region, contiguous_runs, region_numel
from ..plan import ComputeStep, Event, L1Buffer, Transfer
from ..units import align_up


@dataclass(frozen=True)
class Schedule:
    buffers: tuple[L1Buffer, ...]
    transfers: tuple[Transfer, ...]
    steps: tuple[ComputeStep, ...]
    events: tuple[Event, ...]
    l1_bytes: int
    dma_bytes: int


def _tile_grid(geom: Geometry, model: NodeCostModel, choice: Choice) -> list[tuple[tuple[int, ...], Region]]:
    """Tiles in loop order: (index per output dim, output region)."""
    space = model.space
    per_dim = [space.tiles(d, choice.tiles[d]) for d in range(geom.rank)]
    out: list[tuple[tuple[int, ...], Region]] = []
    for combo in product(*(range(len(per_dim[d])) for d in geom.loop_order)):
        idx = [0] * geom.rank
        for d, i in zip(geom.loop_order, combo, strict=True):
            idx[d] = i
        out.append((tuple(idx), tuple(per_dim[d][idx[d]] for d in range(geom.rank))))
    return out


def _max_extents(op_shape: tuple[int, ...], regions: list[Region]) -> tuple[int, ...]:
    return tuple(max(r[k][1] for r in regions) for k in range(len(op_shape)))


def build_schedule(geom: Geometry, model: NodeCostModel, choice: Choice, params: CostParams) -> Schedule:
    tiles = _tile_grid(geom, model, choice)
    counts = [len(model.space.tiles(d, choice.tiles[d])) for d in range(geom.rank)]
    ops: list[OperandMap] = list(geom.operands)
    names = [f"in{op.index}" for op in ops] + ["out"]
    out_name = names[-1]
    out_shape, out_dtype = geom.out_shape, geom.out_dtype

    # --- buffers ---------------------------------------------------------------------------------
    op_regions = [[op.region(r) for _, r in tiles] for op in ops]
    shapes = [_max_extents(op.shape, rs) for op, rs in zip(ops, op_regions, strict=True)]
    shapes.append(_max_extents(out_shape, [r for _, r in tiles]))
    itemsizes = [op.dtype.itemsize for op in ops] + [out_dtype.itemsize]
    dtypes = [op.dtype.value for op in ops] + [out_dtype.value]
    tensors = [op.tensor for op in ops] + [geom.output]
    roles = [op.role for op in ops] + ["output"]
    buffers: list[L1Buffer] = []
    offset = 0
    for name, tensor, role, shape, item, dt, dbl in zip(
        names, tensors, roles, shapes, itemsizes, dtypes, choice.double, strict=True
    ):
        slot = align_up(region_numel(tuple((0, s) for s in shape)) * item, params.alignment)
        copies = 2 if dbl else 1
        buffers.append(
            L1Buffer(
                name=name,
                tensor=tensor,
                role=role,
                level=params.l1_level,
                offset=offset,
                slot_bytes=slot,
                copies=copies,
                tile_shape=shape,
                dtype=dt,
            )
        )
        offset += slot * copies
    if model.scratch_bytes:
        buffers.append(
            L1Buffer(
                name="scratch",
                tensor=None,
                role="scratch",
                level=params.l1_level,
                offset=offset,
                slot_bytes=model.scratch_bytes,
                copies=1,
                tile_shape=(),
                dtype="int8",
            )
        )
        offset += model.scratch_bytes
    desc = params.descriptor_slot_bytes * sum(2 if d else 1 for d in choice.double)
    buffers.append(
        L1Buffer(
            name="descriptors",
            tensor=None,
            role="descriptors",
            level=params.l1_level,
            offset=offset,
            slot_bytes=desc,
            copies=1,
            tile_shape=(),
            dtype="int8",
        )
    )
    offset += desc

    # --- transfers and events --------------------------------------------------------------------
    transfers: list[Transfer] = []
    events: list[Event] = []
    steps: list[ComputeStep] = []

    def transfer(direction: str, k: int, slot: int, region: Region) -> int:
        shape = ops[k].shape if k < len(ops) else out_shape
        t = Transfer(
            id=len(transfers),
            direction="in" if direction == "in" else "out",
            tensor=tensors[k],
            home_level=params.home_level,
            buffer=names[k],
            slot=slot,
            region=region,
            bytes=region_numel(region) * itemsizes[k],
            rows=max(contiguous_runs(region, shape), 1),
        )
        transfers.append(t)
        events.append(Event(kind="dma_start", ref=t.id))
        return t.id

    prefix = [load_positions(op, geom, counts) for op in ops]
    keys = [[tuple(idx[geom.loop_order[p]] for p in range(prefix[k])) for idx, _ in tiles] for k in range(len(ops))]
    slot_of = [0] * len(ops)  # slot holding the current region
    loads_for: dict[int, list[int]] = {0: []}
    for k in range(len(ops)):
        loads_for[0].append(transfer("in", k, 0, op_regions[k][0]))
    pending_store: dict[int, int] = {}  # output slot -> store transfer id not waited for
    n = len(tiles)
    for i, (_, out_region) in enumerate(tiles):
        for tid in loads_for.pop(i, []):
            events.append(Event(kind="dma_wait", ref=tid))
        changed = [k for k in range(len(ops)) if i + 1 < n and keys[k][i + 1] != keys[k][i]]
        next_loads: list[int] = []
        current_slots = list(slot_of)
        for k in changed:
            if choice.double[k]:
                slot_of[k] ^= 1
                next_loads.append(transfer("in", k, slot_of[k], op_regions[k][i + 1]))
        out_slot = i % 2 if choice.double[-1] else 0
        if out_slot in pending_store:
            events.append(Event(kind="dma_wait", ref=pending_store.pop(out_slot)))
        regions = {names[k]: op_regions[k][i] for k in range(len(ops))}
        regions[out_name] = out_region
        slots = {names[k]: current_slots[k] for k in range(len(ops))}
        slots[out_name] = out_slot
        steps.append(ComputeStep(tile=i, output_region=out_region, regions=regions, slots=slots))
        events.append(Event(kind="compute", ref=i))
        pending_store[out_slot] = transfer("out", len(ops), out_slot, out_region)
        for k in changed:
            if not choice.double[k]:
                next_loads.append(transfer("in", k, slot_of[k], op_regions[k][i + 1]))
        if next_loads:
            loads_for[i + 1] = next_loads
    for tid in sorted(pending_store.values()):
        events.append(Event(kind="dma_wait", ref=tid))
    return Schedule(
        buffers=tuple(buffers),
        transfers=tuple(transfers),
        steps=tuple(steps),
        events=tuple(events),
        l1_bytes=offset,
        dma_bytes=sum(t.bytes for t in transfers),
    )
