"""deeploy_tiler: plan how an integer neural network runs on a heterogeneous RISC-V microcontroller.

import deeploy_tiler as dt
graph = dt.load_model("network.onnx")        # or dt.load_model() for the bundled default
hw = dt.load_hw("siracusa")
plan = dt.plan(graph, hw, l1=64_000)
assert dt.validate(plan, graph, hw) == []
"""

# No subpackage shares a name with a public function (validator/, emitter/), so importing any of them
# never rebinds `dt.validate` or `dt.emit`. The `plan` module is loaded by `api` before `plan` the
# function is bound here, so it cannot replace it either.
from .api import (
    EngineOptions,
    SolverOptions,
    allocate,
    default_inputs,
    default_model,
    emit,
    graph_from_layer_list,
    infer_input_dtypes,
    load_hw,
    load_inputs,
    load_model,
    load_outputs,
    plan,
    plan_node,
    reference_run,
    validate,
    verify,
)
from .errors import (
    AllocationError,
    DeeployTilerError,
    EmitError,
    HwSpecError,
    InfeasibleBudget,
    LayerListError,
    ModelError,
    OptionError,
    PlanError,
    ShapeError,
    UnsupportedOperatorError,
)
from .hw.spec import HwSpec
from .ir import DType, Graph, Node, Tensor, TensorKind
from .plan import Plan

__version__ = "0.1.0"

__all__ = [
    "AllocationError",
    "DType",
    "DeeployTilerError",
    "EmitError",
    "EngineOptions",
    "Graph",
    "HwSpec",
    "HwSpecError",
    "InfeasibleBudget",
    "LayerListError",
    "ModelError",
    "Node",
    "OptionError",
    "Plan",
    "PlanError",
    "ShapeError",
    "SolverOptions",
    "Tensor",
    "TensorKind",
    "UnsupportedOperatorError",
    "__version__",
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
