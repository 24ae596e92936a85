"""reference.registry: every operator the frontend types has a kernel, float-only operators have none,
and the bindings read operands and attributes as documented."""

from __future__ import annotations

import numpy as np
import pytest

from deeploy_tiler.frontend.dtypes import output_dtype
from deeploy_tiler.frontend.shapes import SHAPE_RULES
from deeploy_tiler.ir import DType
from deeploy_tiler.reference.registry import FLOAT_ONLY_OPS, KERNELS


def test_every_kernel_has_a_shape_and_dtype_rule() -> None:
    for op in KERNELS:
        assert op in SHAPE_RULES, op
        attrs = {"n_levels_out": 256, "n_levels": 256}
        assert isinstance(output_dtype(op, attrs, [DType.INT8, DType.INT8, DType.INT8]), DType), op


def test_float_only_operators_have_no_kernel_and_name_their_integer_twin() -> None:
    for op, twin in FLOAT_ONLY_OPS.items():
        assert op not in KERNELS
        assert all(t.strip() in KERNELS for t in twin.split(" or ")), twin


def test_binary_and_unary_bindings() -> None:
    a = np.array([[1, -2], [3, 4]], dtype=np.int64)
    b = np.array([[10, 20], [30, 40]], dtype=np.int64)
    assert KERNELS["Add"]([a, b], {}).tolist() == [[11, 18], [33, 44]]
    assert KERNELS["Sub"]([a, b], {}).tolist() == [[-9, -22], [-27, -36]]
    assert KERNELS["MatMul"]([a, b], {}).tolist() == [[1 * 10 - 2 * 30, 1 * 20 - 2 * 40], [150, 220]]
    assert KERNELS["Relu"]([a], {}).tolist() == [[1, 0], [3, 4]]
    assert KERNELS["Transpose"]([a], {"perm": (1, 0)}).tolist() == [[1, 3], [-2, 4]]
    assert KERNELS["Flatten"]([np.zeros((2, 3, 4), dtype=np.int64)], {}).shape == (2, 12)


def test_missing_operand_and_attribute_are_value_errors() -> None:
    a = np.ones((2, 2), dtype=np.int64)
    with pytest.raises(ValueError, match=r"Add: required operand #1 is missing"):
        KERNELS["Add"]([a], {})
    with pytest.raises(ValueError, match=r"Relu: required operand #0 is missing"):
        KERNELS["Relu"]([None], {})
    with pytest.raises(ValueError, match=r"attribute 'b' is missing"):
        KERNELS["iGELU"]([a], {"one": 4})


def test_attribute_defaults() -> None:
    x = np.arange(12, dtype=np.int64).reshape(3, 4)
    idx = np.array([2, 0], dtype=np.int64)
    assert KERNELS["Gather"]([x, idx], {}).tolist() == [[8, 9, 10, 11], [0, 1, 2, 3]]  # axis 0
    assert KERNELS["Gather"]([x, idx], {"axis": 1}).tolist() == [[2, 0], [6, 4], [10, 8]]
