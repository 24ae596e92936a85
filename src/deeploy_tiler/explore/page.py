"""Self-contained interactive HTML reports: one plan (`plan_report`), or a sweep with the plan it picked
(`sweep_report`), built from the same sections. One file: plotly.js, the styles, the chart specs and
the tables are inlined, so the page needs no network when it is viewed.

Sections of a plan: a summary a person reads in five seconds, per-node stacked cycles, the engine
choices with their alternatives, a memory map per level, and a sortable, filterable per-node table.
Built from the `Plan` alone (a saved plan JSON is enough); the spec adds call overheads and the clock,
the graph adds MACs and tokens per decode step.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from ..plan import Plan
from .charts import Spec, cycles_chart, engines_chart, memory_chart, ops_chart
from .curves import budget_chart, l2_chart
from .minimal import MinFeasible
from .plandata import NodeRow, PlanFacts, memory_levels, memory_rects, node_rows, plan_facts, short_name
from .points import decode_tokens_per_step
from .sweep import SweepResult
from .tables import MIN_FEASIBLE_HEADERS, POINT_HEADERS, min_feasible_rows, point_rows, visible_columns

if TYPE_CHECKING:
    from ..hw.spec import HwSpec
    from ..ir import Graph

__all__ = ["WhatIf", "html_report", "plan_report", "sweep_report"]

esc = html.escape


@dataclass(frozen=True)
class WhatIf:
    """The same network planned at other budgets: what more (or less) memory buys."""

    label: str  # e.g. "L1 x2 (128,000 B)"
    plan: Plan | None
    message: str = ""  # why there is no plan (infeasible, beyond the usable memory)


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("assets", name).read_text(encoding="utf-8")


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs  # the bundle shipped in the plotly wheel: no network

    return str(get_plotlyjs())


class _Page:
    """Collects sections and chart specs; renders one document."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.parts: list[str] = []
        self.charts = 0

    def add(self, *html_parts: str) -> None:
        self.parts.extend(html_parts)

    def chart(self, spec: Spec, name: str) -> None:
        self.charts += 1
        div = f"chart-{self.charts}-{name}"
        text = json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")
        self.add(
            f'<div class="dt-chart" id="{div}" data-chart="{esc(name)}"></div>'
            f'<script type="application/json" class="dt-spec" data-for="{div}">{text}</script>'
        )

    def render(self) -> str:
        return (
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{esc(self.title)}</title><style>{_asset('report.css')}</style>"
            f"<script>{_plotly_js()}</script><script>{_asset('report.js')}</script></head>"
            f"<body>{''.join(self.parts)}</body></html>\n"
        )


def _card(key: str, value: str, *, wide: bool = False) -> str:
    return (
        f"<div class='card{' wide' if wide else ''}'><div class='v'>{value}</div><div class='k'>{esc(key)}</div></div>"
    )


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def _min_text(m: MinFeasible) -> str:
    known = ", ".join(f"{lv} {v:,} B" if v is not None else f"{lv}: none fits" for lv, v in m.budgets.items())
    return known + (f" (streaming {m.l3_bytes:,} B per run from L3)" if m.l3_bytes else "")


