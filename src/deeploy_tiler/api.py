"""The public surface: load a model and a spec, run the reference, plan, validate, allocate, emit.

Everything here is a thin, typed composition of the stages below it; the CLI calls only this.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import ValidationError

from .arguments import check_budget, check_choice, check_flag, check_instance, check_options, check_output_dir
from .errors import LayerListError, ModelError, OptionError, validation_summary
from .frontend import graph_input_names, import_onnx, load_layer_list, read_onnx
from .hw import HwSpec, load_hw
from .ir import DType, Graph
from .models import BUNDLED, DEFAULT_MODEL_NAME, bundled_inputs, bundled_model
from .plan import NodePlan, Plan
from .solver.options import EngineOptions, SolverOptions
from .units import MAX_BYTES

if TYPE_CHECKING:
    from .emitter import EmittedProject, Target, Verification
    from .memory.alloc import AllocationResult, Buffer
    from .validator import Violation

__all__ = [
    "EngineOptions",
    "OptionError",
    "SolverOptions",
    "allocate",
    "default_inputs",
    "default_model",
    "emit",
    "graph_from_layer_list",
    "infer_input_dtypes",
    "is_bundled_model",
    "load_hw",
    "load_inputs",
    "load_model",
    "load_outputs",
    "map_inputs",
    "onnxruntime_int8_is_exact",
    "onnxruntime_outputs",
    "plan",
    "plan_node",
    "reference_run",
    "sample_inputs",
    "validate",
    "verify",
]


def default_model(name: str = DEFAULT_MODEL_NAME) -> Graph:
    """A bundled network the package builds itself (default: a small integer decoder layer; see
    `deeploy_tiler.models.BUNDLED` for the others, e.g. `tinystories15m`, `llama_d128x8`)."""
    return import_onnx(bundled_model(name), name=name, source=f"<bundled {name}>")


def is_bundled_model(name: str | Path) -> bool:
    """True for the name of a bundled model that no file of that name shadows (what `load_model` builds)."""
    return str(name) in BUNDLED and not Path(name).exists()


def default_inputs(name: str = DEFAULT_MODEL_NAME) -> dict[str, np.ndarray[Any, Any]]:
    """The deterministic sample inputs of a bundled network."""
    return bundled_inputs(name)


def _load_npz(
    names: tuple[str, ...], npz_path: str | Path, what: str, *, keep_float: bool = False
) -> dict[str, np.ndarray[Any, Any]]:
    p = Path(npz_path)
    if not p.is_file():
        raise ModelError(f"{p}: no such {what} file", path=str(p))
    with np.load(p) as data:
        arrays = [np.asarray(data[k]) for k in data.files]
    if len(arrays) != len(names):
        raise ModelError(f"{p}: {len(arrays)} arrays for {len(names)} graph {what}s", path=str(p))
    return {name: a if keep_float else a.astype(np.int64) for name, a in zip(names, arrays, strict=True)}


def map_inputs(names: Sequence[str], npz_path: str | Path) -> tuple[dict[str, np.ndarray[Any, Any]], str]:
    """The arrays of an `inputs.npz` for graph inputs `names`, and the rule that matched them: "by name" when
    every graph input has an array of its name, else "by position" (the first len(names) arrays, in order).
    Extra arrays are ignored; too few raise `ModelError`."""
    p = Path(npz_path)
    if not p.is_file():
        raise ModelError(f"{p}: no such input file", path=str(p))
    with np.load(p) as data:
        files = list(data.files)
        if names and all(n in files for n in names):
            return {n: np.asarray(data[n]) for n in names}, "by name"
        if len(files) < len(names):
            raise ModelError(f"{p}: {len(files)} arrays for {len(names)} graph inputs", path=str(p))
        return {n: np.asarray(data[k]) for n, k in zip(names, files[: len(names)], strict=True)}, "by position"


def sample_inputs(path: str | Path, graph: Graph, *, seed: int = 0) -> tuple[dict[str, np.ndarray[Any, Any]], str]:
    """Inputs to run `graph` (loaded from the ONNX file `path`) with, and where they came from: the
    `inputs.npz` beside the model (float samples of a quantized model go through its edge QuantizeLinear),
    else seeded random values of each input's integer type (standard normal float32 values for float32
    inputs)."""
    from .frontend.ort_compare import quantize_inputs

    p = Path(path)
    sample = p.with_name("inputs.npz")
    if sample.is_file():
        arrays, rule = map_inputs(graph.input_names, sample)
        model, _ = read_onnx(p)
        mapped = {k: _public_array(graph, k, v) for k, v in quantize_inputs(model, arrays).items()}
        return mapped, f"{sample} matched to the graph inputs {rule}"
    rng = np.random.default_rng(seed)
    rand = {
        t.name: (
            rng.standard_normal(t.shape).astype(np.float32)  # a float32 graph: standard normal values
            if t.dtype.is_float
            else rng.integers(t.dtype.min, t.dtype.max + 1, t.shape)
        )
        for t in graph.inputs
    }
    return rand, f"no inputs.npz beside {p.name}: seeded random values of each input's type"


def onnxruntime_outputs(
    path: str | Path, graph: Graph, inputs: Mapping[str, np.ndarray[Any, Any]]
) -> dict[str, np.ndarray[Any, Any]]:
    """onnxruntime's outputs (CPU provider, default options) of the ONNX file `path` on the integer inputs the
    planned graph takes, keyed by the graph's output names (edge Q / DQ stripped as the importer does)."""
    from .frontend.ort_compare import ort_run

    model, _ = read_onnx(path)
    theirs = ort_run(model, inputs)
    return {name: _public_array(graph, name, theirs[name]) for name in graph.output_names}


