from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deeploy_tiler.errors import ShapeError
from deeploy_tiler.frontend.shapes import SHAPE_RULES

dims = st.lists(st.integers(1, 4), min_size=0, max_size=3)


@given(a=dims, b=dims, m=st.integers(1, 4), k=st.integers(1, 4), n=st.integers(1, 4))
@settings(max_examples=60, deadline=None)
def test_matmul_matches_numpy(a: list[int], b: list[int], m: int, k: int, n: int) -> None:
    sa, sb = (*a, m, k), (*b, k, n)
    try:
        expected = np.matmul(np.zeros(sa), np.zeros(sb)).shape
    except ValueError:
        with pytest.raises(ShapeError):
            SHAPE_RULES["MatMul"]("mm", {}, [sa, sb])
        return
    assert SHAPE_RULES["MatMul"]("mm", {}, [sa, sb]) == [expected]


@given(a=st.lists(st.integers(1, 3), max_size=4), b=st.lists(st.integers(1, 3), max_size=4))
@settings(max_examples=60, deadline=None)
def test_broadcast_matches_numpy(a: list[int], b: list[int]) -> None:
    try:
        expected = np.broadcast_shapes(tuple(a), tuple(b))
    except ValueError:
        with pytest.raises(ShapeError):
            SHAPE_RULES["Add"]("add", {}, [tuple(a), tuple(b)])
        return
    assert SHAPE_RULES["Add"]("add", {}, [tuple(a), tuple(b)]) == [expected]


def test_conv_output_size_stride_pad_dilation() -> None:
    attrs = {"strides": (2, 2), "pads": (1, 1, 1, 1), "dilations": (1, 1), "kernel_shape": (3, 3)}
    assert SHAPE_RULES["Conv"]("c", attrs, [(1, 3, 8, 8), (32, 3, 3, 3)]) == [(1, 32, 4, 4)]
    dilated = {"pads": (0, 0, 0, 0), "dilations": (2, 2)}  # effective window 5: 9 - 5 + 1
    assert SHAPE_RULES["Conv"]("c", dilated, [(1, 4, 9, 9), (6, 4, 3, 3)]) == [(1, 6, 5, 5)]
    depthwise = {"group": 4, "pads": (2, 2, 2, 2), "dilations": (2, 2)}
    assert SHAPE_RULES["Conv"]("c", depthwise, [(1, 4, 9, 9), (4, 1, 3, 3)]) == [(1, 4, 9, 9)]


def test_pool_ceil_mode() -> None:
    attrs = {"kernel_shape": (2, 2), "strides": (2, 2)}
    assert SHAPE_RULES["MaxPool"]("p", attrs, [(1, 2, 5, 5)]) == [(1, 2, 2, 2)]
    assert SHAPE_RULES["MaxPool"]("p", {**attrs, "ceil_mode": 1}, [(1, 2, 5, 5)]) == [(1, 2, 3, 3)]


@pytest.mark.parametrize(
    ("op", "attrs", "ins", "out"),
    [
        ("Reshape", {"shape": (0, -1)}, [(2, 3, 4)], (2, 12)),
        ("Flatten", {"axis": 2}, [(2, 3, 4, 5)], (6, 20)),
        ("Transpose", {"perm": (0, 3, 2, 1)}, [(1, 2, 3, 4)], (1, 4, 3, 2)),
        ("Concat", {"axis": -2}, [(1, 16, 8, 4), (1, 16, 1, 4)], (1, 16, 9, 4)),
        ("Gather", {"axis": 1}, [(1, 65, 128), (1,)], (1, 1, 128)),
        ("Gather", {"axis": 1}, [(1, 65, 128), ()], (1, 128)),
        ("Slice", {"starts": (1,), "ends": (100,), "axes": (1,)}, [(2, 10)], (2, 9)),
        ("Slice", {"starts": (-1,), "ends": (-11,), "axes": (0,), "steps": (-2,)}, [(10,)], (5,)),
        ("Squeeze", {"axes": (0, 2)}, [(1, 3, 1, 4)], (3, 4)),
        ("Unsqueeze", {"axes": (0, 3)}, [(3, 4)], (1, 3, 4, 1)),
        ("Pad", {"pads": (0, 1, 0, 2)}, [(3, 4)], (3, 7)),
        ("IntegerMean", {"axes": (1,), "keepdims": 0}, [(1, 64, 128)], (1, 128)),
        ("GlobalAveragePool", {}, [(1, 8, 5, 5)], (1, 8, 1, 1)),
        ("Gemm", {"transB": 1}, [(1, 128), (10, 128), (10,)], (1, 10)),
    ],
)
def test_shape_rules(op: str, attrs: dict[str, object], ins: list[tuple[int, ...]], out: tuple[int, ...]) -> None:
    assert SHAPE_RULES[op]("n", attrs, ins) == [out]


@pytest.mark.parametrize(
    ("op", "attrs", "ins", "match"),
    [
        ("Reshape", {"shape": (5, -1)}, [(2, 3)], "cannot reshape"),
        ("Concat", {"axis": 1}, [(1, 2), (2, 2)], "differ outside axis"),
        ("Gemm", {}, [(2, 3), (4, 5)], "inner dimensions"),
        ("Transpose", {"perm": (0, 0)}, [(2, 3)], "not a permutation"),
        ("Squeeze", {"axes": (1,)}, [(2, 3)], "not 1"),
        ("Conv", {}, [(1, 3, 8, 8), (4, 2, 3, 3)], "channels"),
    ],
)
def test_shape_errors_name_the_node(op: str, attrs: dict[str, object], ins: list[tuple[int, ...]], match: str) -> None:
    with pytest.raises(ShapeError, match=match) as info:
        SHAPE_RULES[op]("the_node", attrs, ins)
    assert info.value.node == "the_node"


def test_auto_pad_becomes_explicit() -> None:
    from deeploy_tiler.frontend.shapes import explicit_pads

    same = {"auto_pad": "SAME_UPPER", "strides": (2, 2)}
    assert explicit_pads(same, (7, 8), (3, 3)) == (1, 0, 1, 1)  # out 4x4: total pad 2 and 1
    assert explicit_pads({**same, "auto_pad": "SAME_LOWER"}, (7, 8), (3, 3)) == (1, 1, 1, 0)
    assert explicit_pads({"auto_pad": "VALID"}, (7, 8), (3, 3)) == (0, 0, 0, 0)


def test_ceil_mode_drops_window_starting_in_padding() -> None:
    # input 4, pad 1 each side, kernel 2, stride 2: window starts -1, 1, 3 all touch the input -> 3 kept
    attrs = {"kernel_shape": (2,), "strides": (2,), "pads": (1, 1), "ceil_mode": 1}
    assert SHAPE_RULES["MaxPool"]("p", attrs, [(1, 1, 4)]) == [(1, 1, 3)]
    # input 5, no pad, kernel 2, stride 2, ceil: starts 0, 2, 4 -> 3 windows (the last partially outside)
    attrs = {"kernel_shape": (2,), "strides": (2,), "pads": (0, 1), "ceil_mode": 1}
    assert SHAPE_RULES["MaxPool"]("p", attrs, [(1, 1, 5)]) == [(1, 1, 3)]
    # input 4, end pad 2, kernel 1, stride 2, ceil: starts 0, 2, 4, 6; the one at 6 lies in the padding, dropped
    attrs = {"kernel_shape": (1,), "strides": (2,), "pads": (0, 2), "ceil_mode": 1}
    assert SHAPE_RULES["MaxPool"]("p", attrs, [(1, 1, 4)]) == [(1, 1, 3)]
