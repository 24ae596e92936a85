"""Per-node transfer checks: buffer, tensor and direction, slot, region bounds and bytes, row count, the
DMA route and the home level the tensor is placed in over the node's time step."""

from __future__ import annotations

from collections.abc import Mapping

from ..ir import Tensor
from ..plan import L1Buffer, NodePlan, Transfer
from .context import Context
from .regions import fits, fmt, in_bounds, min_runs, volume
from .violations import ViolationKind


def check_transfers(ctx: Context, index: int, np_: NodePlan, buffers: Mapping[str, L1Buffer]) -> dict[int, Transfer]:
    node = np_.name
    transfers: dict[int, Transfer] = {}
    for t in np_.transfers:
        if t.id in transfers:
            ctx.add(ViolationKind.SCHEDULE, node, f"transfer id {t.id} used twice")
            continue
        transfers[t.id] = t
        _check_transfer(ctx, index, node, t, buffers.get(t.buffer))
    total = sum(t.bytes for t in np_.transfers)
    if np_.dma_bytes != total:
        ctx.add(ViolationKind.DMA_BYTES, node, f"dma_bytes is {np_.dma_bytes}, its transfers move {total} B")
    return transfers


def _check_transfer(ctx: Context, index: int, node: str, t: Transfer, b: L1Buffer | None) -> None:
    tag = f"transfer {t.id} ({t.direction} {t.tensor})"
    if b is None:
        ctx.add(ViolationKind.UNKNOWN_BUFFER, node, f"{tag} names unknown buffer {t.buffer!r}")
        return
    if t.tensor != b.tensor:
        ctx.add(ViolationKind.TRANSFER_TENSOR, node, f"{tag} into buffer {b.name}, which holds {b.tensor}")
    if (t.direction == "in") != (b.role in ("input", "weight")) or (t.direction == "out") != (b.role == "output"):
        ctx.add(ViolationKind.TRANSFER_TENSOR, node, f"{tag} with buffer {b.name} of role {b.role}")
    if t.slot >= b.copies:
        ctx.add(ViolationKind.SLOT, node, f"{tag} uses slot {t.slot} of buffer {b.name} with {b.copies} copies")
    tensor = ctx.graph.tensors.get(t.tensor)
    if tensor is None:
        ctx.add(ViolationKind.UNKNOWN_TENSOR, node, f"{tag}: no such tensor")
        return
    if not in_bounds(t.region, tensor.shape):
        ctx.add(ViolationKind.REGION_BOUNDS, node, f"{tag} region {fmt(t.region)} outside {tensor.name} {tensor.shape}")
        return
    if not fits(t.region, b.tile_shape):
        ctx.add(
            ViolationKind.TILE_SHAPE, node, f"{tag} region {fmt(t.region)} exceeds buffer {b.name} tile {b.tile_shape}"
        )
    nbytes = volume(t.region) * tensor.dtype.itemsize
    if t.bytes != nbytes:
        ctx.add(
            ViolationKind.TRANSFER_BYTES,
            node,
            f"{tag} claims {t.bytes} B, region {fmt(t.region)} of {tensor.dtype.value} is {nbytes} B",
        )
    _check_rows(ctx, node, tag, t, tensor)
    _check_route(ctx, index, node, tag, t, b)


def _check_rows(ctx: Context, node: str, tag: str, t: Transfer, tensor: Tensor) -> None:
    runs, run_len = min_runs(t.region, tensor.shape)
    ok = t.rows >= 1 and (runs == 0 or (t.rows % runs == 0 and run_len % (t.rows // runs) == 0))
    if not ok:
        ctx.add(
            ViolationKind.TRANSFER_ROWS,
            node,
            f"{tag} claims {t.rows} rows; region {fmt(t.region)} of {tensor.shape} is {runs} contiguous "
            f"runs of {run_len} elements",
        )


def _check_route(ctx: Context, index: int, node: str, tag: str, t: Transfer, b: L1Buffer) -> None:
    if t.home_level not in ctx.levels:
        ctx.add(ViolationKind.UNKNOWN_LEVEL, node, f"{tag} home level {t.home_level!r} is unknown")
        return
    src, dst = (t.home_level, b.level) if t.direction == "in" else (b.level, t.home_level)
    if b.level in ctx.levels and not any(d.connects(src, dst) for d in ctx.hw.dmas):
        ctx.add(ViolationKind.DMA_ROUTE, node, f"{tag}: no DMA of {ctx.hw.name} copies {src} -> {dst}")
    placed = ctx.placed(t.tensor)
    if not placed:
        return
    at_home = [p for p in placed if p.level == t.home_level]
    if not at_home:
        ctx.add(
            ViolationKind.HOME_LEVEL,
            node,
            f"{tag} from {t.home_level}, but {t.tensor} is placed in {sorted({p.level for p in placed})}",
        )
    elif not any(p.start <= index + 1 < p.end for p in at_home):
        p = at_home[0]
        ctx.add(
            ViolationKind.MEMORY_LIFETIME,
            node,
            f"{tag}: {t.tensor} in {t.home_level} lives over [{p.start}, {p.end}), the node runs at {index + 1}",
        )
