"""`tile-report`: explore how a network fits a chip. Calls only the public API; prints with rich.

Exit codes (a stable contract): 0 success, 1 internal error (or a failed sweep point), 2 bad input
(file, spec, option), 3 infeasible budget, 4 a check failed (validator violations, output mismatch),
130 interrupted (a sweep saves the points it finished first).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from . import api
from .cli_sweep import sweep_command
from .errors import DeeployTilerError, InfeasibleBudget
from .ir import Graph

if TYPE_CHECKING:
    from .emit import Target
from .units import format_bytes, parse_bytes

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_CHECK_FAILED = 0, 1, 2, 3, 4

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Plan integer networks on RISC-V MCUs.")
# Off a terminal (pipes, CI logs) rich would squeeze tables into 80 columns and cut node names.
_WIDTH = None if sys.stdout.isatty() else 200
console = Console(width=_WIDTH)
err_console = Console(stderr=True, width=_WIDTH)

ModelArg = Annotated[Path | None, typer.Argument(help="ONNX model or layer-list JSON; default: bundled")]
HwOpt = Annotated[str, typer.Option("--hw", help="bundled spec name or YAML path")]


def _fail(message: str, code: int) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _size(text: str | None, option: str) -> int | None:
    if text is None:
        return None
    try:
        return parse_bytes(text)
    except ValueError as e:
        _fail(f"{option}: {e}", EXIT_BAD_INPUT)


@app.command()
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
        row = [r.name, r.op_type, " ".join("x".join(map(str, s)) for s in r.input_shapes),
               " ".join("x".join(map(str, s)) for s in r.output_shapes), ",".join(dict.fromkeys(r.dtypes)),
               f"{r.macs:,}", f"{r.input_bytes:,}", f"{r.weight_bytes:,}", f"{r.output_bytes:,}",
               f"{r.untiled_bytes:,}"]
        if budget:
            row.append("yes" if r.untiled_bytes <= budget else "[yellow]tile[/]")
        table.add_row(*row)
    console.print(table)
    console.print(f"total: {summary.total_macs:,} MACs, {format_bytes(summary.weight_bytes)} of constants, "
                  f"largest untiled node {format_bytes(summary.max_untiled_bytes)}"
                  + (f", spec {spec.name}" if spec else ""))


@app.command()
def plan(
    model: ModelArg = None,
    hw: HwOpt = "siracusa",
    l1: Annotated[str | None, typer.Option("--l1", help="L1 budget, e.g. 64000, 64KiB")] = None,
    l2: Annotated[str | None, typer.Option("--l2", help="L2 budget, e.g. 1MiB")] = None,
    double_buffer: Annotated[bool, typer.Option("--double-buffer/--no-double-buffer")] = True,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the plan JSON here")] = None,
) -> None:
    """Tile every node under the budgets and print the per-node plan with cycles and bounds."""
    graph = api.load_model(model)
    spec = api.load_hw(hw)
    result = api.plan(graph, spec, l1=_size(l1, "--l1"), l2=_size(l2, "--l2"), double_buffer=double_buffer)
    violations = api.validate(result, graph, spec)
    table = Table(title=f"{graph.name} on {spec.name}: L1 budget {result.budgets.get('L1')} B")
    for col in ("node", "op", "engine", "tile", "tiles", "L1 B", "DMA B", "cycles", "bound", "gap"):
        table.add_column(col, justify="left" if col in ("node", "op", "engine", "tile") else "right")
    for n in result.nodes:
        if n.alias_of is not None:
            continue
        table.add_row(n.name, n.op_type, n.engine, "x".join(map(str, n.tile_shape)), str(n.num_tiles),
                      f"{n.l1_bytes:,}", f"{n.dma_bytes:,}", f"{n.cycles.total:,}", f"{n.lower_bound_cycles:,}",
                      f"{100 * n.gap:.1f}%")
    console.print(table)
    console.print(f"total modeled cycles {result.total_cycles:,}, lower bound {result.lower_bound_cycles:,} "
                  f"(gap {100 * result.gap:.1f}%), {result.num_tiles} tiles")
    if spec.has_npu:
        cluster_only = api.plan(graph, spec, l1=result.budgets.get("L1"), l2=_size(l2, "--l2"),
                                double_buffer=double_buffer, engine="cluster")
        per_engine: dict[str, int] = {}
        for n in result.nodes:
            if n.alias_of is None:
                per_engine[n.engine] = per_engine.get(n.engine, 0) + 1
        console.print(f"heterogeneous vs cluster-only: {result.total_cycles:,} vs {cluster_only.total_cycles:,} "
                      f"cycles ({cluster_only.total_cycles / max(result.total_cycles, 1):.2f}x); nodes per engine: "
                      + ", ".join(f"{k} {v}" for k, v in sorted(per_engine.items())))
    for lv in result.levels:
        console.print(f"{lv.level}: peak {lv.peak:,} B of {lv.capacity:,} B (lower bound {lv.lower_bound:,} B, "
                      f"{lv.strategy})")
    if json_out:
        json_out.write_text(result.to_json())
        console.print(f"plan written to {json_out}")
    if violations:
        for v in violations[:20]:
            err_console.print(f"[red]violation:[/] {v}")
        _fail(f"{len(violations)} validator violations", EXIT_CHECK_FAILED)


def _model_and_data(model: Path | None) -> tuple[Graph, dict[str, Any], dict[str, Any]]:
    """A model with its test inputs and expected outputs: `inputs.npz` / `outputs.npz` beside it (the
    shared-model layout), or for the bundled default its own inputs and the reference's outputs."""
    if model is not None and model.is_dir():
        model = model / "network.onnx"
    graph = api.load_model(model)
    if model is None:
        inputs = api.default_inputs()
        return graph, inputs, api.reference_run(graph, inputs)
    folder = model.parent
    if not (folder / "inputs.npz").is_file():
        _fail(f"{folder}: no inputs.npz beside the model to run it with", EXIT_BAD_INPUT)
    inputs = api.load_inputs(graph, folder / "inputs.npz")
    if (folder / "outputs.npz").is_file():
        return graph, inputs, api.load_outputs(graph, folder / "outputs.npz")
    return graph, inputs, api.reference_run(graph, inputs)


