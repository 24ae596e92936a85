"""lower/requant.py: requant specs, value bounds and the int32 / int64 epilogue decision."""

from __future__ import annotations

import numpy as np
import pytest

from deeploy_tiler.emitter.lower.requant import RequantSpec, abs_bound, check_int32, requant_of, wide_flag
from deeploy_tiler.errors import EmitError
from deeploy_tiler.ir import DType

from .steps import Step


def test_shift_and_output_range() -> None:
    assert RequantSpec("m", "a", 64, 256, True).shift == 6
    assert RequantSpec("m", "a", 1, 256, True).lo_hi == (-128, 127)
    assert RequantSpec("m", "a", 1, 16, False).lo_hi == (0, 15)
    with pytest.raises(EmitError, match="power of two"):
        _ = RequantSpec("m", "a", 12, 256, True).shift


def test_requant_of_a_requant_shift_node() -> None:
    s = Step()
    x = s.act("x", (2,), DType.INT32)
    ctx = s.context("RequantShift", [x, s.const("m", [3], DType.INT32), s.const("a", [1], DType.INT32)], (2,),
                    div=4, n_levels_out=16, signed=0)  # fmt: skip
    assert requant_of(ctx.node) == RequantSpec("m", "a", 4, 16, False)
    assert requant_of(s.context("Relu", [x], (2,), DType.INT32).node) is None


def test_bounds_and_wide_flag() -> None:
    s = Step()
    x = s.act("x", (2,), DType.INT16)
    s.const("m", np.array([-5, 3]), DType.INT32)
    s.const("a", np.array([100]), DType.INT32)
    ctx = s.context("Relu", [x], (2,), DType.INT16)
    assert abs_bound(ctx, "m") == 5 and abs_bound(ctx, "x") == 32768
    rq = RequantSpec("m", "a", 8, 256, True)
    assert wide_flag(ctx, rq, None) == 1  # no bound known: int64
    assert wide_flag(ctx, rq, 1000) == 0  # 1000 * 5 + 100 + 4
    assert wide_flag(ctx, rq, 2**29) == 1  # 2^29 * 5 overflows int32
    check_int32(ctx, "m", "mul")
    with pytest.raises(EmitError, match="int16; the kernels take int32"):
        check_int32(ctx, "x", "bias")
