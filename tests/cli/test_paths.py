"""CLI bad input: output paths checked before any work, every error one line on stderr and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from deeploy_tiler.cli import main
from deeploy_tiler.cli.common import EXIT_BAD_INPUT


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    (tmp_path / "empty.onnx").write_bytes(b"")
    (tmp_path / "bad.yaml").write_text("name: [1,\n")
    (tmp_path / "bad.csv").write_bytes(b"id,lower,upper,size\n\xe9,0,2,64\n")
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "--json", "afile/plan.json"], "--json: afile/plan.json lies below afile, which is not a folder"),
        (["plan", "--json", "adir"], "--json: adir is a folder, not a file"),
        (["plan", "--json", "missing/plan.json"], "--json: folder missing does not exist"),
        (["emit", "--out", "afile"], "--out: afile is a file, not a folder"),
        (["emit", "--out", "afile/sub"], "--out: afile/sub lies below afile, which is not a folder"),
        (["alloc", "bad.csv", "--json", "adir"], "--json: adir is a folder, not a file"),
        (["alloc", "bad.csv", "--capacity", "64"], "bad.csv: not a UTF-8 text file"),
        (["plan", "--l1", "1e30"], "--l1: not a byte size: '1e30'"),
        (["plan", "--l1", "2TiB"], "not a byte size"),
        (["plan", "--l2", "9" * 20], "exceeds the largest supported size"),
        (["plan", "--hw", "bad.yaml"], "bad.yaml: invalid YAML: line 2, column 1:"),
        (["plan", "empty.onnx"], "empty.onnx: the file is empty (0 bytes), not an ONNX model"),
        (["plan", "--bogus"], "No such option: --bogus"),
    ],
)
def test_one_line_exit_2(files: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code = main(argv)
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == EXIT_BAD_INPUT, err
    assert len(lines) == 1, err
    assert message in " ".join(err.split())
    assert "plan written" not in out and not (files / "afile" / "plan.json").exists()
