"""A plan without tiling: every node runs as one tile with all its operands in L1 (single-buffered).

Not a planner: a development and test aid (and a fallback to check the emitter alone). Budgets say
what it uses; `Plan.memory` is left empty like the planner's.
"""

from __future__ import annotations

from ..hw.spec import HwSpec
from ..ir import Graph
from ..plan import (
    ComputeStep,
    CycleBreakdown,
    Event,
    L1Buffer,
    NodePlan,
    Plan,
    SolveStats,
    Transfer,
)
from ..units import align_up


def untiled_plan(graph: Graph, hw: HwSpec) -> Plan:
    l1 = hw.memories[0]
    home = "L2" if any(m.name == "L2" for m in hw.memories) else hw.memories[1].name
    align = l1.alignment_bytes
    nodes = []
    peak = 0
    for node in graph.nodes:
        out = node.outputs[0]
        shape = graph.tensor(out).shape
        full = tuple((0, d) for d in shape)
        if node.is_alias:
            nodes.append(
                NodePlan(
                    name=node.name,
                    op_type=node.op_type,
                    engine="cluster",
                    output_tensor=out,
                    tile_shape=shape,
                    num_tiles=1,
                    loop_order=tuple(range(len(shape))),
                    buffers=(),
                    l1_bytes=0,
                    transfers=(),
                    steps=(),
                    events=(),
                    dma_bytes=0,
                    cycles=CycleBreakdown(compute=0, dma=0, exposed_dma=0, total=0),
                    lower_bound_cycles=0,
                    solve=SolveStats(status="UNTILED"),
                    alias_of=node.inputs[0],
                )
            )
            continue
        buffers: list[L1Buffer] = []
        transfers: list[Transfer] = []
        regions: dict[str, tuple[tuple[int, int], ...]] = {}
        off = 0
        seen: set[str] = set()
        for k, t in enumerate(node.inputs):
            if not t or t in seen:
                continue
            seen.add(t)
            ten = graph.tensor(t)
            name = f"in{k}"
            buffers.append(
                L1Buffer(
                    name=name,
                    tensor=t,
                    role="weight" if ten.is_constant else "input",
                    offset=off,
                    slot_bytes=align_up(ten.nbytes, align),
                    copies=1,
                    tile_shape=ten.shape,
                    dtype=ten.dtype.value,
                )
            )
            region = tuple((0, d) for d in ten.shape)
            regions[name] = region
            transfers.append(
                Transfer(
                    id=len(transfers),
                    direction="in",
                    tensor=t,
                    home_level=home,
                    buffer=name,
                    slot=0,
                    region=region,
                    bytes=ten.nbytes,
                    rows=1,
                )
            )
            off += align_up(max(ten.nbytes, 1), align)
        ot = graph.tensor(out)
        buffers.append(
            L1Buffer(
                name="out",
                tensor=out,
                role="output",
                offset=off,
                slot_bytes=align_up(ot.nbytes, align),
                copies=1,
                tile_shape=shape,
                dtype=ot.dtype.value,
            )
        )
        regions["out"] = full
        off += align_up(max(ot.nbytes, 1), align)
        n_in = len(transfers)
        transfers.append(
            Transfer(
                id=n_in,
                direction="out",
                tensor=out,
                home_level=home,
                buffer="out",
                slot=0,
                region=full,
                bytes=ot.nbytes,
                rows=1,
            )
        )
        events = (
            [Event(kind="dma_start", ref=i) for i in range(n_in)]
            + [Event(kind="dma_wait", ref=i) for i in range(n_in)]
            + [Event(kind="compute", ref=0), Event(kind="dma_start", ref=n_in), Event(kind="dma_wait", ref=n_in)]
        )
        step = ComputeStep(tile=0, output_region=full, regions=regions, slots={b.name: 0 for b in buffers})
        peak = max(peak, off)
        nodes.append(
            NodePlan(
                name=node.name,
                op_type=node.op_type,
                engine="cluster",
                output_tensor=out,
                tile_shape=shape,
                num_tiles=1,
                loop_order=tuple(range(len(shape))),
                buffers=tuple(buffers),
                l1_bytes=off,
                transfers=tuple(transfers),
                steps=(step,),
                events=tuple(events),
                dma_bytes=sum(t.bytes for t in transfers),
                cycles=CycleBreakdown(compute=0, dma=0, exposed_dma=0, total=0),
                lower_bound_cycles=0,
                solve=SolveStats(status="UNTILED"),
            )
        )
    return Plan(
        model=graph.name,
        hw=hw.name,
        budgets={l1.name: peak, home: hw.memory(home).budget_bytes},
        options={"untiled": True},
        nodes=tuple(nodes),
        total_cycles=0,
        lower_bound_cycles=0,
    )
