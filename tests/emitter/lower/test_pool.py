"""lower/pool.py: dt_pool_args_t of MaxPool / AveragePool / GlobalAveragePool tiles."""

from __future__ import annotations

import pytest

from deeploy_tiler.emitter.lower.pool import lower_pool
from deeploy_tiler.errors import UnsupportedOperatorError
from deeploy_tiler.ir import DType

from .steps import Step, fields, ptr


def test_maxpool_tile() -> None:
    s = Step()
    x = s.act("x", (1, 3, 4, 4), DType.UINT8)
    out_box = ((0, 1), (1, 2), (1, 1), (0, 2))
    (call,) = lower_pool(
        s.context("MaxPool", [x], (1, 3, 2, 2), DType.UINT8, out_box=out_box, kernel_shape=(2, 2), strides=(2, 2))
    )
    f = fields(call)
    assert (call.fn, call.template) == ("dt_pool_u8_u8", "pool")
    assert f["x"] == ptr("h_x", 16)  # channel 1 of the whole input
    assert f["y"] == ptr("h_y", 4 + 2)  # element (0, 1, 1, 0)
    assert (f["mode"], f["count_include_pad"], f["rq"]) == (0, 0, None)
    assert (f["c"], f["y_h"], f["y_w"], f["kh"], f["kw"], f["sh"], f["sw"]) == (2, 1, 2, 2, 2, 2, 2)
    assert (f["pad_t"], f["pad_l"]) == (-2, 0)  # output row 1 starts at input row 2 of a slot from row 0
    assert (f["full_h"], f["full_w"], f["gpad_t"], f["gpad_b"]) == (4, 4, 0, 0)


def test_average_pool_keeps_padding_mode() -> None:
    s = Step()
    x = s.act("x", (1, 1, 3, 3))
    ctx = s.context("AveragePool", [x], (1, 1, 3, 3), kernel_shape=(3, 3), pads=(1, 1, 1, 1), count_include_pad=1)
    f = fields(lower_pool(ctx)[0])
    assert (f["mode"], f["count_include_pad"], f["pad_t"], f["pad_l"]) == (1, 1, 1, 1)
    assert (f["gpad_t"], f["gpad_b"], f["gpad_l"], f["gpad_r"]) == (1, 1, 1, 1)


def test_global_average_pool_window_is_the_input() -> None:
    s = Step()
    f = fields(lower_pool(s.context("GlobalAveragePool", [s.act("x", (1, 4, 3, 5))], (1, 4, 1, 1)))[0])
    assert (f["mode"], f["count_include_pad"], f["kh"], f["kw"], f["y_h"], f["y_w"]) == (1, 1, 3, 5, 1, 1)


def test_1d_pool_is_lifted_to_2d() -> None:
    s = Step()
    f = fields(lower_pool(s.context("MaxPool", [s.act("x", (1, 2, 8))], (1, 2, 4), kernel_shape=(2,), strides=(2,)))[0])
    assert (f["kh"], f["kw"], f["sh"], f["sw"], f["x_h"], f["x_w"], f["full_h"]) == (1, 2, 1, 2, 1, 8, 1)


def test_3d_pool_is_unsupported() -> None:
    s = Step()
    ctx = s.context("MaxPool", [s.act("x", (1, 1, 2, 2, 2))], (1, 1, 1, 1, 1), kernel_shape=(2, 2, 2))
    with pytest.raises(UnsupportedOperatorError):
        lower_pool(ctx)
