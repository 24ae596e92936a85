"""lower/call.py: C text of argument fields, instance names, the step context's errors."""

from __future__ import annotations

import pytest

from deeploy_tiler.emitter.lower import RequantArgs, instance_name, render_field
from deeploy_tiler.emitter.lower.call import Fields
from deeploy_tiler.emitter.views import Ptr
from deeploy_tiler.errors import EmitError
from deeploy_tiler.ir import DType

from .steps import Step


def test_render_field_values() -> None:
    assert render_field(None) == "0"
    assert render_field(7) == "7"
    assert render_field((1, -2, 3)) == "{1, -2, 3}"
    assert render_field(Ptr("buf", 12, False)) == "(void *)((uint8_t *)buf + 12)"
    rq = RequantArgs(Ptr("m", 0, True), Ptr("a", 4, True), (0, 1, 0, 0), (0, 0, 0, 0), 5, -128, 127, 0)
    assert render_field(rq) == (
        "{.mul = (const void *)((const uint8_t *)m), .add = (const void *)((const uint8_t *)a + 4), "
        ".mul_s = {0, 1, 0, 0}, .add_s = {0, 0, 0, 0}, .shift = 5, .lo = -128, .hi = 127, .wide = 0}"
    )


def test_instance_name_spells_the_types() -> None:
    assert instance_name("conv2d", (DType.INT8, DType.UINT8, DType.INT32)) == "dt_conv2d_i8_u8_i32"
    assert instance_name("pool", (DType.INT16, DType.UINT16)) == "dt_pool_i16_u16"


def test_fields_keep_order_and_turn_lists_into_tuples() -> None:
    f = Fields()
    f.add("b", [1, 2])
    f.add("a", 3)
    assert f.items == [("b", (1, 2)), ("a", 3)]


def test_missing_view_names_the_tensor() -> None:
    s = Step()
    ctx = s.context("Relu", [s.act("x", (2,))], (2,))
    with pytest.raises(EmitError, match="no buffer or home for tensor z"):
        ctx.view("z")
