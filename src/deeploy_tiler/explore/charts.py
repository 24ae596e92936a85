"""Interactive charts of plans and sweeps as plotly figure specs (plain JSON-able dicts: `data` and
`layout`), drawn in the page by plotly.js. Every axis gets an explicit range that holds all its data
(with a margin), so nothing is clipped and the browser test can check it.

Charts of a plan: cycles per operator type, per-node stacked cycles (every node, blocks shaded), engine
alternatives per node, a memory map per level (time x address rectangles with a tooltip each). The budget
curves of a sweep are in `curves`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .plandata import MemRect, NodeRow

__all__ = ["cycles_chart", "engines_chart", "memory_chart", "ops_chart"]

Spec = dict[str, Any]

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")
ROLE_COLORS = {
    "input": "#4c78a8",
    "weight": "#f58518",
    "output": "#54a24b",
    "scratch": "#b279a2",
    "descriptors": "#9d9d9d",
    "activation": "#4c78a8",
    "network input": "#72b7b2",
}
BLOCK_COLORS = (
    "#f58518",
    "#e45756",
    "#eeca3b",
    "#ff9da6",
    "#9d755d",
    "#f2b880",
    "#b279a2",
    "#d6616b",
    "#bcbd22",
    "#e7ba52",
)
_FONT = {"family": "system-ui, sans-serif", "size": 12}


def _layout(title: str, height: int, **extra: Any) -> Spec:
    return {
        "title": {"text": title, "x": 0.01, "font": {"size": 15}},
        "height": height,
        "margin": {"l": 80, "r": 20, "t": 60, "b": 60},
        "font": _FONT,
        "legend": {"x": 1.01, "y": 1, "xanchor": "left", "font": {"size": 11}},
        "hoverlabel": {"align": "left", "font": {"size": 12}},
        "plot_bgcolor": "white",
        **extra,
    }


def _span(lo: float, hi: float, pad: float = 0.05, *, floor: float | None = None) -> list[float]:
    """[lo, hi] widened by `pad` of its width on each side (never below `floor`)."""
    width = hi - lo or abs(hi) or 1.0
    a, b = lo - pad * width, hi + pad * width
    return [a if floor is None else max(floor, a), b]


def _axis(title: str, rng: Sequence[float], **extra: Any) -> Spec:
    return {
        "title": {"text": title},
        "range": list(rng),
        "autorange": False,
        "showgrid": True,
        "gridcolor": "#eee",
        "zeroline": False,
        "linecolor": "#999",
        "showline": True,
        **extra,
    }


def _node_axis(rows: Sequence[NodeRow]) -> list[str]:
    return [f"#{r.index} {r.short}" for r in rows]


def _block_bands(rows: Sequence[NodeRow]) -> tuple[list[Spec], list[Spec]]:
    """Shaded bands and labels of the blocks (layers) along a node axis."""
    shapes: list[Spec] = []
    notes: list[Spec] = []
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i].block != rows[start].block:
            k = len(shapes)
            shapes.append(
                {
                    "type": "rect",
                    "xref": "x",
                    "yref": "paper",
                    "x0": start - 0.5,
                    "x1": i - 0.5,
                    "y0": 0,
                    "y1": 1,
                    "fillcolor": "#f4f4f4" if k % 2 == 0 else "#ffffff",
                    "line": {"width": 0},
                    "layer": "below",
                }
            )
            notes.append(
                {
                    "x": (start + i - 1) / 2,
                    "y": 1.0,
                    "xref": "x",
                    "yref": "paper",
                    "yanchor": "bottom",
                    "text": rows[start].block,
                    "showarrow": False,
                    "font": {"size": 10, "color": "#555"},
                }
            )
            start = i
    return (shapes, notes) if len(shapes) > 1 else ([], [])


def cycles_chart(rows: Sequence[NodeRow], *, title: str) -> Spec:
    """Per-node modeled cycles of every node, stacked (compute, call overhead, exposed DMA), with the
    lower bound and the DMA hidden behind compute as markers; blocks shaded; full names on hover."""
    x = _node_axis(rows)
    info = [
        [r.name, r.op_type, r.engine, r.block, r.total, r.lower_bound, round(100 * r.gap, 1), r.num_tiles] for r in rows
    ]
    hover = (
        "<b>%{customdata[0]}</b><br>%{customdata[1]} on %{customdata[2]}, block %{customdata[3]}, "
        "%{customdata[7]} tile(s)<br>%{fullData.name}: %{y:,} cycles<br>total %{customdata[4]:,}, "
        "lower bound %{customdata[5]:,} (gap %{customdata[6]}%)<extra></extra>"
    )
    bar = {"type": "bar", "x": x, "customdata": info, "hovertemplate": hover}
    data: list[Spec] = [
        {**bar, "name": "compute", "y": [r.work for r in rows], "marker": {"color": "#4c78a8"}},
        {**bar, "name": "call overhead (per tile)", "y": [r.overhead for r in rows], "marker": {"color": "#f58518"}},
        {**bar, "name": "exposed DMA", "y": [r.exposed_dma for r in rows], "marker": {"color": "#e45756"}},
        {
            "type": "scatter",
            "mode": "markers",
            "name": "lower bound",
            "x": x,
            "y": [r.lower_bound for r in rows],
            "marker": {"symbol": "line-ew-open", "size": 10, "color": "black", "line": {"width": 2}},
            "customdata": info,
            "hovertemplate": hover,
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": "DMA hidden by overlap",
            "x": x,
            "y": [r.hidden_dma for r in rows],
            "marker": {"symbol": "circle", "size": 4, "color": "#333"},
            "customdata": info,
            "hovertemplate": hover,
            "visible": "legendonly",
        },
    ]
    top = max([r.total for r in rows] + [r.lower_bound for r in rows] + [r.hidden_dma for r in rows] + [1])
    shapes, notes = _block_bands(rows)
    layout = _layout(
        title,
        460,
        barmode="stack",
        bargap=0.15,
        shapes=shapes,
        annotations=notes,
        xaxis=_axis("node (graph order; zoom with a drag, double-click to reset)", [-0.5, len(rows) - 0.5])
        | {"type": "category", "tickangle": -60, "tickfont": {"size": 9}, "automargin": True, "nticks": 45},
        yaxis=_axis("modeled cycles", _span(0, top, floor=0)),
        hovermode="closest",
    )
    return {"data": data, "layout": layout}


def engines_chart(rows: Sequence[NodeRow], *, title: str) -> Spec | None:
    """For each node that had a choice: the modeled cycles of every alternative, the chosen one ringed,
    the impossible ones as crosses on the axis with the reason on hover. None when no node had a choice."""
    chosen_rows = [r for r in rows if len(r.alternatives) > 1]
    if not chosen_rows:
        return None
    x = _node_axis(chosen_rows)
    by_engine: dict[str, tuple[list[str], list[int], list[str]]] = {}
    illegal: tuple[list[str], list[int], list[str]] = ([], [], [])
    ring: tuple[list[str], list[int], list[str]] = ([], [], [])
    top = 1
    for label, r in zip(x, chosen_rows, strict=True):
        for a in r.alternatives:
            text = f"<b>{r.name}</b><br>{a.engine}: {a.reason}"
            if a.cycles is None:
                illegal[0].append(label)
                illegal[1].append(0)
                illegal[2].append(text)
                continue
            top = max(top, a.cycles)
            xs, ys, ts = by_engine.setdefault(a.engine, ([], [], []))
            xs.append(label)
            ys.append(a.cycles)
            ts.append(f"{text}<br>{a.cycles:,} cycles")
            if a.reason.startswith("chosen"):
                ring[0].append(label)
                ring[1].append(a.cycles)
                ring[2].append(f"{text}<br>{a.cycles:,} cycles")
    data: list[Spec] = []
    for k, (engine, (xs, ys, ts)) in enumerate(sorted(by_engine.items())):
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": engine,
                "x": xs,
                "y": ys,
                "text": ts,
                "hovertemplate": "%{text}<extra></extra>",
                "marker": {"size": 8, "color": PALETTE[k % len(PALETTE)]},
            }
        )
    data.append(
        {
            "type": "scatter",
            "mode": "markers",
            "name": "chosen",
            "x": ring[0],
            "y": ring[1],
            "text": ring[2],
            "hovertemplate": "%{text}<extra></extra>",
            "marker": {"size": 16, "symbol": "circle-open", "color": "black", "line": {"width": 2}},
        }
    )
    if illegal[0]:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "not possible (hover: why)",
                "x": illegal[0],
                "y": illegal[1],
                "text": illegal[2],
                "hovertemplate": "%{text}<extra></extra>",
                "marker": {"size": 9, "symbol": "x", "color": "#999"},
            }
        )
    layout = _layout(
        title,
        420,
        xaxis=_axis("node", [-0.5, len(chosen_rows) - 0.5])
        | {
            "type": "category",
            "categoryorder": "array",
            "categoryarray": x,
            "tickangle": -60,
            "tickfont": {"size": 9},
            "automargin": True,
        },
        yaxis=_axis("modeled cycles on that engine", _span(0, top)),
        hovermode="closest",
    )
    return {"data": data, "layout": layout}


def memory_chart(
    rects: Sequence[MemRect], *, level: str, steps: int, peak: int | None, capacity: int | None, title: str
) -> Spec:
    """A memory map: time (node steps) x address, one bar per rectangle (from `base` = its offset),
    colored by kind (weights by block); the peak and, when on scale, the budget as lines."""
    groups: dict[str, list[MemRect]] = {}
    for r in rects:
        groups.setdefault(r.group, []).append(r)
    data: list[Spec] = []
    weight_k = 0
    for key, members in sorted(groups.items()):
        if members[0].kind == "weights":
            color = BLOCK_COLORS[weight_k % len(BLOCK_COLORS)]
            weight_k += 1
        else:
            color = ROLE_COLORS.get(key, "#888")
        total = sum(m.size for m in members)
        data.append(
            {
                "type": "bar",
                "name": f"{key} ({len(members)}, {total:,} B)",
                "x": [(m.x0 + m.x1) / 2 for m in members],
                "width": [m.x1 - m.x0 for m in members],
                "base": [m.offset for m in members],
                "y": [m.size for m in members],
                "hovertext": [m.hover for m in members],
                "text": [f"{m.label} {m.size:,} B" for m in members],
                "textposition": "inside",
                "insidetextanchor": "middle",
                "textfont": {"size": 10, "color": "black"},
                "hovertemplate": "%{hovertext}<extra></extra>",
                "marker": {"color": color, "line": {"width": 0.5, "color": "rgba(0,0,0,0.35)"}},
                "opacity": 0.9,
            }
        )
    top = max([r.offset + r.size for r in rects] + [peak or 0, 1])
    lines: list[tuple[str, int, str]] = []
    if peak:
        lines.append((f"peak {peak:,} B", peak, "black"))
    if capacity and capacity <= 2 * top:  # a budget far above the peak would squash the map: named only
        lines.append((f"budget {capacity:,} B", capacity, "crimson"))
        top = max(top, capacity)
    for name, y, color in lines:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": name,
                "x": [0, steps],
                "y": [y, y],
                "line": {"color": color, "dash": "dot" if color == "black" else "dash", "width": 1.5},
                "hoverinfo": "name",
            }
        )
    note = "" if not capacity or capacity <= 2 * top else f" (budget {capacity:,} B, off scale)"
    layout = _layout(
        title + note,
        440,
        barmode="overlay",
        bargap=0,
        uniformtext={"mode": "hide", "minsize": 9},  # a name shows where its rectangle is big enough: zoom in
        xaxis=_axis("time (node step; node i runs at step i + 1)", [0, steps]),
        yaxis=_axis(f"{level} address (bytes)", _span(0, top, 0.04, floor=0)),
        hovermode="closest",
    )
    moving = [r for r in rects if r.kind != "weights"]
    if moving and len(moving) < len(rects):  # resident weights dwarf the short-lived tensors: a view of those
        lo = min(r.offset for r in moving)
        hi = max(r.offset + r.size for r in moving)
        shown = [not t.get("name", "").startswith("weights") for t in data]
        layout["updatemenus"] = [
            {
                "type": "buttons",
                "direction": "right",
                "x": 1.0,
                "xanchor": "right",
                "y": 1.12,
                "yanchor": "bottom",
                "showactive": True,
                "buttons": [
                    {
                        "label": "everything",
                        "method": "update",
                        "args": [{"visible": [True] * len(data)}, {"yaxis.range": layout["yaxis"]["range"]}],
                    },
                    {
                        "label": "activations only (zoomed)",
                        "method": "update",
                        "args": [{"visible": shown}, {"yaxis.range": _span(lo, hi, 0.04, floor=0)}],
                    },
                ],
            }
        ]
    return {"data": data, "layout": layout}


def ops_chart(rows: Sequence[NodeRow], *, title: str) -> Spec:
    """Cycles per operator type, stacked like the per-node chart, largest first."""
    by_op: dict[str, list[int]] = {}
    for r in rows:
        if r.alias_of is None:
            acc = by_op.setdefault(r.op_type, [0, 0, 0, 0])
            acc[0] += r.work
            acc[1] += r.overhead
            acc[2] += r.exposed_dma
            acc[3] += 1
    ops = sorted(by_op, key=lambda op: -sum(by_op[op][:3]))
    total = sum(sum(v[:3]) for v in by_op.values()) or 1
    labels = [f"{op} ({by_op[op][3]})" for op in ops]
    share = [[round(100 * sum(by_op[op][:3]) / total, 1), by_op[op][3]] for op in ops]
    hover = "<b>%{x}</b>: %{fullData.name} %{y:,} cycles<br>%{customdata[0]}% of all cycles<extra></extra>"
    data = [
        {"type": "bar", "name": name, "x": labels, "y": [by_op[op][k] for op in ops], "marker": {"color": color},
         "customdata": share, "hovertemplate": hover}
        for k, (name, color) in enumerate(
            (("compute", "#4c78a8"), ("call overhead (per tile)", "#f58518"), ("exposed DMA", "#e45756"))
        )
    ]  # fmt: skip
    top = max([sum(v[:3]) for v in by_op.values()] + [1])
    layout = _layout(
        title,
        360,
        barmode="stack",
        xaxis=_axis("operator (nodes)", [-0.5, len(ops) - 0.5]) | {"type": "category", "automargin": True},
        yaxis=_axis("modeled cycles, all nodes of the type", _span(0, top, floor=0)),
        hovermode="closest",
    )
    return {"data": data, "layout": layout}
