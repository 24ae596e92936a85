"""Zero-length tensors: a prefill decoder's empty past KV cache (a graph input with a 0 dimension).

An empty operand of a Concat contributes nothing, so it is dropped (a Concat left with one operand is a
copy); a node whose every output is empty computes nothing and is removed unless it writes a graph output.
Empty graph inputs stay inputs: they take zero bytes.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import ModelError
from ..ir import Node, Tensor, TensorKind


def prune_empty(nodes: list[Node], tensors: Mapping[str, Tensor], outputs: tuple[str, ...]) -> list[Node]:
    empty = {name for name, t in tensors.items() if t.numel == 0 and not t.is_constant}
    if not empty:
        return nodes
    kept: list[Node] = []
    for n in nodes:
        if all(t in empty for t in n.outputs) and not any(t in outputs for t in n.outputs):
            continue
        if n.op_type == "Concat" and any(t in empty for t in n.inputs):
            live = tuple(t for t in n.inputs if t not in empty)
            if live:
                n = Node(
                    name=n.name,
                    op_type=n.op_type,
                    inputs=live,
                    outputs=n.outputs,
                    attributes=n.attributes,
                    domain=n.domain,
                    requant=n.requant,
                    macs=n.macs,
                    fused_nodes=n.fused_nodes,
                )
        kept.append(n)
    _check_no_dangling(kept, tensors, empty)
    return kept


def _check_no_dangling(kept: list[Node], tensors: Mapping[str, Tensor], empty: set[str]) -> None:
    """A kept node (one writing a graph output) must not read an empty tensor whose producer was removed:
    its output is then computed from nothing, so the graph has nothing to plan."""
    produced = {t for n in kept for t in n.outputs}
    for n in kept:
        for t in n.inputs:
            if t in empty and tensors[t].kind is TensorKind.ACTIVATION and t not in produced:
                raise ModelError(
                    f"node {n.name}: input {t!r} has 0 elements (shape {tensors[t].shape}), so graph output "
                    f"{n.outputs[0]!r} is empty too; an empty graph output computes nothing and cannot be planned",
                    node=n.name,
                )
