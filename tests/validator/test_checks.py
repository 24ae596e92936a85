"""The plan validator: hand-built valid plans pass; each planted defect is caught with its exact kind.

Plans are built by hand here (the tiler is independent of these tests): `build_node` turns a list of
tiles (tensor -> region, written out by hand per operator) into buffers, transfers, steps and a
hazard-free single- or double-buffered event list. Each defect test mutates one thing of a valid plan.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deeploy_tiler.errors import PlanError
from deeploy_tiler.frontend import load_onnx
from deeploy_tiler.hw import HwSpec, load_hw
from deeploy_tiler.ir import DType, Graph, Node, Requant, Tensor, TensorKind
from deeploy_tiler.plan import (
    ComputeStep,
    CycleBreakdown,
    Event,
    L1Buffer,
    LevelUsage,
    NodePlan,
    PlacedBuffer,
    Plan,
    Region,
    SolveStats,
    Transfer,
)
from deeploy_tiler.validator import (
    PlanValidationError,
    Violation,
    ViolationKind,
    assert_valid,
    checks,
    needed_regions,
    validate,
)

from ..conftest import SHARED_MODELS, load_model

K = ViolationKind
HW = load_hw("siracusa")
NPU_HW = load_hw("siracusa_neureka")
Tiles = Sequence[Mapping[str, Region]]

# --- graphs ------------------------------------------------------------------------------------------------


def _t(
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
        tensors["mul"] = _t("mul", tail, DType.INT32, TensorKind.CONSTANT)
        tensors["add"] = _t("add", tail, DType.INT32, TensorKind.CONSTANT)
        names += ["mul", "add"]
        rq = Requant(mul="mul", add="add", div=256, n_levels=256, signed=True, source_node="rq")
    tensors["y"] = _t("y", out_shape, out_dtype, TensorKind.OUTPUT)
    node = Node("n", op, tuple(names), ("y",), tuple(sorted((attrs or {}).items())), requant=rq)
    graph_inputs = tuple(t.name for t in inputs if t.kind is TensorKind.INPUT)
    return Graph("g", tensors, (node,), graph_inputs, ("y",))


def _x(shape: tuple[int, ...], name: str = "x") -> Tensor:
    return _t(name, shape, DType.INT8, TensorKind.INPUT)


def _w(shape: tuple[int, ...], name: str = "w", data: Any = None) -> Tensor:
    return _t(name, shape, DType.INT8, TensorKind.CONSTANT, data)


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
        [_x((1, c_in, hw, hw)), _w((c_out, c_in // group, k, k))],
        (1, c_out, out, out),
        attrs=attrs,
        requant=True,
    )


# --- plan building -----------------------------------------------------------------------------------------


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


# --- mutation helpers --------------------------------------------------------------------------------------


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


# --- operator fixtures: graph + hand-written tiles ---------------------------------------------------------

W3 = ((0, 8), (0, 4), (0, 3), (0, 3))
RQ8 = ((0, 8), (0, 1), (0, 1))


def conv3x3_rows() -> tuple[Graph, list[dict[str, Region]]]:
    """3x3 conv, pad 1: 8 output rows in two tiles; the input tiles overlap by the 2-row halo."""
    g = conv_graph(4, 8, 8, 3)
    tiles = [
        {"x": ((0, 1), (0, 4), (0, 5), (0, 8)), "w": W3, "mul": RQ8, "add": RQ8, "y": ((0, 1), (0, 8), (0, 4), (0, 8))},
        {"x": ((0, 1), (0, 4), (3, 5), (0, 8)), "w": W3, "mul": RQ8, "add": RQ8, "y": ((0, 1), (0, 8), (4, 4), (0, 8))},
    ]
    return g, tiles


def conv1x1_channels() -> tuple[Graph, list[dict[str, Region]]]:
    """1x1 conv, 16 output channels in two tiles: the input stays, weights and requant follow the channels."""
    g = conv_graph(8, 16, 4, 1)
    x = ((0, 1), (0, 8), (0, 4), (0, 4))
    return g, [
        {
            "x": x,
            "w": ((c, 8), (0, 8), (0, 1), (0, 1)),
            "mul": ((c, 8), (0, 1), (0, 1)),
            "add": ((c, 8), (0, 1), (0, 1)),
            "y": ((0, 1), (c, 8), (0, 4), (0, 4)),
        }
        for c in (0, 8)
    ]


def depthwise_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    """Depthwise 3x3 (group 8): 2 channel x 2 row tiles; each needs only its own channels."""
    g = conv_graph(8, 8, 6, 3, group=8)
    tiles = []
    for c in (0, 4):
        for o0, in_rows in ((0, (0, 4)), (3, (2, 4))):
            ch = (c, 4)
            tiles.append(
                {
                    "x": ((0, 1), ch, in_rows, (0, 6)),
                    "w": (ch, (0, 1), (0, 3), (0, 3)),
                    "mul": (ch, (0, 1), (0, 1)),
                    "add": (ch, (0, 1), (0, 1)),
                    "y": ((0, 1), ch, (o0, 3), (0, 6)),
                }
            )
    return g, tiles


def gemm_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    g = one_node_graph(
        "Gemm",
        [_x((4, 8), "a"), _w((6, 8), "b"), _t("c", (6,), DType.INT32, TensorKind.CONSTANT)],
        (4, 6),
        DType.INT32,
        {"transB": 1},
    )
    return g, [{"a": ((0, 4), (0, 8)), "b": ((n, 3), (0, 8)), "c": ((n, 3),), "y": ((0, 4), (n, 3))} for n in (0, 3)]


def matmul_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    """Batched MatMul with broadcasting: a [2,1,4,8] @ b [3,8,5] -> [2,3,4,5], tiled along the 2nd batch dim."""
    g = one_node_graph("MatMul", [_x((2, 1, 4, 8), "a"), _x((3, 8, 5), "b")], (2, 3, 4, 5), DType.INT32)
    a = ((0, 2), (0, 1), (0, 4), (0, 8))
    return g, [{"a": a, "b": (bb, (0, 8), (0, 5)), "y": ((0, 2), bb, (0, 4), (0, 5))} for bb in ((0, 2), (2, 1))]


def transpose_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    g = one_node_graph("Transpose", [_x((2, 3, 4))], (4, 2, 3), attrs={"perm": (2, 0, 1)})
    return g, [{"x": ((0, 2), (0, 3), (r, 2)), "y": ((r, 2), (0, 2), (0, 3))} for r in (0, 2)]


def concat_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    """Concat on axis 1 tiled across the seam: the second tile does not need `a` at all."""
    g = one_node_graph("Concat", [_x((1, 2, 4), "a"), _x((1, 3, 4), "b")], (1, 5, 4), attrs={"axis": -2})
    return g, [
        {"a": ((0, 1), (0, 2), (0, 4)), "b": ((0, 1), (0, 1), (0, 4)), "y": ((0, 1), (0, 3), (0, 4))},
        {"b": ((0, 1), (1, 2), (0, 4)), "y": ((0, 1), (3, 2), (0, 4))},
    ]


def gather_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    """Gather rows [3, 1] of a [4, 6] table: each output row needs just its table row."""
    g = one_node_graph(
        "Gather", [_x((4, 6), "d"), _t("i", (2,), DType.INT8, TensorKind.CONSTANT, [3, -3])], (2, 6), attrs={"axis": 0}
    )
    return g, [
        {"d": ((3, 1), (0, 6)), "i": ((0, 1),), "y": ((0, 1), (0, 6))},
        {"d": ((1, 1), (0, 6)), "i": ((1, 1),), "y": ((1, 1), (0, 6))},
    ]


def slice_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    """x[:, 1:7:2]: output rows 0..1 read input rows 1..3, output row 2 reads row 5."""
    g = one_node_graph(
        "Slice", [_x((1, 8, 6))], (1, 3, 6), attrs={"starts": (1,), "ends": (7,), "axes": (1,), "steps": (2,)}
    )
    return g, [
        {"x": ((0, 1), (1, 3), (0, 6)), "y": ((0, 1), (0, 2), (0, 6))},
        {"x": ((0, 1), (5, 1), (0, 6)), "y": ((0, 1), (2, 1), (0, 6))},
    ]


def pad_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    g = one_node_graph("Pad", [_x((1, 2, 4, 4))], (1, 2, 6, 6), attrs={"pads": (0, 0, 1, 1, 0, 0, 1, 1)})
    return g, [
        {"x": ((0, 1), (0, 2), (0, 2), (0, 4)), "y": ((0, 1), (0, 2), (0, 3), (0, 6))},
        {"x": ((0, 1), (0, 2), (2, 2), (0, 4)), "y": ((0, 1), (0, 2), (3, 3), (0, 6))},
    ]


def mean_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    g = one_node_graph("IntegerMean", [_x((1, 4, 6))], (1, 6), attrs={"axes": (1,), "keepdims": 0})
    return g, [{"x": ((0, 1), (0, 4), (c, 3)), "y": ((0, 1), (c, 3))} for c in (0, 3)]


def softmax_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    g = one_node_graph("iSoftmax", [_x((1, 4, 8))], (1, 4, 8), DType.UINT8, {"n_levels": 256})
    return g, [{"x": ((0, 1), (r, 2), (0, 8)), "y": ((0, 1), (r, 2), (0, 8))} for r in (0, 2)]


def maxpool_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    g = one_node_graph(
        "MaxPool",
        [_x((1, 2, 6, 6))],
        (1, 2, 3, 3),
        attrs={"kernel_shape": (2, 2), "strides": (2, 2), "pads": (0, 0, 0, 0)},
    )
    return g, [
        {"x": ((0, 1), (0, 2), (0, 4), (0, 6)), "y": ((0, 1), (0, 2), (0, 2), (0, 3))},
        {"x": ((0, 1), (0, 2), (4, 2), (0, 6)), "y": ((0, 1), (0, 2), (2, 1), (0, 3))},
    ]


def add_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    """Requantized Add with a broadcast per-column operand."""
    g = one_node_graph("Add", [_x((6, 10)), _w((10,), "b")], (6, 10), requant=True)
    return g, [
        {"x": (r, (0, 10)), "b": ((0, 10),), "mul": ((0, 10),), "add": ((0, 10),), "y": (r, (0, 10))}
        for r in ((0, 3), (3, 3))
    ]


def reshape_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    """A Flatten the plan materializes (copies) instead of aliasing: flat index ranges map back."""
    g = one_node_graph("Flatten", [_x((1, 4, 2, 2))], (1, 16), attrs={"axis": 1})
    return g, [{"x": ((0, 1), (c, 2), (0, 2), (0, 2)), "y": ((0, 1), (c * 4, 8))} for c in (0, 2)]


CASES: dict[str, Callable[[], tuple[Graph, list[dict[str, Region]]]]] = {
    "conv3x3_rows": conv3x3_rows,
    "conv1x1_channels": conv1x1_channels,
    "depthwise": depthwise_tiles,
    "gemm": gemm_tiles,
    "matmul_batch_broadcast": matmul_tiles,
    "transpose": transpose_tiles,
    "concat": concat_tiles,
    "gather": gather_tiles,
    "slice": slice_tiles,
    "pad": pad_tiles,
    "integer_mean": mean_tiles,
    "isoftmax": softmax_tiles,
    "maxpool": maxpool_tiles,
    "add_broadcast": add_tiles,
    "flatten_copy": reshape_tiles,
}


# --- valid plans -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("double", [False, True], ids=["single", "double"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_hand_built_plans_are_valid(case: str, double: bool) -> None:
    graph, tiles = CASES[case]()
    assert_clean(single_plan(graph, tiles, double=double), graph)


@pytest.mark.parametrize("case", sorted(CASES))
def test_needed_regions_are_exactly_the_hand_written_ones(case: str) -> None:
    graph, tiles = CASES[case]()
    node = graph.nodes[0]
    for tile in tiles:
        expected = {t: r for t, r in tile.items() if t != "y"}
        assert needed_regions(node, graph, tile["y"]) == expected


@pytest.mark.parametrize("case", sorted(set(CASES) - {"conv1x1_channels"}))
def test_a_tile_missing_one_row_of_its_input_is_caught(case: str) -> None:
    """Shrink the first data operand's region of one tile (consistently in step and transfer)."""
    graph, tiles = CASES[case]()
    data = graph.nodes[0].inputs[0]
    i = next(j for j, tile in enumerate(tiles) if data in tile)
    region = tiles[i][data]
    dim = max(range(len(region)), key=lambda d: region[d][1])
    s, n = region[dim]
    tiles[i] = {**tiles[i], data: tuple((s + 1, n - 1) if d == dim else r for d, r in enumerate(region))}
    assert kinds(single_plan(graph, tiles), graph) == {K.INPUT_REGION}


