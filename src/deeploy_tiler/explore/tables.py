"""Sweep tables as display strings, shared by the CLI, the CSV file and the HTML pages."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .minimal import MinFeasible
from .points import SweepPoint
from .sweep import SweepResult

__all__ = [
    "CSV_FIELDS",
    "MIN_FEASIBLE_HEADERS",
    "POINT_HEADERS",
    "csv_row",
    "min_feasible_rows",
    "point_rows",
    "visible_columns",
]

CSV_FIELDS: tuple[str, ...] = tuple(SweepPoint.model_fields)

POINT_HEADERS: tuple[str, ...] = (
    "#",
    "L1 B",
    "L2 B",
    "double buffer",
    "overrides",
    "status",
    "cycles",
    "latency us",
    "tokens/s",
    "tiles",
    "DMA B",
    "L1 used B",
    "L2 used B",
    "L3 B/run",
    "L3 B/token",
    "L3 wait cycles",
    "Pareto",
    "s",
)


def csv_row(point: SweepPoint) -> dict[str, Any]:
    """One CSV row: every field of the point, the overrides as JSON, missing values empty."""
    row = point.model_dump(mode="json")
    row["overrides"] = json.dumps(row["overrides"], sort_keys=True) if row["overrides"] else ""
    return {k: "" if row[k] is None else row[k] for k in CSV_FIELDS}


def _n(v: int | None) -> str:
    return "-" if v is None else f"{v:,}"


def _ov(overrides: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in overrides.items()) or "-"


def point_rows(points: Sequence[SweepPoint], pareto: Sequence[SweepPoint] = ()) -> list[list[str]]:
    """Display rows (strings) in `POINT_HEADERS` order."""
    front = {p.index for p in pareto}
    rows = []
    for p in points:
        status = (
            p.status
            if p.feasible or p.required_bytes is None
            else f"{p.status} ({p.infeasible_level} needs {p.required_bytes:,} B)"
        )
        if not p.within_capacity:
            status += ", beyond the usable memory"
        rows.append(
            [
                str(p.index),
                f"{p.l1:,}",
                f"{p.l2:,}",
                "on" if p.double_buffer else "off",
                _ov(p.overrides),
                status,
                _n(p.total_cycles),
                "-" if p.latency_s is None else f"{1e6 * p.latency_s:,.1f}",
                "-" if p.tokens_per_s is None else f"{p.tokens_per_s:,.1f}",
                _n(p.tiles),
                _n(p.dma_bytes),
                _n(p.l1_used),
                _n(p.l2_used),
                _n(p.l3_bytes),
                "-" if p.l3_bytes_per_token is None else f"{p.l3_bytes_per_token:,.0f}",
                _n(p.l3_wait_cycles),
                "*" if p.index in front else "",
                f"{p.seconds:.2f}",
            ]
        )
    return rows


def visible_columns(result: SweepResult) -> list[int]:
    """Indices of `POINT_HEADERS` worth showing for this result: columns that never vary are left out (the L3
    columns when no point streams from L3)."""
    grid = result.grid
    streams = any(p.l3_bytes for p in result.points)
    varied = {
        "L3 B/run": streams,
        "L3 B/token": streams and result.tokens_per_step is not None,
        "L3 wait cycles": streams,
        "L2 B": len(grid.get("l2", [])) > 1,
        "double buffer": len(grid.get("double_buffer", [])) > 1,
        "overrides": any(grid.get("overrides", [])),
        "tokens/s": result.tokens_per_step is not None,
    }
    return [i for i, h in enumerate(POINT_HEADERS) if varied.get(h, True)]


MIN_FEASIBLE_HEADERS: tuple[str, ...] = (
    "double buffer",
    "overrides",
    "min L1 B",
    "min L2 B",
    "L3 B/run at min",
    "verified",
    "= lower bound",
    "probes",
    "notes",
)


def min_feasible_rows(found: Sequence[MinFeasible]) -> list[list[str]]:
    rows = []
    for m in found:

        def cell(level: str, m: MinFeasible = m) -> str:
            v = m.budgets.get(level)
            return f"none within {m.capacity.get(level, 0):,}" if v is None else f"{v:,}"

        verified = ", ".join(f"{lv} {'yes' if ok else 'NO'}" for lv, ok in m.verified.items())
        exact = ", ".join(
            f"{lv} {'yes' if m.budgets.get(lv) == b else 'no'}"
            for lv, b in m.lower_bounds.items()
            if m.budgets.get(lv) is not None
        )
        rows.append(
            [
                "on" if m.double_buffer else "off",
                _ov(m.overrides),
                cell("L1"),
                cell("L2"),
                _n(m.l3_bytes),
                verified,
                exact or "-",
                str(m.probes),
                "; ".join(f"{k}: {v}" for k, v in m.notes.items()),
            ]
        )
    return rows
