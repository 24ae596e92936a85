"""lower/reduce_mean.py: dt_reduce_args_t of mean reductions."""

from __future__ import annotations

import pytest

from deeploy_tiler.emitter.lower.reduce_mean import lower_reduce
from deeploy_tiler.errors import UnsupportedOperatorError

from .steps import Step, fields, ptr


def test_spatial_mean_keepdims() -> None:
    s = Step()
    ctx = s.context(
        "ReduceMean", [s.act("x", (1, 4, 3, 3))], (1, 4, 1, 1), out_box=((0, 1), (1, 3), (0, 1), (0, 1)), axes=(2, 3)
    )
    (call,) = lower_reduce(ctx)
    f = fields(call)
    assert (call.fn, call.template) == ("dt_reduce_mean_i8_i8", "reduce_mean")
    assert (f["x"], f["y"]) == (ptr("h_x", 9), ptr("h_y", 1))  # channel 1
    assert (f["outer"], f["len"], f["inner"], f["divisor"], f["x_so"], f["x_sl"], f["y_so"]) == (3, 9, 1, 9, 9, 1, 1)


def test_mean_over_a_middle_axis_without_keepdims() -> None:
    s = Step()
    f = fields(lower_reduce(s.context("IntegerMean", [s.act("x", (2, 5, 3))], (2, 3), axes=(1,), keepdims=0))[0])
    assert (f["outer"], f["len"], f["inner"], f["x_so"], f["x_sl"], f["x_si"], f["y_so"], f["y_si"]) == (
        2, 5, 3, 15, 3, 1, 3, 1,
    )  # fmt: skip


def test_non_adjacent_axes_are_unsupported() -> None:
    s = Step()
    with pytest.raises(UnsupportedOperatorError):
        lower_reduce(s.context("ReduceMean", [s.act("x", (2, 3, 4))], (1, 3, 1), axes=(0, 2)))
