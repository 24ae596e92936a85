"""Static sweep and plan pictures (matplotlib), saved as PNG and reproducible SVG."""

from __future__ import annotations

from pathlib import Path

import pytest

import deeploy_tiler as dt
from deeploy_tiler.explore import figures as rp
from deeploy_tiler.explore import sweep as sw
from deeploy_tiler.explore.plandata import memory_rects

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
    for bar in ax.patches:  # horizontal bars: one row per node, first node on top
        y = round(bar.get_y() + bar.get_height() / 2, 3)
        tops[y] = max(tops.get(y, 0.0), bar.get_x() + bar.get_width())
    assert [round(v) for _, v in sorted(tops.items())] == [n.cycles.total for n in nodes]
    assert {"compute", "call overhead (per tile)", "exposed DMA"} <= set(ax.get_legend_handles_labels()[1])


def test_breakdown_shows_every_node_of_a_large_network_legibly(ml64: tuple[dt.Graph, dt.HwSpec, dt.Plan]) -> None:
    _, hw, plan = ml64
    fig = rp.breakdown_figure(plan, hw)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    real = [n for n in plan.nodes if n.alias_of is None]
    assert len(labels) == len(real) and all(len(label) <= 36 for label in labels)
    row_points = fig.get_figheight() * 72 / len(labels)
    assert row_points >= 1.4 * ax.get_yticklabels()[0].get_fontsize()  # rows taller than their 7-pt labels
    lo, hi = ax.get_xlim()
    assert lo == 0 and hi >= max(max(n.cycles.total, n.lower_bound_cycles) for n in real)
    assert len(rp.breakdown_figure(plan, hw, top=15).axes[0].get_yticklabels()) == 15


def test_latency_figure_holds_all_its_marks(result: sw.SweepResult) -> None:
    ax = rp.latency_figure(result).axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    for line in ax.get_lines():
        for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True):
            if line.get_linestyle() == "--":  # an axvline: x in data, y in axes fractions
                assert x0 < x < x1
            else:
                assert x0 < x < x1 and y0 < y < y1, (line.get_label(), x, y)
    for coll in ax.collections:  # the Pareto circles
        for x, y in coll.get_offsets():
            assert x0 < x < x1 and y0 < y < y1


def test_memory_map_has_a_panel_per_level(plans: tuple[dt.Plan, dt.Plan]) -> None:
    plan = plans[0]
    fig = rp.memory_map_figure(plan)
    assert [ax.get_title() for ax in fig.axes] == ["L1", "L2"]
    l1_rects = sum(len([b for b in n.buffers if b.level == "L1"]) for n in plan.nodes)
    assert len(fig.axes[0].patches) == l1_rects
    assert len(fig.axes[1].patches) == len(memory_rects(plan, "L2"))
    placed = [b for b in plan.memory if b.level == "L2" and b.alias_of is None]
    assert 0 < len(memory_rects(plan, "L2")) <= len(placed)  # side-by-side weights of a block are one


def test_memory_map_names_what_fits(ml64: tuple[dt.Graph, dt.HwSpec, dt.Plan]) -> None:
    _, _, plan = ml64
    fig = rp.memory_map_figure(plan)
    l2 = fig.axes[1]
    texts = [t.get_text() for t in l2.texts]
    assert any(t.startswith("layers.3 weights") for t in texts)  # the resident weights read as named blocks
    legend = [t.get_text() for t in l2.get_legend().get_texts()]
    assert {f"weights layers.{k}" for k in range(8)} <= set(legend) and "activation" in legend


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


def test_l2_figure_latency_and_l3_traffic(l2_sweep: sw.SweepResult, result: sw.SweepResult) -> None:
    fig = rp.l2_figure(l2_sweep)
    top, bottom = fig.axes
    assert "L3 traffic per run" in bottom.get_ylabel() and "latency" in top.get_ylabel()
    curve = next(line for line in bottom.get_lines() if line.get_label() == "double buffering")
    by_l2 = {p.l2: p for p in l2_sweep.points if p.feasible}
    assert list(curve.get_xdata()) == sorted(by_l2)
    assert list(curve.get_ydata()) == [by_l2[b].l3_bytes for b in sorted(by_l2)]
    latency = next(line for line in top.get_lines() if line.get_label() == "double buffering")
    assert list(latency.get_ydata()) == [1e3 * (by_l2[b].latency_s or 0) for b in sorted(by_l2)]
    (m,) = l2_sweep.min_feasible
    assert any(label == f"min feasible L2 {m.budgets['L2']:,} B" for label in top.get_legend_handles_labels()[1])
    assert "l2" in rp.sweep_figures(l2_sweep) and "l2" not in rp.sweep_figures(result)  # only when L2 varies
