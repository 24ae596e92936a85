"""Operator semantics: `needed_regions` gives exactly the operand regions one output tile reads, for each
operator family (hand-worked examples, plus a brute-force count of the taps of a sliding window)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deeploy_tiler.ir import DType, TensorKind
from deeploy_tiler.validator import needed_regions

from .builders import constant, graph_input, make_tensor, one_node_graph
from .cases import CASES


@pytest.mark.parametrize("case", sorted(CASES))
def test_needed_regions_are_exactly_the_hand_written_ones(case: str) -> None:
    graph, tiles = CASES[case]()
    node = graph.nodes[0]
    for tile in tiles:
        expected = {t: r for t, r in tile.items() if t != "y"}
        assert needed_regions(node, graph, tile["y"]) == expected


def test_grouped_conv_needs_the_input_channels_of_the_groups_it_touches() -> None:
    """group 2, 3 output channels per group: output channels 2..3 straddle both groups."""
    g = one_node_graph(
        "Conv",
        [graph_input((1, 4, 5, 5)), constant((6, 2, 3, 3))],
        (1, 6, 5, 5),
        attrs={"kernel_shape": (3, 3), "pads": (1, 1, 1, 1), "group": 2},
    )
    n = g.nodes[0]
    both = needed_regions(n, g, ((0, 1), (2, 2), (0, 2), (0, 5)))
    assert both == {"x": ((0, 1), (0, 4), (0, 3), (0, 5)), "w": ((2, 2), (0, 2), (0, 3), (0, 3))}
    second = needed_regions(n, g, ((0, 1), (3, 3), (4, 1), (0, 5)))
    assert second == {"x": ((0, 1), (2, 2), (3, 2), (0, 5)), "w": ((3, 3), (0, 2), (0, 3), (0, 3))}


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_conv_window_is_exactly_the_taps_it_reads(data: st.DataObject) -> None:
    """1-D conv with any kernel, stride, dilation and padding: the input span is min..max of the taps
    that land inside the input, and nothing when they all land in the padding."""
    k = data.draw(st.integers(1, 4), label="k")
    s = data.draw(st.integers(1, 3), label="stride")
    d = data.draw(st.integers(1, 3), label="dilation")
    p = data.draw(st.integers(0, 3), label="pad")
    length = data.draw(st.integers(1, 12), label="length")
    out_len = (length + 2 * p - d * (k - 1) - 1) // s + 1
    if out_len < 1:
        return
    o0 = data.draw(st.integers(0, out_len - 1), label="o0")
    n = data.draw(st.integers(1, out_len - o0), label="n")
    g = one_node_graph(
        "Conv",
        [graph_input((1, 1, length)), constant((1, 1, k))],
        (1, 1, out_len),
        attrs={"kernel_shape": (k,), "strides": (s,), "dilations": (d,), "pads": (p, p)},
    )
    taps = {o * s - p + j * d for o in range(o0, o0 + n) for j in range(k)}
    inside = sorted(t for t in taps if 0 <= t < length)
    need = needed_regions(g.nodes[0], g, ((0, 1), (0, 1), (o0, n)))
    assert need["w"] == ((0, 1), (0, 1), (0, k))
    if inside:
        assert need["x"] == ((0, 1), (0, 1), (inside[0], inside[-1] - inside[0] + 1))
    else:
        assert "x" not in need


def test_pools() -> None:
    g = one_node_graph(
        "MaxPool",
        [graph_input((1, 2, 7, 7))],
        (1, 2, 4, 4),
        attrs={"kernel_shape": (3, 3), "strides": (2, 2), "pads": (1,) * 4},
    )
    assert needed_regions(g.nodes[0], g, ((0, 1), (1, 1), (1, 2), (0, 4))) == {"x": ((0, 1), (1, 1), (1, 5), (0, 7))}
    gp = one_node_graph("GlobalAveragePool", [graph_input((1, 4, 3, 3))], (1, 4, 1, 1))
    assert needed_regions(gp.nodes[0], gp, ((0, 1), (2, 2), (0, 1), (0, 1))) == {"x": ((0, 1), (2, 2), (0, 3), (0, 3))}


def test_gemm_transposed_a_and_a_broadcast_bias_column() -> None:
    g = one_node_graph(
        "Gemm",
        [graph_input((8, 4), "a"), constant((8, 6), "b"), make_tensor("c", (4, 1), DType.INT32, TensorKind.CONSTANT)],
        (4, 6),
        DType.INT32,
        {"transA": 1},
    )
    assert needed_regions(g.nodes[0], g, ((1, 2), (2, 3))) == {
        "a": ((0, 8), (1, 2)),
        "b": ((0, 8), (2, 3)),
        "c": ((1, 2), (0, 1)),
    }


def test_matmul_with_one_dimensional_operands() -> None:
    vec_mat = one_node_graph("MatMul", [graph_input((8,), "a"), graph_input((8, 5), "b")], (5,), DType.INT32)
    assert needed_regions(vec_mat.nodes[0], vec_mat, ((1, 3),)) == {"a": ((0, 8),), "b": ((0, 8), (1, 3))}
    mat_vec = one_node_graph("MatMul", [graph_input((3, 8), "a"), graph_input((8,), "b")], (3,), DType.INT32)
    assert needed_regions(mat_vec.nodes[0], mat_vec, ((1, 2),)) == {"a": ((1, 2), (0, 8)), "b": ((0, 8),)}


def test_elementwise_broadcast_and_shapes_that_do_not_broadcast() -> None:
    g = one_node_graph("Mul", [graph_input((2, 3, 4)), constant((3, 1), "s")], (2, 3, 4))
    out = ((1, 1), (1, 2), (0, 2))
    assert needed_regions(g.nodes[0], g, out) == {"x": out, "s": ((1, 2), (0, 1))}
    bad = one_node_graph("Add", [graph_input((4, 6)), constant((5,), "b")], (4, 6))
    with pytest.raises(ValueError, match="does not broadcast"):
        needed_regions(bad.nodes[0], bad, ((0, 1), (0, 6)))


def test_rowwise_widens_the_normalized_axes() -> None:
    g = one_node_graph("Softmax", [graph_input((2, 3, 4))], (2, 3, 4), attrs={"axis": 1})
    assert needed_regions(g.nodes[0], g, ((1, 1), (1, 1), (2, 1))) == {"x": ((1, 1), (0, 3), (0, 4))}


def test_transpose_without_perm_reverses_the_axes() -> None:
    g = one_node_graph("Transpose", [graph_input((2, 3, 4))], (4, 3, 2))
    assert needed_regions(g.nodes[0], g, ((1, 2), (0, 3), (1, 1))) == {"x": ((1, 1), (0, 3), (1, 2))}


def test_gather_with_runtime_indices_needs_the_whole_axis() -> None:
    idx = make_tensor("i", (2,), DType.INT8, TensorKind.INPUT)
    g = one_node_graph("Gather", [graph_input((4, 6), "d"), idx], (2, 6), attrs={"axis": 0})
    assert needed_regions(g.nodes[0], g, ((1, 1), (2, 3))) == {"d": ((0, 4), (2, 3)), "i": ((1, 1),)}


def test_slice_with_a_negative_step() -> None:
    """x[:, 6:0:-2] picks columns 6, 4, 2; output columns 1..2 are input columns 4 and 2."""
    g = one_node_graph(
        "Slice", [graph_input((1, 8))], (1, 3), attrs={"starts": (6,), "ends": (0,), "axes": (1,), "steps": (-2,)}
    )
    assert needed_regions(g.nodes[0], g, ((0, 1), (1, 2))) == {"x": ((0, 1), (2, 3))}


def test_pad_reflect_reads_the_whole_axis_and_a_tile_in_the_padding_reads_nothing() -> None:
    reflect = one_node_graph("Pad", [graph_input((1, 4))], (1, 6), attrs={"pads": (0, 1, 0, 1), "mode": "reflect"})
    assert needed_regions(reflect.nodes[0], reflect, ((0, 1), (2, 2))) == {"x": ((0, 1), (0, 4))}
    const = one_node_graph("Pad", [graph_input((1, 4))], (1, 8), attrs={"pads": (0, 2, 0, 2)})
    assert needed_regions(const.nodes[0], const, ((0, 1), (0, 2))) == {}
    assert needed_regions(const.nodes[0], const, ((0, 1), (1, 3))) == {"x": ((0, 1), (0, 2))}


def test_reductions_keep_or_drop_the_reduced_axes() -> None:
    keep = one_node_graph("ReduceSum", [graph_input((2, 3, 4))], (2, 1, 4), DType.INT32, {"axes": (1,), "keepdims": 1})
    assert needed_regions(keep.nodes[0], keep, ((1, 1), (0, 1), (1, 2))) == {"x": ((1, 1), (0, 3), (1, 2))}
    everything = one_node_graph("ReduceMean", [graph_input((2, 3))], (), attrs={"keepdims": 0})
    assert needed_regions(everything.nodes[0], everything, ()) == {"x": ((0, 2), (0, 3))}


def test_reshape_maps_flat_indices_back() -> None:
    g = one_node_graph("Reshape", [graph_input((2, 6))], (3, 4))
    assert needed_regions(g.nodes[0], g, ((1, 1), (0, 4))) == {"x": ((0, 2), (0, 6))}  # flat 4..7 spans both rows
    assert needed_regions(g.nodes[0], g, ((0, 1), (1, 2))) == {"x": ((0, 1), (1, 2))}


def test_empty_tiles_and_unknown_operators() -> None:
    g = one_node_graph("Relu", [graph_input((4, 4))], (4, 4))
    assert needed_regions(g.nodes[0], g, ((0, 0), (0, 4))) == {}
    unknown = one_node_graph("Einsum", [graph_input((4, 4))], (4, 4))
    with pytest.raises(KeyError):
        needed_regions(unknown.nodes[0], unknown, ((0, 1), (0, 4)))
