"""One node's tiling problem: candidate tile sizes, the cost model, the budget; the minimum L1 a node
needs (computed directly, no search) with the constraint that binds; and the provable early exit.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..cost.model import CostParams, NodeCostModel, build_cost_model
from ..cost.tilespace import TileSpace
from ..hw.spec import ComputeEngine
from ..ir import Graph, Node
from ..ops.engines import engine_policy
from ..ops.geometry import Follow, Full, Geometry, dim_tiles, tile_candidates
from ..ops.policy import KernelPolicy, WeightSource
from ..solver.problem import TilingProblem


@dataclass(frozen=True)
class NodeSetup:
    """A node's geometry, policy and problem, plus its directly computed L1 minimum."""

    node: str
    geometry: Geometry
    policy: KernelPolicy
    problem: TilingProblem
    min_l1: int  # L1 of the smallest legal tiles, single-buffered
    min_l1_exact: bool  # True when min_l1 is proven to be the least L1 of any choice
    preferred_dropped: bool  # the preferred multiples were dropped to meet the budget

    @property
    def fits(self) -> bool:
        return (
            self.min_l1 <= self.problem.budget
            if self.min_l1_exact
            else self.problem.model.l1_lower_bound() <= self.problem.budget
        )


def _legal(geom: Geometry, dim: int, tile: int) -> bool:
    """A tile size is legal when no tile's operand region is empty (a window entirely in the padding)."""
    tiles = dim_tiles(geom.out_shape[dim], tile)
    for op in geom.operands:
        for m, extent in zip(op.dims, op.shape, strict=True):
            if isinstance(m, Follow) and m.out_dim == dim and any(m.span(s, z, extent)[1] == 0 for s, z in tiles):
                return False
    return True


def tile_space(geom: Geometry, policy: KernelPolicy, *, preferred: bool) -> TileSpace:
    """Candidates per dimension: ceil(D / k) sizes that read no empty region, kept to the policy's hard
    `required_multiples` and, when `preferred`, its soft `preferred_multiples` (the whole dimension always)."""
    multiples = dict(policy.preferred_multiples) if preferred else {}
    required = dict(policy.required_multiples)
    cands: list[tuple[int, ...]] = []
    for d, extent in enumerate(geom.out_shape):
        if not geom.tileable(d):
            cands.append((extent,))
            continue
        m = multiples.get(d, 1)
        r = required.get(d, 1)
        cs = [t for t in tile_candidates(extent) if (t == extent or (t % m == 0 and t % r == 0)) and _legal(geom, d, t)]
        cands.append(tuple(cs) if cs and cs[0] == extent else (extent, *cs))
    return TileSpace(out_shape=geom.out_shape, candidates=tuple(cands))


def _min_l1(model: NodeCostModel) -> tuple[int, bool]:
    if model.l1_monotone():
        return model.evaluate(model.smallest()).l1_bytes, True
    return model.l1_lower_bound(), False


ModelMemo = dict[tuple[object, ...], tuple[NodeCostModel, int, bool]]


def _model(
    geom: Geometry,
    policy: KernelPolicy,
    engine: ComputeEngine,
    params: CostParams,
    preferred: bool,
    memo: ModelMemo | None,
) -> tuple[NodeCostModel, int, bool]:
    key = (geom.signature(), policy, engine.name, params, preferred)
    hit = memo.get(key) if memo is not None else None
    if hit is None:
        model = build_cost_model(geom, tile_space(geom, policy, preferred=preferred), policy, engine, params)
        hit = (model, *_min_l1(model))
        if memo is not None:
            memo[key] = hit
    return hit


def prepare(
    node: Node,
    graph: Graph,
    engine: ComputeEngine,
    params: CostParams,
    budget: int,
    double_buffer: bool,
    *,
    preferred: bool = True,
    memo: ModelMemo | None = None,
    weights: WeightSource | None = None,
) -> NodeSetup:
    """Geometry, policy, candidates and cost model of a node on `engine`; the preferred multiples are
    dropped when keeping them would make an otherwise feasible budget infeasible. `memo` shares the cost
    models of nodes with equal name-free signatures. On an accelerator, `weights` says where the weights
    are read from (default: its local level); a PlanError (NpuUnsupported) says why it cannot run the node."""
    geom, policy = engine_policy(node, graph, engine, params.l1_level, weights)
    dropped = False
    model, min_l1, exact = _model(geom, policy, engine, params, preferred, memo)
    if preferred and policy.preferred_multiples and min_l1 > budget:
        free, free_min, free_exact = _model(geom, policy, engine, params, False, memo)
        if free_min < min_l1:
            model, min_l1, exact, dropped = free, free_min, free_exact, True
    return NodeSetup(
        node=node.name,
        geometry=geom,
        policy=policy,
        problem=TilingProblem(model=model, budget=budget, double_buffer=double_buffer),
        min_l1=min_l1,
        min_l1_exact=exact,
        preferred_dropped=dropped,
    )


def binding_constraint(setup: NodeSetup) -> str:
    """Why a node cannot shrink below its minimum: the largest parts at the smallest legal tiles."""
    model, geom = setup.problem.model, setup.geometry
    choice = model.smallest()
    tile = "x".join(str(c[-1]) for c in model.space.candidates)
    parts: list[tuple[int, str]] = []
    names = [*(f"{op.role} {op.tensor}" for op in geom.operands), f"output {geom.output}"]
    maps = [*(op.dims for op in geom.operands), tuple(Follow(d) for d in range(geom.rank))]
    for b, name, dims in zip(model.buffers, names, maps, strict=True):
        size = model.slot_bytes(b).value(choice.tiles)
        reasons = sorted({m.reason for m in dims if isinstance(m, Full) and m.reason != "broadcast"})
        untiled = sorted({r for m in dims if isinstance(m, Follow) and (r := geom.untileable[m.out_dim])})
        why = "; ".join(reasons + untiled)
        parts.append((size, f"{name} {size} B" + (f" ({why})" if why else "")))
    if model.scratch_bytes:
        parts.append((model.scratch_bytes, f"{setup.policy.scratch_reason} = {model.scratch_bytes} B"))
    desc = len(model.buffers) * model.params.descriptor_slot_bytes
    parts.append((desc, f"DMA descriptors {desc} B"))
    parts.sort(key=lambda p: -p[0])
    shown = ", ".join(text for _, text in parts[:3])
    kind = "" if setup.min_l1_exact else "at least "
    return f"{geom.op_type} at its smallest legal tile {tile} needs {kind}{setup.min_l1} B: {shown}"
