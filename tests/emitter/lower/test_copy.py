"""lower/copy.py: Transpose / Concat / Slice / Pad as strided eltwise copies and fills, Gather as dt_gather."""

from __future__ import annotations

import numpy as np
import pytest

from deeploy_tiler.emitter.lower.copy import lower_concat, lower_gather, lower_pad, lower_slice, lower_transpose
from deeploy_tiler.emitter.lower.eltwise import EW_COPY, EW_FILL
from deeploy_tiler.errors import EmitError, UnsupportedOperatorError
from deeploy_tiler.ir import DType

from .steps import Step, fields, ptr


def test_transpose_reads_with_permuted_strides() -> None:
    s = Step()
    (call,) = lower_transpose(s.context("Transpose", [s.act("x", (2, 3))], (3, 2), perm=(1, 0)))
    f = fields(call)
    assert (call.fn, f["op"], f["d"], f["a_s"], f["y_s"]) == (
        "dt_eltwise_i8_i8_i8",
        EW_COPY,
        (1, 1, 3, 2),
        (0, 0, 1, 3),
        (0, 0, 2, 1),
    )


def test_concat_tile_spanning_both_inputs_copies_each_part() -> None:
    s = Step()
    a, b = s.act("a", (2, 3)), s.act("b", (2, 4))
    calls = lower_concat(s.context("Concat", [a, b], (2, 7), out_box=((0, 2), (2, 3)), axis=1))
    assert len(calls) == 2
    fa, fb = fields(calls[0]), fields(calls[1])
    # column 2 of a (one column: the unit dimension drops, rows remain with their strides)
    assert (fa["a"], fa["y"], fa["d"], fa["a_s"], fa["y_s"]) == (
        ptr("h_a", 2), ptr("h_y", 2), (1, 1, 1, 2), (0, 0, 0, 3), (0, 0, 0, 7),
    )  # fmt: skip
    assert (fb["a"], fb["y"], fb["d"]) == (ptr("h_b", 0), ptr("h_y", 3), (1, 1, 2, 2))


def test_strided_slice() -> None:
    s = Step()
    ctx = s.context("Slice", [s.act("x", (10,))], (4,), starts=(1,), ends=(9,), axes=(0,), steps=(2,))
    f = fields(lower_slice(ctx)[0])
    assert (f["a"], f["a_s"], f["d"]) == (ptr("h_x", 1), (0, 0, 0, 2), (1, 1, 1, 4))


def test_pad_fills_then_copies_the_interior() -> None:
    s = Step()
    fill, inner = lower_pad(s.context("Pad", [s.act("x", (2, 2))], (4, 4), pads=(1, 1, 1, 1), constant_value=7))
    ff, fi = fields(fill), fields(inner)
    assert (ff["op"], ff["p"], ff["d"], ff["a_s"]) == (EW_FILL, (7, 0, 0, 0), (1, 1, 1, 16), (0, 0, 0, 0))
    assert (fi["op"], fi["a"], fi["y"], fi["d"]) == (EW_COPY, ptr("h_x", 0), ptr("h_y", 5), (1, 1, 2, 2))


def test_pad_tile_inside_the_border_is_only_filled() -> None:
    s = Step()
    calls = lower_pad(s.context("Pad", [s.act("x", (2, 2))], (4, 4), out_box=((0, 1), (0, 4)), pads=(1, 1, 1, 1)))
    assert [fields(c)["op"] for c in calls] == [EW_FILL]


def test_pad_reflect_is_unsupported() -> None:
    s = Step()
    with pytest.raises(UnsupportedOperatorError):
        lower_pad(s.context("Pad", [s.act("x", (2,))], (4,), pads=(1, 1), mode="reflect"))


def test_gather_with_constant_indices_needs_only_the_rows_they_pick() -> None:
    s = Step()
    x = s.act("x", (5, 3))
    idx = s.const("i", np.array([4, 1]), DType.INT32)
    (call,) = lower_gather(s.context("Gather", [x, idx], (2, 3), axis=0, held={"x": ((1, 4), (0, 3))}))
    f = fields(call)
    assert (call.fn, call.template) == ("dt_gather", None)
    assert (f["x"], f["idx"], f["y"]) == (ptr("h_x", 0), ptr("h_i", 0, const=True), ptr("h_y", 0))
    assert (f["elem_bytes"], f["idx_bytes"], f["nidx"], f["inner"], f["x_sa"], f["axis_len"], f["axis_start"]) == (
        1, 4, 2, 3, 3, 5, 1,
    )  # fmt: skip
    with pytest.raises(EmitError):  # a slot without row 4
        lower_gather(s.context("Gather", [x, idx], (2, 3), axis=0, held={"x": ((0, 4), (0, 3))}))
