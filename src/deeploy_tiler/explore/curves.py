"""The budget curves of a sweep as plotly specs: a metric against the L1 budget, one curve per
configuration, with the Pareto front, the infeasible budgets and the smallest feasible L1; and latency or
L3 traffic against the L2 budget (from "all streamed" at the smallest L2 to "all resident"), with the
smallest feasible L2. Both axes hold all of it."""

from __future__ import annotations

import math
from collections.abc import Callable

from .charts import PALETTE, Spec, _axis, _layout, _span
from .points import SweepPoint
from .sweep import SweepResult

__all__ = ["L2_METRICS", "budget_chart", "l2_chart"]


def _latency_ms(p: SweepPoint) -> float | None:
    return None if p.latency_s is None else 1e3 * p.latency_s


def _tokens_per_s(p: SweepPoint) -> float | None:
    return p.tokens_per_s


def _cycles(p: SweepPoint) -> float | None:
    return None if p.total_cycles is None else float(p.total_cycles)


def _l3_bytes(p: SweepPoint) -> float | None:
    return None if p.l3_bytes is None else float(p.l3_bytes)


def _l3_bytes_per_token(p: SweepPoint) -> float | None:
    return p.l3_bytes_per_token


_METRICS: dict[str, tuple[str, Callable[[SweepPoint], float | None]]] = {
    "latency_ms": ("modeled latency (ms)", _latency_ms),
    "tokens_per_s": ("tokens / s", _tokens_per_s),
    "cycles": ("modeled cycles", _cycles),
    "l3_bytes": ("L3 traffic per run (bytes)", _l3_bytes),
    "l3_bytes_per_token": ("L3 traffic per token (bytes)", _l3_bytes_per_token),
}
L2_METRICS = ("latency_ms", "l3_bytes", "l3_bytes_per_token")  # what `l2_chart` draws


def _l2_config(p: SweepPoint, vary_l1: bool) -> str:
    parts = [f"{'double' if p.double_buffer else 'single'} buffering"]
    if vary_l1:
        parts.append(f"L1 {p.l1:,} B")
    parts += [f"{k}={v}" for k, v in p.overrides.items()]
    return ", ".join(parts)


def l2_chart(result: SweepResult, *, metric: str = "latency_ms") -> Spec:
    """The metric against the L2 budget (log axis), one curve per (L1, double buffering, overrides): from
    the smallest L2, where the most streams from L3, to all resident (no L3 traffic). Infeasible budgets
    are crosses on the axis, the smallest feasible L2 per configuration a dashed line."""
    if metric not in L2_METRICS:
        raise ValueError(f"l2_chart draws one of {', '.join(L2_METRICS)}, not {metric!r}")
    label, value = _METRICS[metric]
    vary_l1 = len({p.l1 for p in result.points}) > 1
    groups: dict[str, list[SweepPoint]] = {}
    for p in result.points:
        groups.setdefault(_l2_config(p, vary_l1), []).append(p)
    ys = [v for p in result.points if p.feasible and (v := value(p)) is not None]
    y_rng = _span(0, max(ys, default=1.0) or 1.0)
    mins = [(v, m) for m in result.min_feasible if (v := m.budgets.get("L2"))]
    xs = [p.l2 for p in result.points if p.l2 > 0] + [v for v, _ in mins]
    x_lo, x_hi = min(xs, default=1), max(xs, default=2)
    data: list[Spec] = []
    for k, (name, pts) in enumerate(sorted(groups.items())):
        color = PALETTE[k % len(PALETTE)]
        good = sorted((p.l2, v, p) for p in pts if p.feasible and p.l2 > 0 and (v := value(p)) is not None)
        data.append(_feasible_line(name, good, color))
        bad = [(p.l2, p) for p in pts if not p.feasible and p.l2 > 0]
        if bad:
            data.append(_infeasible_markers(name, bad, color))
    for v, m in mins:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"min feasible L2 {v:,} B ({'double' if m.double_buffer else 'single'} buffering)",
                "x": [v, v],
                "y": y_rng,
                "line": {"color": "crimson", "dash": "dash", "width": 1},
                "hoverinfo": "name",
            }
        )
    pad = 0.06 * max(math.log10(x_hi) - math.log10(x_lo), 0.3)
    layout = _layout(
        f"{label} against the L2 budget (small L2: more streamed from L3)",
        430,
        xaxis=_axis("L2 budget (bytes, log scale)", [math.log10(x_lo) - pad, math.log10(x_hi) + pad]) | {"type": "log"},
        yaxis=_axis(label, y_rng),
        hovermode="closest",
    )
    return {"data": data, "layout": layout}


def _config(p: SweepPoint, vary_l2: bool) -> str:
    parts = [f"{'double' if p.double_buffer else 'single'} buffering"]
    if vary_l2:
        parts.append(f"L2 {p.l2:,} B")
    parts += [f"{k}={v}" for k, v in p.overrides.items()]
    return ", ".join(parts)


