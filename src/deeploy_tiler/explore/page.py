"""The self-contained HTML page of a sweep (pictures inlined as PNG data URIs)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..plan import Plan
from .figures import breakdown_figure, figure_data_uri, latency_figure, memory_map_figure
from .sweep import SweepResult
from .tables import MIN_FEASIBLE_HEADERS, POINT_HEADERS, min_feasible_rows, point_rows, visible_columns

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..hw.spec import HwSpec

__all__ = ["html_report"]


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], keep: Sequence[int] | None = None) -> str:
    if keep is not None:
        headers = [headers[i] for i in keep]
        rows = [[r[i] for i in keep] for r in rows]
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(fig: Figure, alt: str) -> str:
    return f'<figure><img alt="{html.escape(alt)}" src="{figure_data_uri(fig)}"></figure>'


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;font-size:12px;margin:0.5em 0}"
    "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#f3f3f3}"
    "img{max-width:100%;height:auto}figure{margin:1em 0}p.meta{color:#555;font-size:13px}"
)


def html_report(
    result: SweepResult, plan: Plan | None = None, hw: HwSpec | None = None, *, plan_note: str | None = None
) -> str:
    """One self-contained page: summary, smallest feasible budgets, the latency picture, every point,
    the Pareto front, and for `plan` its per-node breakdown and memory map; pictures are inlined PNGs."""
    esc = html.escape
    feasible = len(result.feasible_points)
    meta = (
        f"{len(result.points)} points ({feasible} feasible) on the {esc(result.executor)} executor with "
        f"{result.workers} worker(s), {result.seconds:.1f} s"
        + ("" if result.complete else " &mdash; <strong>incomplete: the sweep was stopped early</strong>")
        + (f"; {result.tokens_per_step} token(s) per run (decode step)" if result.tokens_per_step else "")
    )
    s = [
        f"<h1>{esc(result.model)} on {esc(result.hw)}</h1>",
        f"<p class='meta'>{meta}</p>",
        "<h2>Smallest feasible budgets (by search)</h2>",
        _table(MIN_FEASIBLE_HEADERS, min_feasible_rows(result.min_feasible))
        if result.min_feasible
        else "<p>not searched</p>",
        "<h2>Latency against the L1 budget</h2>",
        _img(latency_figure(result), "latency against the L1 budget"),
    ]
    if result.tokens_per_step:
        s.append(_img(latency_figure(result, metric="tokens_per_s"), "tokens per second against the L1 budget"))
    keep = visible_columns(result)
    s += [
        "<h2>Pareto front (L1, L2, latency)</h2>",
        _table(POINT_HEADERS, point_rows(result.pareto, result.pareto), keep),
        "<h2>Every point</h2>",
        _table(POINT_HEADERS, point_rows(result.points, result.pareto), keep),
    ]
    if plan is not None:
        s += [
            f"<h2>Plan at L1 {plan.budgets.get('L1', 0):,} B, L2 {plan.budgets.get('L2', 0):,} B</h2>",
            f"<p class='meta'>{esc(plan_note)}</p>" if plan_note else "",
            _img(breakdown_figure(plan, hw), "per-node cycle breakdown"),
            _img(memory_map_figure(plan), "memory map over time"),
        ]
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{esc(result.model)} on "
        f"{esc(result.hw)}: memory budgets</title><style>{_STYLE}</style></head><body>{''.join(s)}"
        "</body></html>\n"
    )
