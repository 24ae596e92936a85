"""The public surface: load a model and a spec, run the reference, plan, validate, allocate, emit.

Everything here is a thin, typed composition of the stages below it; the CLI calls only this.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ModelError
from .frontend import graph_input_names, import_onnx, load_layer_list, read_onnx
from .hw import HwSpec, load_hw
from .ir import DType, Graph
from .models import DEFAULT_MODEL_NAME, build_tiny_decoder, tiny_decoder_inputs
from .plan import NodePlan, Plan

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .emitter import EmittedProject, Target, Verification
    from .memory.alloc import AllocationResult, Buffer
    from .validator import Violation

__all__ = [
    "allocate",
    "default_inputs",
    "default_model",
    "emit",
    "graph_from_layer_list",
    "infer_input_dtypes",
    "load_hw",
    "load_inputs",
    "load_model",
    "load_outputs",
    "plan",
    "plan_node",
    "reference_run",
    "validate",
    "verify",
]


def default_model() -> Graph:
    """The bundled default network (a small integer decoder layer the package builds itself)."""
    return import_onnx(build_tiny_decoder(), name=DEFAULT_MODEL_NAME, source=f"<bundled {DEFAULT_MODEL_NAME}>")


def default_inputs() -> dict[str, np.ndarray[Any, Any]]:
    return tiny_decoder_inputs()


def _load_npz(names: tuple[str, ...], npz_path: str | Path, what: str) -> dict[str, np.ndarray[Any, Any]]:
    p = Path(npz_path)
    if not p.is_file():
        raise ModelError(f"{p}: no such {what} file", path=str(p))
    with np.load(p) as data:
        arrays = [np.asarray(data[k]) for k in data.files]
    if len(arrays) != len(names):
        raise ModelError(f"{p}: {len(arrays)} arrays for {len(names)} graph {what}s", path=str(p))
    return {name: a.astype(np.int64) for name, a in zip(names, arrays, strict=True)}


def load_inputs(graph: Graph, npz_path: str | Path) -> dict[str, np.ndarray[Any, Any]]:
    """Arrays of an `inputs.npz` (one per graph input, in graph order) keyed by graph input name."""
    return _load_npz(graph.input_names, npz_path, "input")


def load_outputs(graph: Graph, npz_path: str | Path) -> dict[str, np.ndarray[Any, Any]]:
    """Arrays of an `outputs.npz` (one per graph output, in graph order) keyed by graph output name."""
    return _load_npz(graph.output_names, npz_path, "output")


def infer_input_dtypes(arrays: Mapping[str, np.ndarray[Any, Any]]) -> dict[str, DType]:
    """The narrowest integer type holding each array's values (signed preferred on ties)."""
    out = {}
    for name, a in arrays.items():
        lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
        out[name] = DType.smallest_holding(lo, hi)
    return out


def load_model(
    path: str | Path | None = None, *, input_dtypes: Mapping[str, DType] | None = None, fuse: bool = True
) -> Graph:
    """Load an ONNX model (`.onnx`), a folder holding `network.onnx`, or a layer list (`.json`); no path:
    the bundled default.

    Graph inputs of ONNX files are declared FLOAT in the shared models; their integer type comes from
    `input_dtypes`, else from an `inputs.npz` beside the model (the shared-model layout), else int8.
    """
    if path is None:
        return default_model()
    p = Path(path)
    if p.is_dir():
        p = p / "network.onnx"
    if p.suffix == ".json":
        return load_layer_list(p)
    model, name = read_onnx(p)
    sample = p.with_name("inputs.npz")
    if input_dtypes is None and sample.is_file():
        input_dtypes = infer_input_dtypes(_load_npz(graph_input_names(model), sample, "input"))
    return import_onnx(model, name=name, source=str(p), input_dtypes=input_dtypes, fuse=fuse)


def reference_run(graph: Graph, inputs: Mapping[str, np.ndarray[Any, Any]]) -> dict[str, np.ndarray[Any, Any]]:
    """Bit-exact integer reference (numpy, int64): graph outputs in graph order."""
    from .reference import reference_run as _run

    return _run(graph, inputs)