def _public_array(graph: Graph, name: str, value: Any) -> np.ndarray[Any, Any]:
    """A tensor's values as the API hands them out: float32 for FLOAT32 tensors, else int64."""
    return np.asarray(value).astype(np.float32 if graph.tensor(name).dtype.is_float else np.int64)


def onnxruntime_int8_is_exact() -> bool:
    """Whether onnxruntime's int8 Conv / MatMul are exact on this machine (not on x86 without VNNI, where its
    u8 x s8 kernel adds product pairs in saturating int16); see `frontend.ort_compare`."""
    from .frontend.ort_compare import ort_int8_matmul_is_exact

    return ort_int8_matmul_is_exact()


def load_inputs(graph: Graph, npz_path: str | Path) -> dict[str, np.ndarray[Any, Any]]:
    """Arrays of an `inputs.npz` keyed by graph input name (see `map_inputs` for the matching rule)."""
    arrays, _ = map_inputs(graph.input_names, npz_path)
    return {k: _public_array(graph, k, v) for k, v in arrays.items()}


def load_outputs(graph: Graph, npz_path: str | Path) -> dict[str, np.ndarray[Any, Any]]:
    """Arrays of an `outputs.npz` (one per graph output, in graph order) keyed by graph output name."""
    arrays = _load_npz(graph.output_names, npz_path, "output", keep_float=True)
    return {k: _public_array(graph, k, v) for k, v in arrays.items()}


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
    """Load an ONNX model (`.onnx`), a folder holding `network.onnx`, a layer list (`.json`), or the name
    of a bundled model (`tinystories15m`, `llama_d128x8`, ...; a name no file has); no path: the bundled
    default.

    Graph inputs of ONNX files are declared FLOAT in the shared models; their integer type comes from
    `input_dtypes`, else from an `inputs.npz` beside the model (the shared-model layout), else int8.
    """
    if path is None:
        return default_model()
    check_instance(path, "path", str, Path)
    check_flag(fuse, "fuse")
    if is_bundled_model(path):
        return default_model(str(path))
    p = Path(path)
    if p.is_dir():
        p = p / "network.onnx"
    if p.suffix == ".json":
        return load_layer_list(p)
    model, name = read_onnx(p)
    sample = p.with_name("inputs.npz")
    if input_dtypes is None and sample.is_file():
        arrays, _ = map_inputs(graph_input_names(model), sample)
        integer = {k: v for k, v in arrays.items() if v.dtype.kind in "iub" or np.all(np.round(v) == v)}
        input_dtypes = infer_input_dtypes(integer)  # float samples of a quantized model: the importer decides
    return import_onnx(model, name=name, source=str(p), input_dtypes=input_dtypes, fuse=fuse)


def reference_run(graph: Graph, inputs: Mapping[str, np.ndarray[Any, Any]]) -> dict[str, np.ndarray[Any, Any]]:
    """Bit-exact integer reference (numpy, int64): graph outputs in graph order."""
    from .reference import reference_run as _run

    check_instance(graph, "graph", Graph)
    check_instance(inputs, "inputs", Mapping)
    return _run(graph, inputs)


def plan(
    graph: Graph,
    hw: HwSpec | str,
    *,
    l1: int | None = None,
    l2: int | None = None,
    double_buffer: bool = True,
    engine: str | None = None,
    options: SolverOptions | None = None,
    engine_options: EngineOptions | None = None,
    **solver_options: Any,
) -> Plan:
    """Plan every node: engine, tiles, L1 buffers, DMA schedule, and the static L2/L3 memory map.

    `engine=None` lets the solver choose per node on a spec with an NPU; `"cluster"` forces cluster-only.
    `options` tunes the per-node solves and `engine_options` the engine choice; loose keywords
    (`plan(g, hw, cache=False)`) replace fields of `options`, and an unknown one raises `OptionError`
    naming it and listing the valid ones.

    Raises `InfeasibleBudget` when a budget cannot be met, naming the nodes and what they need.
    """
    from .planner.pipeline import plan_network

    spec = _spec(hw)
    check_instance(graph, "graph", Graph)
    l1, l2 = check_budget(l1, "l1"), check_budget(l2, "l2")
    check_flag(double_buffer, "double_buffer")
    check_choice(engine, "engine", optional=True)
    return plan_network(
        graph,
        spec,
        l1=l1,
        l2=l2,
        double_buffer=double_buffer,
        engine=engine,
        options=_solver_options(options, solver_options),
        engine_options=engine_options,
    )