def budget_chart(result: SweepResult, *, metric: str = "latency_ms") -> Spec:
    """The metric against the L1 budget (log axis), one curve per configuration, the Pareto points
    ringed, infeasible budgets as crosses on the axis, the smallest feasible L1 per configuration as a
    dashed line; both axes hold all of it."""
    label, value = _METRICS[metric]
    vary_l2 = len({p.l2 for p in result.points}) > 1
    groups: dict[str, list[SweepPoint]] = {}
    for p in result.points:
        groups.setdefault(_config(p, vary_l2), []).append(p)
    ys = [v for p in result.points if p.feasible and (v := value(p)) is not None]
    y_hi = max(ys, default=1.0)
    y_rng = _span(0, y_hi)
    xs = [p.l1 for p in result.points] + [v for m in result.min_feasible if (v := m.budgets.get("L1"))]
    x_lo, x_hi = min(xs, default=1), max(xs, default=2)
    data: list[Spec] = []
    for k, (name, pts) in enumerate(sorted(groups.items())):
        color = PALETTE[k % len(PALETTE)]
        good = sorted((p.l1, v, p) for p in pts if p.feasible and (v := value(p)) is not None)
        data.append(_feasible_line(name, good, color))
        bad = [(p.l1, p) for p in pts if not p.feasible]
        if bad:
            data.append(_infeasible_markers(name, bad, color))
    front = [(p.l1, v, p) for p in result.pareto if (v := value(p)) is not None]
    if front:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "Pareto front",
                "x": [f[0] for f in front],
                "y": [f[1] for f in front],
                "text": [_point_text(f[2]) for f in front],
                "hovertemplate": "%{text}<extra></extra>",
                "marker": {"symbol": "circle-open", "size": 18, "color": "crimson", "line": {"width": 2}},
            }
        )
    for m in result.min_feasible:
        v = m.budgets.get("L1")
        if v:
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": f"min feasible L1 {v:,} B ({'double' if m.double_buffer else 'single'} buffering)",
                    "x": [v, v],
                    "y": y_rng,
                    "line": {"color": "crimson", "dash": "dash", "width": 1},
                    "hoverinfo": "name",
                }
            )
    pad = 0.06 * max(math.log10(x_hi) - math.log10(x_lo), 0.3)
    x_rng = [math.log10(x_lo) - pad, math.log10(x_hi) + pad]
    layout = _layout(
        f"{label} against the L1 budget",
        430,
        xaxis=_axis("L1 budget (bytes, log scale)", x_rng) | {"type": "log"},
        yaxis=_axis(label, y_rng),
        hovermode="closest",
    )
    return {"data": data, "layout": layout}


def _feasible_line(name: str, good: list[tuple[int, float, SweepPoint]], color: str) -> Spec:
    """One group's feasible points (budget, value, point) as a line with hover text."""
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "name": name,
        "x": [g[0] for g in good],
        "y": [g[1] for g in good],
        "text": [_point_text(g[2]) for g in good],
        "hovertemplate": "%{text}<extra></extra>",
        "line": {"color": color},
        "marker": {"size": 8},
    }


def _infeasible_markers(name: str, bad: list[tuple[int, SweepPoint]], color: str) -> Spec:
    """One group's infeasible points (budget, point) as crosses on the axis, in budget order."""
    bad = sorted(bad, key=lambda b: b[0])  # stable: points at one budget keep their sweep order
    return {
        "type": "scatter",
        "mode": "markers",
        "name": f"infeasible ({name})",
        "x": [b for b, _ in bad],
        "y": [0] * len(bad),
        "text": [_point_text(p) for _, p in bad],
        "hovertemplate": "%{text}<extra></extra>",
        "marker": {"symbol": "x", "size": 10, "color": color},
    }


def _point_text(p: SweepPoint) -> str:
    head = (
        f"<b>point #{p.index}</b>: L1 {p.l1:,} B, L2 {p.l2:,} B, {'double' if p.double_buffer else 'single'} buffering"
    )
    if not p.feasible:
        need = f" ({p.infeasible_level} needs {p.required_bytes:,} B)" if p.required_bytes is not None else ""
        return f"{head}<br>{p.status}{need}"
    lat = f"{1e3 * p.latency_s:,.3f} ms" if p.latency_s is not None else "-"
    tps = f", {p.tokens_per_s:,.1f} tokens/s" if p.tokens_per_s is not None else ""
    return (
        f"{head}<br>{p.total_cycles or 0:,} cycles, {lat}{tps}<br>{p.tiles or 0:,} tiles, {p.dma_bytes or 0:,} B DMA, "
        f"L1 used {p.l1_used or 0:,} B, L2 used {p.l2_used or 0:,} B"
        + (f"<br>L3 {p.l3_bytes:,} B per run, {p.l3_wait_cycles or 0:,} cycles waiting" if p.l3_bytes else "")
    )
