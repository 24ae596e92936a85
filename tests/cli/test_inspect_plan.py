"""cli.inspect_plan: `tile-report inspect` and `tile-report plan` on the bundled default model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deeploy_tiler import api
from deeploy_tiler.cli import main
from deeploy_tiler.cli.common import EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_OK


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_inspect_titles_the_node_count_and_totals_the_macs(capsys: pytest.CaptureFixture[str]) -> None:
    graph = api.default_model()
    code, out, _ = _run(capsys, "inspect", "--hw", "siracusa")
    assert code == EXIT_OK
    assert f"{graph.name}: {len(graph.nodes)} nodes" in out
    summary = graph.summary()
    assert f"total: {summary.total_macs:,} MACs" in out and out.rstrip().endswith("spec siracusa")
    for node in graph.nodes:
        assert node.name in out


def test_plan_json_is_the_api_plan(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_json = tmp_path / "plan.json"
    code, out, err = _run(capsys, "plan", "--l1", "32KiB", "--json", str(out_json))
    assert code == EXIT_OK, err
    expected = api.plan(api.default_model(), "siracusa", l1=32768)
    assert json.loads(out_json.read_text()) == json.loads(expected.to_json())
    assert f"total modeled cycles {expected.total_cycles:,}" in out
    assert f"plan written to {out_json}" in out


def test_plan_bad_and_infeasible_budgets(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "plan", "--l1", "much")
    assert code == EXIT_BAD_INPUT and err.startswith("error: --l1: ")
    code, _, err = _run(capsys, "plan", "--l1", "64")
    assert code == EXIT_INFEASIBLE and "L1 budget of 64 B is infeasible" in err
