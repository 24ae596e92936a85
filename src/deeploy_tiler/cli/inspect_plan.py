"""`tile-report inspect` and `tile-report plan`: what a network needs, and how it is tiled."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .. import api
from ..arguments import check_output_file
from ..units import format_bytes
from .common import EXIT_CHECK_FAILED, HwOpt, ModelArg, console, err_console, fail, size_option

__all__ = ["inspect", "plan"]


def inspect(model: ModelArg = None, hw: Annotated[str | None, typer.Option("--hw")] = None) -> None:
    """Nodes with op, shapes, dtypes, MACs, bytes, and the memory each needs untiled."""
    graph = api.load_model(model)
    spec = api.load_hw(hw) if hw else None
    budget = spec.memory("L1").default_budget_bytes if spec else None
    table = Table(title=f"{graph.name}: {len(graph.nodes)} nodes", show_lines=False)
    for col in ("node", "op", "inputs", "output", "dtypes", "MACs", "in B", "weights B", "out B", "untiled B"):
        table.add_column(col, justify="right" if col.endswith(("B", "MACs")) else "left")
    if budget:
        table.add_column(f"fits L1 {budget}")
    summary = graph.summary()
    for r in summary.nodes:
        row = [
            r.name,
            r.op_type,
            " ".join("x".join(map(str, s)) for s in r.input_shapes),
            " ".join("x".join(map(str, s)) for s in r.output_shapes),
            ",".join(dict.fromkeys(r.dtypes)),
            f"{r.macs:,}",
            f"{r.input_bytes:,}",
            f"{r.weight_bytes:,}",
            f"{r.output_bytes:,}",
            f"{r.untiled_bytes:,}",
        ]
        if budget:
            row.append("yes" if r.untiled_bytes <= budget else "[yellow]tile[/]")
        table.add_row(*row)
    console.print(table)
    console.print(
        f"total: {summary.total_macs:,} MACs, {format_bytes(summary.weight_bytes)} of constants, "
        f"largest untiled node {format_bytes(summary.max_untiled_bytes)}" + (f", spec {spec.name}" if spec else "")
    )


def plan(
    model: ModelArg = None,
    hw: HwOpt = "siracusa",
    l1: Annotated[str | None, typer.Option("--l1", help="L1 budget, e.g. 64000, 64KiB")] = None,
    l2: Annotated[str | None, typer.Option("--l2", help="L2 budget, e.g. 1MiB")] = None,
    double_buffer: Annotated[bool, typer.Option("--double-buffer/--no-double-buffer")] = True,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the plan JSON here")] = None,
) -> None:
    """Tile every node under the budgets and print the per-node plan with cycles and bounds."""
    if json_out is not None:
        check_output_file(json_out, "--json")
    l1_bytes, l2_bytes = size_option(l1, "--l1"), size_option(l2, "--l2")
    graph = api.load_model(model)
    spec = api.load_hw(hw)
    result = api.plan(graph, spec, l1=l1_bytes, l2=l2_bytes, double_buffer=double_buffer)
    violations = api.validate(result, graph, spec)
    table = Table(title=f"{graph.name} on {spec.name}: L1 budget {result.budgets.get('L1')} B")
    for col in ("node", "op", "engine", "tile", "tiles", "L1 B", "DMA B", "cycles", "bound", "gap"):
        table.add_column(col, justify="left" if col in ("node", "op", "engine", "tile") else "right")
    for n in result.nodes:
        if n.alias_of is not None:
            continue
        table.add_row(
            n.name,
            n.op_type,
            n.engine,
            "x".join(map(str, n.tile_shape)),
            str(n.num_tiles),
            f"{n.l1_bytes:,}",
            f"{n.dma_bytes:,}",
            f"{n.cycles.total:,}",
            f"{n.lower_bound_cycles:,}",
            f"{100 * n.gap:.1f}%",
        )
    console.print(table)
    console.print(
        f"total modeled cycles {result.total_cycles:,}, lower bound {result.lower_bound_cycles:,} "
        f"(gap {100 * result.gap:.1f}%), {result.num_tiles} tiles"
    )
    if spec.has_npu:
        cluster_only = api.plan(
            graph,
            spec,
            l1=result.budgets.get("L1"),
            l2=l2_bytes,
            double_buffer=double_buffer,
            engine="cluster",
        )
        per_engine: dict[str, int] = {}
        for n in result.nodes:
            if n.alias_of is None:
                per_engine[n.engine] = per_engine.get(n.engine, 0) + 1
        console.print(
            f"heterogeneous vs cluster-only: {result.total_cycles:,} vs {cluster_only.total_cycles:,} "
            f"cycles ({cluster_only.total_cycles / max(result.total_cycles, 1):.2f}x); nodes per engine: "
            + ", ".join(f"{k} {v}" for k, v in sorted(per_engine.items()))
        )
    for lv in result.levels:
        console.print(
            f"{lv.level}: peak {lv.peak:,} B of {lv.capacity:,} B (lower bound {lv.lower_bound:,} B, {lv.strategy})"
        )
    if json_out:
        json_out.write_text(result.to_json())
        console.print(f"plan written to {json_out}")
    if violations:
        for v in violations[:20]:
            err_console.print(f"[red]violation:[/] {v}")
        fail(f"{len(violations)} validator violations", EXIT_CHECK_FAILED)