def test_round_trip_through_json_stays_valid() -> None:
    graph, tiles = conv3x3_rows()
    plan = single_plan(graph, tiles, double=True)
    assert_clean(Plan.from_json(plan.to_json()), graph)


def test_whole_mini_mobilenet_plan_is_valid(model_dirs: dict[str, Path]) -> None:
    graph = load_onnx(model_dirs["miniMobileNet"] / "network.onnx")
    nodes = []
    for node in graph.nodes:
        if node.is_alias:
            nodes.append(alias_node(graph, node))
            continue
        full = {t: tuple((0, d) for d in graph.tensors[t].shape) for t in (*node.inputs, *node.outputs) if t}
        nodes.append(build_node(graph, node, [full]))
    plan = make_plan(graph, nodes)
    plan = plan.model_copy(
        update={
            "levels": (
                LevelUsage(
                    level="L2",
                    capacity=1_024_000,
                    peak=max(p.offset + p.size for p in plan.memory),
                    lower_bound=0,
                    strategy="hand",
                ),
            )
        }
    )
    assert_clean(plan, graph)
    assert kinds(plan.model_copy(update={"memory": ()}), graph) == {K.MEMORY_MISSING}
    assert kinds(with_node(plan, 4, alias_of="input.8"), graph) == {K.ALIAS}