def plan_node(
    graph: Graph,
    node: str,
    hw: HwSpec | str,
    *,
    l1: int | None = None,
    double_buffer: bool = True,
    engine: str | None = None,
    options: SolverOptions | None = None,
    **solver_options: Any,
) -> NodePlan:
    """Plan one layer alone (tiles, L1 buffers, DMA schedule, cycles): the backend call for a compiler
    that keeps its own graph and asks layer by layer. `options` and loose keywords as in `plan`."""
    from .planner.graph import plan_node as _plan_node

    spec = _spec(hw)
    check_instance(graph, "graph", Graph)
    check_choice(node, "node")
    if node not in {n.name for n in graph.nodes}:
        raise ModelError(f"graph {graph.name!r} has no node {node!r}", node=node)
    l1 = check_budget(l1, "l1")
    check_flag(double_buffer, "double_buffer")
    check_choice(engine, "engine", optional=True)
    return _plan_node(
        node,
        graph,
        spec,
        l1=l1,
        double_buffer=double_buffer,
        engine=engine,
        options=_solver_options(options, solver_options),
    )


def graph_from_layer_list(doc: Mapping[str, Any] | str) -> Graph:
    """A graph from a layer-list document (a dict or its JSON text; schema in `schemas/`)."""
    from .frontend.layer_list import LayerList
    from .frontend.layer_list import graph_from_layer_list as _build

    if not isinstance(doc, str | Mapping):
        raise LayerListError(f"a layer list is a dict or its JSON text, got {type(doc).__name__}")
    try:
        model = LayerList.model_validate_json(doc) if isinstance(doc, str) else LayerList.model_validate(doc)
    except ValidationError as e:
        raise LayerListError(f"<layer list>: invalid layer list: {validation_summary(e)}") from None
    return _build(model, source=f"<layer list {model.name}>")


def validate(plan: Plan, graph: Graph, hw: HwSpec | str) -> list[Violation]:
    """Independent check of a plan against its graph and spec: the list of violations, empty if valid."""
    from .validator import validate as _validate

    spec = _spec(hw)
    _plan_and_graph(plan, graph)
    return _validate(plan, graph, spec)


def allocate(
    buffers: Sequence[Buffer], capacity: int, strategy: str = "auto", time_limit: float | None = None, seed: int = 0
) -> AllocationResult:
    """Static offsets for buffers with lifetimes within a capacity (see `deeploy_tiler.alloc`)."""
    from .arguments import check_int
    from .memory.alloc import allocate as _allocate

    check_int(capacity, "capacity", lo=1, hi=MAX_BYTES)
    check_choice(strategy, "strategy")
    check_int(seed, "seed", lo=0, hi=2**31 - 1)
    if time_limit is not None and (
        isinstance(time_limit, bool) or not isinstance(time_limit, int | float) or not 0 < time_limit < 1e9
    ):
        raise OptionError(f"time_limit must be a number of seconds in (0, 1e9), got {time_limit!r}", field="time_limit")
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

    spec = _spec(hw)
    _plan_and_graph(plan, graph)
    check_output_dir(out_dir, "out_dir")
    return emit_project(plan, graph, spec, out_dir, inputs=inputs, expected=expected)


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

    spec = _spec(hw)
    _plan_and_graph(plan, graph)
    check_output_dir(out_dir, "out_dir")
    return _verify(
        plan,
        graph,
        spec,
        out_dir,
        inputs=inputs,
        expected=expected,
        targets=targets,
    )


def _solver_options(options: SolverOptions | None, keywords: Mapping[str, Any]) -> SolverOptions:
    """`options` with the loose keywords replaced: an unknown keyword names the options class it belongs
    to; a known one is type- and range-checked at the door."""
    check_instance(options, "options", SolverOptions, type(None))
    known = {f.name for f in dataclasses.fields(SolverOptions)}
    unknown = {k: v for k, v in keywords.items() if k not in known}
    if unknown:
        SolverOptions.from_keywords(None, **unknown)  # raises the OptionError that names them
    check_options(SolverOptions, dict(keywords), "solver")  # types and ranges before any field is used
    return SolverOptions.from_keywords(options, **keywords)


def _spec(hw: Any) -> HwSpec:
    """A spec from the `hw` argument: a HwSpec, a bundled name, or a YAML path."""
    check_instance(hw, "hw", HwSpec, str, Path)
    return hw if isinstance(hw, HwSpec) else load_hw(hw)


def _plan_and_graph(plan: Any, graph: Any) -> None:
    check_instance(plan, "plan", Plan)
    check_instance(graph, "graph", Graph)
