"""`tile-report emit` and `tile-report verify`: the C project, built, run and compared element by element."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from .. import api
from ..arguments import check_output_dir
from ..ir import Graph
from .common import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, HwOpt, ModelArg, console, err_console, fail, size_option

if TYPE_CHECKING:
    from ..emitter import Target

__all__ = ["emit", "verify"]


def _model_and_data(model: Path | None) -> tuple[Graph, dict[str, Any], dict[str, Any]]:
    """A model with its test inputs and expected outputs: `inputs.npz` / `outputs.npz` beside it (the
    shared-model layout), or for the bundled default its own inputs and the reference's outputs."""
    if model is not None and model.is_dir():
        model = model / "network.onnx"
    graph = api.load_model(model)
    if model is None or api.is_bundled_model(model):
        inputs = api.default_inputs() if model is None else api.default_inputs(str(model))
        return graph, inputs, api.reference_run(graph, inputs)
    folder = model.parent
    if not (folder / "inputs.npz").is_file():
        fail(f"{folder}: no inputs.npz beside the model to run it with", EXIT_BAD_INPUT)
    inputs = api.load_inputs(graph, folder / "inputs.npz")
    if (folder / "outputs.npz").is_file():
        return graph, inputs, api.load_outputs(graph, folder / "outputs.npz")
    return graph, inputs, api.reference_run(graph, inputs)


def _against_onnxruntime(model: Path | None) -> tuple[Graph, dict[str, Any], dict[str, Any]]:
    """The model, its inputs (`inputs.npz` beside it, float samples quantized by the edge QuantizeLinear, else
    seeded random values of each input's integer type) and onnxruntime's outputs on them."""
    import numpy as np

    if model is None:
        fail("--against onnxruntime needs an ONNX model", EXIT_BAD_INPUT)
    path = model / "network.onnx" if model.is_dir() else model
    graph = api.load_model(path)
    inputs, rule = api.sample_inputs(path, graph)
    console.print(f"inputs: {rule}")
    expected = api.onnxruntime_outputs(path, graph, inputs)
    ref = api.reference_run(graph, inputs)
    diff = sum(int(np.count_nonzero(ref[k] != expected[k])) for k in expected)
    total = sum(v.size for v in expected.values())
    console.print(f"reference vs onnxruntime: {total} elements compared, {diff} differ")
    if diff and not api.onnxruntime_int8_is_exact():
        console.print(
            "note: this CPU has no VNNI; onnxruntime's int8 MatMul / Conv adds pairs of u8 x s8 products "
            "in saturating int16 here, so its results are not exact for full-range 8-bit weights "
            "(quantize with reduce_range=True, or compare on a VNNI or ARM machine)"
        )
    return graph, inputs, expected


def emit(
    model: ModelArg = None,
    hw: HwOpt = "siracusa",
    out: Annotated[Path, typer.Option("--out", help="folder for the C project")] = Path("out"),
    l1: Annotated[str | None, typer.Option("--l1")] = None,
    l2: Annotated[str | None, typer.Option("--l2")] = None,
    double_buffer: Annotated[bool, typer.Option("--double-buffer/--no-double-buffer")] = True,
) -> None:
    """Plan the model and write the C project (network, kernels, runtime, test main, Makefile)."""
    check_output_dir(out, "--out")
    l1_bytes, l2_bytes = size_option(l1, "--l1"), size_option(l2, "--l2")
    graph, inputs, expected = _model_and_data(model)
    spec = api.load_hw(hw)
    result = api.plan(graph, spec, l1=l1_bytes, l2=l2_bytes, double_buffer=double_buffer)
    project = api.emit(result, graph, spec, out, inputs=inputs, expected=expected)
    console.print(
        f"C project for {graph.name} written to {project.out_dir}: `make -C {project.out_dir} run-host` or `run-rv32`"
    )