def test_mini_mobilenet_depthwise_tiled_in_rows_and_channels(model_dirs: dict[str, Path]) -> None:
    graph = load_onnx(model_dirs["miniMobileNet"] / "network.onnx")
    node = graph.node("Conv_2")  # depthwise 3x3, 32 channels, 4x4, pad 1
    x, w, mul, add = node.inputs
    tiles = []
    for c in (0, 16):
        for o0, rows in ((0, (0, 3)), (2, (1, 3))):
            ch = (c, 16)
            tiles.append(
                {
                    x: ((0, 1), ch, rows, (0, 4)),
                    w: (ch, (0, 1), (0, 3), (0, 3)),
                    mul: (ch, (0, 1), (0, 1)),
                    add: (ch, (0, 1), (0, 1)),
                    node.outputs[0]: ((0, 1), ch, (o0, 2), (0, 4)),
                }
            )
    nodes = [
        alias_node(graph, n)
        if n.is_alias
        else build_node(
            graph, n, [{t: tuple((0, d) for d in graph.tensors[t].shape) for t in (*n.inputs, *n.outputs) if t}]
        )
        for n in graph.nodes
    ]
    nodes[1] = build_node(graph, node, tiles, double=True)
    plan = make_plan(graph, nodes)
    assert_clean(plan, graph)
    # as if it were a dense conv: the step would need all 32 input channels
    wrong = [{**t, x: ((0, 1), (0, 32), t[x][2], (0, 4))} for t in tiles]
    nodes[1] = build_node(graph, node, wrong, double=True)
    assert kinds(make_plan(graph, nodes), graph) == set()  # holding more than needed is fine
    narrow = [{**t, x: ((0, 1), (t[x][1][0], 8), t[x][2], (0, 4))} for t in tiles]
    nodes[1] = build_node(graph, node, narrow)
    assert kinds(make_plan(graph, nodes), graph) == {K.INPUT_REGION}


# --- 1. node list ------------------------------------------------------------------------------------------


def two_node() -> tuple[Graph, Plan]:
    """x -> Relu r1 -> h -> Relu r2 -> y, two row tiles each."""
    tensors = {"x": _x((4, 4)), "h": _t("h", (4, 4)), "y": _t("y", (4, 4), kind=TensorKind.OUTPUT)}
    nodes = (Node("r1", "Relu", ("x",), ("h",)), Node("r2", "Relu", ("h",), ("y",)))
    graph = Graph("two", tensors, nodes, ("x",), ("y",))
    plans = [
        build_node(
            graph, n, [{n.inputs[0]: (r, (0, 4)), n.outputs[0]: (r, (0, 4))} for r in ((0, 2), (2, 2))], double=True
        )
        for n in nodes
    ]
    return graph, make_plan(graph, plans)


def test_node_list_defects() -> None:
    graph, plan = two_node()
    assert_clean(plan, graph)
    a, b = plan.nodes
    assert kinds(plan.model_copy(update={"nodes": (a,)}), graph) == {K.MISSING_NODE}
    assert kinds(plan.model_copy(update={"nodes": (b, a)}), graph) == {K.NODE_ORDER}
    assert K.DUPLICATE_NODE in kinds(plan.model_copy(update={"nodes": (a, a, b)}), graph)
    ghost = a.model_copy(update={"name": "ghost"})
    assert kinds(plan.model_copy(update={"nodes": (a, b, ghost)}), graph) == {K.UNKNOWN_NODE}
    assert kinds(with_node(plan, 0, op_type="Clip"), graph) == {K.OP_TYPE}
    assert kinds(with_node(plan, 0, output_tensor="y"), graph) == {K.OUTPUT_TENSOR}
    assert kinds(with_node(plan, 0, alias_of="x"), graph) == {K.ALIAS}
    assert kinds(plan.model_copy(update={"model": "other"}), graph) == {K.PLAN_HEADER}
    assert kinds(plan.model_copy(update={"hw": "rv32_mcu"}), graph) == {K.PLAN_HEADER}


def test_node_bookkeeping_defects() -> None:
    graph, plan = two_node()
    n = plan.nodes[0]
    assert kinds(with_node(plan, num_tiles=3), graph) == {K.NUM_TILES}
    assert kinds(with_node(plan, loop_order=(0, 0)), graph) == {K.LOOP_ORDER}
    assert kinds(with_node(plan, tile_shape=(1, 4)), graph) == {K.TILE_SHAPE}
    assert kinds(with_node(plan, dma_bytes=n.dma_bytes + 1), graph) == {K.DMA_BYTES}


# --- 2. buffers and footprints -----------------------------------------------------------------------------


def conv_plan(double: bool = True) -> tuple[Graph, Plan]:
    graph, tiles = conv3x3_rows()
    return graph, single_plan(graph, tiles, double=double)


