"""Cheap feasibility before any tile grid, CP-SAT model or schedule is built: one early answer per memory
level, from the graph and the spec alone.

* L1 (`check_tile_counts`): a node needing more than `MAX_TILES_PER_NODE` tiles is refused, so the
  structures built afterwards are bounded by the budgets rather than by tensor sizes.
* L2 and L3 (`check_memory_levels`, one check): the least L2 any plan needs is, at every step, the
  activations live then, plus the whole read-only operands and streamable graph inputs / outputs of the
  node running then (each staged from L3 just for it; tiling a tensor at L2 is not planned), plus the
  small constants that stay resident. Without an L3 every DMA-read constant is resident all run. This
  dominates the per-node bound (a node's own activations live together in L2, which stays true with L3:
  a streamed KV cache is staged whole for its reader), so the answer names the step, its node and the
  parts, and every node whose own activations alone exceed the budget. A budget the residency solve
  could meet by streaming is never refused here. Below the all-resident requirement, whatever is live
  and not in L2 is in L3, so L3 must hold at least the difference at the worst step: a part whose L3 is
  too small for that is refused too.

`check_activations_fit` is the per-node bound alone (`dt.plan_node` plans one node: no whole-run profile).
A 1e11-byte activation is an answer in milliseconds, not a tile grid of billions of tiles.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InfeasibleBudget
from ..hw.spec import HwSpec
from ..hw.target import target_of
from ..ir import Graph
from ..memory.network import network_buffers
from ..solver.residency import MIN_STREAM_BYTES

__all__ = [
    "MAX_TILES_PER_NODE",
    "MemoryRequirement",
    "check_activations_fit",
    "check_memory_levels",
    "check_tile_counts",
    "memory_requirement",
]

# Output tiles partition a node's output and each fits the L1 budget, so a node needs at least
# ceil(output bytes / L1 budget) tiles. Beyond this many the schedule alone would take gigabytes.
MAX_TILES_PER_NODE = 100_000


def _activation_needs(
    graph: Graph, level: str, budget: int, nodes: tuple[str, ...] | None
) -> list[tuple[str, int, str]]:
    """(node, bytes, why) of every node (of `nodes`, default all) whose distinct non-constant inputs and
    outputs together exceed `budget`."""
    root: dict[str, str] = {}

    def find(t: str) -> str:
        while t in root:
            t = root[t]
        return t

    needs = []
    for node in graph.nodes:
        if node.is_alias and node.inputs and not graph.tensors[node.inputs[0]].is_constant:
            root[node.outputs[0]] = find(node.inputs[0])  # one buffer serves the whole alias chain
            continue
        if node.is_alias or (nodes is not None and node.name not in nodes):
            continue
        live = {find(t): graph.tensors[t].nbytes for t in (*node.inputs, *node.outputs) if t}
        live = {r: b for r, b in live.items() if not graph.tensors[r].is_constant}
        need = sum(live.values())
        if need > budget:
            needs.append((node.name, need, f"its {len(live)} activation tensors live in {level} together"))
    return needs


def check_activations_fit(graph: Graph, level: str, budget: int, *, nodes: tuple[str, ...] | None = None) -> None:
    """Raise InfeasibleBudget naming every node (of `nodes`, default all) whose distinct non-constant
    inputs and outputs together exceed `budget` bytes of `level`."""
    needs = _activation_needs(graph, level, budget, nodes)
    if needs:
        raise InfeasibleBudget(level, budget, needs)


def check_tile_counts(graph: Graph, level: str, l1_budget: int, *, nodes: tuple[str, ...] | None = None) -> None:
    """Raise InfeasibleBudget for every node (of `nodes`, default all) that needs more than
    `MAX_TILES_PER_NODE` tiles at this L1 budget, stating the L1 that keeps it within the bound."""
    if l1_budget <= 0:
        return
    needs = []
    for node in graph.nodes:
        if node.is_alias or (nodes is not None and node.name not in nodes):
            continue
        out_bytes = sum(graph.tensors[t].nbytes for t in node.outputs if t)
        if -(-out_bytes // l1_budget) > MAX_TILES_PER_NODE:
            need = -(-out_bytes // MAX_TILES_PER_NODE)
            needs.append((node.name, need, f"{out_bytes} B of output in at most {MAX_TILES_PER_NODE} tiles"))
    if needs:
        raise InfeasibleBudget(level, l1_budget, needs)


# --- the whole-run requirement of the home level (L2) and its backing level (L3) ----------------------------


@dataclass(frozen=True)
class MemoryRequirement:
    """The least L2 any plan needs and its parts at the binding step, and the all-resident profile.

    `required` = `activations` + `staged` + `resident` at `step` (node `node` runs then). `all_resident[t]`
    is every buffer live at step t kept in L2 (unaligned bytes), `all_resident_peak` its L2-aligned peak:
    at and above it nothing needs to stream. `backing` is the level streamed from (None: no L3)."""

    home: str
    backing: str | None
    required: int
    step: int
    node: str
    activations: int
    staged: int
    resident: int
    all_resident_peak: int
    all_resident: tuple[int, ...]

    def parts(self) -> str:
        if self.backing is None:
            return (
                f"{self.resident} B of constants resident all run (the spec has no L3 to stream from) "
                f"plus {self.activations} B of activations live at step {self.step}"
            )
        return (
            f"at step {self.step}: {self.activations} B of activations live, {self.staged} B of read-only "
            f"operands staged whole from {self.backing} for the nodes reading them (tiling a tensor at "
            f"{self.home} is not planned), {self.resident} B of small constants resident; everything resident "
            f"needs {self.all_resident_peak} B"
        )

    def backing_need(self, budget: int) -> tuple[int, int]:
        """(least bytes the backing level holds at an L2 `budget`, the step where): what is live then and
        does not fit L2."""
        at = max(range(len(self.all_resident)), key=lambda t: (self.all_resident[t], -t))
        return max(0, self.all_resident[at] - budget), at


def _weights_in_place_possible(hw: HwSpec, op_type: str) -> bool:
    weights_only = {m.name for m in hw.memories if m.weights_only}
    return any(e.supports(op_type) and set(e.reads_levels) & weights_only for e in hw.engines)


def _align(n: int, a: int) -> int:
    return -(-n // a) * a


def memory_requirement(graph: Graph, hw: HwSpec) -> MemoryRequirement:
    """The whole-run requirement (module docstring); one pass over the graph.

    With an L3, the least live profile is every streamable tensor staged over just its readers' steps
    (a constant or graph input of at least `MIN_STREAM_BYTES`, read by non-alias nodes; a smaller one
    stays resident, as the residency solve keeps it); without one, every constant is resident all run."""
    target = target_of(hw)
    home = target.home.name
    backing = target.backing
    if backing is not None and not any(d.connects(backing.name, home) for d in hw.dmas):
        backing = None
    has_l3 = backing is not None
    a = hw.memory(home).alignment_bytes
    n = len(graph.nodes)
    readers: dict[str, list[int]] = {}
    for i, node in enumerate(graph.nodes):
        for name in dict.fromkeys(x for x in node.inputs if x):
            readers.setdefault(name, []).append(-1 if node.is_alias else i + 1)
    outputs = set(graph.output_names)
    live = [0] * (n + 2)
    staged = [0] * (n + 2)
    everything = [0] * (n + 2)  # all resident, aligned
    raw = [0] * (n + 2)  # all resident, unaligned (what L2 + L3 hold together)
    resident = 0
    for b in network_buffers(graph):
        steps = readers.get(b.root, [])
        size = _align(b.size, a)
        if b.constant:
            op_types = {graph.nodes[s - 1].op_type for s in steps if s > 0}
            if any(_weights_in_place_possible(hw, op) for op in op_types):
                continue  # maybe read in place from a weight memory: no L2 at all (a lower bound)
        span = range(0, n + 2) if b.constant else range(b.start, min(b.end, n + 2))
        for t in span:
            everything[t] += size
            raw[t] += b.size
        streamable = (
            has_l3
            and steps
            and -1 not in steps
            and b.size >= MIN_STREAM_BYTES
            and (b.constant or (b.root in graph.input_names and len(b.members) == 1 and b.root not in outputs))
        )
        out_streamable = (
            has_l3
            and -1 not in steps
            and b.size >= MIN_STREAM_BYTES
            and not b.constant
            and b.root in outputs
            and b.root not in graph.input_names
            and len(b.members) == 1
        )
        if out_streamable:  # from its producer to its copy back, right before the node after its last use
            for t in range(b.start, min(max([b.start, *steps]) + 2, n + 2)):
                staged[t] += size
        elif streamable:
            for t in range(min(steps), max(steps) + 1):
                staged[t] += size
        elif b.constant:
            resident += size
        else:
            for t in span:
                live[t] += size
    need = [live[t] + staged[t] + resident for t in range(n + 2)]
    at = max(range(n + 2), key=lambda t: (need[t], -t))
    return MemoryRequirement(
        home=home,
        backing=backing.name if backing is not None else None,
        required=need[at],
        step=at,
        node=graph.nodes[min(max(at - 1, 0), n - 1)].name if n else "",
        activations=live[at],
        staged=staged[at],
        resident=resident,
        all_resident_peak=max(everything, default=0),
        all_resident=tuple(raw),
    )


def check_memory_levels(graph: Graph, hw: HwSpec, l2_budget: int) -> MemoryRequirement:
    """The one early memory check (module docstring): raise `InfeasibleBudget` for the home level (L2) when
    no plan fits `l2_budget`, naming the binding step with the total and its parts and every node whose own
    activations exceed the budget; then for the backing level (L3) when what cannot stay in L2 does not fit
    its usable bytes. Returns the requirement when the budget may plan."""
    req = memory_requirement(graph, hw)
    if req.required > l2_budget:
        per_node = [x for x in _activation_needs(graph, req.home, l2_budget, None) if x[0] != req.node]
        raise InfeasibleBudget(req.home, l2_budget, [(req.node, req.required, req.parts()), *per_node])
    if req.backing is not None:
        need, at = req.backing_need(l2_budget)
        usable = hw.memory(req.backing).usable_bytes
        if need > usable:
            where = graph.nodes[min(max(at - 1, 0), len(graph.nodes) - 1)].name
            why = (
                f"at step {at}: {req.all_resident[at]} B live (weights, caches, activations) of which at most "
                f"{l2_budget} B fit the {req.home} budget; the rest has its home in {req.backing}"
            )
            raise InfeasibleBudget(req.backing, usable, [(where, need, why)])
    return req
