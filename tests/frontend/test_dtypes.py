"""frontend.dtypes: the output dtype rule of each operator family, worked out by hand."""

from __future__ import annotations

import pytest

from deeploy_tiler.frontend.dtypes import ACCUMULATING, SAME_AS_INPUT, output_dtype
from deeploy_tiler.ir import DType


def test_requant_shift_takes_the_narrowest_type_of_its_levels() -> None:
    assert output_dtype("RequantShift", {"n_levels_out": 256, "signed": 1}, [DType.INT32]) is DType.INT8
    assert output_dtype("RequantShift", {"n_levels_out": 256, "signed": 0}, [DType.INT32]) is DType.UINT8
    assert output_dtype("RequantShift", {"n_levels_out": 257, "signed": 0}, [DType.INT32]) is DType.INT16
    assert output_dtype("RequantShift", {"n_levels_out": 65536}, [DType.INT32]) is DType.INT16  # signed by default


def test_leveled_operators_use_their_sign_and_256_levels_by_default() -> None:
    assert output_dtype("iSoftmax", {}, [DType.INT8]) is DType.UINT8
    assert output_dtype("ITAMax", {"n_levels": 256}, [DType.INT8]) is DType.UINT8
    assert output_dtype("iLayerNorm", {}, [DType.INT8]) is DType.INT8
    assert output_dtype("iRMSNorm", {"n_levels": 1024}, [DType.INT8]) is DType.INT16


def test_concat_takes_a_type_holding_every_input() -> None:
    assert output_dtype("Concat", {}, [DType.INT8, DType.INT8]) is DType.INT8
    # int8 [-128, 127] and uint8 [0, 255] together need [-128, 255]: int16.
    assert output_dtype("Concat", {}, [DType.INT8, DType.UINT8]) is DType.INT16
    assert output_dtype("Concat", {}, [DType.UINT8, DType.UINT16]) is DType.UINT16


def test_accumulating_operators_produce_int32_and_data_movement_keeps_the_input() -> None:
    for op in ACCUMULATING:
        assert output_dtype(op, {}, [DType.INT8, DType.INT8]) is DType.INT32, op
    for op in SAME_AS_INPUT:
        assert output_dtype(op, {}, [DType.UINT16, DType.INT64]) is DType.UINT16, op
    assert not ACCUMULATING & SAME_AS_INPUT


def test_quantize_linear_takes_its_zero_point_type_or_uint8() -> None:
    assert output_dtype("QuantizeLinear", {}, [DType.INT32, DType.INT32, DType.INT8]) is DType.INT8
    assert output_dtype("QuantizeLinear", {}, [DType.INT32, DType.INT32]) is DType.UINT8


def test_unknown_operator_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="Frobnicate"):
        output_dtype("Frobnicate", {}, [DType.INT8])