def test_footprint_defects() -> None:
    graph, plan = conv_plan()
    n = plan.nodes[0]
    bufs = n.buffers
    x = bufs[0]
    assert x.copies == 2 and x.slot_bytes == 4 * 5 * 8
    assert kinds(with_node(plan, buffers=edit(bufs, 0, slot_bytes=x.slot_bytes - 4)), graph) >= {K.FOOTPRINT}
    # odd tile: 3 bytes must round up to 4 (the L1 alignment)
    assert kinds(with_node(plan, buffers=edit(bufs, 0, dtype="int16")), graph) >= {K.DTYPE, K.FOOTPRINT}
    assert kinds(with_node(plan, buffers=edit(bufs, 0, dtype="float")), graph) >= {K.DTYPE}
    assert kinds(with_node(plan, buffers=edit(bufs, 0, tile_shape=(1, 4, 4, 8))), graph) >= {K.TILE_SHAPE}


def test_alignment_overlap_budget_and_l1_bytes() -> None:
    graph, plan = conv_plan()
    n = plan.nodes[0]
    bufs = n.buffers
    last = bufs[-1]
    shifted = edit(bufs, len(bufs) - 1, offset=last.offset + 2)
    assert kinds(with_node(plan, buffers=shifted, l1_bytes=n.l1_bytes + 2), graph) == {K.ALIGNMENT, K.L1_BYTES}
    overlap = edit(bufs, 1, offset=bufs[0].offset + bufs[0].slot_bytes)  # w onto x's second slot
    assert K.BUFFER_OVERLAP in kinds(with_node(plan, buffers=overlap), graph)
    # a slot size that is not a multiple of the alignment misaligns slot 1
    odd = edit(bufs, 0, slot_bytes=bufs[0].slot_bytes + 2)
    assert K.ALIGNMENT in kinds(with_node(plan, buffers=odd), graph)
    assert kinds(with_node(plan, l1_bytes=n.l1_bytes - 1), graph) == {K.L1_BYTES}
    tight = plan.model_copy(update={"budgets": {**plan.budgets, "L1": n.l1_bytes - 4}})
    assert kinds(tight, graph) == {K.BUDGET}
    # the L1 budget plus the stacks must fit the 256 KiB
    big = plan.model_copy(update={"budgets": {**plan.budgets, "L1": 262_144 - 38_400 + 4}})
    assert kinds(big, graph) == {K.LEVEL_CAPACITY}
    assert kinds(plan.model_copy(update={"budgets": {**plan.budgets, "L9": 4}}), graph) == {K.UNKNOWN_LEVEL}
    assert K.UNKNOWN_LEVEL in kinds(with_node(plan, buffers=edit(bufs, 0, level="TCDM")), graph)


def test_buffer_identity_defects() -> None:
    graph, plan = conv_plan()
    bufs = plan.nodes[0].buffers
    assert K.BUFFER_TENSOR in kinds(with_node(plan, buffers=edit(bufs, 0, tensor="h")), graph)
    assert K.BUFFER_TENSOR in kinds(with_node(plan, buffers=edit(bufs, 0, role="output")), graph)
    dup = (*bufs, bufs[0].model_copy(update={"offset": 60_000}))
    assert K.DUPLICATE_BUFFER in kinds(with_node(plan, buffers=dup), graph)


def test_missing_operand_buffer() -> None:
    graph, tiles = conv1x1_channels()
    node = build_node(graph, graph.nodes[0], [{k: v for k, v in t.items() if k != "w"} for t in tiles], skip=("w",))
    assert kinds(make_plan(graph, [node]), graph) == {K.MISSING_BUFFER}


# --- 3. coverage -------------------------------------------------------------------------------------------


def test_coverage_gap_and_overlap() -> None:
    graph, tiles = conv3x3_rows()
    gap = [tiles[0]]
    assert kinds(single_plan(graph, gap), graph) == {K.COVERAGE}
    # tiles overlapping by one output row (the second tile shifted up; its input region follows)
    shifted = {**tiles[1], "y": ((0, 1), (0, 8), (3, 4), (0, 8)), "x": ((0, 1), (0, 4), (2, 6), (0, 8))}
    found = validate(single_plan(graph, [tiles[0], shifted]), graph, HW)
    assert {v.kind for v in found} == {K.COVERAGE}
    assert any("several steps" in v.message for v in found) and any("no step" in v.message for v in found)


def _spans(cuts: Sequence[int], n: int) -> list[tuple[int, int]]:
    return [(a, b - a) for a, b in zip([0, *cuts], [*cuts, n], strict=True)]


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_random_partitions_validate_and_a_dropped_tile_fails(data: st.DataObject) -> None:
    h = data.draw(st.integers(1, 9), label="h")
    w = data.draw(st.integers(1, 9), label="w")
    row_cuts = sorted(data.draw(st.sets(st.integers(1, h - 1), max_size=3), label="rows")) if h > 1 else []
    col_cuts = sorted(data.draw(st.sets(st.integers(1, w - 1), max_size=3), label="cols")) if w > 1 else []
    graph = one_node_graph("Add", [_x((h, w)), _w((w,), "b")], (h, w), DType.INT32)
    tiles = [{"x": (r, c), "b": (c,), "y": (r, c)} for r in _spans(row_cuts, h) for c in _spans(col_cuts, w)]
    tiles = data.draw(st.permutations(tiles), label="order")
    double = data.draw(st.booleans(), label="double")
    assert_clean(single_plan(graph, tiles, double=double), graph)
    if len(tiles) > 1:
        drop = data.draw(st.integers(0, len(tiles) - 1), label="drop")
        assert kinds(single_plan(graph, [t for i, t in enumerate(tiles) if i != drop], double=double), graph) == {
            K.COVERAGE
        }


# --- 4. regions --------------------------------------------------------------------------------------------


def test_step_region_disagreeing_with_the_loaded_slot() -> None:
    graph, plan = conv_plan(double=False)
    n = plan.nodes[0]
    second_x = next(i for i, t in enumerate(n.transfers) if t.tensor == "x" and t.region[2][0] == 3)
    loaded = region_shift(n.transfers[second_x].region, 2, -1)  # loads rows 2..6, step 1 claims 3..7
    assert kinds(with_node(plan, transfers=edit(n.transfers, second_x, region=loaded)), graph) == {K.REGION_MISMATCH}