def plan(
    graph: Graph,
    hw: HwSpec | str,
    *,
    l1: int | None = None,
    l2: int | None = None,
    double_buffer: bool = True,
    engine: str | None = None,
    **solver_options: Any,
) -> Plan:
    """Plan every node: engine, tiles, L1 buffers, DMA schedule, and the static L2/L3 memory map.

    `engine=None` lets the solver choose per node on a spec with an NPU; `"cluster"` forces cluster-only.

    Raises `InfeasibleBudget` when a budget cannot be met, naming the nodes and what they need.
    """
    from .planner.pipeline import plan_network
    from .solver import SolverOptions

    spec = load_hw(hw) if isinstance(hw, str) else hw
    return plan_network(
        graph, spec, l1=l1, l2=l2, double_buffer=double_buffer, engine=engine, options=SolverOptions(**solver_options)
    )


def plan_node(
    graph: Graph,
    node: str,
    hw: HwSpec | str,
    *,
    l1: int | None = None,
    double_buffer: bool = True,
    engine: str | None = None,
    **solver_options: Any,
) -> NodePlan:
    """Plan one layer alone (tiles, L1 buffers, DMA schedule, cycles): the backend call for a compiler
    that keeps its own graph and asks layer by layer."""
    from .planner.graph import plan_node as _plan_node
    from .solver import SolverOptions

    spec = load_hw(hw) if isinstance(hw, str) else hw
    return _plan_node(
        node, graph, spec, l1=l1, double_buffer=double_buffer, engine=engine, options=SolverOptions(**solver_options)
    )


def graph_from_layer_list(doc: Mapping[str, Any] | str) -> Graph:
    """A graph from a layer-list document (a dict or its JSON text; schema in `schemas/`)."""
    from .frontend.layer_list import LayerList
    from .frontend.layer_list import graph_from_layer_list as _build

    model = LayerList.model_validate_json(doc) if isinstance(doc, str) else LayerList.model_validate(doc)
    return _build(model, source=f"<layer list {model.name}>")


def validate(plan: Plan, graph: Graph, hw: HwSpec | str) -> list[Violation]:
    """Independent check of a plan against its graph and spec: the list of violations, empty if valid."""
    from .validator import validate as _validate

    return _validate(plan, graph, load_hw(hw) if isinstance(hw, str) else hw)


def allocate(
    buffers: Sequence[Buffer], capacity: int, strategy: str = "auto", time_limit: float | None = None, seed: int = 0
) -> AllocationResult:
    """Static offsets for buffers with lifetimes within a capacity (see `deeploy_tiler.alloc`)."""
    from .memory.alloc import allocate as _allocate

    return _allocate(buffers, capacity, strategy=strategy, time_limit=time_limit, seed=seed)


def emit(
    plan: Plan,
    graph: Graph,
    hw: HwSpec | str,
    out_dir: str | Path,
    *,
    inputs: Mapping[str, np.ndarray[Any, Any]] | None = None,
    expected: Mapping[str, np.ndarray[Any, Any]] | None = None,
) -> EmittedProject:
    """Write the plan as a self-contained C project (network, kernels, runtime, test main, Makefile)."""
    from .emitter import emit_project

    return emit_project(
        plan, graph, load_hw(hw) if isinstance(hw, str) else hw, out_dir, inputs=inputs, expected=expected
    )


def verify(
    plan: Plan,
    graph: Graph,
    hw: HwSpec | str,
    out_dir: str | Path,
    *,
    inputs: Mapping[str, np.ndarray[Any, Any]],
    expected: Mapping[str, np.ndarray[Any, Any]],
    targets: Sequence[Target] = ("host", "rv32"),
) -> Verification:
    """Emit, build and run the plan on each target; compare every output element with `expected`."""
    from .emitter import verify as _verify

    return _verify(
        plan,
        graph,
        load_hw(hw) if isinstance(hw, str) else hw,
        out_dir,
        inputs=inputs,
        expected=expected,
        targets=targets,
    )
