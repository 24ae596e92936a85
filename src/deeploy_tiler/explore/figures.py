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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..plan import NodePlan, Plan
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
                clip_on=False,
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
    ax.set_ylim(bottom=0)
    ax.set_xlabel("L1 budget (bytes)")
    ax.set_ylabel(_METRIC_LABEL[metric])
    ax.set_title(f"{result.model} on {result.hw}")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    return fig


def _short(name: str, width: int = 28) -> str:
    """A tick label: long generated names keep their distinctive end."""
    return name if len(name) <= width else "\u2026" + name[-(width - 1) :]


def _real_nodes(plan: Plan) -> list[NodePlan]:
    return [n for n in plan.nodes if n.alias_of is None]


def _largest(nodes: list[NodePlan], top: int) -> list[NodePlan]:
    order = {n.name: i for i, n in enumerate(nodes)}
    keep = sorted(nodes, key=lambda n: -n.cycles.total)[:top]
    return sorted(keep, key=lambda n: order[n.name])


def breakdown_figure(plan: Plan, hw: HwSpec | None = None, *, top: int = 30) -> Figure:
    """Per-node modeled cycles, stacked: compute, per-tile call overhead (needs `hw`), exposed DMA (not
    hidden behind compute). A tick marks each node's lower bound; a dot its DMA time hidden by overlap.
    The `top` most expensive nodes, in graph order."""
    nodes = _largest(_real_nodes(plan), top)
    fig, (ax,) = _figure(max(6.5, 0.3 * len(nodes) + 2.5), 4.6)
    names = [_short(n.name) for n in nodes]
    x = list(range(len(nodes)))
    overhead = [
        min(n.num_tiles * hw.engine(n.engine).call_overhead_cycles, n.cycles.compute) if hw else 0 for n in nodes
    ]
    work = [n.cycles.compute - o for n, o in zip(nodes, overhead, strict=True)]
    exposed = [n.cycles.total - n.cycles.compute for n in nodes]
    ax.bar(x, work, label="compute" if hw else "compute (call overheads included)", color="C0")
    if hw:
        ax.bar(x, overhead, bottom=work, label="call overhead (per tile)", color="C1")
    ax.bar(x, exposed, bottom=[w + o for w, o in zip(work, overhead, strict=True)], label="exposed DMA", color="C3")
    hidden = [n.cycles.dma - e for n, e in zip(nodes, exposed, strict=True)]
    ax.plot(x, hidden, linestyle="none", marker=".", color="k", label="DMA hidden by overlap")
    ax.plot(
        x,
        [n.lower_bound_cycles for n in nodes],
        linestyle="none",
        marker="_",
        markersize=14,
        color="k",
        label="lower bound",
    )
    ax.set_xticks(x, names, rotation=75, fontsize=7)
    ax.set_ylabel("modeled cycles")
    total = sum(n.cycles.total for n in _real_nodes(plan))
    shown = "" if len(nodes) == len(_real_nodes(plan)) else f" (largest {len(nodes)} nodes)"
    ax.set_title(
        f"{plan.model}: per-node cycles{shown}, total {total:,}, L1 budget {plan.budgets.get('L1', 0):,} B", fontsize=10
    )
    ax.legend(fontsize=7)
    return fig


def _draw_level(
    ax: Axes,
    rects: Sequence[tuple[float, float, float, float, str]],
    capacity: int | None,
    peak: int | None,
    level: str,
    labels: bool,
) -> None:
    from matplotlib.patches import Rectangle

    for k, (x0, w, y0, h, name) in enumerate(rects):
        ax.add_patch(Rectangle((x0, y0), w, h, facecolor=f"C{k % 10}", edgecolor="black", linewidth=0.3, alpha=0.85))
        if labels and h > 0:
            ax.text(x0 + w / 2, y0 + h / 2, name, ha="center", va="center", fontsize=5, clip_on=True)
    top = max([y0 + h for _, _, y0, h, _ in rects] + [peak or 0, 1])
    if capacity and capacity <= 2 * top:  # a budget far above the peak would squash the map: named only
        ax.axhline(capacity, color="crimson", linestyle="--", linewidth=1, label=f"budget {capacity:,} B")
        top = max(top, capacity)
    elif capacity:
        ax.plot([], [], color="crimson", linestyle="--", label=f"budget {capacity:,} B (off scale)")
    if peak:
        ax.axhline(peak, color="black", linestyle=":", linewidth=1, label=f"peak {peak:,} B")
    ax.set_ylim(0, top * 1.05)
    ax.set_ylabel(f"{level} address (bytes)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def memory_map_figure(plan: Plan, levels: Sequence[str] | None = None, *, labels: bool | None = None) -> Figure:
    """Memory map over time, one panel per level, on the plan's step axis (node i runs at t = i + 1).

    L1: each node's buffers at their offsets while it runs (double-buffered ones with both slots).
    L2 / L3: the whole-network static plan (`Plan.memory`), each tensor over its lifetime.
    """
    placed_levels = list(dict.fromkeys(b.level for b in plan.memory))
    wanted = list(levels) if levels is not None else ["L1", *placed_levels]
    fig, axes = _figure(9, 2.8 * len(wanted) + 0.6, rows=len(wanted))
    n_steps = len(plan.nodes) + 2
    for ax, level in zip(axes, wanted, strict=True):
        rects: list[tuple[float, float, float, float, str]] = []
        peak: int | None = None
        capacity = plan.budgets.get(level)
        if level == "L1":
            for i, n in enumerate(plan.nodes):
                rects += [(i + 1, 1, b.offset, b.bytes, f"{n.name}.{b.name}") for b in n.buffers if b.level == level]
            peak = max((n.l1_bytes for n in plan.nodes), default=0)
        else:
            rects = [
                (b.start, b.end - b.start, b.offset, b.size, b.tensor)
                for b in plan.memory
                if b.level == level and b.alias_of is None
            ]
            usage = next((lv for lv in plan.levels if lv.level == level), None)
            if usage:
                peak, capacity = usage.peak, usage.capacity
        _draw_level(ax, rects, capacity, peak, level, labels if labels is not None else len(rects) <= 24)
        ax.set_xlim(0, n_steps)
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
    """The standard set: latency (and tokens/s for decode steps) against L1, and for `plan` its per-node
    breakdown and memory map."""
    figs = {"latency": latency_figure(result)}
    if result.tokens_per_step:
        figs["tokens_per_s"] = latency_figure(result, metric="tokens_per_s")
    if plan is not None:
        figs["breakdown"] = breakdown_figure(plan, hw)
        figs["memory_map"] = memory_map_figure(plan)
    return figs