def test_region_outside_the_tensor() -> None:
    graph, plan = conv_plan(double=False)
    n = plan.nodes[0]
    regions = {**n.steps[1].regions, "buf_x": ((0, 1), (0, 4), (4, 5), (0, 8))}  # rows 4..9 of 8
    assert K.REGION_BOUNDS in kinds(with_node(plan, steps=edit(n.steps, 1, regions=regions)), graph)
    bad = edit(n.transfers, 1, region=((0, 1), (0, 4), (4, 5), (0, 8)))
    assert K.REGION_BOUNDS in kinds(with_node(plan, transfers=bad), graph)
    out = edit(n.steps, 1, output_region=((0, 1), (0, 8), (5, 4), (0, 8)))
    assert K.REGION_BOUNDS in kinds(with_node(plan, steps=out), graph)


def test_output_buffer_region_must_hold_the_output_tile() -> None:
    graph, plan = conv_plan(double=False)
    n = plan.nodes[0]
    regions = {**n.steps[0].regions, "buf_y": ((0, 1), (0, 8), (0, 2), (0, 8))}
    assert K.OUTPUT_REGION in kinds(with_node(plan, steps=edit(n.steps, 0, regions=regions)), graph)


def test_unknown_buffer_and_missing_slot_in_a_step() -> None:
    graph, plan = conv_plan()
    n = plan.nodes[0]
    regions = {**n.steps[0].regions, "nope": ((0, 1),)}
    assert K.UNKNOWN_BUFFER in kinds(with_node(plan, steps=edit(n.steps, 0, regions=regions)), graph)
    slots = {k: v for k, v in n.steps[0].slots.items() if k != "buf_x"}
    assert K.SLOT in kinds(with_node(plan, steps=edit(n.steps, 0, slots=slots)), graph)
    assert K.SLOT in kinds(with_node(plan, steps=edit(n.steps, 0, slots={**n.steps[0].slots, "buf_w": 1})), graph)


# --- 5. transfers and the schedule -------------------------------------------------------------------------


def test_transfer_defects() -> None:
    graph, plan = conv_plan()
    n = plan.nodes[0]
    tr = n.transfers
    assert kinds(with_node(plan, transfers=edit(tr, 0, bytes=tr[0].bytes + 1), dma_bytes=n.dma_bytes + 1), graph) == {
        K.TRANSFER_BYTES
    }
    # x rows 0..4 of an 8x8 plane, 4 channels: 4 contiguous runs of 40 elements; 3 rows cannot be
    assert kinds(with_node(plan, transfers=edit(tr, 0, rows=3)), graph) == {K.TRANSFER_ROWS}
    assert kinds(with_node(plan, transfers=edit(tr, 0, rows=8)), graph) == set()  # 8 runs of 20: fine
    w = next(i for i, t in enumerate(tr) if t.tensor == "w")
    assert K.SLOT in kinds(with_node(plan, transfers=edit(tr, w, slot=1)), graph)
    assert K.TRANSFER_TENSOR in kinds(with_node(plan, transfers=edit(tr, 0, tensor="w")), graph)
    assert K.TRANSFER_TENSOR in kinds(with_node(plan, transfers=edit(tr, 0, direction="out")), graph)
    assert K.UNKNOWN_BUFFER in kinds(with_node(plan, transfers=edit(tr, 0, buffer="nope")), graph)
    # siracusa has no L3 <-> L1 DMA; the tensor also does not live in L3
    assert kinds(with_node(plan, transfers=edit(tr, 0, home_level="L3")), graph) == {K.DMA_ROUTE, K.HOME_LEVEL}
    assert kinds(with_node(plan, transfers=edit(tr, 0, home_level="L7")), graph) == {K.UNKNOWN_LEVEL}


def test_dropped_wait_is_a_load_before_compute() -> None:
    graph, plan = conv_plan()
    n = plan.nodes[0]
    events = tuple(e for e in n.events if not is_ev("dma_wait", 0)(e))
    assert kinds(with_node(plan, events=events), graph) == {K.HAZARD_LOAD_BEFORE_COMPUTE, K.UNWAITED_TRANSFER}
    late = move_event(n.events, is_ev("dma_wait", 0), is_ev("dma_start", max(t.id for t in n.transfers)))
    assert kinds(with_node(plan, events=late), graph) == {K.HAZARD_LOAD_BEFORE_COMPUTE}
    early = move_event(n.events, is_ev("compute", 0), is_ev("dma_start", 0))
    assert kinds(with_node(plan, events=early), graph) == {K.HAZARD_LOAD_BEFORE_COMPUTE}


def test_load_into_a_slot_still_in_use() -> None:
    graph, plan = conv_plan(double=False)
    n = plan.nodes[0]
    second_x = next(t.id for t in n.transfers if t.tensor == "x" and t.region[2][0] == 3)
    # single buffer: prefetching tile 1's rows into the only slot before compute 0 ran
    early = move_event(n.events, is_ev("dma_start", second_x), is_ev("compute", 0))
    assert kinds(with_node(plan, events=early), graph) == {K.HAZARD_OVERWRITE_WHILE_READ}
    # and waited before compute 0 too: compute 0 reads rows that were overwritten
    both = move_event(early, is_ev("dma_wait", second_x), is_ev("compute", 0))
    assert kinds(with_node(plan, events=both), graph) == {K.HAZARD_OVERWRITE_WHILE_READ}


def test_double_buffered_prefetch_into_the_wrong_slot() -> None:
    graph, plan = conv_plan(double=True)
    n = plan.nodes[0]
    second_x = next(i for i, t in enumerate(n.transfers) if t.tensor == "x" and t.region[2][0] == 3)
    steps = edit(n.steps, 1, slots={**n.steps[1].slots, "buf_x": 0})
    bad = with_node(plan, transfers=edit(n.transfers, second_x, slot=0), steps=steps)
    assert kinds(bad, graph) == {K.HAZARD_DMA_RACE, K.HAZARD_OVERWRITE_WHILE_READ}