def verify(
    model: ModelArg = None,
    hw: HwOpt = "siracusa",
    target: Annotated[
        str, typer.Option("--target", help="host, rv32, both, or gvsoc (siracusa ELF on GVSoC, $DEEPLOY_TILER_GVSOC)")
    ] = "both",
    out: Annotated[Path | None, typer.Option("--out", help="keep the C project here")] = None,
    l1: Annotated[str | None, typer.Option("--l1")] = None,
    l2: Annotated[str | None, typer.Option("--l2")] = None,
    double_buffer: Annotated[bool, typer.Option("--double-buffer/--no-double-buffer")] = True,
    per_node: Annotated[bool, typer.Option("--per-node/--totals", help="retired instructions per node")] = True,
    against: Annotated[
        str, typer.Option("--against", help="expected outputs: reference (outputs.npz / interpreter) or onnxruntime")
    ] = "reference",
) -> None:
    """Plan, emit, build and run on host / RV32 (QEMU) / GVSoC's siracusa model; compare every output
    element with the reference (or with onnxruntime on the same inputs: `--against onnxruntime`). On GVSoC,
    per-node cycles are measured beside the plan's modeled ones."""
    import tempfile

    from ..emitter import siracusa
    from ..emitter import verify as emit_verify

    choices: dict[str, tuple[Target, ...]] = {
        "host": ("host",),
        "rv32": ("rv32",),
        "both": ("host", "rv32"),
        "gvsoc": ("siracusa",),
    }
    targets = choices.get(target)
    if targets is None:
        fail(f"--target must be host, rv32, both or gvsoc, not {target!r}", EXIT_BAD_INPUT)
    if target == "gvsoc" and siracusa.gvsoc_install() is None:
        fail(
            f"--target gvsoc needs a GVSoC install: set {siracusa.GVSOC_ENV} (a directory with bin/gvsoc)",
            EXIT_BAD_INPUT,
        )
    if against not in ("reference", "onnxruntime"):
        fail(f"--against must be reference or onnxruntime, not {against!r}", EXIT_BAD_INPUT)
    if out is not None:
        check_output_dir(out, "--out")
    l1_bytes, l2_bytes = size_option(l1, "--l1"), size_option(l2, "--l2")
    graph, inputs, expected = _against_onnxruntime(model) if against == "onnxruntime" else _model_and_data(model)
    spec = api.load_hw(hw)
    result = api.plan(graph, spec, l1=l1_bytes, l2=l2_bytes, double_buffer=double_buffer)
    with tempfile.TemporaryDirectory(prefix="dt-verify-") as tmp:
        outcome = emit_verify(
            result, graph, spec, out or Path(tmp), inputs=inputs, expected=expected, targets=targets, timeout=7200.0
        )
        table = Table(
            title=f"{graph.name} on {spec.name}: L1 {result.budgets.get('L1')} B, "
            f"{'double' if double_buffer else 'single'} buffering"
        )
        for col in ("target", "outputs", "mismatches", "retired instr.", "instr./MAC", "memory within plan"):
            table.add_column(col)
        for built, run in outcome.results:
            mism = sum(o.mismatches for o in run.outputs)
            ipm = (
                f"{run.total_instructions / graph.total_macs:.1f}{' cycles' if built.target == 'siracusa' else ''}"
                if run.total_instructions and graph.total_macs
                else "-"
            )
            table.add_row(
                built.target,
                str(len(run.outputs)),
                str(mism),
                f"{run.total_instructions:,}{' cycles' if built.target == 'siracusa' else ''}"
                if run.total_instructions
                else "- (host)",
                ipm,
                "yes" if built.within_budgets else "[red]no[/]",
            )
        console.print(table)
        rv32 = [r for b, r in outcome.results if b.target == "rv32"]
        if per_node and rv32 and rv32[0].node_instructions:
            nodes = Table(title="retired instructions per node (rv32)")
            nodes.add_column("node")
            nodes.add_column("instructions", justify="right")
            for name, count in rv32[0].node_instructions:
                nodes.add_row(name, f"{count:,}")
            console.print(nodes)
        gv = [r for b, r in outcome.results if b.target == "siracusa"]
        if per_node and gv and gv[0].node_instructions:
            _cycles_table(result, outcome.project, gv[0].node_instructions)
        for built, run in outcome.results:
            for o in run.outputs:
                if o.mismatches:
                    err_console.print(
                        f"[red]{built.target}: output {o.name}: {o.mismatches} of {o.numel} elements "
                        f"differ, first at {o.first_index} (got {o.got}, expected {o.expected})[/]"
                    )
        if not outcome.passed:
            fail("verification failed", EXIT_CHECK_FAILED)
        console.print("[green]bit-exact on every target[/]")


def _cycles_table(plan: Any, project: Any, measured: Any) -> None:
    from ..emitter import siracusa

    rows = siracusa.node_cycles(
        plan, measured, {n.name: n.num_calls for n in project.nodes}, {n.name: n.macs for n in project.nodes}
    )
    table = Table(title="cycles per node: measured on GVSoC (cluster core 0) vs modeled by the plan")
    for col in ("node", "op", "measured", "modeled", "measured / modeled", "modeled compute", "modeled dma"):
        table.add_column(col, justify="left" if col in ("node", "op") else "right")
    for r in rows:
        table.add_row(
            r.name,
            r.op_type,
            f"{r.measured:,}",
            f"{r.modeled:,}",
            f"{r.ratio:.2f}",
            f"{r.modeled_compute:,}",
            f"{r.modeled_dma:,}",
        )
    total_m, total_p = sum(r.measured for r in rows), sum(r.modeled for r in rows)
    table.add_row("total", "", f"{total_m:,}", f"{total_p:,}", f"{total_m / total_p:.2f}" if total_p else "-", "", "")
    console.print(table)
