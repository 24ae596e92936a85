"""`tile-report alloc`: static offsets for buffers with lifetimes, from a MiniMalloc CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .. import api
from ..arguments import check_output_file
from .common import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, console, fail, size_option

__all__ = ["alloc"]


def alloc(
    csv_file: Annotated[Path, typer.Argument(help="buffers as CSV: id,lower,upper,size (MiniMalloc format)")],
    capacity: Annotated[str | None, typer.Option("--capacity", help="bytes; default: the number in the name")] = None,
    strategy: Annotated[str, typer.Option("--strategy", help="auto, greedy, search, cpsat")] = "auto",
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="seconds")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write solved/peak/offsets JSON here")] = None,
    png: Annotated[Path | None, typer.Option("--plot", help="memory map picture (.png or .svg)")] = None,
    seed: Annotated[int, typer.Option("--seed", help="CP-SAT random seed")] = 0,
) -> None:
    """Static offsets for buffers with lifetimes (the dynamic storage allocation problem)."""
    import json

    from ..memory.alloc import memory_map_figure, read_csv, summary_text

    for path, option in ((json_out, "--json"), (png, "--plot")):
        if path is not None:
            check_output_file(path, option)
    if png is not None and png.suffix.lower() not in (".png", ".svg"):
        fail(f"--plot: {png} must end in .png or .svg", EXIT_BAD_INPUT)
    problem = read_csv(csv_file)
    cap = size_option(capacity, "--capacity") if capacity is not None else problem.capacity
    if cap is None:
        fail(f"{csv_file}: no --capacity given and none in the file name (NAME.<bytes>.csv)", EXIT_BAD_INPUT)
    result = api.allocate(problem.buffers, cap, strategy=strategy, time_limit=time_limit, seed=seed)
    console.print(summary_text(result), highlight=False, markup=False)
    if json_out:
        doc = {
            "solved": result.solved,
            "peak": result.peak,
            "lower_bound": result.lower_bound,
            "capacity": cap,
            "strategy": result.strategy,
            "status": result.stats.status,
            "seconds": result.stats.seconds,
            "offsets": dict(sorted(result.offsets.items())),
        }
        json_out.write_text(json.dumps(doc, indent=1) + "\n")
    if png:
        memory_map_figure(problem.buffers, result, png)
    if not result.solved:
        fail(
            f"no allocation within {cap} B found (best peak {result.peak} B, lower bound {result.lower_bound} B)",
            EXIT_CHECK_FAILED,
        )
