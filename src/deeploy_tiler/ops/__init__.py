"""Operator geometry (loop dims, access maps), kernel policy, and tile-space counting."""

from .builders import node_geometry
from .geometry import Follow, Full, Geometry, OperandMap, dim_tiles, tile_candidates
from .policy import KernelPolicy, cluster_policy

__all__ = [
    "Follow",
    "Full",
    "Geometry",
    "KernelPolicy",
    "OperandMap",
    "cluster_policy",
    "dim_tiles",
    "node_geometry",
    "tile_candidates",
]