def test_store_before_compute_and_output_overwrite() -> None:
    graph, plan = conv_plan(double=True)
    n = plan.nodes[0]
    store0 = next(t.id for t in n.transfers if t.direction == "out")
    early = move_event(n.events, is_ev("dma_start", store0), is_ev("compute", 0))
    # the compute then also writes a slot whose (premature) store is in flight, and its tile is never stored
    assert kinds(with_node(plan, events=early), graph) == {
        K.HAZARD_STORE_BEFORE_COMPUTE,
        K.HAZARD_OUTPUT_OVERWRITE,
        K.OUTPUT_NOT_STORED,
    }
    single_graph, single = conv_plan(double=False)
    m = single.nodes[0]
    s0 = next(t.id for t in m.transfers if t.direction == "out")
    late = move_event(m.events, is_ev("dma_wait", s0), is_ev("dma_start", s0 + 1))
    assert kinds(with_node(single, events=late), single_graph) == {K.HAZARD_OUTPUT_OVERWRITE}


def test_output_never_stored_and_store_of_the_wrong_region() -> None:
    graph, plan = conv_plan(double=False)
    n = plan.nodes[0]
    s0 = next(t for t in n.transfers if t.direction == "out")
    events = tuple(e for e in n.events if not (e.kind != "compute" and e.ref == s0.id))
    transfers = tuple(t for t in n.transfers if t.id != s0.id)
    dropped = with_node(plan, events=events, transfers=transfers, dma_bytes=n.dma_bytes - s0.bytes)
    assert kinds(dropped, graph) == {K.OUTPUT_NOT_STORED}
    idx = n.transfers.index(s0)
    wrong = edit(n.transfers, idx, region=region_shift(s0.region, 2, 1))  # rows 1..4: no compute writes them
    assert kinds(with_node(plan, transfers=wrong), graph) == {K.REGION_MISMATCH, K.OUTPUT_NOT_STORED}
    ahead = edit(n.transfers, idx, region=region_shift(s0.region, 2, 4))  # tile 1's rows, not computed yet
    assert K.HAZARD_STORE_BEFORE_COMPUTE in kinds(with_node(plan, transfers=ahead), graph)


def test_malformed_event_lists() -> None:
    graph, plan = conv_plan()
    n = plan.nodes[0]
    assert K.SCHEDULE in kinds(with_node(plan, events=(*n.events, Event(kind="dma_wait", ref=99))), graph)
    assert K.SCHEDULE in kinds(with_node(plan, events=(*n.events, Event(kind="compute", ref=7))), graph)
    assert K.SCHEDULE in kinds(with_node(plan, events=(*n.events, Event(kind="compute", ref=1))), graph)
    assert K.SCHEDULE in kinds(with_node(plan, events=(*n.events, n.events[0])), graph)  # started twice
    no_compute = tuple(e for e in n.events if not is_ev("compute", 1)(e))
    assert K.SCHEDULE in kinds(with_node(plan, events=no_compute), graph)
    never = tuple(e for e in n.events if e.ref != 0 or e.kind == "compute")
    assert K.TRANSFER_NOT_STARTED in kinds(with_node(plan, events=never), graph)


# --- 6. whole-network memory -------------------------------------------------------------------------------


def test_memory_defects() -> None:
    graph, plan = two_node()
    mem = list(plan.memory)
    h = next(i for i, p in enumerate(mem) if p.tensor == "h")
    x = next(i for i, p in enumerate(mem) if p.tensor == "x")

    def with_mem(items: Sequence[PlacedBuffer]) -> Plan:
        return plan.model_copy(update={"memory": tuple(items)})

    assert kinds(with_mem(mem[:h] + mem[h + 1 :]), graph) == {K.MEMORY_MISSING}
    assert kinds(with_mem(edit(mem, h, offset=mem[x].offset)), graph) == {K.MEMORY_OVERLAP}
    # same addresses, disjoint lifetimes: fine (x is last read at t=1 by r1, y is born at t=2 by r2)
    y = next(i for i, p in enumerate(mem) if p.tensor == "y")
    reuse = edit(edit(mem, y, offset=mem[x].offset, start=2), x, end=2)
    assert kinds(with_mem(reuse), graph) == set()
    # h is written at t=1 while x is still read: no in-place sharing
    assert kinds(with_mem(edit(edit(mem, h, offset=mem[x].offset, start=1), x, end=2)), graph) == {K.MEMORY_OVERLAP}
    assert kinds(with_mem(edit(mem, h, size=15)), graph) == {K.MEMORY_SIZE}
    assert kinds(with_mem(edit(mem, h, offset=mem[h].offset + 2)), graph) >= {K.ALIGNMENT}
    assert kinds(with_mem(edit(mem, h, start=2, end=3)), graph) == {K.MEMORY_LIFETIME}  # r1 writes it at t=1
    assert kinds(with_mem(edit(mem, x, start=1)), graph) == {K.MEMORY_LIFETIME}  # graph input: from t=0
    assert K.MEMORY_LIFETIME in kinds(with_mem(edit(mem, h, start=3, end=3)), graph)
    assert kinds(with_mem(edit(mem, h, level="L3")), graph) == {K.HOME_LEVEL}
    far = edit(mem, h, offset=1_024_000)
    assert kinds(with_mem(far), graph) == {K.BUDGET}
    assert kinds(with_mem(edit(mem, h, offset=2_097_152)), graph) == {K.BUDGET, K.LEVEL_CAPACITY}
    assert kinds(with_mem(edit(mem, h, tensor="ghost")), graph) >= {K.UNKNOWN_TENSOR}
    usage = LevelUsage(level="L2", capacity=1_024_000, peak=4, lower_bound=0, strategy="hand")
    assert kinds(plan.model_copy(update={"levels": (usage,)}), graph) == {K.LEVEL_USAGE}
    assert kinds(plan.model_copy(update={"memory": (), "levels": (usage,)}), graph) == {K.MEMORY_MISSING}
    assert kinds(plan.model_copy(update={"memory": ()}), graph) == set()  # no memory plan claimed


