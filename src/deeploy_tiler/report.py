"""Pictures and a self-contained HTML page for sweeps and plans (matplotlib, Agg backend)."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.figure import Figure  # noqa: E402

from .plan import Plan  # noqa: E402
from .sweep import SweepResult  # noqa: E402


def latency_figure(result: SweepResult) -> Figure:
    """Modeled cycles against the L1 budget, one curve per (L2, double buffering), Pareto points marked."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    groups: dict[tuple[Any, ...], list[tuple[int, int]]] = {}
    for p in result.points:
        if p.feasible and p.total_cycles is not None:
            key = (p.l2, p.double_buffer, tuple(sorted(p.overrides.items())))
            groups.setdefault(key, []).append((p.l1, p.total_cycles))
    for (l2, db, ov), pts in sorted(groups.items(), key=lambda kv: str(kv[0])):
        pts.sort()
        label = f"{'double' if db else 'single'} buffer" + (f", L2 {l2}" if l2 else "") + (f", {dict(ov)}" if ov else "")
        ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", label=label)
    front = [(p.l1, p.total_cycles) for p in result.pareto if p.total_cycles is not None]
    if front:
        ax.scatter([x for x, _ in front], [y for _, y in front], s=120, facecolors="none", edgecolors="crimson",
                   linewidths=2, label="Pareto front", zorder=3)
    infeasible = [p.l1 for p in result.points if not p.feasible]
    for x in sorted(set(infeasible)):
        ax.axvline(x, color="grey", alpha=0.3, linestyle=":")
    if result.min_feasible.get("L1"):
        ax.axvline(result.min_feasible["L1"], color="crimson", linestyle="--", alpha=0.6,
                   label=f"min feasible L1 {result.min_feasible['L1']} B")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("L1 budget (bytes)")
    ax.set_ylabel("modeled cycles")
    ax.set_title(f"{result.model} on {result.hw}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def breakdown_figure(plan: Plan, *, top: int = 30) -> Figure:
    """Per-node cycles, stacked: compute, exposed DMA, and the rest (overlap bookkeeping, prologue)."""
    nodes = sorted((n for n in plan.nodes if n.alias_of is None), key=lambda n: -n.cycles.total)[:top]
    nodes = sorted(nodes, key=lambda n: [m.name for m in plan.nodes].index(n.name))
    fig, ax = plt.subplots(figsize=(max(6, 0.32 * len(nodes) + 2), 4.2))
    names = [n.name for n in nodes]
    compute = [min(n.cycles.compute, n.cycles.total) for n in nodes]
    exposed = [min(n.cycles.exposed_dma, n.cycles.total - c) for n, c in zip(nodes, compute, strict=True)]
    rest = [n.cycles.total - c - e for n, c, e in zip(nodes, compute, exposed, strict=True)]
    ax.bar(names, compute, label="compute")
    ax.bar(names, exposed, bottom=compute, label="exposed DMA")
    ax.bar(names, rest, bottom=[c + e for c, e in zip(compute, exposed, strict=True)], label="other")
    ax.plot(names, [n.lower_bound_cycles for n in nodes], "k_", markersize=12, label="lower bound")
    ax.set_ylabel("modeled cycles")
    ax.set_title(f"{plan.model}: per-node cycles (largest {len(nodes)})")
    ax.tick_params(axis="x", rotation=75, labelsize=7)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def memory_map_figure(plan: Plan, level: str = "L2") -> Figure:
    """Static memory map of one level: node steps on x, address on y, one rectangle per buffer."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    cmap = plt.get_cmap("tab20")
    roots = [b for b in plan.memory if b.level == level and b.alias_of is None]
    for i, b in enumerate(roots):
        ax.add_patch(matplotlib.patches.Rectangle((b.start, b.offset), b.end - b.start, b.size,
                                                  facecolor=cmap(i % 20), edgecolor="black", linewidth=0.3))
    usage = next((lv for lv in plan.levels if lv.level == level), None)
    if usage:
        ax.axhline(usage.capacity, color="crimson", linestyle="--", label=f"budget {usage.capacity} B")
        ax.axhline(usage.peak, color="black", linestyle=":", label=f"peak {usage.peak} B")
        ax.legend(fontsize=8, loc="upper right")
    ax.set_xlim(0, max((b.end for b in roots), default=1))
    ax.set_ylim(0, max([b.offset + b.size for b in roots] + [usage.peak if usage else 1]) * 1.05)
    ax.set_xlabel("time (node step)")
    ax.set_ylabel("address (bytes)")
    ax.set_title(f"{plan.model}: {level} memory map")
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    p = Path(path)
    fig.savefig(p, format=p.suffix.lstrip(".") or "png", dpi=110, metadata={"Date": None} if p.suffix == ".svg"
                else None)
    plt.close(fig)
    return p


def _png_data_uri(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_report(result: SweepResult, plan: Plan | None = None) -> str:
    """One self-contained page: sweep table, Pareto front, pictures inlined as data URIs."""
    sections = [f"<h1>deeploy_tiler: {html.escape(result.model)} on {html.escape(result.hw)}</h1>",
                f"<p>Smallest feasible budgets (found by search): {html.escape(str(result.min_feasible))}</p>",
                f'<img alt="latency vs budget" src="{_png_data_uri(latency_figure(result))}">']
    headers = ["L1", "L2", "double buffer", "feasible", "cycles", "lower bound", "tiles", "DMA bytes", "tokens/s"]
    rows = [[p.l1, p.l2 or "default", p.double_buffer, p.feasible, p.total_cycles or "-", p.lower_bound_cycles or "-",
             p.tiles or "-", p.dma_bytes or "-", f"{p.tokens_per_s:.1f}" if p.tokens_per_s else "-"]
            for p in result.points]
    sections += ["<h2>Sweep points</h2>", _table(headers, rows), "<h2>Pareto front</h2>",
                 _table(headers, [r for r, p in zip(rows, result.points, strict=True) if p in result.pareto])]
    if plan is not None:
        sections += ["<h2>Per-node breakdown</h2>",
                     f'<img alt="per-node breakdown" src="{_png_data_uri(breakdown_figure(plan))}">']
        if plan.memory:
            sections += ["<h2>L2 memory map</h2>",
                         f'<img alt="memory map" src="{_png_data_uri(memory_map_figure(plan))}">']
    style = ("body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;font-size:12px}"
             "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}img{max-width:100%}")
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(result.model)}</title>" \
           f"<style>{style}</style></head><body>{''.join(sections)}</body></html>\n"
