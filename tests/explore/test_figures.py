"""Sweep and plan pictures, tables, and the self-contained HTML page (rendered in headless Chromium)."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import deeploy_tiler as dt
from deeploy_tiler.explore import figures as rp
from deeploy_tiler.explore import sweep as sw

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def hw() -> dt.HwSpec:
    return dt.load_hw("siracusa")


@pytest.fixture(scope="module")
def graph() -> dt.Graph:
    return dt.load_model()


@pytest.fixture(scope="module")
def result(graph: dt.Graph, hw: dt.HwSpec) -> sw.SweepResult:
    return sw.sweep(graph, hw, l1_grid=[256, 1024, 4096], double_buffer=[True, False], executor="serial")


@pytest.fixture(scope="module")
def plans(graph: dt.Graph, hw: dt.HwSpec) -> tuple[dt.Plan, dt.Plan]:
    return dt.plan(graph, hw, l1=2048), dt.plan(graph, hw, l1=2048, double_buffer=False)


def test_latency_figure_marks_curves_pareto_and_min(result: sw.SweepResult) -> None:
    fig = rp.latency_figure(result)
    ax = fig.axes[0]
    labels = ax.get_legend_handles_labels()[1]
    assert "double buffering" in labels and "single buffering" in labels and "Pareto front" in labels
    assert any(label.startswith("min feasible L1 300 B") for label in labels)
    curve = next(line for line in ax.get_lines() if line.get_label() == "double buffering")
    assert list(curve.get_xdata()) == [1024, 4096]  # the infeasible 256 B point is not on the curve


def test_breakdown_bars_add_up_to_each_node(plans: tuple[dt.Plan, dt.Plan], hw: dt.HwSpec) -> None:
    plan = plans[0]
    fig = rp.breakdown_figure(plan, hw)
    ax = fig.axes[0]
    nodes = [n for n in plan.nodes if n.alias_of is None]
    tops: dict[float, float] = {}
    for bar in ax.patches:
        x = round(bar.get_x() + bar.get_width() / 2, 3)
        tops[x] = max(tops.get(x, 0.0), bar.get_y() + bar.get_height())
    assert [round(v) for _, v in sorted(tops.items())] == [n.cycles.total for n in nodes]
    assert {"compute", "call overhead (per tile)", "exposed DMA"} <= set(ax.get_legend_handles_labels()[1])


def test_memory_map_has_a_panel_per_level(plans: tuple[dt.Plan, dt.Plan]) -> None:
    plan = plans[0]
    fig = rp.memory_map_figure(plan)
    assert [ax.get_title() for ax in fig.axes] == ["L1", "L2"]
    l1_rects = sum(len([b for b in n.buffers if b.level == "L1"]) for n in plan.nodes)
    assert len(fig.axes[0].patches) == l1_rects
    assert len(fig.axes[1].patches) == len([b for b in plan.memory if b.level == "L2" and b.alias_of is None])


def test_double_buffer_comparison(plans: tuple[dt.Plan, dt.Plan]) -> None:
    double, single = plans
    rows = rp.compare_double_buffering(double, single)
    assert len(rows) == len([n for n in double.nodes if n.alias_of is None])
    assert sum(r.saved_cycles for r in rows) == single.total_cycles - double.total_cycles
    assert rp.double_buffer_figure(double, single).axes


def test_save_png_and_reproducible_svg(tmp_path: Path, result: sw.SweepResult) -> None:
    png = rp.save_figure(rp.latency_figure(result), tmp_path / "a.png")
    assert png.read_bytes().startswith(PNG_MAGIC)
    a = rp.save_figure(rp.latency_figure(result), tmp_path / "a.svg").read_bytes()
    b = rp.save_figure(rp.latency_figure(result), tmp_path / "b.svg").read_bytes()
    assert a.startswith(b"<?xml") and a == b
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        rp.save_figure(rp.latency_figure(result), tmp_path / "a.jpg")
    written = rp.save_figures(rp.sweep_figures(result), tmp_path / "figs")
    assert sorted(p.name for p in written) == ["latency.png", "latency.svg"]


def test_csv_row_and_table_rows(result: sw.SweepResult) -> None:
    row = rp.csv_row(result.points[1])
    assert list(row) == list(rp.CSV_FIELDS) and row["l1"] == 1024 and row["status"] == "ok"
    assert rp.csv_row(result.points[0])["total_cycles"] == ""
    rows = rp.point_rows(result.points, result.pareto)
    assert all(len(r) == len(rp.POINT_HEADERS) for r in rows)
    assert "infeasible (L1 needs 300 B)" in rows[0]
    assert [r[0] for r in rows if r[rp.POINT_HEADERS.index("Pareto")] == "*"] == [str(p.index) for p in result.pareto]


def _html(result: sw.SweepResult, plans: tuple[dt.Plan, dt.Plan], hw: dt.HwSpec) -> str:
    return rp.html_report(result, plans[0], hw, plan_note="the plan at 2 KiB")


def test_html_report_is_self_contained(result: sw.SweepResult, plans: tuple[dt.Plan, dt.Plan], hw: dt.HwSpec) -> None:
    page = _html(result, plans, hw)
    assert page.startswith("<!DOCTYPE html>") and "Pareto front" in page and "the plan at 2 KiB" in page
    sources = re.findall(r'<img[^>]* src="([^"]+)"', page)
    assert len(sources) == 3  # latency, breakdown, memory map
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG_MAGIC)
    assert not re.search(r'(src|href)="(https?:|//|file:)', page)


# --- the page in a real browser ------------------------------------------------------------------------------

_CHECK_SCRIPT = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images', ok + '/' + imgs.length);
});
</script></body>"""


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        msg = "headless Chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return exe


def _run_chromium(exe: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-extensions",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run([exe, *flags, *args], capture_output=True, text=True, timeout=120, check=False)


def test_html_report_renders_in_headless_chromium(
    tmp_path: Path, result: sw.SweepResult, plans: tuple[dt.Plan, dt.Plan], hw: dt.HwSpec
) -> None:
    exe = _chromium()
    page = tmp_path / "report.html"
    page.write_text(_html(result, plans, hw).replace("</body>", _CHECK_SCRIPT))
    dom = _run_chromium(exe, tmp_path / "profile-dom", "--virtual-time-budget=5000", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    loaded = re.search(r'data-images="(\d+)/(\d+)"', dom.stdout)
    assert loaded, f"the check script did not run; DOM starts: {dom.stdout[:300]!r}"
    assert loaded.group(1) == loaded.group(2) == "3", "every <img> must decode (naturalWidth > 0)"

    shot = tmp_path / "shot.png"
    run = _run_chromium(
        exe, tmp_path / "profile-shot", "--window-size=1200,2000", f"--screenshot={shot}", page.as_uri()
    )
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] == 2000 and pixels.shape[1] == 1200
    assert pixels[..., :3].std() > 0.05, "the screenshot is blank"
