"""cli.emit_verify: `tile-report emit` writes the project; `verify` refuses bad input with one line and
passes bit-exact on the host for the bundled default."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deeploy_tiler import api
from deeploy_tiler.cli import main
from deeploy_tiler.cli.common import EXIT_BAD_INPUT, EXIT_OK
from deeploy_tiler.models.tiny_decoder import build_tiny_decoder


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_emit_writes_a_project_with_a_makefile(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_dir = tmp_path / "proj"
    code, out, err = _run(capsys, "emit", "--out", str(out_dir))
    assert code == EXIT_OK, err
    assert (out_dir / "Makefile").is_file() and any(out_dir.rglob("*.c"))
    assert f"C project for {api.default_model().name} written to" in out and "run-rv32" in out


def test_verify_rejects_an_unknown_target(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "verify", "--target", "arm")
    assert code == EXIT_BAD_INPUT
    assert err == "error: --target must be host, rv32, both or gvsoc, not 'arm'\n"


def test_a_model_without_inputs_beside_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "network.onnx").write_bytes(build_tiny_decoder().SerializeToString())
    code, _, err = _run(capsys, "emit", str(folder), "--out", str(tmp_path / "o"))
    assert code == EXIT_BAD_INPUT
    assert f"{folder}: no inputs.npz beside the model to run it with" in err


@pytest.mark.skipif(shutil.which("gcc") is None and shutil.which("cc") is None, reason="no host C compiler")
def test_verify_on_the_host_is_bit_exact(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = _run(capsys, "verify", "--target", "host", "--out", str(tmp_path / "v"))
    assert code == EXIT_OK, err
    assert "bit-exact on every target" in out
