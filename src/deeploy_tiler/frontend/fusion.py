"""Fuse each RequantShift into the accumulating operator that feeds it: kernels apply the
requantization on the int32 accumulator, so the int32 tensor between them never exists in memory."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from ..ir import Node, Requant, Tensor, TensorKind

FUSABLE = frozenset({"Conv", "Gemm", "MatMul", "Add", "Sub", "Mul"})


def fuse_requant(
    nodes: list[Node], tensors: Mapping[str, Tensor], output_names: tuple[str, ...]
) -> tuple[list[Node], dict[str, Tensor]]:
    uses = Counter(t for n in nodes for t in n.inputs)
    producer_index = {t: i for i, n in enumerate(nodes) for t in n.outputs}
    result: list[Node | None] = list(nodes)
    kept_tensors = dict(tensors)
    for i, rq in enumerate(nodes):
        if rq.op_type not in ("RequantShift", "RequantFloat"):
            continue
        x, mul, add = rq.inputs[0], rq.inputs[1], rq.inputs[2]
        j = producer_index.get(x)
        if j is None:
            continue
        prod = result[j]
        if (
            prod is None
            or prod.op_type not in FUSABLE
            or prod.requant is not None
            or uses[x] != 1
            or x in output_names
            or not tensors[mul].is_constant
            or not tensors[add].is_constant
        ):
            continue
        is_float = rq.op_type == "RequantFloat"
        requant = Requant(
            mul=mul,
            add=add,
            div=1 if is_float else int(rq.attr("div")),
            n_levels=int(rq.attr("n_levels_out")),
            signed=bool(rq.attr("signed", 1)),
            source_node=rq.name,
            mode=("float_zp" if int(rq.attr("zp_in_float", 0)) else "float") if is_float else "shift",
            clamp=(int(rq.attr("lo")), int(rq.attr("hi"))) if is_float else None,
        )
        result[j] = Node(
            name=prod.name,
            op_type=prod.op_type,
            inputs=(*prod.inputs, mul, add),
            outputs=rq.outputs,
            attributes=prod.attributes,
            domain=prod.domain,
            requant=requant,
            macs=prod.macs,
            fused_nodes=(*(prod.fused_nodes or (prod.name,)), rq.name),
        )
        result[i] = None
        del kept_tensors[x]
    fused = [n for n in result if n is not None]
    assert all(t.kind is not TensorKind.ACTIVATION or t.name in producer_index for t in kept_tensors.values())
    return fused, kept_tensors