def test_alias_placements() -> None:
    tensors = {"x": _x((2, 4)), "h": _t("h", (8,)), "y": _t("y", (8,), kind=TensorKind.OUTPUT)}
    nodes = (Node("flat", "Reshape", ("x",), ("h",), (("shape", (8,)),)), Node("r", "Relu", ("h",), ("y",)))
    graph = Graph("alias", tensors, nodes, ("x",), ("y",))
    plan = make_plan(
        graph, [alias_node(graph, nodes[0]), build_node(graph, nodes[1], [{"h": ((0, 8),), "y": ((0, 8),)}])]
    )
    assert_clean(plan, graph)
    mem = list(plan.memory)
    h = next(i for i, p in enumerate(mem) if p.tensor == "h")
    moved = plan.model_copy(update={"memory": edit(mem, h, offset=mem[h].offset + 64)})
    assert K.MEMORY_ALIAS in kinds(moved, graph)
    # without its alias entry, h is found through the root x
    assert_clean(plan.model_copy(update={"memory": tuple(mem[:h] + mem[h + 1 :])}), graph)
    busy = with_node(plan, 0, buffers=plan.nodes[1].buffers, l1_bytes=plan.nodes[1].l1_bytes)
    assert K.ALIAS in kinds(busy, graph)


# --- 7. engines --------------------------------------------------------------------------------------------


def test_engine_rules() -> None:
    graph, plan = conv_plan()
    assert kinds(with_node(plan, engine="gpu"), graph) == {K.UNKNOWN_ENGINE}
    npu_plan = plan.model_copy(update={"hw": NPU_HW.name})
    assert kinds(with_node(npu_plan, engine="neureka"), graph, NPU_HW) == set()
    pool, pool_tiles = maxpool_tiles()
    pool_plan = single_plan(pool, pool_tiles, hw=NPU_HW)
    assert kinds(with_node(pool_plan, engine="neureka"), pool, NPU_HW) == {K.ENGINE_OP}
    strided = conv_graph(4, 8, 8, 3, stride=2)
    tiles = [
        {"x": ((0, 1), (0, 4), (0, 8), (0, 8)), "w": W3, "mul": RQ8, "add": RQ8, "y": ((0, 1), (0, 8), (0, 4), (0, 4))}
    ]
    strided_plan = single_plan(strided, tiles, hw=NPU_HW)
    assert_clean(strided_plan, strided, NPU_HW)
    assert kinds(with_node(strided_plan, engine="neureka"), strided, NPU_HW) == {K.NPU_RULE}
    gemm, gemm_t = matmul_tiles()  # runtime weights: the NPU needs constants
    assert kinds(with_node(single_plan(gemm, gemm_t, hw=NPU_HW), engine="neureka"), gemm, NPU_HW) == {K.NPU_RULE}


def conv1x1_passes() -> tuple[Graph, list[dict[str, Region]]]:
    """1x1 conv, 64 output channels in two tiles of one 32-channel NPU pass each."""
    g = conv_graph(8, 64, 4, 1)
    x = ((0, 1), (0, 8), (0, 4), (0, 4))
    return g, [
        {
            "x": x,
            "w": ((c, 32), (0, 8), (0, 1), (0, 1)),
            "mul": ((c, 32), (0, 1), (0, 1)),
            "add": ((c, 32), (0, 1), (0, 1)),
            "y": ((0, 1), (c, 32), (0, 4), (0, 4)),
        }
        for c in (0, 32)
    ]


def _in_wmem(plan: Plan, tensor: str, size: int | None = None) -> tuple[PlacedBuffer, ...]:
    return tuple(
        p.model_copy(update={"level": "WMEM", "offset": 0, **({"size": size} if size else {})})
        if p.tensor == tensor
        else p
        for p in plan.memory
    )


def test_npu_reads_weights_in_place_from_the_weight_memory() -> None:
    graph, tiles = conv1x1_passes()
    node = build_node(
        graph, graph.nodes[0], [{k: v for k, v in t.items() if k != "w"} for t in tiles], skip=("w",), engine="neureka"
    )
    plan = make_plan(graph, [node], hw=NPU_HW)
    packed = 64 * 32  # 64 output channels x one 32-input-channel block x one 32 B word
    wmem = _in_wmem(plan, "w", packed)
    assert_clean(plan.model_copy(update={"memory": wmem}), graph, NPU_HW)
    assert kinds(plan, graph, NPU_HW) == {K.MISSING_BUFFER}  # weights in L2: the NPU cannot read them there
    assert kinds(plan.model_copy(update={"memory": _in_wmem(plan, "w")}), graph, NPU_HW) == {K.MEMORY_SIZE}
    on_cluster = with_node(plan.model_copy(update={"memory": wmem}), engine="cluster")
    # the cluster cannot read WMEM, and nothing reads the weights there in place any more
    assert kinds(on_cluster, graph, NPU_HW) == {K.MISSING_BUFFER, K.NPU_RULE}
    x_in_wmem = tuple(p.model_copy(update={"level": "WMEM"}) if p.tensor == "x" else p for p in wmem)
    assert K.HOME_LEVEL in kinds(plan.model_copy(update={"memory": x_in_wmem}), graph, NPU_HW)
    over = tuple(
        p.model_copy(update={"size": NPU_HW.memory("WMEM").size_bytes + 32}) if p.tensor == "w" else p for p in wmem
    )
    assert {K.BUDGET, K.LEVEL_CAPACITY} <= kinds(plan.model_copy(update={"memory": over}), graph, NPU_HW)


def test_npu_tile_rules() -> None:
    graph, tiles = conv1x1_passes()
    plan = single_plan(graph, tiles, hw=NPU_HW)
    assert_clean(with_node(plan, engine="neureka"), graph, NPU_HW)
    # output channels in tiles of 16: the second tile starts inside a 32-channel pass
    halves = [
        {
            "x": t["x"],
            "w": ((c, 16), (0, 8), (0, 1), (0, 1)),
            "mul": ((c, 16), (0, 1), (0, 1)),
            "add": ((c, 16), (0, 1), (0, 1)),
            "y": ((0, 1), (c, 16), (0, 4), (0, 4)),
        }
        for t, c in zip(tiles * 2, (0, 16, 32, 48), strict=True)
    ]
    split = single_plan(graph, halves, hw=NPU_HW)
    assert_clean(split, graph, NPU_HW)  # fine on the cluster
    found = validate(with_node(split, engine="neureka"), graph, NPU_HW)
    assert {v.kind for v in found} == {K.NPU_RULE} and "pass" in found[0].message
    # input channels split over two tiles is no valid conv tile anywhere; the NPU rule names it too
    k_split = [
        dict(t, x=((0, 1), (c, 4), (0, 4), (0, 4)), w=((0, 32), (c, 4), (0, 1), (0, 1)))
        for t, c in zip(tiles[:1] * 2, (0, 4), strict=True)
    ]
    messages = [
        v.message
        for v in validate(with_node(single_plan(graph, k_split, hw=NPU_HW), engine="neureka"), graph, NPU_HW)
        if v.kind is K.NPU_RULE
    ]
    assert any("all input channels" in m for m in messages) and any("full weights" in m for m in messages)