@app.command()
def emit(
    model: ModelArg = None,
    hw: HwOpt = "siracusa",
    out: Annotated[Path, typer.Option("--out", help="folder for the C project")] = Path("out"),
    l1: Annotated[str | None, typer.Option("--l1")] = None,
    l2: Annotated[str | None, typer.Option("--l2")] = None,
    double_buffer: Annotated[bool, typer.Option("--double-buffer/--no-double-buffer")] = True,
) -> None:
    """Plan the model and write the C project (network, kernels, runtime, test main, Makefile)."""
    graph, inputs, expected = _model_and_data(model)
    spec = api.load_hw(hw)
    result = api.plan(graph, spec, l1=_size(l1, "--l1"), l2=_size(l2, "--l2"), double_buffer=double_buffer)
    project = api.emit(result, graph, spec, out, inputs=inputs, expected=expected)
    console.print(f"C project for {graph.name} written to {project.out_dir}: `make -C {project.out_dir} run-host` "
                  f"or `run-rv32`")


@app.command()
def verify(
    model: ModelArg = None,
    hw: HwOpt = "siracusa",
    target: Annotated[str, typer.Option("--target", help="host, rv32, or both")] = "both",
    out: Annotated[Path | None, typer.Option("--out", help="keep the C project here")] = None,
    l1: Annotated[str | None, typer.Option("--l1")] = None,
    l2: Annotated[str | None, typer.Option("--l2")] = None,
    double_buffer: Annotated[bool, typer.Option("--double-buffer/--no-double-buffer")] = True,
    per_node: Annotated[bool, typer.Option("--per-node/--totals", help="retired instructions per node")] = True,
) -> None:
    """Plan, emit, build and run on host / RV32 (QEMU); compare every output element with the reference."""
    import tempfile

    choices: dict[str, tuple[Target, ...]] = {"host": ("host",), "rv32": ("rv32",), "both": ("host", "rv32")}
    targets = choices.get(target)
    if targets is None:
        _fail(f"--target must be host, rv32 or both, not {target!r}", EXIT_BAD_INPUT)
    graph, inputs, expected = _model_and_data(model)
    spec = api.load_hw(hw)
    result = api.plan(graph, spec, l1=_size(l1, "--l1"), l2=_size(l2, "--l2"), double_buffer=double_buffer)
    with tempfile.TemporaryDirectory(prefix="dt-verify-") as tmp:
        outcome = api.verify(result, graph, spec, out or Path(tmp), inputs=inputs, expected=expected,
                             targets=targets)
        table = Table(title=f"{graph.name} on {spec.name}: L1 {result.budgets.get('L1')} B, "
                            f"{'double' if double_buffer else 'single'} buffering")
        for col in ("target", "outputs", "mismatches", "retired instr.", "instr./MAC", "memory within plan"):
            table.add_column(col)
        for built, run in outcome.results:
            mism = sum(o.mismatches for o in run.outputs)
            ipm = f"{run.total_instructions / graph.total_macs:.1f}" if run.total_instructions and graph.total_macs \
                else "-"
            table.add_row(built.target, str(len(run.outputs)), str(mism),
                          f"{run.total_instructions:,}" if run.total_instructions else "- (host)", ipm,
                          "yes" if built.within_budgets else "[red]no[/]")
        console.print(table)
        rv32 = [r for b, r in outcome.results if b.target == "rv32"]
        if per_node and rv32 and rv32[0].node_instructions:
            nodes = Table(title="retired instructions per node (rv32)")
            nodes.add_column("node")
            nodes.add_column("instructions", justify="right")
            for name, count in rv32[0].node_instructions:
                nodes.add_row(name, f"{count:,}")
            console.print(nodes)
        for built, run in outcome.results:
            for o in run.outputs:
                if o.mismatches:
                    err_console.print(f"[red]{built.target}: output {o.name}: {o.mismatches} of {o.numel} elements "
                                      f"differ, first at {o.first_index} (got {o.got}, expected {o.expected})[/]")
        if not outcome.passed:
            _fail("verification failed", EXIT_CHECK_FAILED)
        console.print("[green]bit-exact on every target[/]")


