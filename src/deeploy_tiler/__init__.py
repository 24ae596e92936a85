"""deeploy_tiler: plan how an integer neural network runs on a heterogeneous RISC-V microcontroller.

import deeploy_tiler as dt
graph = dt.load_model("network.onnx")        # or dt.load_model() for the bundled default
hw = dt.load_hw("siracusa")
plan = dt.plan(graph, hw, l1=64_000)
assert dt.validate(plan, graph, hw) == []
"""

# Load the `validate` submodule before binding the function of the same name, so a later
# `import deeploy_tiler.validate` cannot replace `deeploy_tiler.validate` with the module.
from . import validator as _validator  # noqa: F401
from .api import (
    EngineOptions,
    OptionsError,
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
    "OptionsError",
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
