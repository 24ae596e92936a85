"""`tile-report report`: the interactive HTML report of one plan, from a model (planned here) or from a
saved plan JSON (`tile-report plan --json`), with what other L1 / L2 budgets would buy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .. import api
from ..errors import InfeasibleBudget
from ..explore.minimal import MinFeasible, min_feasible
from ..explore.page import WhatIf, plan_report
from ..hw.spec import HwSpec
from ..ir import Graph
from ..plan import Plan
from .common import EXIT_BAD_INPUT, HwOpt, console, fail, size_option

__all__ = ["report_command"]


def _is_plan_file(path: Path) -> bool:
    if path.suffix.lower() != ".json":
        return False
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return False  # not ours to judge: the model loader names the problem
    return isinstance(doc, dict) and "schema_version" in doc and "total_cycles" in doc and "nodes" in doc


def _load_plan(path: Path, spec: HwSpec) -> Plan:
    try:
        plan = Plan.from_json(path.read_text())
    except ValueError as e:
        fail(f"{path}: not a valid plan JSON ({str(e).splitlines()[0]})", EXIT_BAD_INPUT)
    if plan.hw != spec.name:
        fail(f"{path}: the plan was made for spec {plan.hw!r}, --hw gives {spec.name!r}", EXIT_BAD_INPUT)
    return plan


def _check_graph(plan: Plan, graph: Graph, source: Path) -> None:
    names = {n.name for n in graph.nodes}
    missing = [n.name for n in plan.nodes if n.name not in names]
    if missing:
        fail(f"{source}: the plan's node {missing[0]!r} is not in this model ({len(missing)} missing)", EXIT_BAD_INPUT)


def _what_if(plan: Plan, graph: Graph, spec: HwSpec) -> list[WhatIf]:
    """The plan at twice and four times its L1, half its L1, and twice its L2 (within the usable bytes)."""
    l1, l2 = plan.budgets.get("L1", 0), plan.budgets.get("L2", 0)
    double_buffer = bool(plan.options.get("double_buffer", True))
    engine = plan.options.get("engine")
    usable = {lv: spec.memory(lv).usable_bytes for lv in ("L1", "L2")}
    tries = [("L1", l1 * 2, "L1 x2"), ("L1", l1 * 4, "L1 x4"), ("L1", l1 // 2, "L1 x1/2"), ("L2", l2 * 2, "L2 x2")]
    out: list[WhatIf] = []
    for level, budget, name in tries:
        label = f"{name} ({budget:,} B)"
        if budget > usable[level]:
            out.append(WhatIf(label, None, f"beyond the usable {level} ({usable[level]:,} B)"))
            continue
        try:
            other = api.plan(
                graph,
                spec,
                l1=budget if level == "L1" else l1,
                l2=budget if level == "L2" else l2,
                double_buffer=double_buffer,
                engine=None if engine in (None, "auto") else str(engine),
            )
        except InfeasibleBudget as e:
            out.append(WhatIf(label, None, f"infeasible: {e.level} needs {e.required_bytes:,} B"))
            continue
        out.append(WhatIf(label, other))
    return out


def report_command(
    source: Annotated[Path | None, typer.Argument(help="ONNX model, layer-list JSON, or a saved plan JSON")] = None,
    hw: HwOpt = "siracusa",
    model: Annotated[
        Path | None, typer.Option("--model", help="with a plan JSON: its model (adds MACs, tokens/s, what-if plans)")
    ] = None,
    l1: Annotated[str | None, typer.Option("--l1", help="L1 budget, e.g. 64000, 64KiB")] = None,
    l2: Annotated[str | None, typer.Option("--l2", help="L2 budget, e.g. 1MiB")] = None,
    double_buffer: Annotated[bool, typer.Option("--double-buffer/--no-double-buffer")] = True,
    what_if: Annotated[
        bool, typer.Option("--what-if/--no-what-if", help="also plan at other L1 / L2 budgets (needs the model)")
    ] = True,
    search: Annotated[
        bool, typer.Option("--search/--no-search", help="search the smallest feasible budgets (slower)")
    ] = False,
    html_out: Annotated[Path, typer.Option("--html", help="the report: one self-contained HTML file")] = Path(
        "report.html"
    ),
    json_out: Annotated[Path | None, typer.Option("--json", help="also write the plan JSON here")] = None,
) -> None:
    """One plan as an interactive HTML report: cycles per node, engines, memory maps, a node table."""
    spec = api.load_hw(hw)
    graph: Graph | None = None
    if source is not None and _is_plan_file(source):
        if l1 or l2:
            fail("--l1 / --l2 plan a model; a plan JSON already has its budgets", EXIT_BAD_INPUT)
        plan = _load_plan(source, spec)
        if model is not None:
            graph = api.load_model(model)
            _check_graph(plan, graph, model)
        note = f"from the saved plan {source.name}" + ("" if graph else " (no model given: no MACs, no what-if)")
    else:
        if model is not None:
            fail("--model goes with a plan JSON; give the model as the argument", EXIT_BAD_INPUT)
        graph = api.load_model(source)
        plan = api.plan(
            graph, spec, l1=size_option(l1, "--l1"), l2=size_option(l2, "--l2"), double_buffer=double_buffer
        )
        note = None
    others = _what_if(plan, graph, spec) if graph is not None and what_if else []
    found: list[MinFeasible] = []
    if search and graph is not None:
        found.append(min_feasible(graph, spec, double_buffer=bool(plan.options.get("double_buffer", True))))
    try:
        html_out.parent.mkdir(parents=True, exist_ok=True)
        html_out.write_text(plan_report(plan, spec, graph, min_found=found, what_if=others, note=note))
        if json_out:
            json_out.write_text(plan.to_json())
    except OSError as e:
        fail(f"cannot write the report: {e}", EXIT_BAD_INPUT)
    console.print(
        f"{plan.model} on {plan.hw}: {plan.total_cycles:,} cycles, {len(plan.nodes)} nodes; written: {html_out}",
        highlight=False,
    )
