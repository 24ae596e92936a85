"""`tile-report report`: one plan's HTML report, from a model or from a saved plan JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import deeploy_tiler as dt
from deeploy_tiler.cli.common import EXIT_BAD_INPUT, EXIT_OK
from deeploy_tiler.cli.main import main


@pytest.fixture(scope="module")
def mnv2_model(testdata_dir: Path) -> Path:
    return testdata_dir / "Models" / "miniMobileNetv2" / "network.onnx"


def _charts(page: str) -> list[str]:
    return re.findall(r'<div class="dt-chart" id="[^"]+" data-chart="([^"]+)">', page)


def test_report_of_a_model_with_what_if_budgets(
    tmp_path: Path, mnv2_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, plan_json = tmp_path / "r" / "mnv2.html", tmp_path / "plan.json"
    code = main(
        [
            "report",
            str(mnv2_model),
            "--hw",
            "siracusa_neureka",
            "--l1",
            "32KiB",
            "--html",
            str(out),
            "--json",
            str(plan_json),
        ]
    )
    assert code == EXIT_OK, capsys.readouterr().err
    page = out.read_text()
    assert _charts(page) == ["ops", "cycles", "engines", "memory-L1", "memory-L2", "memory-WMEM"]
    plan = dt.Plan.from_json(plan_json.read_text())
    assert plan.budgets["L1"] == 32 * 1024 and f"{plan.total_cycles:,}" in page
    for label in ("L1 x2 (65,536 B)", "L1 x4 (131,072 B)", "L1 x1/2 (16,384 B)", "L2 x2"):
        assert label in page  # what other budgets buy, each planned
    assert "tokens / s" not in page  # a CNN is no decode step
    assert "written:" in capsys.readouterr().out


def test_report_of_a_saved_plan_with_and_without_its_model(
    tmp_path: Path, mnv2_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    graph = dt.load_model(mnv2_model)
    hw = dt.load_hw("siracusa_neureka")
    saved = tmp_path / "plan.json"
    saved.write_text(dt.plan(graph, hw).to_json())
    alone, with_model = tmp_path / "alone.html", tmp_path / "with.html"
    assert main(["report", str(saved), "--hw", "siracusa_neureka", "--html", str(alone)]) == EXIT_OK
    args = ["report", str(saved), "--hw", "siracusa_neureka", "--model", str(mnv2_model), "--no-what-if"]
    assert main([*args, "--html", str(with_model)]) == EXIT_OK
    a, b = alone.read_text(), with_model.read_text()
    assert _charts(a) == _charts(b) == ["ops", "cycles", "engines", "memory-L1", "memory-L2", "memory-WMEM"]
    assert "no model given" in a and "128,512" in b and "128,512" not in a  # the model adds the MACs
    assert "L1 x2" not in a and "L1 x2" not in b


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--hw", "siracusa"], "made for spec 'siracusa_neureka'"),
        (["--hw", "siracusa_neureka", "--l1", "8KiB"], "a plan JSON already has its budgets"),
    ],
)
def test_bad_report_input_is_one_clear_error(
    tmp_path: Path, mnv2_model: Path, capsys: pytest.CaptureFixture[str], extra: list[str], needle: str
) -> None:
    saved = tmp_path / "plan.json"
    saved.write_text(dt.plan(dt.load_model(mnv2_model), dt.load_hw("siracusa_neureka")).to_json())
    assert main(["report", str(saved), *extra, "--html", str(tmp_path / "x.html")]) == EXIT_BAD_INPUT
    assert needle in capsys.readouterr().err.replace("\n", " ")
    assert not (tmp_path / "x.html").exists()


def test_a_broken_plan_json_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text(json.dumps({"schema_version": "1.0", "nodes": [], "total_cycles": "many"}))
    assert main(["report", str(bad), "--html", str(tmp_path / "x.html")]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "invalid plan JSON" in err and "total_cycles" in err
