"""Static pictures of sweeps and plans, for notebooks and papers.

Figures are plain `matplotlib.figure.Figure` objects (no pyplot, no global backend change, nothing to
close): save them with `save_figure` (PNG or SVG by suffix; SVG bytes are reproducible) or show them in
a notebook. matplotlib is imported when a figure is made. The sweep tables are re-exported from
`tables` for callers that know them from here.
"""

from __future__ import annotations

import base64
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..plan import NodePlan, Plan
from .charts import BLOCK_COLORS
from .plandata import MemRect, memory_levels, memory_rects, node_rows, short_name
from .points import SweepPoint
from .sweep import SweepResult
from .tables import (
    CSV_FIELDS,
    MIN_FEASIBLE_HEADERS,
    POINT_HEADERS,
    _ov,
    csv_row,
    min_feasible_rows,
    point_rows,
    visible_columns,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..hw.spec import HwSpec

__all__ = [
    "CSV_FIELDS",
    "MIN_FEASIBLE_HEADERS",
    "POINT_HEADERS",
    "NodeComparison",
    "breakdown_figure",
    "compare_double_buffering",
    "csv_row",
    "double_buffer_figure",
    "figure_data_uri",
    "l2_figure",
    "latency_figure",
    "memory_map_figure",
    "min_feasible_rows",
    "point_rows",
    "save_figure",
    "save_figures",
    "sweep_figures",
    "visible_columns",
]

Metric = Literal["cycles", "latency_ms", "tokens_per_s"]

# --- figures -------------------------------------------------------------------------------------------------


def _figure(width: float, height: float, rows: int = 1, cols: int = 1) -> tuple[Figure, list[Axes]]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    return fig, [ax for row in axes for ax in row]


def _metric(p: SweepPoint, metric: Metric) -> float | None:
    if metric == "cycles":
        return None if p.total_cycles is None else float(p.total_cycles)
    if metric == "latency_ms":
        return None if p.latency_s is None else 1e3 * p.latency_s
    return p.tokens_per_s


_METRIC_LABEL = {"cycles": "modeled cycles", "latency_ms": "modeled latency (ms)", "tokens_per_s": "tokens / s"}


def _config_label(l2: int, db: bool, ov: Mapping[str, Any], vary_l2: bool) -> str:
    parts = [f"{'double' if db else 'single'} buffering"]
    if vary_l2:
        parts.append(f"L2 {l2:,} B")
    if ov:
        parts.append(_ov(ov))
    return ", ".join(parts)


def latency_figure(result: SweepResult, *, metric: Metric = "cycles") -> Figure:
    """The metric against the L1 budget, one curve per (L2, double buffering, overrides), Pareto points
    circled, infeasible budgets as crosses on the axis, and each configuration's smallest feasible L1."""
    fig, (ax,) = _figure(7.5, 4.4)
    groups: dict[tuple[int, bool, str], list[SweepPoint]] = {}
    for p in result.points:
        groups.setdefault((p.l2, p.double_buffer, json.dumps(p.overrides, sort_keys=True)), []).append(p)
    vary_l2 = len({k[0] for k in groups}) > 1
    colors = [f"C{i % 10}" for i in range(len(groups))]
    for color, ((l2, db, ov), pts) in zip(colors, sorted(groups.items()), strict=True):
        good = sorted((p.l1, v) for p in pts if p.feasible and (v := _metric(p, metric)) is not None)
        label = _config_label(l2, db, json.loads(ov), vary_l2)
        if good:
            ax.plot([x for x, _ in good], [y for _, y in good], marker="o", color=color, label=label)
        bad = sorted(p.l1 for p in pts if not p.feasible)
        if bad:
            ax.plot(
                bad,
                [0.0] * len(bad),
                linestyle="none",
                marker="x",
                color=color,
                label=f"infeasible ({label})" if not good else None,
            )
    front = [(p.l1, v) for p in result.pareto if (v := _metric(p, metric)) is not None]
    if front:
        ax.scatter(
            [x for x, _ in front],
            [y for _, y in front],
            s=150,
            facecolors="none",
            edgecolors="crimson",
            linewidths=2,
            label="Pareto front",
            zorder=3,
        )
    mins: dict[int, list[str]] = {}
    for m in result.min_feasible:
        v = m.budgets.get("L1")
        if v:
            mins.setdefault(v, []).append(
                f"{'double' if m.double_buffer else 'single'} buffering"
                + (f", {_ov(m.overrides)}" if m.overrides else "")
            )
    for v, configs in sorted(mins.items()):
        which = "" if len(configs) == len(result.min_feasible) else f" ({'; '.join(configs)})"
        ax.axvline(v, color="crimson", linestyle="--", alpha=0.5, linewidth=1, label=f"min feasible L1 {v:,} B{which}")
    ax.set_xscale("log", base=2)
    xs = [p.l1 for p in result.points] + list(mins)
    ys = [v for p in result.points if p.feasible and (v := _metric(p, metric)) is not None]
    if xs:  # every point, cross, circle and line inside the axes: log-space margins, room above the top
        lo, hi = math.log2(min(xs)), math.log2(max(xs))
        pad = 0.07 * max(hi - lo, 1.0)
        ax.set_xlim(2 ** (lo - pad), 2 ** (hi + pad))
    top = max(ys, default=1.0)
    ax.set_ylim(-0.04 * top, 1.1 * top)
    ax.set_xlabel("L1 budget (bytes)")
    ax.set_ylabel(_METRIC_LABEL[metric])
    ax.set_title(f"{result.model} on {result.hw}")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    return fig


def l2_figure(result: SweepResult) -> Figure:
    """Latency (top) and L3 traffic (bottom; per token for decode steps) against the L2 budget, one curve
    per (L1, double buffering, overrides): the smallest L2 streams the most from L3, the largest keeps
    everything resident. Infeasible budgets are crosses, the smallest feasible L2 a dashed line."""
    fig, (top, bottom) = _figure(7.5, 6.4, rows=2)
    per_token = result.tokens_per_step is not None
    groups: dict[tuple[int, bool, str], list[SweepPoint]] = {}
    for p in result.points:
        groups.setdefault((p.l1, p.double_buffer, json.dumps(p.overrides, sort_keys=True)), []).append(p)
    vary_l1 = len({k[0] for k in groups}) > 1
    for i, ((l1, db, ov), pts) in enumerate(sorted(groups.items())):
        color = f"C{i % 10}"
        label = ", ".join(
            [f"{'double' if db else 'single'} buffering"]
            + ([f"L1 {l1:,} B"] if vary_l1 else [])
            + ([_ov(json.loads(ov))] if json.loads(ov) else [])
        )
        good = sorted((p for p in pts if p.feasible and p.l2 > 0 and p.latency_s is not None), key=lambda p: p.l2)
        traffic = [(p.l3_bytes_per_token if per_token else p.l3_bytes) or 0 for p in good]
        if good:
            budgets = [p.l2 for p in good]
            top.plot(budgets, [1e3 * (p.latency_s or 0.0) for p in good], marker="o", color=color, label=label)
            bottom.plot(budgets, traffic, marker="o", color=color, label=label)
        bad = sorted(p.l2 for p in pts if not p.feasible and p.l2 > 0)
        for ax in (top, bottom):
            if bad:
                ax.plot(bad, [0.0] * len(bad), linestyle="none", marker="x", color=color)
    for m in result.min_feasible:
        v = m.budgets.get("L2")
        if v:
            for ax in (top, bottom):
                ax.axvline(v, color="crimson", linestyle="--", alpha=0.5, linewidth=1, label=f"min feasible L2 {v:,} B")
    xs = [p.l2 for p in result.points if p.l2 > 0] + [v for m in result.min_feasible if (v := m.budgets.get("L2"))]
    for ax in (top, bottom):
        ax.set_xscale("log", base=2)
        if xs:
            lo, hi = math.log2(min(xs)), math.log2(max(xs))
            pad = 0.07 * max(hi - lo, 1.0)
            ax.set_xlim(2 ** (lo - pad), 2 ** (hi + pad))
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
    top.set_ylabel("modeled latency (ms)")
    bottom.set_ylabel(f"L3 traffic per {'token' if per_token else 'run'} (bytes)")
    bottom.set_xlabel("L2 budget (bytes; small: streamed from L3, large: resident)")
    top.set_title(f"{result.model} on {result.hw}: latency and L3 traffic against L2")
    if top.get_legend_handles_labels()[0]:
        top.legend(fontsize=7)
    return fig


def _short(name: str, width: int = 28) -> str:
    """A tick label: exporter noise dropped, long generated names keep their distinctive end."""
    return short_name(name, width)


def _real_nodes(plan: Plan) -> list[NodePlan]:
    return [n for n in plan.nodes if n.alias_of is None]


def _largest(nodes: list[NodePlan], top: int | None) -> list[NodePlan]:
    if top is None:
        return nodes
    order = {n.name: i for i, n in enumerate(nodes)}
    keep = sorted(nodes, key=lambda n: -n.cycles.total)[:top]
    return sorted(keep, key=lambda n: order[n.name])


ROW_INCHES = 0.15  # per node of a horizontal chart: 7-point labels stay legible at 400 nodes


def breakdown_figure(plan: Plan, hw: HwSpec | None = None, *, top: int | None = None) -> Figure:
    """Per-node modeled cycles as horizontal stacked bars, first node on top: compute, per-tile call
    overhead (needs `hw`), exposed DMA (not hidden behind compute). A tick marks each node's lower
    bound, a dot its DMA time hidden by overlap; shaded bands are the blocks (layers). Every node by
    default (the figure grows with the network), or the `top` most expensive, in graph order."""
    keep = {n.name for n in _largest(_real_nodes(plan), top)}
    rows = [r for r in node_rows(plan, hw) if r.name in keep]
    fig, (ax,) = _figure(9.0, max(3.2, ROW_INCHES * len(rows) + 1.6))
    y = list(range(len(rows)))
    work = [r.work for r in rows]
    overhead = [r.overhead for r in rows]
    ax.barh(y, work, label="compute" if hw else "compute (call overheads included)", color="C0")
    if hw:
        ax.barh(y, overhead, left=work, label="call overhead (per tile)", color="C1")
    left = [w + o for w, o in zip(work, overhead, strict=True)]
    ax.barh(y, [r.exposed_dma for r in rows], left=left, label="exposed DMA", color="C3")
    ax.plot([r.hidden_dma for r in rows], y, linestyle="none", marker=".", color="k", label="DMA hidden by overlap")
    ax.plot(
        [r.lower_bound for r in rows], y, linestyle="none", marker="|", markersize=9, color="k", label="lower bound"
    )
    bands = 0
    start = 0
    for i in range(1, len(rows) + 1):  # the blocks: alternate shading, the name at the right edge
        if i == len(rows) or rows[i].block != rows[start].block:
            if len({r.block for r in rows}) > 1:
                ax.axhspan(start - 0.5, i - 0.5, color="0.92" if bands % 2 else "0.98", zorder=0, lw=0)
                ax.text(
                    1.005,
                    (start + i - 1) / 2,
                    rows[start].block,
                    transform=ax.get_yaxis_transform(),
                    fontsize=7,
                    va="center",
                    color="0.35",
                )
                bands += 1
            start = i
    ax.set_yticks(y, [f"#{r.index} {_short(r.name, 30)}" for r in rows], fontsize=7)
    ax.set_ylim(len(rows) - 0.5, -0.5)  # first node on top
    right = max([r.total for r in rows] + [r.lower_bound for r in rows] + [r.hidden_dma for r in rows] + [1])
    ax.set_xlim(0, 1.04 * right)
    ax.set_xlabel("modeled cycles")
    ax.grid(axis="x", alpha=0.3)
    total = sum(n.cycles.total for n in _real_nodes(plan))
    shown = "" if len(rows) == len(_real_nodes(plan)) else f" (largest {len(rows)} nodes)"
    ax.set_title(
        f"{plan.model}: per-node cycles{shown}, total {total:,}, L1 budget {plan.budgets.get('L1', 0):,} B", fontsize=10
    )
    ax.legend(fontsize=7, loc="lower right")
    return fig


_GROUP_COLORS = {"input": "#4c78a8", "activation": "#4c78a8", "weight": "#f58518", "output": "#54a24b",
                 "scratch": "#b279a2", "descriptors": "#9d9d9d", "network input": "#72b7b2"}  # fmt: skip


def _draw_level(
    ax: Axes, rects: Sequence[MemRect], capacity: int | None, peak: int | None, level: str, labels: bool
) -> None:
    """Rectangles colored by kind (weights by block, one legend entry each); names inside the
    rectangles big enough to hold them (or all of them with `labels`)."""
    from matplotlib.patches import Patch, Rectangle

    colors: dict[str, str] = {}
    for r in rects:
        if r.group not in colors:
            weights = sum(1 for c in colors if c.startswith("weights"))
            colors[r.group] = (
                BLOCK_COLORS[weights % len(BLOCK_COLORS)] if r.kind == "weights" else _GROUP_COLORS.get(r.kind, "C7")
            )
        ax.add_patch(
            Rectangle((r.x0, r.offset), r.x1 - r.x0, r.size, facecolor=colors[r.group], edgecolor="black",
                      linewidth=0.2, alpha=0.9)
        )  # fmt: skip
    top = max([r.offset + r.size for r in rects] + [peak or 0, 1])
    handles: list[Any] = [Patch(color=c, label=g) for g, c in colors.items()]
    if capacity and capacity <= 2 * top:  # a budget far above the peak would squash the map: named only
        handles.append(
            ax.axhline(capacity, color="crimson", linestyle="--", linewidth=1, label=f"budget {capacity:,} B")
        )
        top = max(top, capacity)
    elif capacity:
        handles += ax.plot([], [], color="crimson", linestyle="--", label=f"budget {capacity:,} B (off scale)")
    if peak:
        handles.append(ax.axhline(peak, color="black", linestyle=":", linewidth=1, label=f"peak {peak:,} B"))
    ax.set_ylim(0, top * 1.05)
    ax.set_ylabel(f"{level} address (bytes)")
    if handles:
        ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig = ax.get_figure()
    if fig is None:
        return
    bbox = ax.get_window_extent()
    x_span = ax.get_xlim()[1] - ax.get_xlim()[0]
    px_x, px_y = bbox.width / x_span, bbox.height / (top * 1.05)
    for r in rects:  # a name where it fits: ~5 px per character at 6 pt, 8 px of height
        text = f"{short_name(r.label, 40)} {r.size:,} B"
        w, h = (r.x1 - r.x0) * px_x, r.size * px_y
        if labels or (w >= 5 * len(text) and h >= 8):
            ax.text((r.x0 + r.x1) / 2, r.offset + r.size / 2, text, ha="center", va="center", fontsize=6, clip_on=True)


def memory_map_figure(plan: Plan, levels: Sequence[str] | None = None, *, labels: bool | None = None) -> Figure:
    """Memory map over time, one panel per level, on the plan's step axis (node i runs at t = i + 1).

    L1: each node's buffers at their offsets while it runs (double-buffered ones with both slots),
    colored by role. L2 / L3 / WMEM: the whole-network static plan (`Plan.memory`), each tensor over its
    lifetime; resident weights of one block that sit side by side are one rectangle, colored by block.
    Names are written where they fit (`labels=True`: everywhere)."""
    wanted = list(levels) if levels is not None else memory_levels(plan)
    if "L1" not in wanted and levels is None:
        wanted.insert(0, "L1")
    fig, axes = _figure(10, 3.0 * len(wanted) + 0.6, rows=len(wanted))
    n_steps = len(plan.nodes) + 2
    usage = {lv.level: lv for lv in plan.levels}
    for ax, level in zip(axes, wanted, strict=True):
        rects = memory_rects(plan, level)
        capacity = plan.budgets.get(level)
        peak: int | None
        if level in usage:
            peak, capacity = usage[level].peak, usage[level].capacity
        else:
            peak = max((n.l1_bytes for n in plan.nodes), default=0)
        ax.set_xlim(0, n_steps)
        _draw_level(ax, rects, capacity, peak, level, bool(labels))
        ax.set_title(f"{level}" + ("" if rects else " (nothing placed)"), fontsize=9)
    axes[-1].set_xlabel("time (node step; node i runs at i + 1)")
    fig.suptitle(f"{plan.model}: memory map", fontsize=10)
    return fig


@dataclass(frozen=True)
class NodeComparison:
    """One node planned with and without double buffering."""

    node: str
    op_type: str
    cycles_double: int
    cycles_single: int
    l1_double: int
    l1_single: int

    @property
    def saved_cycles(self) -> int:
        return self.cycles_single - self.cycles_double

    @property
    def extra_l1(self) -> int:
        return self.l1_double - self.l1_single


def compare_double_buffering(double: Plan, single: Plan) -> list[NodeComparison]:
    """Per node (graph order, data-free reshapes left out): cycles and L1 with and without double
    buffering at the same budgets. `saved_cycles > 0`: double buffering pays there."""
    other = {n.name: n for n in single.nodes}
    return [
        NodeComparison(
            n.name, n.op_type, n.cycles.total, other[n.name].cycles.total, n.l1_bytes, other[n.name].l1_bytes
        )
        for n in _real_nodes(double)
        if n.name in other
    ]


def double_buffer_figure(double: Plan, single: Plan, *, top: int = 30) -> Figure:
    """Cycles double buffering saves per node (bars) and the L1 bytes it costs (line), for the `top`
    nodes where it matters most."""
    rows = compare_double_buffering(double, single)
    order = {r.node: i for i, r in enumerate(rows)}
    rows = sorted(sorted(rows, key=lambda r: -abs(r.saved_cycles))[:top], key=lambda r: order[r.node])
    fig, (ax,) = _figure(max(6.5, 0.3 * len(rows) + 2.5), 4.4)
    x = list(range(len(rows)))
    ax.bar(x, [r.saved_cycles for r in rows], color=["C2" if r.saved_cycles > 0 else "C7" for r in rows])
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_xticks(x, [_short(r.node) for r in rows], rotation=75, fontsize=7)
    ax.set_xlim(-0.7, len(rows) - 0.3)
    ax.set_ylabel("cycles saved")
    twin = ax.twinx()
    twin.plot(x, [r.extra_l1 for r in rows], color="C3", marker=".", label="extra L1 bytes")
    twin.set_ylabel("extra L1 bytes")
    saved = sum(r.saved_cycles for r in compare_double_buffering(double, single))
    ax.set_title(
        f"{double.model}: double buffering at L1 {double.budgets.get('L1', 0):,} B saves {saved:,} of "
        f"{single.total_cycles:,} cycles",
        fontsize=10,
    )
    from matplotlib.patches import Patch

    handles = [
        Patch(color="C2", label="cycles saved by double buffering"),
        Patch(color="C7", label="no gain (or a loss)"),
        *twin.get_legend_handles_labels()[0],
    ]
    ax.legend(handles=handles, fontsize=7, loc="upper left")
    return fig


# --- files ---------------------------------------------------------------------------------------------------


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 110) -> Path:
    """Write a figure as PNG or SVG, chosen by the suffix (SVG output is byte-reproducible)."""
    import matplotlib

    p = Path(path)
    fmt = p.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise ValueError(f"{p}: figures are written as .png or .svg, not {p.suffix or 'no suffix'}")
    if fmt == "svg":
        with matplotlib.rc_context({"svg.hashsalt": "deeploy_tiler"}):
            fig.savefig(p, format="svg", metadata={"Date": None})
    else:
        fig.savefig(p, format="png", dpi=dpi)
    return p


def save_figures(
    figures: Mapping[str, Figure], directory: str | Path, *, formats: Sequence[str] = ("png", "svg")
) -> list[Path]:
    """Each figure as `<directory>/<name>.<format>` for every format; the directory is created."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    return [save_figure(fig, d / f"{name}.{fmt}") for name, fig in figures.items() for fmt in formats]


def figure_data_uri(fig: Figure, *, dpi: int = 100) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def sweep_figures(result: SweepResult, plan: Plan | None = None, hw: HwSpec | None = None) -> dict[str, Figure]:
    """The standard set: latency (and tokens/s for decode steps) against L1, latency and L3 traffic
    against L2 when the sweep varies it, and for `plan` its per-node breakdown and memory map."""
    figs = {"latency": latency_figure(result)}
    if result.tokens_per_step:
        figs["tokens_per_s"] = latency_figure(result, metric="tokens_per_s")
    if len({p.l2 for p in result.points}) > 1:
        figs["l2"] = l2_figure(result)
    if plan is not None:
        figs["breakdown"] = breakdown_figure(plan, hw)
        figs["memory_map"] = memory_map_figure(plan)
    return figs
