"""Running one fuzz case (inside the worker process) and classifying what happened.

Outcomes: "valid" (the entry point and the work after it completed), "typed" (a DeeployTilerError, or
for the CLI exit 2 / 3 with one line on stderr), "infeasible" (a valid network whose budget no plan
meets), and the failures: "untyped" (any other exception), "traceback" (the CLI let an exception out
or exited 1), "multiline" (a CLI error longer than one line), "mismatch" (validator violations, or
emitted C whose host run differs from the reference).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import tempfile
import traceback
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

import deeploy_tiler as dt
from deeploy_tiler.emitter import build, emit_project, run
from deeploy_tiler.memory.alloc import Buffer, read_csv

FAILURES = ("untyped", "traceback", "multiline", "mismatch", "hang", "memory", "crash")
Outcome = tuple[str, str]


@cache
def _default() -> tuple[dt.Graph, dt.Plan, dict[str, Any]]:
    graph = dt.default_model()
    return graph, dt.plan(graph, "siracusa"), dt.default_inputs()


def _inputs(graph: dt.Graph, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for name in graph.input_names:
        t = graph.tensors[name]
        out[name] = rng.integers(t.dtype.min, t.dtype.max + 1, size=t.shape, dtype=np.int64)
    return out


def _typed(fn: Callable[[], Outcome]) -> Outcome:
    try:
        return fn()
    except dt.InfeasibleBudget as e:
        return "typed", f"{type(e).__name__}: {e}"
    except dt.DeeployTilerError as e:
        return "typed", f"{type(e).__name__}: {e}"
    except MemoryError:
        return "memory", traceback.format_exc(limit=-3)
    except Exception as e:
        return "untyped", f"{type(e).__name__}: {e} | {traceback.format_exc(limit=-3)}"


def _plan_and_run(graph: dt.Graph, spec: str = "siracusa") -> Outcome:
    """The heavy work after a successful load: plan, validate, reference run."""
    plan = dt.plan(graph, spec)
    violations = dt.validate(plan, graph, spec)
    if violations:
        return "mismatch", f"{len(violations)} violations: {violations[0]}"
    dt.reference_run(graph, _inputs(graph, 0))
    return "valid", ""


def run_valid(case: dict[str, Any], tmp: Path) -> Outcome:
    """The differential: plan -> validate -> emit -> host build and run, compared with the reference."""
    graph = dt.graph_from_layer_list(case["doc"])
    try:
        plan = dt.plan(graph, case["spec"], l1=case["l1"], double_buffer=case["double_buffer"])
    except dt.InfeasibleBudget as e:
        return "infeasible", str(e)[:200]
    violations = dt.validate(plan, graph, case["spec"])
    if violations:
        return "mismatch", f"{len(violations)} violations: {violations[0]}"
    inputs = _inputs(graph, case["seed"])
    expected = dt.reference_run(graph, inputs)
    project = emit_project(plan, graph, dt.load_hw(case["spec"]), tmp / "c", inputs=inputs, expected=expected)
    built = build(project, "host", opt="-O1", timeout=120)
    result = run(project, built, timeout=60)
    if not (result.passed and built.within_budgets):
        bad = [o for o in result.outputs if o.mismatches]
        return "mismatch", f"host run differs: {bad[:1]} rc={result.returncode} within={built.within_budgets}"
    return "valid", f"{len(graph.nodes)} nodes, {sum(n.num_tiles for n in plan.nodes)} tiles"


def run_onnx(case: dict[str, Any], tmp: Path) -> Outcome:
    path = tmp / "network.onnx"
    path.write_bytes(case["data"])
    return _plan_and_run(dt.load_model(path))


def run_layer_list(case: dict[str, Any], tmp: Path) -> Outcome:
    return _plan_and_run(dt.graph_from_layer_list(case["doc"]))


def run_spec(case: dict[str, Any], tmp: Path) -> Outcome:
    path = tmp / "spec.yaml"
    path.write_text(case["text"])
    hw = dt.load_hw(path)
    graph, _, _ = _default()
    plan = dt.plan(graph, hw)
    violations = dt.validate(plan, graph, hw)
    return ("mismatch", str(violations[0])) if violations else ("valid", "")


def run_csv(case: dict[str, Any], tmp: Path) -> Outcome:
    path = tmp / case["name"]
    path.write_bytes(case["data"])
    problem = read_csv(path)
    result = dt.allocate(problem.buffers, problem.capacity or 4096, strategy=case["strategy"], time_limit=2.0)
    return "valid", f"solved={result.solved}"


def _mutate_json(doc: Any, rng: random.Random) -> Any:
    from .strategies import WEIRD_VALUES, _paths, _set

    paths = _paths(doc)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(paths)
        with contextlib.suppress(KeyError, IndexError, TypeError):
            _set(doc, path, rng.choice(WEIRD_VALUES), delete=rng.random() < 0.15)
        paths = _paths(doc) or paths
    return doc


def run_plan_json(case: dict[str, Any], tmp: Path) -> Outcome:
    graph, plan, _ = _default()
    rng = random.Random(case["draw"])
    text = plan.to_json()
    if case["mutation"] == "text":
        pos = rng.randrange(len(text))
        text = text[:pos] + rng.choice(["", "}", "[", '"x"', "-1", "1e400"]) + text[pos + rng.randint(0, 30) :]
    else:
        text = json.dumps(_mutate_json(json.loads(text), rng))
    parsed = dt.Plan.from_json(text)
    violations = dt.validate(parsed, graph, "siracusa")
    if not violations:
        dt.emit(parsed, graph, "siracusa", tmp / "c")
    return "valid", f"{len(violations)} violations"


def run_api(case: dict[str, Any], tmp: Path) -> Outcome:
    graph, plan, _ = _default()
    kw = dict(case["kwargs"])
    fn = case["fn"]
    if fn == "plan":
        dt.plan(graph, "siracusa", **kw)
    elif fn == "plan_node":
        node = kw.pop("node", graph.nodes[0].name)
        dt.plan_node(graph, node, "siracusa", **kw)
    elif fn == "allocate":
        buffers = kw.pop("buffers", [Buffer("a", 0, 2, 64), Buffer("b", 1, 3, 64)])
        buffers = buffers if isinstance(buffers, list) else [buffers]
        dt.allocate(buffers, kw.pop("capacity", 1024), **kw)
    elif fn == "load_model":
        dt.load_model(kw.get("path", "missing.onnx"), fuse=kw.get("fuse", True))
    elif fn == "reference_run":
        name = graph.input_names[0]
        dt.reference_run(graph, {name: kw["inputs"]})
    elif fn == "emit":
        out = kw.get("out_dir", tmp / "c")
        dt.emit(plan, graph, kw.get("hw", "siracusa"), tmp / str(out) if isinstance(out, str) else out)
    else:
        dt.load_hw(kw["name"])
    return "valid", ""


def _cli_fixtures(tmp: Path) -> None:
    from .invalid import _base_layer_list, onnx_base_bytes

    (tmp / "afile").write_text("x")
    (tmp / "adir").mkdir()
    (tmp / "ro").mkdir()
    os.chmod(tmp / "ro", 0o500)
    (tmp / "model.onnx").write_bytes(onnx_base_bytes())
    (tmp / "empty.onnx").write_bytes(b"")
    (tmp / "garbage.onnx").write_bytes(b"\x08\x07garbage\xff")
    (tmp / "layers.json").write_text(json.dumps(_base_layer_list()))
    (tmp / "bad.json").write_text('{"name": 3')
    (tmp / "bad.yaml").write_text("name: [1,\n")
    doc = dt.load_hw("siracusa").model_dump(mode="json")
    doc["memories"][1]["size_bytes"] = 10**30
    (tmp / "huge.yaml").write_text(yaml.safe_dump(doc))
    (tmp / "good.1024.csv").write_text("id,lower,upper,size\na,0,2,64\nb,1,3,64\n")
    (tmp / "bad.csv").write_text("id,lower,upper,size,color\na,0,-2,64,red\n")
    (tmp / "latin1.csv").write_bytes(b"id,lower,upper,size\n\xe9,0,2,64\n")


def run_cli(case: dict[str, Any], tmp: Path) -> Outcome:
    from deeploy_tiler.cli.main import main

    _cli_fixtures(tmp)
    old = Path.cwd()
    err, out = io.StringIO(), io.StringIO()
    os.chdir(tmp)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(list(case["argv"]))
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except Exception as e:
        return "traceback", f"{type(e).__name__}: {e} | {traceback.format_exc(limit=-3)}"
    finally:
        os.chdir(old)
    lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
    if code == 0:
        return "valid", ""
    if code == 4:
        return "mismatch", err.getvalue()[-300:]
    if code in (2, 3):
        if len(lines) != 1:
            return "multiline", err.getvalue()[-400:]
        return "typed", lines[0]
    return "traceback", f"exit {code}: {err.getvalue()[-400:]}"


RUNNERS: dict[str, Callable[[dict[str, Any], Path], Outcome]] = {
    "valid": run_valid,
    "onnx": run_onnx,
    "layer_list": run_layer_list,
    "spec": run_spec,
    "csv": run_csv,
    "plan_json": run_plan_json,
    "api": run_api,
    "cli": run_cli,
}


def run_case(case: dict[str, Any]) -> Outcome:
    """Run one case in a fresh temporary folder and classify the outcome (never raises)."""
    with tempfile.TemporaryDirectory(prefix="dt-fuzz-") as d:
        tmp = Path(d)
        try:
            if case["entry"] == "cli":
                return RUNNERS["cli"](case, tmp)
            return _typed(lambda: RUNNERS[case["entry"]](case, tmp))
        finally:
            with contextlib.suppress(OSError):
                os.chmod(tmp / "ro", 0o700)
