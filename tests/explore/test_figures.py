"""Static sweep and plan pictures (matplotlib), saved as PNG and reproducible SVG."""

from __future__ import annotations

from pathlib import Path

import pytest

import deeploy_tiler as dt
from deeploy_tiler.explore import figures as rp
from deeploy_tiler.explore import sweep as sw

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


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
