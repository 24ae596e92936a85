"""lower/gemm.py: dt_gemm_args_t of Gemm and MatMul tiles."""

from __future__ import annotations

import numpy as np
import pytest

from deeploy_tiler.emitter.lower.gemm import lower_gemm, lower_matmul
from deeploy_tiler.errors import UnsupportedOperatorError
from deeploy_tiler.ir import DType

from .steps import Step, fields, ptr


def test_gemm_tile_with_bias() -> None:
    s = Step()
    a, b = s.act("a", (4, 6)), s.const("b", np.ones((6, 8)))
    c = s.const("c", np.arange(8), DType.INT32)
    (call,) = lower_gemm(s.context("Gemm", [a, b, c], (4, 8), DType.INT32, out_box=((1, 2), (4, 4))))
    f = fields(call)
    assert call.fn == "dt_gemm_i8_i8_i32"
    assert f["a"] == ptr("h_a", 6)  # row 1
    assert f["b"] == ptr("h_b", 4, const=True)  # column 4
    assert f["c"] == ptr("h_c", 4 * 4, const=True)  # bias element 4, int32
    assert f["y"] == ptr("h_y", (8 + 4) * 4)
    assert (f["m"], f["n"], f["k"]) == (2, 4, 6)
    assert (f["a_sm"], f["a_sk"], f["b_sk"], f["b_sn"], f["c_sm"], f["c_sn"], f["y_sm"], f["y_sn"]) == (
        6, 1, 8, 1, 0, 1, 8, 1,
    )  # fmt: skip


def test_gemm_transposed_operands_swap_strides() -> None:
    s = Step()
    a, b = s.act("a", (6, 4)), s.const("b", np.ones((8, 6)))
    (call,) = lower_gemm(s.context("Gemm", [a, b], (4, 8), DType.INT32, transA=1, transB=1))
    f = fields(call)
    assert (f["a_sm"], f["a_sk"], f["b_sk"], f["b_sn"], f["k"]) == (1, 4, 1, 6, 6)
    assert f["c"] is None


def test_gemm_alpha_is_unsupported() -> None:
    s = Step()
    ctx = s.context("Gemm", [s.act("a", (2, 2)), s.const("b", np.ones((2, 2)))], (2, 2), DType.INT32, alpha=2.0)
    with pytest.raises(UnsupportedOperatorError):
        lower_gemm(ctx)


def test_batched_matmul_collapses_batches_and_broadcasts_b() -> None:
    s = Step()
    a, b = s.act("a", (2, 3, 4, 5)), s.const("b", np.ones((5, 6)))
    (call,) = lower_matmul(s.context("MatMul", [a, b], (2, 3, 4, 6), DType.INT32))
    f = fields(call)
    # the 2 x 3 batch dims are contiguous in a and y: one kernel batch dimension of 6
    assert (f["nb1"], f["nb2"], f["m"], f["n"], f["k"]) == (1, 6, 4, 6, 5)
    assert (f["a_sb2"], f["b_sb2"], f["y_sb2"]) == (20, 0, 24)
    assert (f["a_sm"], f["a_sk"], f["b_sk"], f["b_sn"]) == (5, 1, 6, 1)


def test_matmul_batches_beyond_two_become_calls() -> None:
    s = Step()
    a, b = s.act("a", (2, 1, 3, 2, 2)), s.act("b", (2, 4, 1, 2, 2))
    calls = lower_matmul(s.context("MatMul", [a, b], (2, 4, 3, 2, 2), DType.INT32))
    assert len(calls) == 2  # three non-collapsible batch dims: the outermost splits into calls
    assert fields(calls[1])["a"] == ptr("h_a", 3 * 4)
    assert fields(calls[1])["y"] == ptr("h_y", 4 * 3 * 4 * 4)


def test_matmul_of_two_vectors_is_unsupported() -> None:
    s = Step()
    with pytest.raises(UnsupportedOperatorError):
        lower_matmul(s.context("MatMul", [s.act("a", (3,)), s.act("b", (3,))], (), DType.INT32))
