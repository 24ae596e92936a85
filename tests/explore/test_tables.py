"""Sweep tables: CSV rows and display rows."""

from __future__ import annotations

from deeploy_tiler.explore import sweep as sw
from deeploy_tiler.explore import tables as rp


def test_csv_row_and_table_rows(result: sw.SweepResult) -> None:
    row = rp.csv_row(result.points[1])
    assert list(row) == list(rp.CSV_FIELDS) and row["l1"] == 1024 and row["status"] == "ok"
    assert rp.csv_row(result.points[0])["total_cycles"] == ""
    rows = rp.point_rows(result.points, result.pareto)
    assert all(len(r) == len(rp.POINT_HEADERS) for r in rows)
    assert "infeasible (L1 needs 300 B)" in rows[0]
    assert [r[0] for r in rows if r[rp.POINT_HEADERS.index("Pareto")] == "*"] == [str(p.index) for p in result.pareto]


def test_l3_columns_in_csv_and_tables(l2_sweep: sw.SweepResult, result: sw.SweepResult) -> None:
    assert {"l3_bytes", "l3_bytes_per_token", "l3_wait_cycles"} <= set(rp.CSV_FIELDS)
    by_l2 = {p.l2: p for p in l2_sweep.points}
    assert by_l2[3760].l3_bytes and by_l2[65536].l3_bytes == 0 and by_l2[3500].l3_bytes is None
    rows = rp.point_rows(l2_sweep.points)
    col = rp.POINT_HEADERS.index("L3 B/run")
    assert [r[col] for r in rows] == ["-", f"{by_l2[3760].l3_bytes:,}", f"{by_l2[8192].l3_bytes:,}", "0"]
    assert rp.csv_row(by_l2[3760])["l3_bytes"] == by_l2[3760].l3_bytes
    assert rp.csv_row(by_l2[3500])["l3_bytes"] == ""
    shown = [rp.POINT_HEADERS[i] for i in rp.visible_columns(l2_sweep)]
    assert "L3 B/run" in shown and "L3 wait cycles" in shown and "L3 B/token" not in shown  # not a decode step
    assert "L3 B/run" not in [rp.POINT_HEADERS[i] for i in rp.visible_columns(result)]  # nothing streams there
    (m,) = l2_sweep.min_feasible
    (row,) = rp.min_feasible_rows(l2_sweep.min_feasible)
    assert row[rp.MIN_FEASIBLE_HEADERS.index("L3 B/run at min")] == f"{m.l3_bytes:,}"