def _summary(facts: PlanFacts, min_found: Sequence[MinFeasible], what_if: Sequence[WhatIf]) -> str:
    f = facts
    cards = [
        _card("modeled cycles", f"{f.total_cycles:,}"),
        _card("latency at the spec clock", f"{1e3 * f.latency_s:,.3f} ms" if f.latency_s is not None else "-"),
    ]
    if f.tokens_per_s is not None:
        cards.append(_card("tokens / s (decode step)", f"{f.tokens_per_s:,.1f}"))
    cards += [
        _card("above the lower bound", f"{100 * f.gap:.1f}%"),
        _card("nodes / tiles", f"{f.nodes:,} / {f.tiles:,}"),
        _card("DMA traffic", f"{f.dma_bytes:,} B"),
    ]
    if f.l3_copies:
        per_token = f", {f.l3_bytes_per_token:,.0f} B per token" if f.l3_bytes_per_token is not None else ""
        cards.append(
            _card(
                "L3 traffic (streamed)",
                f"{f.l3_bytes:,} B per run{per_token}<br>{f.l3_copies} copies, {f.l3_wait_cycles:,} cycles waited",
                wide=True,
            )
        )
    budgets = []
    for level, budget in f.budgets.items():
        used = f.l1_peak if level == "L1" else f.level_peaks.get(level, (None, 0))[0]
        budgets.append(
            f"{esc(level)}: {budget:,} B budget"
            + (f", {used:,} B used ({_pct(used, budget)})" if used is not None else "")
        )
    spent = f.work + f.overhead + f.exposed_dma + f.l3_wait_cycles
    where = (
        f"compute {_pct(f.work, spent)}, call overhead {_pct(f.overhead, spent)}, exposed DMA "
        f"{_pct(f.exposed_dma, spent)}"
        + (f", waiting for L3 {_pct(f.l3_wait_cycles, spent)}" if f.l3_wait_cycles else "")
        + "<br>largest: "
        + ", ".join(f"{esc(n)} {c:,} ({_pct(c, f.total_cycles)})" for n, c in f.top_nodes)
    )
    cards.append(_card("budgets and use (L1: the largest node)", "<br>".join(budgets), wide=True))
    cards.append(_card("where the cycles go", where, wide=True))
    cards.append(_card("engines (nodes)", ", ".join(f"{esc(e)} {k}" for e, k in sorted(f.engines.items())), wide=True))
    buy = [f"at most {f.total_cycles - f.lower_bound_cycles:,} cycles ({100 * f.gap:.1f}%): the gap to the lower bound"]
    for w in what_if:
        if w.plan is None:
            buy.append(f"{esc(w.label)}: {esc(w.message)}")
        else:
            saved = f.total_cycles - w.plan.total_cycles
            change = (
                "no change"
                if saved == 0
                else f"{'-' if saved > 0 else '+'}{abs(saved):,}, {_pct(abs(saved), f.total_cycles)}"
            )
            streams = f", {w.plan.l3_bytes:,} B from L3 per run" if f.l3_copies or w.plan.staging else ""
            buy.append(f"{esc(w.label)}: {w.plan.total_cycles:,} cycles ({change}){streams}")
    cards.append(_card("what more memory can buy", "<br>".join(buy), wide=True))
    for m in min_found:
        known = _min_text(m)
        cards.append(
            _card(
                f"smallest feasible budgets ({'double' if m.double_buffer else 'single'} buffering)", known, wide=True
            )
        )
    if f.macs:
        cards.append(_card("MACs", f"{f.macs:,}"))
    return f"<div class='cards'>{''.join(cards)}</div>"


_NODE_COLUMNS = (
    "#", "node", "block", "op", "engine", "tile", "tiles", "L1 B", "DMA B", "cycles", "compute", "overhead",
    "exposed DMA", "lower bound", "gap %", "MACs", "tiling solve", "DMA from", "why this engine",
)  # fmt: skip


_TEXT_COLUMNS = ("node", "block", "op", "engine", "tile", "tiling solve", "DMA from", "why this engine")


def _num(v: float | int | None, text: str | None = None) -> str:
    if v is None:
        return "<td data-v='-1'>-</td>"
    return f"<td data-v='{v}'>{text if text is not None else f'{v:,}'}</td>"


