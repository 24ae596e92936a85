"""lower/rowwise.py: dt_rowwise_args_t of the integer row operators."""

from __future__ import annotations

import re

import numpy as np
import pytest

from deeploy_tiler.emitter.lower.rowwise import ROW_OPS, lower_rowwise
from deeploy_tiler.errors import EmitError, UnsupportedOperatorError
from deeploy_tiler.ir import DType
from deeploy_tiler.resources import emit_c_dir

from .steps import Step, fields, ptr


def test_isoftmax_rows_collapse_into_one_call() -> None:
    s = Step()
    ctx = s.context("iSoftmax", [s.act("x", (2, 3, 8))], (2, 3, 8), coeffA=1, coeffB=2, coeffC=3, log2=4)
    (call,) = lower_rowwise(ctx)
    f = fields(call)
    assert (call.fn, f["op"], f["p"]) == ("dt_rowwise_i8_i8", ROW_OPS["iSoftmax"], (1, 2, 3, 4, 256, 0))
    assert (f["rows"], f["len"], f["x_sr"], f["y_sr"], f["w"], f["bias"]) == (6, 8, 8, 8, None, None)


def test_ilayernorm_points_at_weight_and_bias() -> None:
    s = Step()
    x = s.act("x", (4, 8))
    w, b = s.const("w", np.ones(8)), s.const("b", np.zeros(8), DType.INT32)
    ctx = s.context("iLayerNorm", [x, w, b], (4, 8), out_box=((1, 2), (0, 8)), D=16, n_levels=128)
    f = fields(lower_rowwise(ctx)[0])
    assert (f["x"], f["y"], f["rows"]) == (ptr("h_x", 8), ptr("h_y", 8), 2)
    assert (f["w"], f["w_bytes"], f["bias"], f["bias_bytes"]) == (ptr("h_w", 0, True), 1, ptr("h_b", 0, True), 4)
    assert f["p"] == (16, 128, 0, 0, 0, 0)


def test_partial_rows_and_other_axes_are_rejected() -> None:
    s = Step()
    x = s.act("x", (2, 8))
    with pytest.raises(EmitError, match="whole rows"):
        lower_rowwise(s.context("ITAMax", [x], (2, 8), out_box=((0, 2), (0, 4))))
    with pytest.raises(UnsupportedOperatorError):
        lower_rowwise(s.context("ITAMax", [x], (2, 8), axis=0))


def test_op_codes_match_the_c_enum() -> None:
    header = (emit_c_dir() / "kernels" / "dt_kernels.h").read_text()
    enum = {name: int(v) for name, v in re.findall(r"DT_ROW_(\w+) = (\d+)", header)}
    assert {op: enum[op.upper()] for op in ROW_OPS} == ROW_OPS