@app.command()
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

    from .alloc import memory_map_figure, read_csv, summary_text

    problem = read_csv(csv_file)
    cap = _size(capacity, "--capacity") if capacity is not None else problem.capacity
    if cap is None:
        _fail(f"{csv_file}: no --capacity given and none in the file name (NAME.<bytes>.csv)", EXIT_BAD_INPUT)
    result = api.allocate(problem.buffers, cap, strategy=strategy, time_limit=time_limit, seed=seed)
    console.print(summary_text(result), highlight=False, markup=False)
    if json_out:
        doc = {"solved": result.solved, "peak": result.peak, "lower_bound": result.lower_bound, "capacity": cap,
               "strategy": result.strategy, "status": result.stats.status, "seconds": result.stats.seconds,
               "offsets": dict(sorted(result.offsets.items()))}
        json_out.write_text(json.dumps(doc, indent=1) + "\n")
    if png:
        memory_map_figure(problem.buffers, result, png)
    if not result.solved:
        _fail(f"no allocation within {cap} B found (best peak {result.peak} B, lower bound {result.lower_bound} B)",
              EXIT_CHECK_FAILED)


app.command("sweep")(sweep_command)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; typed errors become one clear line and an exit code, never a traceback."""
    try:
        # Without standalone mode click returns a command's exit code instead of calling sys.exit.
        code = app(args=argv, standalone_mode=False)
    except InfeasibleBudget as e:
        err_console.print(f"[bold red]infeasible:[/] {e}", highlight=False, soft_wrap=True)
        return EXIT_INFEASIBLE
    except DeeployTilerError as e:
        err_console.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
        return EXIT_BAD_INPUT
    except typer.Exit as e:
        return int(e.exit_code)
    except typer.Abort:
        return EXIT_INTERNAL
    except Exception as e:
        # Usage errors (unknown option, bad value) come from the click typer bundles; they know how to
        # show themselves. Anything else is a bug and keeps its traceback.
        show = getattr(e, "show", None)
        if callable(show) and isinstance(getattr(e, "exit_code", None), int):
            show()
            return EXIT_BAD_INPUT
        raise
    return code if isinstance(code, int) else EXIT_OK


def run() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
