"""lower/conv2d.py: the dt_conv2d_args_t of a Conv tile, from a hand-built step."""

from __future__ import annotations

import numpy as np
import pytest

from deeploy_tiler.emitter.lower import KernelCall, RequantArgs
from deeploy_tiler.emitter.lower.conv2d import lower_conv
from deeploy_tiler.emitter.views import Box
from deeploy_tiler.errors import EmitError, UnsupportedOperatorError
from deeploy_tiler.ir import DType, Requant

from .steps import Step, fields, ptr


def _conv(group: int = 1, held_x: Box | None = None) -> list[KernelCall]:
    s = Step()
    x = s.act("x", (1, 2, 5, 5))
    w = s.const("w", np.ones((4, 2 // group, 3, 3)))
    out_box = ((0, 1), (2, 2), (1, 2), (0, 5))  # channels 2..3, rows 1..2, every column
    held = {"x": held_x} if held_x is not None else None
    ctx = s.context(
        "Conv", [x, w], (1, 4, 5, 5), DType.INT32, out_box=out_box, held=held, pads=(1, 1, 1, 1), group=group
    )
    return lower_conv(ctx)


def test_conv_tile_arguments() -> None:
    # the L1 slot of x holds rows 0..3 (what rows 1..2 of a 3x3 window with padding 1 read)
    (call,) = _conv(held_x=((0, 1), (0, 2), (0, 4), (0, 5)))
    f = fields(call)
    assert (call.fn, call.args_type, call.template) == ("dt_conv2d_i8_i8_i32", "dt_conv2d_args_t", "conv2d")
    assert call.types == (DType.INT8, DType.INT8, DType.INT32)
    assert f["x"] == ptr("h_x", 0)
    assert f["w"] == ptr("h_w", 2 * 2 * 9, const=True)  # output channel 2
    assert f["y"] == ptr("h_y", (2 * 25 + 1 * 5) * 4)  # element (0, 2, 1, 0) of int32
    assert f["bias"] is None and f["rq"] is None
    assert (f["y_c"], f["y_h"], f["y_w"], f["x_h"], f["x_w"]) == (2, 2, 5, 4, 5)
    assert (f["x_bs"], f["x_cs"], f["x_hs"], f["y_bs"], f["y_cs"], f["y_hs"]) == (40, 20, 5, 100, 25, 5)
    assert (f["oc0"], f["cout_g"], f["cin_g"], f["kh"], f["kw"]) == (2, 4, 2, 3, 3)
    # the first window of the tile starts at input row 1*1 - 1 = 0 = the slot's first row; column -1
    assert (f["pad_t"], f["pad_l"]) == (0, 1)
    assert f["w_os"] == 18


def test_grouped_conv_reads_only_its_groups_channels() -> None:
    (call,) = _conv(group=2, held_x=((0, 1), (1, 1), (0, 5), (0, 5)))  # only channel 1 (group of oc 2..3)
    f = fields(call)
    assert (f["x_c0"], f["cin_g"], f["cout_g"]) == (1, 1, 2)


def test_conv_with_requant_gets_its_epilogue() -> None:
    s = Step()
    x = s.act("x", (1, 2, 4, 4))
    w = s.const("w", np.ones((3, 2, 1, 1)))
    s.const("m", np.full((3, 1, 1), 3), DType.INT32)
    s.const("a", np.zeros((3, 1, 1)), DType.INT32)
    ctx = s.context("Conv", [x, w], (1, 3, 4, 4), DType.INT8, requant=Requant("m", "a", 16, 256, True, "rq"))
    (call,) = lower_conv(ctx)
    rq = fields(call)["rq"]
    assert isinstance(rq, RequantArgs)
    assert (rq.shift, rq.lo, rq.hi) == (4, -128, 127)
    assert rq.mul_s == (0, 1, 0, 0)  # per output channel
    assert rq.mul == ptr("h_m", 0, const=True)
    assert rq.wide == 0  # |acc| <= 2 * 128 * 1, times mul 3, + div/2 fits int32


def test_conv_slot_missing_a_row_raises() -> None:
    with pytest.raises(EmitError, match="rows"):
        _conv(held_x=((0, 1), (0, 2), (1, 3), (0, 5)))


def test_conv3d_is_unsupported() -> None:
    s = Step()
    ctx = s.context("Conv", [s.act("x", (1, 1, 2, 2, 2)), s.const("w", np.ones((1, 1, 1, 1, 1)))], (1, 1, 2, 2, 2))
    with pytest.raises(UnsupportedOperatorError):
        lower_conv(ctx)
