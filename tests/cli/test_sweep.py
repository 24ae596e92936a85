"""`tile-report sweep` end to end: every output format, bad inputs, and points kept on failure."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest

from deeploy_tiler.cli import app, main
from deeploy_tiler.cli.common import EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK
from deeploy_tiler.cli.sweep import sweep_command
from deeploy_tiler.explore import points
from deeploy_tiler.explore import sweep as sw

if not any(c.name == "sweep" for c in app.registered_commands):  # until cli.py registers it itself
    app.command("sweep")(sweep_command)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["sweep", *argv])
    out, err = capsys.readouterr()
    return code, " ".join(out.split()), " ".join(err.split())


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_bundled_default_every_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    files = {k: tmp_path / f"out.{k}" for k in ("csv", "json", "html")}
    code, out, err = _run(
        capsys,
        "--hw",
        "siracusa",
        "--l1",
        "256..4KiB:x4",
        "--double-buffer",
        "both",
        "--executor",
        "serial",
        "--csv",
        str(files["csv"]),
        "--json",
        str(files["json"]),
        "--html",
        str(files["html"]),
        "--png-dir",
        str(tmp_path / "png"),
    )
    assert code == EXIT_OK, err
    assert "tiny_decoder on siracusa: 6 points" in out and "infeasible (L1 needs 300 B)" in out
    assert "smallest feasible budgets" in out and "Pareto front" in out
    doc = json.loads(files["json"].read_text())
    assert {"points", "pareto", "min_feasible"} <= set(doc) and doc["complete"] is True
    assert [(p["l1"], p["double_buffer"]) for p in doc["points"]] == [
        (256, True),
        (1024, True),
        (4096, True),
        (256, False),
        (1024, False),
        (4096, False),
    ]
    assert doc["min_feasible"][0]["budgets"]["L1"] == 300 and doc["min_feasible"][0]["verified"]["L1"]
    assert all(p["feasible"] for p in doc["pareto"])
    rows = _csv(files["csv"])
    assert [int(r["index"]) for r in rows] == list(range(6)) and rows[0]["status"] == "infeasible"
    assert not (tmp_path / "out.json.points.jsonl").exists()  # the sidecar goes once the JSON is whole
    page = files["html"].read_text()
    charts = re.findall(r'<div class="dt-chart" id="[^"]+" data-chart="([^"]+)">', page)  # interactive, inlined
    assert charts == ["budget-latency", "ops", "cycles", "memory-L1", "memory-L2"] and "<script src" not in page
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == [
        "breakdown.png",
        "breakdown.svg",
        "latency.png",
        "latency.svg",
        "memory_map.png",
        "memory_map.svg",
    ]


def test_minimobilenet_with_overrides_on_two_processes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, testdata_dir: Path
) -> None:
    model = testdata_dir / "Models" / "miniMobileNet" / "network.onnx"
    out_json = tmp_path / "m.json"
    code, out, err = _run(
        capsys,
        str(model),
        "--hw",
        "siracusa",
        "--l1",
        "1KiB,8KiB",
        "--workers",
        "2",
        "--set",
        "clock_hz=180e6|360e6",
        "--no-search",
        "--json",
        str(out_json),
    )
    assert code == EXIT_OK, err
    doc = json.loads(out_json.read_text())
    assert [(p["l1"], p["overrides"]["clock_hz"]) for p in doc["points"]] == [
        (1024, 180_000_000),
        (8192, 180_000_000),
        (1024, 360_000_000),
        (8192, 360_000_000),
    ]
    assert doc["min_feasible"] == [] and doc["executor"] == "process" and doc["workers"] == 2
    slow, fast = doc["points"][1], doc["points"][3]
    assert slow["total_cycles"] == fast["total_cycles"] and fast["latency_s"] == pytest.approx(slow["latency_s"] / 2)
    assert {p["index"] for p in doc["pareto"]} <= {2, 3}  # the faster clock dominates at equal budgets
    assert "clock_hz=180000000" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--l1", ""], "--l1: budget grid '' is empty"),
        (["--l1", "64KiB..16KiB"], "reversed"),
        (["--l2", "1MiB..1KiB"], "--l2"),
        (["--l1", "4KiB", "--set", "memories.L1.bogus=3"], "memories.L1.bogus"),
        (["--l1", "4KiB", "--set", "clock_hz"], "path=value"),
        (["--l1", "4KiB", "--double-buffer", "sometimes"], "on, off, both"),
        (["--l1", "4KiB", "--executor", "threads"], "--executor"),
        (["--l1", "4KiB", "--workers", "0"], "--workers"),
        (["--l1", "4KiB", "--ray-address", "127.0.0.1:1"], "needs --executor ray"),
        (["--l1", "4KiB", "--executor", "ray", "--ray-address", "127.0.0.1:1"], "127.0.0.1:1"),
    ],
)
def test_bad_inputs_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], needle: str
) -> None:
    code, out, err = _run(capsys, *argv, "--csv", str(tmp_path / "x.csv"))
    assert code == EXIT_BAD_INPUT, (out, err)
    assert needle in err and "Traceback" not in err
    assert len(capsys.readouterr().err.strip().splitlines()) <= 1


def test_unreachable_ray_keeps_the_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_csv, out_json = tmp_path / "r.csv", tmp_path / "r.json"
    code, _, err = _run(
        capsys,
        "--l1",
        "4KiB",
        "--executor",
        "ray",
        "--ray-address",
        "127.0.0.1:1",
        "--csv",
        str(out_csv),
        "--json",
        str(out_json),
    )
    assert code == EXIT_BAD_INPUT and ("does not answer" in err or "needs Ray" in err)
    assert "0 of 1 points computed" in err
    assert _csv(out_csv) == [] and json.loads(out_json.read_text())["complete"] is False


def test_all_infeasible_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--l1", "100,200", "--executor", "serial")
    assert code == EXIT_INFEASIBLE and "no point of the grid is feasible; L1 needs at least 300 B" in err


def _stop_at_third_point(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    real = points._run_point
    calls: list[int] = []

    def run_point(ctx: Any, task: Any) -> sw.SweepPoint:
        calls.append(task.index)
        if len(calls) == 3:
            raise exc
        return real(ctx, task)

    monkeypatch.setattr(points, "_run_point", run_point)


@pytest.mark.parametrize(
    ("exc", "code", "needle"),
    [
        (KeyboardInterrupt(), EXIT_INTERRUPTED, "interrupted: 2 of 4 points computed"),
        (MemoryError("worker died"), EXIT_INTERNAL, "the sweep failed (MemoryError: worker died); 2 of 4 points"),
    ],
)
def test_points_are_kept_when_a_later_point_stops_the_sweep(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    exc: BaseException,
    code: int,
    needle: str,
) -> None:
    _stop_at_third_point(monkeypatch, exc)
    out_csv, out_json = tmp_path / "p.csv", tmp_path / "p.json"
    got, out, err = _run(
        capsys,
        "--l1",
        "1KiB,2KiB,4KiB,8KiB",
        "--executor",
        "serial",
        "--no-search",
        "--csv",
        str(out_csv),
        "--json",
        str(out_json),
    )
    assert got == code and needle in err, err
    assert [r["l1"] for r in _csv(out_csv)] == ["1024", "2048"]
    doc = json.loads(out_json.read_text())
    assert doc["complete"] is False and [p["l1"] for p in doc["points"]] == [1024, 2048] and doc["pareto"]
    assert "(incomplete)" in out


def test_sidecar_holds_each_point_as_it_finishes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Seen from inside: when the third point starts, the first two are already on disk.
    out_csv, out_json = tmp_path / "s.csv", tmp_path / "s.json"
    sidecar = tmp_path / "s.json.points.jsonl"
    real = points._run_point
    seen: list[tuple[int, int]] = []

    def run_point(ctx: Any, task: Any) -> sw.SweepPoint:
        if task.index == 2:
            seen.append((len(_csv(out_csv)), len(sidecar.read_text().splitlines())))
        return real(ctx, task)

    monkeypatch.setattr(points, "_run_point", run_point)
    code, _, err = _run(
        capsys,
        "--l1",
        "1KiB,2KiB,4KiB",
        "--executor",
        "serial",
        "--no-search",
        "--csv",
        str(out_csv),
        "--json",
        str(out_json),
    )
    assert code == EXIT_OK, err
    assert seen == [(2, 2)]


def test_a_point_that_errors_is_reported_and_the_rest_are_kept(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import deeploy_tiler.api as api

    real = api.plan

    def flaky(g: Any, spec: Any, **kw: Any) -> Any:
        if kw.get("l1") == 2048:
            raise RuntimeError("boom")
        return real(g, spec, **kw)

    monkeypatch.setattr(api, "plan", flaky)
    out_csv = tmp_path / "e.csv"
    code, _, err = _run(capsys, "--l1", "1KiB,2KiB,4KiB", "--executor", "serial", "--no-search", "--csv", str(out_csv))
    assert code == EXIT_INTERNAL and "1 point(s) or search(es) failed, first #1: RuntimeError: boom" in err
    assert [r["status"] for r in _csv(out_csv)] == ["ok", "error", "ok"]


def test_decode_step_reports_tokens_per_second_over_an_l2_grid(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, testdata_dir: Path
) -> None:
    model = testdata_dir / "Models" / "microLlama" / "INT8" / "microLlama1" / "network.onnx"
    out_json = tmp_path / "lm.json"
    code, out, err = _run(
        capsys,
        str(model),
        "--l1",
        "4KiB,16KiB",
        "--l2",
        "8KiB,1MiB",
        "--executor",
        "serial",
        "--no-search",
        "--json",
        str(out_json),
    )
    assert code == EXIT_OK, err
    assert "tokens/s" in out and "L2 B" in out
    doc = json.loads(out_json.read_text())
    assert doc["tokens_per_step"] == 1
    assert [(p["l2"], p["l1"]) for p in doc["points"]] == [
        (8192, 4096),
        (8192, 16384),
        (1 << 20, 4096),
        (1 << 20, 16384),
    ]
    for p in doc["points"]:
        if p["feasible"]:
            assert p["tokens_per_s"] == pytest.approx(1 / p["latency_s"])
        else:
            assert p["infeasible_level"] == "L2"


def test_an_l2_sweep_reports_l3_traffic(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """From all streamed (the smallest L2) to all resident: the L3 bytes per run in the table, the CSV and the
    L2 figure."""
    out_csv = tmp_path / "l2.csv"
    code, out, err = _run(
        capsys,
        "--hw",
        "siracusa",
        "--l1",
        "4KiB",
        "--l2",
        "3760,64KiB",
        "--executor",
        "serial",
        "--no-search",
        "--csv",
        str(out_csv),
        "--png-dir",
        str(tmp_path / "png"),
    )
    assert code == EXIT_OK, err
    assert "L3 B/run" in out and "L3 wait cycles" in out
    rows = _csv(out_csv)
    assert [r["l2"] for r in rows] == ["3760", "65536"]
    assert int(rows[0]["l3_bytes"]) > 0 and rows[1]["l3_bytes"] == "0"
    assert (tmp_path / "png" / "l2.png").exists()
