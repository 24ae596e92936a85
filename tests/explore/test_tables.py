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
