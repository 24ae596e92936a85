"""lower/window.py: window attributes, 1-D lifting, the halo check of input slots."""

from __future__ import annotations

import pytest

from deeploy_tiler.emitter.lower.window import check_window_rows, to_2d, window_attrs
from deeploy_tiler.emitter.views import Ptr, View
from deeploy_tiler.errors import EmitError, UnsupportedOperatorError
from deeploy_tiler.ir import DType, Node

from .steps import Step


def test_window_attrs_defaults_and_auto_pad() -> None:
    assert window_attrs(Node("n", "MaxPool", ("x",), ("y",)), 2) == ([1, 1], [1, 1], [0, 0, 0, 0])
    valid = Node("n", "Conv", ("x",), ("y",), attributes=(("auto_pad", "VALID"), ("pads", (1, 1, 1, 1))))
    assert window_attrs(valid, 2)[2] == [0, 0, 0, 0]
    same = Node("n", "Conv", ("x",), ("y",), attributes=(("auto_pad", "SAME_UPPER"),))
    with pytest.raises(UnsupportedOperatorError):
        window_attrs(same, 2)


def test_to_2d_inserts_a_unit_row_dimension() -> None:
    assert to_2d(((0, 1), (2, 3), (4, 5))) == ((0, 1), (2, 3), (0, 1), (4, 5))


def test_check_window_rows() -> None:
    ctx = Step().context("MaxPool", [], (1,))
    xv = View("x", Ptr("s", 0, False), DType.INT8, (0, 0, 2, 0), (1, 1, 3, 8), (1, 1, 8, 8), "L1 slot")
    out_box = ((0, 1), (0, 1), (1, 1), (0, 4))  # output row 1 of a 3-tall window at stride 2: input rows 2..4
    check_window_rows(ctx, xv, out_box, (3, 2), (2, 2), (1, 1), (0, 0), (8, 8))
    with pytest.raises(EmitError, match=r"rows \[2, 5\) but the tile's windows need \[2, 6\)"):
        check_window_rows(ctx, xv, out_box, (4, 2), (2, 2), (1, 1), (0, 0), (8, 8))
