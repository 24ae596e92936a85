"""cli.alloc: `tile-report alloc` on a MiniMalloc CSV: exit codes, outputs and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deeploy_tiler.cli import main
from deeploy_tiler.cli.common import EXIT_BAD_INPUT, EXIT_OK

# Peak 12 B: b1, b3 and b5 (4 B each) are all live at time 0.
CSV = "id,lower,upper,size\nb1,0,3,4\nb2,3,9,4\nb3,0,9,4\nb4,9,21,4\nb5,0,21,4\n"


def _csv(tmp_path: Path, name: str = "case.12.csv") -> Path:
    p = tmp_path / name
    p.write_text(CSV)
    return p


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_solves_at_the_capacity_in_the_name_and_writes_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_json = tmp_path / "r.json"
    code, _, err = _run(capsys, "alloc", str(_csv(tmp_path)), "--json", str(out_json))
    assert code == EXIT_OK, err
    doc = json.loads(out_json.read_text())
    assert doc["solved"] is True and doc["peak"] == 12 and doc["capacity"] == 12 and doc["lower_bound"] == 12
    offsets = doc["offsets"]
    assert sorted(offsets) == ["b1", "b2", "b3", "b4", "b5"]
    # Buffers live at the same time never overlap.
    spans = {"b1": (0, 3), "b2": (3, 9), "b3": (0, 9), "b4": (9, 21), "b5": (0, 21)}
    for a in spans:
        for b in spans:
            if a < b and spans[a][0] < spans[b][1] and spans[b][0] < spans[a][1]:
                assert offsets[a] + 4 <= offsets[b] or offsets[b] + 4 <= offsets[a], (a, b)


def test_capacity_below_the_live_peak_is_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(capsys, "alloc", str(_csv(tmp_path)), "--capacity", "8")
    assert code == EXIT_BAD_INPUT
    assert "at time 0 the live buffers need 12 B, 4 B more than the capacity of 8 B" in err
    assert err.count("\n") == 1


def test_no_capacity_anywhere(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(capsys, "alloc", str(_csv(tmp_path, "plain.csv")))
    assert code == EXIT_BAD_INPUT
    assert "no --capacity given and none in the file name (NAME.<bytes>.csv)" in err


def test_bad_plot_suffix_and_bad_capacity(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(capsys, "alloc", str(_csv(tmp_path)), "--plot", str(tmp_path / "m.jpg"))
    assert code == EXIT_BAD_INPUT and "--plot: " in err and "must end in .png or .svg" in err
    code, _, err = _run(capsys, "alloc", str(_csv(tmp_path)), "--capacity", "many")
    assert code == EXIT_BAD_INPUT and "--capacity: " in err
