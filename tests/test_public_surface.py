"""Every public function stays the function whatever is imported: import every module of the package,
then call each name of `deeploy_tiler.__all__` that is a function twice in one process (a subpackage of
the same name once replaced `dt.emit` after the first call)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path
from typing import Any

import numpy as np

import deeploy_tiler as dt
from deeploy_tiler.frontend import dump_layer_list
from deeploy_tiler.memory.alloc import Buffer


def _import_everything() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(dt.__path__, prefix="deeploy_tiler."):
        if info.name.endswith("__main__"):
            continue
        importlib.import_module(info.name)
        names.append(info.name)
    return names


def _calls(tmp: Path) -> dict[str, Any]:
    # Each call looks its function up on the package when it runs, so a replaced attribute is caught.
    graph = dt.default_model()
    inputs = dt.default_inputs()
    expected = dt.reference_run(graph, inputs)
    plan = dt.plan(graph, "siracusa")
    np.savez(tmp / "inputs.npz", *inputs.values())
    np.savez(tmp / "outputs.npz", *expected.values())
    return {
        "allocate": lambda: dt.allocate([Buffer("a", 0, 2, 8), Buffer("b", 1, 3, 8)], 64),
        "default_inputs": lambda: dt.default_inputs(),
        "default_model": lambda: dt.default_model(),
        "emit": lambda: dt.emit(plan, graph, "siracusa", tmp / "emit", inputs=inputs, expected=expected),
        "graph_from_layer_list": lambda: dt.graph_from_layer_list(dump_layer_list(graph)),
        "infer_input_dtypes": lambda: dt.infer_input_dtypes(inputs),
        "load_hw": lambda: dt.load_hw("siracusa"),
        "load_inputs": lambda: dt.load_inputs(graph, tmp / "inputs.npz"),
        "load_model": lambda: dt.load_model(),
        "load_outputs": lambda: dt.load_outputs(graph, tmp / "outputs.npz"),
        "plan": lambda: dt.plan(graph, "siracusa"),
        "plan_node": lambda: dt.plan_node(graph, graph.nodes[0].name, "siracusa"),
        "reference_run": lambda: dt.reference_run(graph, inputs),
        "validate": lambda: dt.validate(plan, graph, "siracusa"),
        "verify": lambda: dt.verify(
            plan, graph, "siracusa", tmp / "verify", inputs=inputs, expected=expected, targets=("host",)
        ),
    }


def test_every_public_function_twice_after_importing_every_module(tmp_path: Path) -> None:
    modules = _import_everything()
    assert "deeploy_tiler.emitter" in modules and "deeploy_tiler.validator" in modules
    functions = sorted(n for n in dt.__all__ if inspect.isfunction(getattr(dt, n)))
    calls = _calls(tmp_path)
    assert set(functions) == set(calls), "a public function has no call in this test"
    first: dict[str, Any] = {}
    for round_ in range(2):
        for name in functions:
            fn = getattr(dt, name)
            assert inspect.isfunction(fn), f"dt.{name} is {type(fn).__name__} after round {round_}"
            result = calls[name]()
            if round_ == 0:
                first[name] = result
    verification = calls["verify"]()
    assert verification.passed
    assert dt.validate(first["plan"], first["default_model"], "siracusa") == []
    _import_everything()
    assert all(inspect.isfunction(getattr(dt, n)) for n in functions)
