"""`tile-report sweep`: plan a model over a grid of memory budgets and report what each budget buys.

Points are written as they finish (a CSV
row each, a JSON-lines sidecar beside `--json`), so a failure or Ctrl-C keeps everything computed; the
CSV is rewritten in grid order and the JSON completed (`"complete": false` if stopped) at the end.
Exit codes follow cli.py; Ctrl-C exits 130 after saving.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from .. import api
from ..errors import DeeployTilerError
from ..explore.sweep import (
    EXECUTORS,
    Executor,
    MinFeasible,
    SweepPoint,
    SweepResult,
    decode_tokens_per_step,
    parse_grid,
    parse_overrides,
    sweep,
    sweep_result,
)
from ..units import format_bytes
from .common import (
    EXIT_BAD_INPUT,
    EXIT_INFEASIBLE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    HwOpt,
    ModelArg,
    console,
    err_console,
    fail,
)

if TYPE_CHECKING:
    from ..hw.spec import HwSpec
    from ..ir import Graph
    from ..plan import Plan

__all__ = ["EXIT_INTERRUPTED", "sweep_command"]


def _grid(text: str, option: str) -> list[int]:

    try:
        return parse_grid(text)
    except ValueError as e:
        fail(f"{option}: {e}", EXIT_BAD_INPUT)


def _double_buffer(text: str) -> list[bool]:

    choices = {
        "on": [True],
        "off": [False],
        "both": [True, False],
        "true": [True],
        "false": [False],
        "yes": [True],
        "no": [False],
    }
    if text.lower() not in choices:
        fail(f"--double-buffer: {text!r} is not one of on, off, both", EXIT_BAD_INPUT)
    return choices[text.lower()]


def _default_l1(spec: HwSpec) -> str:
    usable = spec.memory("L1").usable_bytes
    return f"{min(16 * 1024, usable)}..{usable}"


class _Sink:
    """Writes points as they arrive: a CSV row each (flushed), a JSON line each beside the JSON file."""

    def __init__(self, csv_path: Path | None, json_path: Path | None) -> None:
        from ..explore.tables import CSV_FIELDS

        self.csv_path, self.json_path = csv_path, json_path
        self.sidecar = json_path.with_name(json_path.name + ".points.jsonl") if json_path else None
        self._csv_file: IO[str] | None = None
        self._jsonl: IO[str] | None = None
        self._writer: csv.DictWriter[str] | None = None
        if csv_path:
            csv_path.parent.mkdir(parents=True, exist_ok=True)
            self._csv_file = csv_path.open("w", newline="")
            self._writer = csv.DictWriter(self._csv_file, fieldnames=list(CSV_FIELDS))
            self._writer.writeheader()
            self._csv_file.flush()
        if self.sidecar:
            self.sidecar.parent.mkdir(parents=True, exist_ok=True)
            self._jsonl = self.sidecar.open("w")
        self.points: list[SweepPoint] = []
        self.searches: list[MinFeasible] = []

    def point(self, p: SweepPoint) -> None:
        from ..explore.tables import csv_row

        self.points.append(p)
        if self._writer and self._csv_file:
            self._writer.writerow(csv_row(p))
            self._csv_file.flush()
        if self._jsonl:
            self._jsonl.write(json.dumps({"kind": "point", **p.model_dump(mode="json")}) + "\n")
            self._jsonl.flush()

    def search(self, m: MinFeasible) -> None:
        self.searches.append(m)
        if self._jsonl:
            self._jsonl.write(json.dumps({"kind": "min_feasible", **m.model_dump(mode="json")}) + "\n")
            self._jsonl.flush()

    def finish(self, result: SweepResult) -> list[Path]:
        """Rewrite the CSV in grid order, write the whole JSON, drop the sidecar; the files written."""
        from ..explore.tables import CSV_FIELDS, csv_row

        for f in (self._csv_file, self._jsonl):
            if f:
                f.close()
        written = []
        if self.csv_path:
            tmp = self.csv_path.with_name(self.csv_path.name + ".tmp")
            with tmp.open("w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=list(CSV_FIELDS))
                w.writeheader()
                w.writerows(csv_row(p) for p in result.points)
            tmp.replace(self.csv_path)
            written.append(self.csv_path)
        if self.json_path and self.sidecar:
            tmp = self.json_path.with_name(self.json_path.name + ".tmp")
            tmp.write_text(result.to_json())
            tmp.replace(self.json_path)
            self.sidecar.unlink(missing_ok=True)
            written.append(self.json_path)
        return written


def _points_table(result: SweepResult) -> Table:
    from ..explore.tables import POINT_HEADERS, point_rows, visible_columns

    keep = visible_columns(result)
    table = Table(
        title=f"{result.model} on {result.hw}: {len(result.points)} points"
        + ("" if result.complete else " (incomplete)")
    )
    for i in keep:
        h = POINT_HEADERS[i]
        table.add_column(h, justify="left" if h in ("status", "overrides", "double buffer") else "right")
    for row, p in zip(point_rows(result.points, result.pareto), result.points, strict=True):
        style = None if p.feasible else ("red" if p.status == "error" else "dim")
        table.add_row(*(row[i] for i in keep), style=style)
    return table


def _min_table(result: SweepResult) -> Table:
    from ..explore.tables import MIN_FEASIBLE_HEADERS, min_feasible_rows

    table = Table(
        title="smallest feasible budgets, by search (verified: plans there, not 1 B below; "
        "= lower bound: provably minimal)"
    )
    for h in MIN_FEASIBLE_HEADERS:
        table.add_column(h, justify="right" if h.startswith(("min", "probes")) else "left")
    for row in min_feasible_rows(result.min_feasible):
        table.add_row(*row)
    return table


def _detail_plan(graph: Graph, spec: HwSpec, result: SweepResult) -> tuple[Plan, HwSpec, str] | None:
    """The plan the pictures show: the fastest Pareto point with the least memory (what full speed costs)."""
    if not result.pareto:
        return None
    best = min(result.pareto, key=lambda p: (p.latency_s or 0.0, p.l1 + p.l2))
    hw = spec.with_overrides(best.overrides) if best.overrides else spec
    plan = api.plan(graph, hw, l1=best.l1, l2=best.l2, double_buffer=best.double_buffer)
    note = (
        f"point #{best.index}: the smallest budgets reaching the best modeled latency"
        f" ({'double' if best.double_buffer else 'single'} buffering"
        + (f", {', '.join(f'{k}={v}' for k, v in best.overrides.items())}" if best.overrides else "")
        + ")"
    )
    return plan, hw, note


def _write_pictures(
    graph: Graph, spec: HwSpec, result: SweepResult, html_out: Path | None, png_dir: Path | None
) -> list[Path]:
    from ..explore.figures import save_figures, sweep_figures
    from ..explore.page import sweep_report

    detail = _detail_plan(graph, spec, result)
    plan, hw, note = detail if detail else (None, spec, None)
    written: list[Path] = []
    if png_dir:
        written += save_figures(sweep_figures(result, plan, hw), png_dir)
    if html_out:
        html_out.parent.mkdir(parents=True, exist_ok=True)
        html_out.write_text(sweep_report(result, plan, hw, graph, plan_note=note))
        written.append(html_out)
    return written


def sweep_command(
    model: ModelArg = None,
    hw: HwOpt = "siracusa",
    l1: Annotated[
        str | None,
        typer.Option(
            "--l1",
            help="L1 budgets: 64000 | 16KiB,32KiB | 16KiB..256KiB (doubling) | ..:x1.5 | ..:+8KiB; "
            "default 16KiB..the usable L1",
        ),
    ] = None,
    l2: Annotated[str | None, typer.Option("--l2", help="L2 budgets, same syntax; default: the spec's")] = None,
    double_buffer: Annotated[str, typer.Option("--double-buffer", help="on, off or both")] = "on",
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="spec overrides path=value,... (e.g. memories.L1.size_bytes=128KiB); a|b sweeps a field"
        ),
    ] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="parallel workers; default: the CPUs")] = None,
    executor: Annotated[str, typer.Option("--executor", help="process, serial or ray")] = "process",
    ray_address: Annotated[
        str | None,
        typer.Option("--ray-address", help="HOST:PORT, ray://HOST:PORT or auto; default: a local Ray instance"),
    ] = None,
    search: Annotated[bool, typer.Option("--search/--no-search", help="search the smallest feasible budgets")] = True,
    tokens_per_step: Annotated[
        int | None, typer.Option("--tokens-per-step", help="tokens one run yields; default: detected for decode steps")
    ] = None,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="points as CSV (a row per point as it finishes)")
    ] = None,
    json_out: Annotated[
        Path | None,
        typer.Option(
            "--json", help="points, Pareto front and smallest budgets as JSON (FILE.points.jsonl while running)"
        ),
    ] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="one self-contained HTML report")] = None,
    png_dir: Annotated[Path | None, typer.Option("--png-dir", help="figures as PNG and SVG in this folder")] = None,
) -> None:
    """Plan over a grid of memory budgets: cycles, tiles, DMA, the Pareto front and the smallest budgets."""

    t0 = time.perf_counter()
    dbs = _double_buffer(double_buffer)
    if executor not in EXECUTORS:
        fail(f"--executor: {executor!r} is not one of {', '.join(EXECUTORS)}", EXIT_BAD_INPUT)
    if workers is not None and workers < 1:
        fail(f"--workers: must be >= 1, got {workers}", EXIT_BAD_INPUT)
    if tokens_per_step is not None and tokens_per_step < 1:
        fail(f"--tokens-per-step: must be >= 1, got {tokens_per_step}", EXIT_BAD_INPUT)
    if ray_address and executor != "ray":
        fail("--ray-address needs --executor ray", EXIT_BAD_INPUT)
    try:
        overrides = parse_overrides(set_ or [])
    except ValueError as e:
        fail(f"--set: {e}", EXIT_BAD_INPUT)
    graph = api.load_model(model)
    spec = api.load_hw(hw)
    for ov in overrides:  # an unknown field: HwSpecError names it
        try:
            spec.with_overrides(ov)
        except DeeployTilerError as e:
            fail(f"--set: {e}", EXIT_BAD_INPUT)
    l1_grid = _grid(_default_l1(spec) if l1 is None else l1, "--l1")
    l2_grid: list[int | None] = [None] if l2 is None else list(_grid(l2, "--l2"))
    total = len(l1_grid) * len(l2_grid) * len(dbs) * len(overrides)
    tps = tokens_per_step or decode_tokens_per_step(graph)
    try:
        sink = _Sink(csv_out, json_out)
    except OSError as e:
        fail(f"cannot write the results: {e}", EXIT_BAD_INPUT)
    progress = Progress(
        TextColumn("[bold]sweep"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal or total + (len(dbs) * len(overrides) if search else 0) < 2,
    )
    task = progress.add_task("sweep", total=total + (len(dbs) * len(overrides) if search else 0))

    def on_point(p: SweepPoint) -> None:
        sink.point(p)
        progress.advance(task)

    def on_search(m: MinFeasible) -> None:
        sink.search(m)
        progress.advance(task)

    grid: dict[str, list[Any]] = {"l1": l1_grid, "l2": l2_grid, "double_buffer": dbs, "overrides": overrides}

    def partial(reason: str, code: int) -> typer.Exit:
        progress.stop()
        result = sweep_result(
            graph,
            spec,
            sink.points,
            sink.searches,
            grid=grid,
            complete=False,
            tokens_per_step=tps,
            executor=executor,
            seconds=time.perf_counter() - t0,
        )
        files = sink.finish(result)
        if result.points:
            console.print(_points_table(result))
        kept = f"; kept in {', '.join(map(str, files))}" if files else ""
        err_console.print(
            f"[bold red]{reason}[/] {len(sink.points)} of {total} points computed{kept}",
            highlight=False,
            soft_wrap=True,
        )
        return typer.Exit(code)

    try:
        with progress:
            result = sweep(
                graph,
                spec,
                l1_grid=l1_grid,
                l2_grid=l2_grid,
                double_buffer=dbs,
                overrides=overrides,
                executor=cast(Executor, executor),
                workers=workers,
                ray_address=ray_address,
                search=search,
                tokens_per_step=tps,
                on_point=on_point,
                on_search=on_search,
            )
    except KeyboardInterrupt:
        raise partial("interrupted:", EXIT_INTERRUPTED) from None
    except DeeployTilerError as e:
        raise partial(f"error: {e};", EXIT_BAD_INPUT) from None
    except Exception as e:  # a crashed worker pool, ...: still keep what was computed
        raise partial(f"error: the sweep failed ({type(e).__name__}: {e});", EXIT_INTERNAL) from None
    written = sink.finish(result)
    console.print(_points_table(result))
    if result.min_feasible:
        console.print(_min_table(result))
    if result.pareto:
        console.print(
            "Pareto front (L1 B, L2 B, cycles): "
            + ", ".join(f"({p.l1:,}, {p.l2:,}, {p.total_cycles:,})" for p in result.pareto),
            highlight=False,
        )
    if html_out or png_dir:
        try:
            written += _write_pictures(graph, spec, result, html_out, png_dir)
        except OSError as e:
            fail(f"cannot write the pictures: {e}", EXIT_BAD_INPUT)
    feasible = len(result.feasible_points)
    console.print(
        f"{len(result.points)} points ({feasible} feasible) in {result.seconds:.1f} s on "
        f"{result.executor} with {result.workers} worker(s); largest L1 budget "
        f"{format_bytes(max(l1_grid))}",
        highlight=False,
    )
    for f in written:
        console.print(f"written: {f}", highlight=False)
    errors = [f"#{p.index}: {p.message}" for p in result.points if p.status == "error"]
    errors += [
        f"the search ({'double' if m.double_buffer else 'single'} buffering): {m.notes['error']}"
        for m in result.min_feasible
        if "error" in m.notes
    ]
    if errors:
        fail(f"{len(errors)} point(s) or search(es) failed, first {errors[0]}", EXIT_INTERNAL)
    if not feasible:
        fail(
            "no point of the grid is feasible"
            + "".join(
                f"; L1 needs at least {m.budgets['L1']:,} B" for m in result.min_feasible[:1] if m.budgets.get("L1")
            ),
            EXIT_INFEASIBLE,
        )