def _node_table(rows: Sequence[NodeRow], table_id: str) -> str:
    body = []
    for r in rows:
        tile = "x".join(map(str, r.tile_shape))
        alias = f" (view of {short_name(r.alias_of)})" if r.alias_of else ""
        body.append(
            f"<tr title='{esc(r.name)}'>"
            + _num(r.index)
            + f"<td class='t' title='{esc(r.name)}'>{esc(r.short)}{esc(alias)}</td><td class='t'>{esc(r.block)}</td>"
            + f"<td class='t'>{esc(r.op_type)}</td><td class='t'>{esc(r.engine)}</td><td class='t'>{esc(tile)}</td>"
            + _num(r.num_tiles)
            + _num(r.l1_bytes)
            + _num(r.dma_bytes)
            + _num(r.total)
            + _num(r.work + r.overhead)
            + _num(r.overhead)
            + _num(r.exposed_dma)
            + _num(r.lower_bound)
            + _num(round(100 * r.gap, 1), f"{100 * r.gap:.1f}")
            + _num(r.macs)
            + f"<td class='t'>{esc(r.solve)}</td><td class='t'>{esc(r.homes)}</td>"
            + f"<td class='why'>{esc(r.why or ('no choice' if len(r.alternatives) <= 1 else ''))}</td></tr>"
        )
    head = "".join(f"<th class='{'t' if c in _TEXT_COLUMNS else ''}'>{esc(c)}</th>" for c in _NODE_COLUMNS)
    return (
        f"<div class='filter'>filter: <input id='{table_id}-filter' type='search' placeholder='e.g. MatMul layers.3'> "
        f"<span id='{table_id}-count'>{len(rows)} rows</span> &mdash; click a header to sort</div>"
        f"<div class='scroll'><table class='sortable' id='{table_id}'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _plan_sections(
    page: _Page,
    plan: Plan,
    hw: HwSpec | None,
    graph: Graph | None,
    *,
    tokens_per_step: int | None,
    min_found: Sequence[MinFeasible],
    what_if: Sequence[WhatIf],
) -> None:
    rows = node_rows(plan, hw, graph)
    tps = tokens_per_step if tokens_per_step is not None else (decode_tokens_per_step(graph) if graph else None)
    facts = plan_facts(plan, rows, hw, tokens_per_step=tps)
    page.add(_summary(facts, min_found, what_if))
    page.add("<h2>Where the cycles go</h2>")
    page.chart(ops_chart(rows, title="by operator type"), "ops")
    page.chart(cycles_chart(rows, title=f"per-node modeled cycles, all {len(rows)} nodes"), "cycles")
    engines = engines_chart(rows, title="engine choice: every alternative's modeled cycles (ringed: chosen)")
    if engines is not None:
        page.add("<h2>Why this engine</h2>")
        page.chart(engines, "engines")
    page.add("<h2>What is in each memory at each step</h2>")
    steps = len(plan.nodes) + 2
    usage = {lv.level: lv for lv in plan.levels}
    for level in memory_levels(plan):
        rects = memory_rects(plan, level, graph)
        on_chip = level == "L1" or any(b.level == level for n in plan.nodes for b in n.buffers)
        peak = (
            max((n.l1_bytes for n in plan.nodes), default=0)
            if on_chip
            else usage[level].peak
            if level in usage
            else None
        )
        capacity = plan.budgets.get(level) if level not in usage else usage[level].capacity
        what = "the buffers of each node while it runs" if on_chip else "every tensor over its lifetime (static plan)"
        page.chart(
            memory_chart(rects, level=level, steps=steps, peak=peak, capacity=capacity, title=f"{level}: {what}"),
            f"memory-{level}",
        )
    page.add("<h2>Every node</h2>", _node_table(rows, "nodes"))


def plan_report(
    plan: Plan,
    hw: HwSpec | None = None,
    graph: Graph | None = None,
    *,
    tokens_per_step: int | None = None,
    min_found: Sequence[MinFeasible] = (),
    what_if: Sequence[WhatIf] = (),
    note: str | None = None,
) -> str:
    """The report of one plan, as one self-contained HTML document."""
    page = _Page(f"{plan.model} on {plan.hw}: plan report")
    budgets = ", ".join(f"{lv} {b:,} B" for lv, b in plan.budgets.items())
    page.add(
        f"<h1>{esc(plan.model)} on {esc(plan.hw)}</h1>",
        f"<p class='meta'>plan at {esc(budgets)}; options {esc(json.dumps(plan.options, sort_keys=True))}</p>",
    )
    if note:
        page.add(f"<p class='meta'>{esc(note)}</p>")
    _plan_sections(page, plan, hw, graph, tokens_per_step=tokens_per_step, min_found=min_found, what_if=what_if)
    return page.render()


