"""Per-node step checks: tile shape and loop order, the buffers / slots / regions each step names, the
output and operand regions against `needed_regions`, and that the steps cover the output exactly once."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..ir import Node
from ..plan import ComputeStep, L1Buffer, NodePlan
from .context import Context
from .regions import contains, fits, fmt, in_bounds
from .semantics import needed_regions
from .violations import ViolationKind


def check_steps(ctx: Context, np_: NodePlan, node: Node, buffers: Mapping[str, L1Buffer]) -> None:
    name = node.name
    out_shape = ctx.graph.tensors[np_.output_tensor].shape
    if len(np_.tile_shape) != len(out_shape):
        ctx.add(ViolationKind.TILE_SHAPE, name, f"tile_shape {np_.tile_shape} vs output {out_shape}")
    if sorted(np_.loop_order) != list(range(len(out_shape))):
        ctx.add(
            ViolationKind.LOOP_ORDER,
            name,
            f"loop_order {np_.loop_order} is no permutation of the {len(out_shape)} output dimensions",
        )
    if np_.num_tiles != len(np_.steps):
        ctx.add(ViolationKind.NUM_TILES, name, f"num_tiles is {np_.num_tiles}, the plan has {len(np_.steps)} steps")
    by_tensor: dict[str, list[L1Buffer]] = {}
    for b in buffers.values():
        if b.tensor is not None:
            by_tensor.setdefault(b.tensor, []).append(b)
    for i, step in enumerate(np_.steps):
        tag = f"step {i} (tile {step.tile})"
        if not _check_step_buffers(ctx, name, tag, step, buffers):
            continue
        if not in_bounds(step.output_region, out_shape):
            ctx.add(
                ViolationKind.REGION_BOUNDS,
                name,
                f"{tag} output region {fmt(step.output_region)} outside {np_.output_tensor} {out_shape}",
            )
            continue
        if not fits(step.output_region, np_.tile_shape):
            ctx.add(
                ViolationKind.TILE_SHAPE,
                name,
                f"{tag} output region {fmt(step.output_region)} exceeds tile_shape {np_.tile_shape}",
            )
        _check_step_output(ctx, name, tag, step, by_tensor.get(np_.output_tensor, []))
        _check_step_inputs(ctx, node, tag, step, by_tensor)


def _check_step_buffers(ctx: Context, node: str, tag: str, step: ComputeStep, buffers: Mapping[str, L1Buffer]) -> bool:
    """Buffers, slots and region bounds named by a step; False when the step cannot be checked further."""
    ok = True
    for bname, slot in step.slots.items():
        b = buffers.get(bname)
        if b is None:
            ctx.add(ViolationKind.UNKNOWN_BUFFER, node, f"{tag} uses unknown buffer {bname!r}")
        elif not 0 <= slot < b.copies:
            ctx.add(ViolationKind.SLOT, node, f"{tag} uses slot {slot} of buffer {bname} with {b.copies} copies")
            ok = False
    for bname, region in step.regions.items():
        b = buffers.get(bname)
        if b is None:
            ctx.add(ViolationKind.UNKNOWN_BUFFER, node, f"{tag} names unknown buffer {bname!r}")
            ok = False
            continue
        if bname not in step.slots:
            ctx.add(ViolationKind.SLOT, node, f"{tag} gives buffer {bname} a region but no slot")
            ok = False
        if b.tensor is None:
            ctx.add(ViolationKind.BUFFER_TENSOR, node, f"{tag} gives a region to {b.role} buffer {bname}")
            continue
        shape = ctx.graph.tensors[b.tensor].shape
        if not in_bounds(region, shape):
            ctx.add(
                ViolationKind.REGION_BOUNDS,
                node,
                f"{tag} region {fmt(region)} of buffer {bname} outside {b.tensor} {shape}",
            )
            ok = False
        elif not fits(region, b.tile_shape):
            ctx.add(
                ViolationKind.TILE_SHAPE,
                node,
                f"{tag} region {fmt(region)} exceeds buffer {bname} tile {b.tile_shape}",
            )
    return ok


def _check_step_output(ctx: Context, node: str, tag: str, step: ComputeStep, outs: list[L1Buffer]) -> None:
    named = [b for b in outs if b.name in step.regions and b.role == "output"]
    if outs and not named:
        ctx.add(ViolationKind.OUTPUT_REGION, node, f"{tag} names none of the output buffers {[b.name for b in outs]}")
    for b in named:
        if not contains(step.regions[b.name], step.output_region):
            ctx.add(
                ViolationKind.OUTPUT_REGION,
                node,
                f"{tag} writes {fmt(step.output_region)} into buffer "
                f"{b.name}, whose slot holds {fmt(step.regions[b.name])}",
            )


def _check_step_inputs(
    ctx: Context, node: Node, tag: str, step: ComputeStep, by_tensor: Mapping[str, list[L1Buffer]]
) -> None:
    try:
        needs = needed_regions(node, ctx.graph, step.output_region)
    except KeyError:
        ctx.add(ViolationKind.UNSUPPORTED_OP, node.name, f"no operand-region rule for {node.op_type}")
        return
    except (ValueError, IndexError, TypeError, ZeroDivisionError) as e:
        ctx.add(ViolationKind.UNSUPPORTED_OP, node.name, f"cannot derive operand regions of {node.op_type}: {e}")
        return
    for tensor, need in needs.items():
        candidates = [b for b in by_tensor.get(tensor, []) if b.role != "output"]
        if not candidates:
            continue  # no buffer at all: reported once per node (MISSING_BUFFER) unless read in place
        named = [b for b in candidates if b.name in step.regions]
        if not named:
            ctx.add(
                ViolationKind.INPUT_REGION,
                node.name,
                f"{tag} needs {fmt(need)} of {tensor} but names none of its buffers {[b.name for b in candidates]}",
            )
        elif not any(contains(step.regions[b.name], need) for b in named):
            held = ", ".join(f"{b.name} {fmt(step.regions[b.name])}" for b in named)
            ctx.add(
                ViolationKind.INPUT_REGION,
                node.name,
                f"{tag} output {fmt(step.output_region)} needs {fmt(need)} of {tensor}; the step holds {held}",
            )


def check_coverage(ctx: Context, np_: NodePlan) -> None:
    shape = ctx.graph.tensors[np_.output_tensor].shape
    counter = np.zeros(shape, dtype=np.int32)
    for step in np_.steps:
        if in_bounds(step.output_region, shape):
            counter[tuple(slice(s, s + n) for s, n in step.output_region)] += 1
    if counter.size == 0:
        return
    gaps, doubles = int(np.count_nonzero(counter == 0)), int(np.count_nonzero(counter > 1))
    if gaps:
        first = tuple(int(v) for v in np.argwhere(counter == 0)[0])
        ctx.add(
            ViolationKind.COVERAGE,
            np_.name,
            f"{gaps} element(s) of {np_.output_tensor} {shape} computed by no step (first at {first})",
        )
    if doubles:
        first = tuple(int(v) for v in np.argwhere(counter > 1)[0])
        ctx.add(
            ViolationKind.COVERAGE,
            np_.name,
            f"{doubles} element(s) of {np_.output_tensor} {shape} computed by several steps (first at {first})",
        )