def test_npu_operator_rules() -> None:
    dilated = conv_graph(4, 8, 8, 3)
    node = dilated.nodes[0]
    attrs = tuple((k, (2, 2) if k == "dilations" else v) for k, v in node.attributes)
    g = Graph(
        dilated.name,
        dilated.tensors,
        (Node(node.name, node.op_type, node.inputs, node.outputs, attrs, requant=node.requant),),
        dilated.input_names,
        dilated.output_names,
    )
    tiles = [
        {"x": ((0, 1), (0, 4), (0, 8), (0, 8)), "w": W3, "mul": RQ8, "add": RQ8, "y": ((0, 1), (0, 8), (0, 6), (0, 6))}
    ]
    plan = single_plan(g, tiles, hw=NPU_HW)
    messages = [v.message for v in validate(with_node(plan, engine="neureka"), g, NPU_HW) if v.kind is K.NPU_RULE]
    assert any("dilated" in m for m in messages)
    k5 = conv_graph(4, 8, 8, 5)
    tiles5 = [
        {
            "x": ((0, 1), (0, 4), (0, 8), (0, 8)),
            "w": ((0, 8), (0, 4), (0, 5), (0, 5)),
            "mul": RQ8,
            "add": RQ8,
            "y": ((0, 1), (0, 8), (0, 8), (0, 8)),
        }
    ]
    assert kinds(with_node(single_plan(k5, tiles5, hw=NPU_HW), engine="neureka"), k5, NPU_HW) == {K.NPU_RULE}


def test_rv32_engine_is_the_cluster() -> None:
    rv = load_hw("rv32_mcu")
    graph, tiles = add_tiles()
    plan = single_plan(graph, tiles, hw=rv, l1=rv.l1.budget_bytes)
    plan = plan.model_copy(update={"budgets": {"L1": rv.l1.budget_bytes}})
    assert_clean(plan, graph, rv)


# --- the report --------------------------------------------------------------------------------------------


def test_assert_valid_and_violation_text() -> None:
    graph, plan = conv_plan()
    assert_valid(plan, graph, HW)
    broken = with_node(plan, l1_bytes=1)
    with pytest.raises(PlanValidationError) as info:
        assert_valid(broken, graph, HW)
    assert isinstance(info.value, PlanError)
    assert info.value.violations[0].kind is K.L1_BYTES
    assert "L1_BYTES: node n: l1_bytes is 1" in str(info.value)
    v = Violation(K.BUDGET, None, "too big")
    assert str(v) == "BUDGET: too big"


def test_floods_are_summarized() -> None:
    graph, plan = two_node()
    n = plan.nodes[0]
    shifted = tuple(s.model_copy(update={"output_region": ((0, 1), (0, 9))}) for s in n.steps)
    many = with_node(plan, steps=shifted * 30, num_tiles=60)
    found = validate(many, graph, HW)
    bounds = [v for v in found if v.kind is K.REGION_BOUNDS]
    assert len(bounds) == 21 and "more like the above" in bounds[-1].message


# --- the tiler's plans -------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", SHARED_MODELS)
def test_every_shared_model_plan_validates(model: str, model_dirs: dict[str, Path]) -> None:
    try:
        from deeploy_tiler.planner.graph import plan_graph
    except ImportError as e:
        pytest.skip(f"planner not available yet: {e}")
    graph, _ = load_model(model_dirs[model])
    plan = plan_graph(graph, HW, l1=64_000)
    try:  # the planner does not place tensors (yet): attach the whole-network memory plan when available
        from deeploy_tiler.memory.network import plan_memory
    except ImportError:
        pass
    else:
        if not plan.memory:
            mem = plan_memory(graph, HW, l2_budget=plan.budgets.get("L2", 1_024_000))
            plan = plan.model_copy(update={"memory": mem.placed, "levels": mem.levels})
    found = validate(plan, graph, HW)
    assert found == [], f"{model}:\n" + "\n".join(map(str, found[:30]))


@st.composite
def _placements(draw: st.DrawFn) -> list[PlacedBuffer]:
    out: list[PlacedBuffer] = []
    for i in range(draw(st.integers(0, 12))):
        start = draw(st.integers(0, 8))
        alias = draw(st.sampled_from([None, *(p.tensor for p in out if p.alias_of is None)]))
        root = next((p for p in out if p.tensor == alias), None)
        keep = root is not None and draw(st.integers(0, 4)) > 0  # mostly an alias sits on its root
        out.append(
            PlacedBuffer(
                tensor=f"t{i}",
                level="L2",
                offset=root.offset if keep and root else draw(st.integers(0, 16)),
                size=root.size if keep and root else draw(st.integers(0, 6)),
                start=root.start if keep and root else start,
                end=root.end if keep and root else draw(st.integers(start - 1, start + 5)),
                alias_of=alias,
            )
        )
    return out


@given(_placements())
@settings(max_examples=300, deadline=None)
def test_fast_overlap_decision_matches_the_pairwise_rule(group: list[PlacedBuffer]) -> None:
    """The n log n sweep says "disjoint" exactly when no pair of different families overlaps."""

    def family(p: PlacedBuffer) -> str:
        return p.alias_of or p.tensor

    clash = any(
        family(a) != family(b)
        and a.size
        and b.size
        and a.start < a.end
        and b.start < b.end
        and a.start < b.end
        and b.start < a.end
        and a.offset < b.offset + b.size
        and b.offset < a.offset + a.size
        for i, a in enumerate(group)
        for b in group[i + 1 :]
    )
    fast = checks._disjoint_while_live(group)
    assert not (fast and clash)
    if not clash and all(
        (a.offset, a.size, a.start, a.end) == (b.offset, b.size, b.start, b.end)
        for a in group
        for b in group
        if family(a) == family(b) and a.size and b.size and a.start < a.end and b.start < b.end
    ):
        assert fast
