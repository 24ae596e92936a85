"""The registries by engine kind: kernel-policy builders (what the planner calls to get a node's geometry
and policy on an engine, whatever the engine is) and packed-weight sizes (what the memory plan falls back
on for a plan read back without the tiling stage's record). A second accelerator adds its entries here
(and its compute model to cost.tasks)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from ..errors import PlanError
from ..hw.spec import ComputeEngine
from ..ir import Graph, Node
from .builders import node_geometry
from .geometry import Geometry
from .npu import NpuUnsupported, local_weight_source, npu_policy, npu_weight_bytes
from .policy import KernelPolicy, WeightSource, cluster_policy

__all__ = ["ENGINE_POLICIES", "PACKED_WEIGHTS", "PolicyBuilder", "engine_policy", "packed_weight_bytes"]

# (node, graph, geometry, engine, local level name, weight source or None) -> (geometry, policy)
PolicyBuilder = Callable[
    [Node, Graph, Geometry, ComputeEngine, str, WeightSource | None], tuple[Geometry, KernelPolicy]
]


def _cluster(
    node: Node, graph: Graph, geom: Geometry, engine: ComputeEngine, local: str, weights: WeightSource | None
) -> tuple[Geometry, KernelPolicy]:
    return geom, cluster_policy(node, graph, geom, engine)


def _npu(
    node: Node, graph: Graph, geom: Geometry, engine: ComputeEngine, local: str, weights: WeightSource | None
) -> tuple[Geometry, KernelPolicy]:
    return npu_policy(node, graph, geom, engine, weights or local_weight_source(local))


ENGINE_POLICIES: Mapping[str, PolicyBuilder] = MappingProxyType({"cluster": _cluster, "npu": _npu})


def engine_policy(
    node: Node, graph: Graph, engine: ComputeEngine, local: str, weights: WeightSource | None = None
) -> tuple[Geometry, KernelPolicy]:
    """The node's geometry and kernel policy on `engine` (whose local level is `local`); `weights` says
    where an accelerator reads the weights from (None: its local level). PlanError when it cannot run it."""
    builder = ENGINE_POLICIES.get(engine.kind)
    if builder is None:
        raise PlanError(f"engine {engine.name}: no kernel policy for engines of kind {engine.kind!r}")
    return builder(node, graph, node_geometry(node, graph), engine, local, weights)


# Engine kinds whose weights live in the engine's own layout: (node, graph, engine) -> packed bytes, raising
# a PlanError when the engine cannot run the node. Must agree with the task model's packed_weight_bytes.
PACKED_WEIGHTS: Mapping[str, Callable[[Node, Graph, ComputeEngine], int]] = MappingProxyType({"npu": npu_weight_bytes})


def packed_weight_bytes(node: Node, graph: Graph, engine: ComputeEngine) -> int | None:
    """Bytes of the node's weights in `engine`'s own layout; None when the engine keeps plain tensors or
    cannot run the node. The planner records the task model's number; this re-derives it for plans
    read back without that record."""
    size = PACKED_WEIGHTS.get(engine.kind)
    if size is None:
        return None
    try:
        return size(node, graph, engine)
    except NpuUnsupported:
        return None
