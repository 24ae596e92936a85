"""The registry of kernel-policy builders by engine kind: what the planner calls to get a node's geometry
and policy on an engine, whatever the engine is. A second accelerator adds its builder here (and its
compute model to cost.tasks)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from ..errors import PlanError
from ..hw.spec import ComputeEngine
from ..ir import Graph, Node
from .builders import node_geometry
from .geometry import Geometry
from .npu import local_weight_source, npu_policy
from .policy import KernelPolicy, WeightSource, cluster_policy

__all__ = ["ENGINE_POLICIES", "PolicyBuilder", "engine_policy"]

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
