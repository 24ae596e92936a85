"""lower/eltwise.py: dt_eltwise_args_t of elementwise tiles (broadcast, params, requant)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from deeploy_tiler.emitter.lower import RequantArgs
from deeploy_tiler.emitter.lower.eltwise import EW_COPY, EW_FILL, EW_OPS, lower_eltwise
from deeploy_tiler.errors import EmitError
from deeploy_tiler.ir import DType
from deeploy_tiler.resources import emit_c_dir

from .steps import Step, fields, ptr


def test_add_with_a_broadcast_operand() -> None:
    s = Step()
    a, b = s.act("a", (2, 3)), s.act("b", (3,))
    (call,) = lower_eltwise(s.context("Add", [a, b], (2, 3), DType.INT32))
    f = fields(call)
    assert (call.fn, f["op"]) == ("dt_eltwise_i8_i8_i32", EW_OPS["Add"])
    # b repeats along rows (stride 0), so the two dimensions cannot merge
    assert (f["d"], f["a_s"], f["b_s"], f["y_s"]) == ((1, 1, 2, 3), (0, 0, 3, 1), (0, 0, 0, 1), (0, 0, 3, 1))
    assert (f["a"], f["b"], f["y"]) == (ptr("h_a", 0), ptr("h_b", 0), ptr("h_y", 0))


def test_unary_tile_collapses_to_one_dimension() -> None:
    s = Step()
    a = s.act("a", (4, 6))
    (call,) = lower_eltwise(s.context("Relu", [a], (4, 6), out_box=((2, 2), (0, 6))))
    f = fields(call)
    assert (f["op"], f["b"], f["d"], f["a_s"]) == (EW_OPS["Relu"], None, (1, 1, 1, 12), (0, 0, 0, 1))
    assert f["a"] == ptr("h_a", 12) and f["y"] == ptr("h_y", 12)


def test_clip_and_truediv_params() -> None:
    s = Step()
    a = s.act("a", (5,))
    f = fields(lower_eltwise(s.context("Clip", [a], (5,), min=-3, max=9))[0])
    assert f["p"] == (-3, 9, 0, 0)
    ctx = s.context("TrueIntegerDiv", [a], (5,), DType.INT32, Delta=100, eta=2, eps=1, y=3)
    assert fields(lower_eltwise(ctx)[0])["p"] == (100 * 2 // (3 * 2 + 1), 0, 0, 0)
    with pytest.raises(EmitError, match="denominator"):
        lower_eltwise(s.context("TrueIntegerDiv", [a], (5,), DType.INT32, Delta=1, eta=1, eps=0, y=0))


def test_requant_shift_node_strides_follow_its_operands() -> None:
    s = Step()
    x = s.act("x", (2, 3), DType.INT32)
    s.const("m", np.ones((3,)), DType.INT32)
    s.const("c", np.zeros((1,)), DType.INT32)
    ctx = s.context("RequantShift", [x, "m", "c"], (2, 3), DType.UINT8, div=8, n_levels_out=256, signed=0)
    rq = fields(lower_eltwise(ctx)[0])["rq"]
    assert isinstance(rq, RequantArgs)
    assert (rq.shift, rq.lo, rq.hi) == (3, 0, 255)
    assert rq.mul_s == (0, 0, 0, 1) and rq.add_s == (0, 0, 0, 0)  # per column / scalar
    assert rq.wide == 1  # an int32 input times mul can exceed int32


def test_op_codes_match_the_c_enum() -> None:
    header = (emit_c_dir() / "kernels" / "dt_kernels.h").read_text()
    enum = {name: int(v) for name, v in re.findall(r"DT_EW_(\w+) = (\d+)", header)}
    c_name = {"RequantShift": "COPY", "Identity": "COPY", "TrueIntegerDiv": "TRUEDIV"}
    assert {op: enum[c_name.get(op, op.upper())] for op in EW_OPS} == EW_OPS
    assert (enum["COPY"], enum["FILL"]) == (EW_COPY, EW_FILL)
