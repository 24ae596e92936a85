"""emitter.cwriter: identifiers, comments and C integer / array text for each dtype and its edge values."""

from __future__ import annotations

import numpy as np

from deeploy_tiler.emitter.cwriter import array_body, array_body_np, c_int, comment_text, designated, ident
from deeploy_tiler.ir import DType


def test_ident_makes_a_c_identifier() -> None:
    assert ident("conv/1.weight") == "conv_1_weight"
    assert ident("0abc") == "_0abc"
    assert ident("") == "_"
    assert ident("ok_Name9") == "ok_Name9"


def test_comment_text_cannot_close_the_comment() -> None:
    assert comment_text("a */ b") == "a * / b"


def test_c_int_edge_values_per_dtype() -> None:
    # INT_MIN has no literal in C: the negation of 2147483648 would be an unsigned / long literal.
    assert c_int(-(2**31), DType.INT32) == "(-2147483647 - 1)"
    assert c_int(2**31 - 1, DType.INT32) == "2147483647"
    assert c_int(-(2**63), DType.INT64) == "(-9223372036854775807LL - 1)"
    assert c_int(2**31, DType.INT64) == "2147483648LL"
    assert c_int(-(2**31) - 1, DType.INT64) == "-2147483649LL"
    assert c_int(5, DType.INT64) == "5"  # fits an int literal
    assert c_int(4294967295, DType.UINT32) == "4294967295u"
    assert c_int(-128, DType.INT8) == "-128" and c_int(255, DType.UINT8) == "255"


def test_array_body_lines_and_empty_array() -> None:
    assert array_body([], DType.INT8) == "{0}"
    assert array_body([1, -2, 3], DType.INT8) == "{\n    1, -2, 3\n}"
    assert array_body(range(5), DType.INT16, per_line=2) == "{\n    0, 1,\n    2, 3,\n    4\n}"
    assert array_body([-(2**31)], DType.INT32) == "{\n    (-2147483647 - 1)\n}"


def _values(body: str) -> list[int]:
    inner = body.strip()[1:-1]
    return [int(v) for v in inner.replace("\n", " ").split(",") if v.strip()]


def test_array_body_np_holds_the_same_values_for_each_dtype() -> None:
    rng = np.random.default_rng(0)
    for dt in (DType.INT8, DType.UINT8, DType.INT16, DType.UINT16, DType.INT32):
        arr = rng.integers(dt.min, dt.max, size=(7, 11), endpoint=True)
        arr[0, 0], arr[0, 1] = dt.min + (dt is DType.INT32), dt.max  # INT32 minimum: see below
        body = array_body_np(arr, dt)
        assert body.startswith("{\n    ") and body.endswith("\n}")
        assert _values(body) == arr.ravel().tolist(), dt
        assert all(len(line) <= 120 for line in body.splitlines())
    assert array_body_np(np.zeros((0,), dtype=np.int64), DType.INT8) == "{0}"


def test_array_body_np_falls_back_to_c_int_for_int32_minimum_and_wide_types() -> None:
    assert array_body_np(np.array([-(2**31), 1]), DType.INT32) == "{\n    (-2147483647 - 1), 1\n}"
    assert array_body_np(np.array([2**40]), DType.INT64) == "{\n    1099511627776LL\n}"
    assert array_body_np(np.array([7]), DType.UINT32) == "{\n    7u\n}"


def test_designated_initializer() -> None:
    assert designated([("a", "1"), ("b", "x")]) == "{.a = 1, .b = x}"
    assert designated([]) == "{}"
