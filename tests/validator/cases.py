"""Operator fixtures: a one-node graph plus hand-written tiles (every operand region written out), and the
small plans most defect tests start from."""

from __future__ import annotations

from collections.abc import Callable

from deeploy_tiler.ir import DType, Graph, Node, TensorKind
from deeploy_tiler.plan import Plan, Region

from .builders import build_node, constant, conv_graph, graph_input, make_plan, make_tensor, one_node_graph, single_plan

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
        [graph_input((4, 8), "a"), constant((6, 8), "b"), make_tensor("c", (6,), DType.INT32, TensorKind.CONSTANT)],
        (4, 6),
        DType.INT32,
        {"transB": 1},
    )
    return g, [{"a": ((0, 4), (0, 8)), "b": ((n, 3), (0, 8)), "c": ((n, 3),), "y": ((0, 4), (n, 3))} for n in (0, 3)]


def matmul_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    """Batched MatMul with broadcasting: a [2,1,4,8] @ b [3,8,5] -> [2,3,4,5], tiled along the 2nd batch dim."""
    g = one_node_graph(
        "MatMul", [graph_input((2, 1, 4, 8), "a"), graph_input((3, 8, 5), "b")], (2, 3, 4, 5), DType.INT32
    )
    a = ((0, 2), (0, 1), (0, 4), (0, 8))
    return g, [{"a": a, "b": (bb, (0, 8), (0, 5)), "y": ((0, 2), bb, (0, 4), (0, 5))} for bb in ((0, 2), (2, 1))]


def transpose_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    g = one_node_graph("Transpose", [graph_input((2, 3, 4))], (4, 2, 3), attrs={"perm": (2, 0, 1)})
    return g, [{"x": ((0, 2), (0, 3), (r, 2)), "y": ((r, 2), (0, 2), (0, 3))} for r in (0, 2)]


def concat_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    """Concat on axis 1 tiled across the seam: the second tile does not need `a` at all."""
    g = one_node_graph(
        "Concat", [graph_input((1, 2, 4), "a"), graph_input((1, 3, 4), "b")], (1, 5, 4), attrs={"axis": -2}
    )
    return g, [
        {"a": ((0, 1), (0, 2), (0, 4)), "b": ((0, 1), (0, 1), (0, 4)), "y": ((0, 1), (0, 3), (0, 4))},
        {"b": ((0, 1), (1, 2), (0, 4)), "y": ((0, 1), (3, 2), (0, 4))},
    ]


def gather_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    """Gather rows [3, 1] of a [4, 6] table: each output row needs just its table row."""
    g = one_node_graph(
        "Gather",
        [graph_input((4, 6), "d"), make_tensor("i", (2,), DType.INT8, TensorKind.CONSTANT, [3, -3])],
        (2, 6),
        attrs={"axis": 0},
    )
    return g, [
        {"d": ((3, 1), (0, 6)), "i": ((0, 1),), "y": ((0, 1), (0, 6))},
        {"d": ((1, 1), (0, 6)), "i": ((1, 1),), "y": ((1, 1), (0, 6))},
    ]


def slice_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    """x[:, 1:7:2]: output rows 0..1 read input rows 1..3, output row 2 reads row 5."""
    g = one_node_graph(
        "Slice", [graph_input((1, 8, 6))], (1, 3, 6), attrs={"starts": (1,), "ends": (7,), "axes": (1,), "steps": (2,)}
    )
    return g, [
        {"x": ((0, 1), (1, 3), (0, 6)), "y": ((0, 1), (0, 2), (0, 6))},
        {"x": ((0, 1), (5, 1), (0, 6)), "y": ((0, 1), (2, 1), (0, 6))},
    ]


def pad_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    g = one_node_graph("Pad", [graph_input((1, 2, 4, 4))], (1, 2, 6, 6), attrs={"pads": (0, 0, 1, 1, 0, 0, 1, 1)})
    return g, [
        {"x": ((0, 1), (0, 2), (0, 2), (0, 4)), "y": ((0, 1), (0, 2), (0, 3), (0, 6))},
        {"x": ((0, 1), (0, 2), (2, 2), (0, 4)), "y": ((0, 1), (0, 2), (3, 3), (0, 6))},
    ]


def mean_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    g = one_node_graph("IntegerMean", [graph_input((1, 4, 6))], (1, 6), attrs={"axes": (1,), "keepdims": 0})
    return g, [{"x": ((0, 1), (0, 4), (c, 3)), "y": ((0, 1), (c, 3))} for c in (0, 3)]


def softmax_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    g = one_node_graph("iSoftmax", [graph_input((1, 4, 8))], (1, 4, 8), DType.UINT8, {"n_levels": 256})
    return g, [{"x": ((0, 1), (r, 2), (0, 8)), "y": ((0, 1), (r, 2), (0, 8))} for r in (0, 2)]


def maxpool_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    g = one_node_graph(
        "MaxPool",
        [graph_input((1, 2, 6, 6))],
        (1, 2, 3, 3),
        attrs={"kernel_shape": (2, 2), "strides": (2, 2), "pads": (0, 0, 0, 0)},
    )
    return g, [
        {"x": ((0, 1), (0, 2), (0, 4), (0, 6)), "y": ((0, 1), (0, 2), (0, 2), (0, 3))},
        {"x": ((0, 1), (0, 2), (4, 2), (0, 6)), "y": ((0, 1), (0, 2), (2, 1), (0, 3))},
    ]


def add_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    """Requantized Add with a broadcast per-column operand."""
    g = one_node_graph("Add", [graph_input((6, 10)), constant((10,), "b")], (6, 10), requant=True)
    return g, [
        {"x": (r, (0, 10)), "b": ((0, 10),), "mul": ((0, 10),), "add": ((0, 10),), "y": (r, (0, 10))}
        for r in ((0, 3), (3, 3))
    ]


def reshape_tiles() -> tuple[Graph, list[dict[str, Region]]]:
    """A Flatten the plan materializes (copies) instead of aliasing: flat index ranges map back."""
    g = one_node_graph("Flatten", [graph_input((1, 4, 2, 2))], (1, 16), attrs={"axis": 1})
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


def two_node() -> tuple[Graph, Plan]:
    """x -> Relu r1 -> h -> Relu r2 -> y, two row tiles each."""
    tensors = {
        "x": graph_input((4, 4)),
        "h": make_tensor("h", (4, 4)),
        "y": make_tensor("y", (4, 4), kind=TensorKind.OUTPUT),
    }
    nodes = (Node("r1", "Relu", ("x",), ("h",)), Node("r2", "Relu", ("h",), ("y",)))
    graph = Graph("two", tensors, nodes, ("x",), ("y",))
    plans = [
        build_node(
            graph, n, [{n.inputs[0]: (r, (0, 4)), n.outputs[0]: (r, (0, 4))} for r in ((0, 2), (2, 2))], double=True
        )
        for n in nodes
    ]
    return graph, make_plan(graph, plans)


def conv_plan(double: bool = True) -> tuple[Graph, Plan]:
    graph, tiles = conv3x3_rows()
    return graph, single_plan(graph, tiles, double=double)
