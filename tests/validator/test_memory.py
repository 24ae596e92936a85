"""Whole-network memory checks: placements, overlaps in space and time, aliases, usage, the weight memory."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from deeploy_tiler.ir import Graph, Node, TensorKind
from deeploy_tiler.plan import LevelUsage, PlacedBuffer, Plan
from deeploy_tiler.validator.memory import disjoint_while_live

from .builders import (
    NPU_HW,
    K,
    alias_node,
    assert_clean,
    build_node,
    edit,
    graph_input,
    kinds,
    make_plan,
    make_tensor,
    with_node,
)
from .cases import conv1x1_passes, two_node


def test_memory_defects() -> None:
    graph, plan = two_node()
    mem = list(plan.memory)
    h = next(i for i, p in enumerate(mem) if p.tensor == "h")
    x = next(i for i, p in enumerate(mem) if p.tensor == "x")

    def with_mem(items: Sequence[PlacedBuffer]) -> Plan:
        return plan.model_copy(update={"memory": tuple(items)})

    assert kinds(with_mem(mem[:h] + mem[h + 1 :]), graph) == {K.MEMORY_MISSING}
    assert kinds(with_mem(edit(mem, h, offset=mem[x].offset)), graph) == {K.MEMORY_OVERLAP}
    # same addresses, disjoint lifetimes: fine (x is last read at t=1 by r1, y is born at t=2 by r2)
    y = next(i for i, p in enumerate(mem) if p.tensor == "y")
    reuse = edit(edit(mem, y, offset=mem[x].offset, start=2), x, end=2)
    assert kinds(with_mem(reuse), graph) == set()
    # h is written at t=1 while x is still read: no in-place sharing
    assert kinds(with_mem(edit(edit(mem, h, offset=mem[x].offset, start=1), x, end=2)), graph) == {K.MEMORY_OVERLAP}
    assert kinds(with_mem(edit(mem, h, size=15)), graph) == {K.MEMORY_SIZE}
    assert kinds(with_mem(edit(mem, h, offset=mem[h].offset + 2)), graph) >= {K.ALIGNMENT}
    assert kinds(with_mem(edit(mem, h, start=2, end=3)), graph) == {K.MEMORY_LIFETIME}  # r1 writes it at t=1
    assert kinds(with_mem(edit(mem, x, start=1)), graph) == {K.MEMORY_LIFETIME}  # graph input: from t=0
    assert K.MEMORY_LIFETIME in kinds(with_mem(edit(mem, h, start=3, end=3)), graph)
    assert kinds(with_mem(edit(mem, h, level="L3")), graph) == {K.HOME_LEVEL}
    far = edit(mem, h, offset=1_024_000)
    assert kinds(with_mem(far), graph) == {K.BUDGET}
    assert kinds(with_mem(edit(mem, h, offset=2_097_152)), graph) == {K.BUDGET, K.LEVEL_CAPACITY}
    assert kinds(with_mem(edit(mem, h, tensor="ghost")), graph) >= {K.UNKNOWN_TENSOR}
    usage = LevelUsage(level="L2", capacity=1_024_000, peak=4, lower_bound=0, strategy="hand")
    assert kinds(plan.model_copy(update={"levels": (usage,)}), graph) == {K.LEVEL_USAGE}
    assert kinds(plan.model_copy(update={"memory": (), "levels": (usage,)}), graph) == {K.MEMORY_MISSING}
    assert kinds(plan.model_copy(update={"memory": ()}), graph) == set()  # no memory plan claimed


def test_alias_placements() -> None:
    tensors = {
        "x": graph_input((2, 4)),
        "h": make_tensor("h", (8,)),
        "y": make_tensor("y", (8,), kind=TensorKind.OUTPUT),
    }
    nodes = (Node("flat", "Reshape", ("x",), ("h",), (("shape", (8,)),)), Node("r", "Relu", ("h",), ("y",)))
    graph = Graph("alias", tensors, nodes, ("x",), ("y",))
    plan = make_plan(
        graph, [alias_node(graph, nodes[0]), build_node(graph, nodes[1], [{"h": ((0, 8),), "y": ((0, 8),)}])]
    )
    assert_clean(plan, graph)
    mem = list(plan.memory)
    h = next(i for i, p in enumerate(mem) if p.tensor == "h")
    moved = plan.model_copy(update={"memory": edit(mem, h, offset=mem[h].offset + 64)})
    assert K.MEMORY_ALIAS in kinds(moved, graph)
    # without its alias entry, h is found through the root x
    assert_clean(plan.model_copy(update={"memory": tuple(mem[:h] + mem[h + 1 :])}), graph)
    busy = with_node(plan, 0, buffers=plan.nodes[1].buffers, l1_bytes=plan.nodes[1].l1_bytes)
    assert K.ALIAS in kinds(busy, graph)


def _in_wmem(plan: Plan, tensor: str, size: int | None = None) -> tuple[PlacedBuffer, ...]:
    return tuple(
        p.model_copy(update={"level": "WMEM", "offset": 0, **({"size": size} if size else {})})
        if p.tensor == tensor
        else p
        for p in plan.memory
    )


def test_npu_reads_weights_in_place_from_the_weight_memory() -> None:
    graph, tiles = conv1x1_passes()
    node = build_node(
        graph, graph.nodes[0], [{k: v for k, v in t.items() if k != "w"} for t in tiles], skip=("w",), engine="neureka"
    )
    plan = make_plan(graph, [node], hw=NPU_HW)
    packed = 64 * 32  # 64 output channels x one 32-input-channel block x one 32 B word
    wmem = _in_wmem(plan, "w", packed)
    assert_clean(plan.model_copy(update={"memory": wmem}), graph, NPU_HW)
    assert kinds(plan, graph, NPU_HW) == {K.MISSING_BUFFER}  # weights in L2: the NPU cannot read them there
    assert kinds(plan.model_copy(update={"memory": _in_wmem(plan, "w")}), graph, NPU_HW) == {K.MEMORY_SIZE}
    on_cluster = with_node(plan.model_copy(update={"memory": wmem}), engine="cluster")
    # the cluster cannot read WMEM, and nothing reads the weights there in place any more
    assert kinds(on_cluster, graph, NPU_HW) == {K.MISSING_BUFFER, K.NPU_RULE}
    x_in_wmem = tuple(p.model_copy(update={"level": "WMEM"}) if p.tensor == "x" else p for p in wmem)
    assert K.HOME_LEVEL in kinds(plan.model_copy(update={"memory": x_in_wmem}), graph, NPU_HW)
    over = tuple(
        p.model_copy(update={"size": NPU_HW.memory("WMEM").size_bytes + 32}) if p.tensor == "w" else p for p in wmem
    )
    assert {K.BUDGET, K.LEVEL_CAPACITY} <= kinds(plan.model_copy(update={"memory": over}), graph, NPU_HW)


@st.composite
def _placements(draw: st.DrawFn) -> list[PlacedBuffer]:
    out: list[PlacedBuffer] = []
    for i in range(draw(st.integers(0, 12))):
        start = draw(st.integers(0, 8))
        alias = draw(st.sampled_from([None, *(p.tensor for p in out if p.alias_of is None)]))
        root = next((p for p in out if p.tensor == alias), None)
        keep = root is not None and draw(st.integers(0, 4)) > 0  # mostly an alias sits on its root
        out.append(
            PlacedBuffer(
                tensor=f"t{i}",
                level="L2",
                offset=root.offset if keep and root else draw(st.integers(0, 16)),
                size=root.size if keep and root else draw(st.integers(0, 6)),
                start=root.start if keep and root else start,
                end=root.end if keep and root else draw(st.integers(start - 1, start + 5)),
                alias_of=alias,
            )
        )
    return out


@given(_placements())
@settings(max_examples=300, deadline=None)
def test_fast_overlap_decision_matches_the_pairwise_rule(group: list[PlacedBuffer]) -> None:
    """The n log n sweep says "disjoint" exactly when no pair of different families overlaps."""

    def family(p: PlacedBuffer) -> str:
        return p.alias_of or p.tensor

    clash = any(
        family(a) != family(b)
        and a.size
        and b.size
        and a.start < a.end
        and b.start < b.end
        and a.start < b.end
        and b.start < a.end
        and a.offset < b.offset + b.size
        and b.offset < a.offset + a.size
        for i, a in enumerate(group)
        for b in group[i + 1 :]
    )
    fast = disjoint_while_live(group)
    assert not (fast and clash)
    if not clash and all(
        (a.offset, a.size, a.start, a.end) == (b.offset, b.size, b.start, b.end)
        for a in group
        for b in group
        if family(a) == family(b) and a.size and b.size and a.start < a.end and b.start < b.end
    ):
        assert fast
