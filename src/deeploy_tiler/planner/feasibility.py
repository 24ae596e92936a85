"""Cheap feasibility before any tile grid, CP-SAT model or schedule is built.

Activations live in the home level (L2) between nodes, and a node's inputs and outputs live there at the
same time; their bytes are a lower bound that no plan can beat. A graph whose bound exceeds the budget
is answered at once with an `InfeasibleBudget`, so the structures the planner builds afterwards are
bounded by the budgets rather than by tensor sizes (a 1e11-byte activation is an answer in
milliseconds, not a tile grid of billions of tiles).
"""

from __future__ import annotations

from ..errors import InfeasibleBudget
from ..ir import Graph

__all__ = ["MAX_TILES_PER_NODE", "check_activations_fit", "check_tile_counts"]

# Output tiles partition a node's output and each fits the L1 budget, so a node needs at least
# ceil(output bytes / L1 budget) tiles. Beyond this many the schedule alone would take gigabytes.
MAX_TILES_PER_NODE = 100_000


def check_activations_fit(graph: Graph, level: str, budget: int, *, nodes: tuple[str, ...] | None = None) -> None:
    """Raise InfeasibleBudget naming every node (of `nodes`, default all) whose distinct non-constant
    inputs and outputs together exceed `budget` bytes of `level`."""
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
