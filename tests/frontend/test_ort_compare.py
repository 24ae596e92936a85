"""frontend.ort_compare: when onnxruntime is an exact int8 oracle on this machine, checked on this machine."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from deeploy_tiler.frontend.ort_compare import ort_int8_matmul_is_exact

ort = pytest.importorskip("onnxruntime")


@pytest.mark.parametrize(
    ("flags", "exact"),
    [
        ("fpu sse2 avx2 fma", False),
        ("fpu sse2 avx2 avx512f avx512bw", False),  # AVX-512 without VNNI still uses vpmaddubsw
        ("fpu avx2 avx_vnni", True),
        ("fpu avx512f avx512_vnni", True),
    ],
)
def test_vnni_flag_decides(flags: str, exact: bool) -> None:
    cpuinfo = f"processor\t: 0\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: {flags}\n"
    assert ort_int8_matmul_is_exact(cpuinfo) is exact


def test_no_flags_line_means_not_exact() -> None:
    assert ort_int8_matmul_is_exact("processor\t: 0\n") is False


def test_detection_agrees_with_onnxruntime_here() -> None:
    # 255 x 127 summed in pairs is 64,770: past int16, so a saturating kernel gives 32,767 per pair
    w = np.full((64, 16), 127, np.int8)
    x = np.full((4, 64), 255, np.uint8)
    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["x", "w"], ["y"])],
        "saturation",
        [helper.make_tensor_value_info("x", TensorProto.UINT8, [4, 64])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [4, 16])],
        [numpy_helper.from_array(w, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"x": x})[0].astype(np.int64)
    exact = x.astype(np.int64) @ w.astype(np.int64)
    assert np.array_equal(got, exact) is ort_int8_matmul_is_exact()
    if not ort_int8_matmul_is_exact():
        assert np.all(got == 32767 * 32)  # every pair clipped at int16's maximum
