"""`tile-report verify MODEL --against onnxruntime` on a standard quantized model (built, never downloaded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from deeploy_tiler.cli import main
from deeploy_tiler.cli.common import EXIT_BAD_INPUT, EXIT_OK

pytest.importorskip("onnxruntime")
M = pytest.importorskip("tests.models_onnx")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, " ".join(out.split()), " ".join(err.split())


def test_verify_against_onnxruntime_random_inputs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    model = tmp_path / "mlp.onnx"
    onnx.save(M.quantize(M.mlp_autoencoder(), M.FORMATS["qdq_u8s8_pc"]), model)
    code, out, err = _run(capsys, "verify", str(model), "--against", "onnxruntime", "--target", "host")
    assert code == EXIT_OK, err
    assert "seeded random values" in out
    assert "reference vs onnxruntime: 64 elements compared, 0 differ" in out
    assert "bit-exact on every target" in out


def test_verify_against_onnxruntime_float_samples_by_name(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = tmp_path / "mlp"
    folder.mkdir()
    q = M.quantize(M.mlp_autoencoder(), M.FORMATS["qop_u8s8"])
    onnx.save(q, folder / "network.onnx")
    sample = M.quantized_input(q, 3)
    np.savez(folder / "inputs.npz", unrelated=np.zeros(3), **sample)  # an extra array; the input by its name
    code, out, err = _run(capsys, "verify", str(folder), "--against", "onnxruntime", "--target", "host")
    assert code == EXIT_OK, err
    assert "matched to the graph inputs by name" in out and "0 differ" in out


def test_verify_against_unknown_backend(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "verify", "--against", "tflite")
    assert code == EXIT_BAD_INPUT and "--against" in err