def _static_table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], table_id: str, keep: Sequence[int] | None = None
) -> str:
    if keep is not None:
        headers = [headers[i] for i in keep]
        rows = [[r[i] for i in keep] for r in rows]

    def cell(c: Any) -> str:
        text = str(c)
        try:
            return f"<td data-v='{float(text.replace(',', ''))}'>{esc(text)}</td>"
        except ValueError:
            return f"<td class='t'>{esc(text)}</td>"

    head = "".join(f"<th>{esc(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(cell(c) for c in r) + "</tr>" for r in rows)
    return f"<table class='sortable' id='{table_id}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def sweep_report(
    result: SweepResult,
    plan: Plan | None = None,
    hw: HwSpec | None = None,
    graph: Graph | None = None,
    *,
    plan_note: str | None = None,
) -> str:
    """The report of a sweep: summary, budget curves, smallest feasible budgets, the Pareto front and
    every point, then (for `plan`, the point the caller picked) the plan sections."""
    page = _Page(f"{result.model} on {result.hw}: memory budgets")
    feasible = len(result.feasible_points)
    meta = (
        f"{len(result.points)} points ({feasible} feasible) on the {esc(result.executor)} executor with "
        f"{result.workers} worker(s), {result.seconds:.1f} s"
        + ("" if result.complete else " &mdash; <strong>incomplete: the sweep was stopped early</strong>")
        + (f"; {result.tokens_per_step} token(s) per run (decode step)" if result.tokens_per_step else "")
    )
    page.add(f"<h1>{esc(result.model)} on {esc(result.hw)}: memory budgets</h1>", f"<p class='meta'>{meta}</p>")
    best = min(result.feasible_points, key=lambda p: p.latency_s or 0.0, default=None)
    cards = []
    if best is not None:
        cards.append(_card("best modeled latency", f"{1e3 * (best.latency_s or 0):,.3f} ms"))
        if best.tokens_per_s is not None:
            cards.append(_card("best tokens / s", f"{best.tokens_per_s:,.1f}"))
        cards.append(_card("at the least memory (L1 / L2)", f"{best.l1:,} / {best.l2:,} B", wide=True))
    for m in result.min_feasible:
        known = _min_text(m)
        cards.append(
            _card(f"smallest feasible ({'double' if m.double_buffer else 'single'} buffering)", known, wide=True)
        )
    page.add(f"<div class='cards'>{''.join(cards)}</div>")
    page.add("<h2>What more L1 buys</h2>")
    page.chart(budget_chart(result), "budget-latency")
    if result.tokens_per_step:
        page.chart(budget_chart(result, metric="tokens_per_s"), "budget-tokens")
    if len({p.l2 for p in result.points}) > 1:  # the L2 axis: from all streamed to all resident
        page.add("<h2>What more L2 buys (less streamed from L3)</h2>")
        page.chart(l2_chart(result), "l2-latency")
        page.chart(l2_chart(result, metric="l3_bytes_per_token" if result.tokens_per_step else "l3_bytes"), "l2-l3")
    page.add("<h2>Smallest feasible budgets (by search)</h2>")
    page.add(
        _static_table(MIN_FEASIBLE_HEADERS, min_feasible_rows(result.min_feasible), "min-feasible")
        if result.min_feasible
        else "<p>not searched</p>"
    )
    keep = visible_columns(result)
    page.add(
        "<h2>Pareto front (L1, L2, latency)</h2>",
        _static_table(POINT_HEADERS, point_rows(result.pareto, result.pareto), "pareto", keep),
        "<h2>Every point</h2>",
        _static_table(POINT_HEADERS, point_rows(result.points, result.pareto), "points", keep),
    )
    if plan is not None:
        page.add(f"<h2>Plan at L1 {plan.budgets.get('L1', 0):,} B, L2 {plan.budgets.get('L2', 0):,} B</h2>")
        if plan_note:
            page.add(f"<p class='meta'>{esc(plan_note)}</p>")
        _plan_sections(
            page, plan, hw, graph, tokens_per_step=result.tokens_per_step, min_found=result.min_feasible, what_if=()
        )
    return page.render()


def html_report(
    result: SweepResult, plan: Plan | None = None, hw: HwSpec | None = None, *, plan_note: str | None = None
) -> str:
    """The sweep report (the name the CLI and older callers use)."""
    return sweep_report(result, plan, hw, plan_note=plan_note)
