"""Hand-built plans for the validator tests (the tiler is independent of these tests).

`build_node` turns a list of tiles (tensor -> region, written out by hand per operator) into buffers,
transfers, steps and a hazard-free single- or double-buffered event list. Each defect test mutates one
thing of a valid plan with the mutation helpers at the end.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from deeploy_tiler.hw import HwSpec, load_hw
from deeploy_tiler.ir import DType, Graph, Node, Requant, Tensor, TensorKind
from deeploy_tiler.plan import (
    ComputeStep,
    CycleBreakdown,
    Event,
    L1Buffer,
    NodePlan,
    PlacedBuffer,
    Plan,
    Region,
    SolveStats,
    Transfer,
)
from deeploy_tiler.validator import ViolationKind, validate

K = ViolationKind

HW = load_hw("siracusa")

NPU_HW = load_hw("siracusa_neureka")

Tiles = Sequence[Mapping[str, Region]]


def make_tensor(
    name: str,
    shape: tuple[int, ...],
    dtype: DType = DType.INT8,
    kind: TensorKind = TensorKind.ACTIVATION,
    data: Any = None,
) -> Tensor:
    if kind is TensorKind.CONSTANT and data is None:
        data = np.zeros(shape, dtype=np.int64)
    return Tensor(name, shape, dtype, kind, None if data is None else np.asarray(data, dtype=np.int64))


def one_node_graph(
    op: str,
    inputs: Sequence[Tensor],
    out_shape: tuple[int, ...],
    out_dtype: DType = DType.INT8,
    attrs: Mapping[str, Any] | None = None,
    requant: bool = False,
) -> Graph:
    """A graph of one node `n` reading `inputs` (graph inputs or constants) and writing `y`."""
    tensors = {t.name: t for t in inputs}
    names = [t.name for t in inputs]
    rq = None
    if requant:
        c = out_shape[1] if len(out_shape) > 2 else out_shape[-1]
        tail = (c, 1, 1) if len(out_shape) == 4 else (c,)
        tensors["mul"] = make_tensor("mul", tail, DType.INT32, TensorKind.CONSTANT)
        tensors["add"] = make_tensor("add", tail, DType.INT32, TensorKind.CONSTANT)
        names += ["mul", "add"]
        rq = Requant(mul="mul", add="add", div=256, n_levels=256, signed=True, source_node="rq")
    tensors["y"] = make_tensor("y", out_shape, out_dtype, TensorKind.OUTPUT)
    node = Node("n", op, tuple(names), ("y",), tuple(sorted((attrs or {}).items())), requant=rq)
    graph_inputs = tuple(t.name for t in inputs if t.kind is TensorKind.INPUT)
    return Graph("g", tensors, (node,), graph_inputs, ("y",))


def graph_input(shape: tuple[int, ...], name: str = "x") -> Tensor:
    return make_tensor(name, shape, DType.INT8, TensorKind.INPUT)


def constant(shape: tuple[int, ...], name: str = "w", data: Any = None) -> Tensor:
    return make_tensor(name, shape, DType.INT8, TensorKind.CONSTANT, data)


def conv_graph(c_in: int, c_out: int, hw: int, k: int, *, group: int = 1, stride: int = 1) -> Graph:
    pad = k // 2
    out = (hw + 2 * pad - k) // stride + 1
    attrs = {
        "kernel_shape": (k, k),
        "pads": (pad,) * 4,
        "strides": (stride, stride),
        "group": group,
        "dilations": (1, 1),
    }
    return one_node_graph(
        "Conv",
        [graph_input((1, c_in, hw, hw)), constant((c_out, c_in // group, k, k))],
        (1, c_out, out, out),
        attrs=attrs,
        requant=True,
    )


def _rows(region: Region) -> int:
    return math.prod(n for _, n in region[:-1]) if region else 1


def _role(graph: Graph, node: Node, tensor: str) -> str:
    if tensor in node.outputs:
        return "output"
    return "weight" if graph.tensors[tensor].is_constant else "input"


def build_node(
    graph: Graph, node: Node, tiles: Tiles, *, double: bool = False, engine: str = "cluster", skip: Sequence[str] = ()
) -> NodePlan:
    """A valid NodePlan computing `tiles` in order; input tensors reload only when their region changes."""
    out = node.outputs[0]
    names = [t for t in dict.fromkeys((*node.inputs, out)) if t and t not in skip]
    buffers: dict[str, L1Buffer] = {}
    offset = 0
    loads: dict[str, list[tuple[int, Region]]] = {}  # tensor -> (first step, region) per load
    for t in names:
        regs = [(i, tile[t]) for i, tile in enumerate(tiles) if t in tile]
        shape = tuple(max(r[d][1] for _, r in regs) for d in range(len(graph.tensors[t].shape)))
        seq = [(i, r) for j, (i, r) in enumerate(regs) if j == 0 or regs[j - 1][1] != r]
        loads[t] = seq
        copies = 2 if double and (len(seq) > 1 or (t == out and len(tiles) > 1)) else 1
        dtype = graph.tensors[t].dtype
        slot = -(-math.prod(shape) * dtype.itemsize // 4) * 4
        buffers[t] = L1Buffer(
            name=f"buf_{t}",
            tensor=t,
            role=_role(graph, node, t),
            offset=offset,
            slot_bytes=slot,
            copies=copies,
            tile_shape=shape,
            dtype=dtype.value,
        )
        offset += slot * copies
    transfers: list[Transfer] = []
    prologue: list[Event] = []
    waits_before: dict[int, list[Event]] = {}
    starts_after: dict[int, list[Event]] = {}
    step_slot: dict[tuple[str, int], int] = {}

    def transfer(direction: str, t: str, slot: int, region: Region) -> Transfer:
        tr = Transfer(
            id=len(transfers),
            direction=direction,
            tensor=t,
            home_level="L2",
            buffer=buffers[t].name,
            slot=slot,
            region=region,
            bytes=math.prod(n for _, n in region) * graph.tensors[t].dtype.itemsize,
            rows=_rows(region),
        )
        transfers.append(tr)
        return tr

    for t in names:
        if t == out:
            continue
        c = buffers[t].copies
        seq = loads[t]
        for k, (first, region) in enumerate(seq):
            tr = transfer("in", t, k % c, region)
            reuse = k - c + 1
            target = prologue if reuse < 1 else starts_after.setdefault(seq[reuse][0] - 1, [])
            target.append(Event(kind="dma_start", ref=tr.id))
            waits_before.setdefault(first, []).append(Event(kind="dma_wait", ref=tr.id))
            last = seq[k + 1][0] if k + 1 < len(seq) else len(tiles)
            for i in range(first, last):
                step_slot[(t, i)] = k % c
    c_out = buffers[out].copies
    events = list(prologue)
    stores: list[Transfer] = []
    steps = []
    for i, tile in enumerate(tiles):
        events += waits_before.get(i, [])
        if i >= c_out:
            events.append(Event(kind="dma_wait", ref=stores[i - c_out].id))
        events.append(Event(kind="compute", ref=i))
        store = transfer("out", out, i % c_out, tile[out])
        stores.append(store)
        events.append(Event(kind="dma_start", ref=store.id))
        events += starts_after.get(i, [])
        slots = {buffers[t].name: step_slot[(t, i)] for t in names if t != out and t in tile}
        slots[buffers[out].name] = i % c_out
        steps.append(
            ComputeStep(
                tile=i,
                output_region=tile[out],
                slots=slots,
                regions={buffers[t].name: tile[t] for t in names if t in tile},
            )
        )
    events += [Event(kind="dma_wait", ref=s.id) for s in stores[max(0, len(stores) - c_out) :]]
    out_rank = len(graph.tensors[out].shape)
    return NodePlan(
        name=node.name,
        op_type=node.op_type,
        engine=engine,
        output_tensor=out,
        tile_shape=tuple(max(tile[out][d][1] for tile in tiles) for d in range(out_rank)),
        num_tiles=len(tiles),
        loop_order=tuple(range(out_rank)),
        buffers=tuple(buffers.values()),
        l1_bytes=offset,
        transfers=tuple(transfers),
        steps=tuple(steps),
        events=tuple(events),
        dma_bytes=sum(t.bytes for t in transfers),
        cycles=CycleBreakdown(compute=0, dma=0, exposed_dma=0, total=0),
        lower_bound_cycles=0,
        solve=SolveStats(status="HAND"),
    )


def alias_node(graph: Graph, node: Node) -> NodePlan:
    shape = graph.tensors[node.outputs[0]].shape
    return NodePlan(
        name=node.name,
        op_type=node.op_type,
        engine="cluster",
        output_tensor=node.outputs[0],
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


def place_all(graph: Graph, nodes: Sequence[NodePlan], level: str = "L2") -> tuple[PlacedBuffer, ...]:
    """Every tensor at its own offset for the whole run (valid, if wasteful); aliases share their root."""
    alias = {n.output_tensor: n.alias_of for n in nodes if n.alias_of is not None}
    end = len(graph.nodes) + 2
    placed, where, offset = [], {}, 0
    for t in graph.tensors.values():
        if t.name in alias:
            continue
        placed.append(PlacedBuffer(tensor=t.name, level=level, offset=offset, size=t.nbytes, start=0, end=end))
        where[t.name] = offset
        offset += -(-max(t.nbytes, 1) // 4) * 4
    for name, root in alias.items():
        while root in alias:
            root = alias[root]
        placed.append(
            PlacedBuffer(
                tensor=name,
                level=level,
                offset=where[root],
                size=graph.tensors[name].nbytes,
                start=0,
                end=end,
                alias_of=root,
            )
        )
    return tuple(placed)


def make_plan(
    graph: Graph, nodes: Sequence[NodePlan], *, hw: HwSpec = HW, memory: bool = True, l1: int = 64_000
) -> Plan:
    return Plan(
        model=graph.name,
        hw=hw.name,
        budgets={"L1": l1, "L2": 1_024_000},
        nodes=tuple(nodes),
        memory=place_all(graph, nodes) if memory else (),
        total_cycles=0,
        lower_bound_cycles=0,
    )


def single_plan(graph: Graph, tiles: Tiles, **kw: Any) -> Plan:
    double = kw.pop("double", False)
    return make_plan(graph, [build_node(graph, graph.nodes[0], tiles, double=double)], **kw)


def kinds(plan: Plan, graph: Graph, hw: HwSpec = HW) -> set[ViolationKind]:
    return {v.kind for v in validate(plan, graph, hw)}


def assert_clean(plan: Plan, graph: Graph, hw: HwSpec = HW) -> None:
    found = validate(plan, graph, hw)
    assert found == [], "\n".join(map(str, found))


def with_node(plan: Plan, index: int = 0, **update: Any) -> Plan:
    nodes = list(plan.nodes)
    nodes[index] = nodes[index].model_copy(update=update)
    return plan.model_copy(update={"nodes": tuple(nodes)})


def edit(items: Sequence[Any], index: int, **update: Any) -> tuple[Any, ...]:
    out = list(items)
    out[index] = out[index].model_copy(update=update)
    return tuple(out)


def move_event(
    events: Sequence[Event], match: Callable[[Event], bool], before: Callable[[Event], bool]
) -> tuple[Event, ...]:
    """Move the first event matching `match` right before the first event matching `before`."""
    evs = list(events)
    ev = evs.pop(next(i for i, e in enumerate(evs) if match(e)))
    evs.insert(next(i for i, e in enumerate(evs) if before(e)), ev)
    return tuple(evs)


def is_ev(kind: str, ref: int) -> Callable[[Event], bool]:
    return lambda e: e.kind == kind and e.ref == ref


def region_shift(r: Region, dim: int, by: int) -> Region:
    return tuple((s + by, n) if d == dim else (s, n) for d, (s, n) in enumerate(r))
