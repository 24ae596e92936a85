"""Transfer checks: bytes, rows, slots, tensor / direction, buffer, DMA route and home level."""

from __future__ import annotations

from deeploy_tiler.validator import validate

from .builders import HW, K, edit, kinds, with_node
from .cases import conv_plan, two_node


def test_transfer_defects() -> None:
    graph, plan = conv_plan()
    n = plan.nodes[0]
    tr = n.transfers
    assert kinds(with_node(plan, transfers=edit(tr, 0, bytes=tr[0].bytes + 1), dma_bytes=n.dma_bytes + 1), graph) == {
        K.TRANSFER_BYTES
    }
    # x rows 0..4 of an 8x8 plane, 4 channels: 4 contiguous runs of 40 elements; 3 rows cannot be
    assert kinds(with_node(plan, transfers=edit(tr, 0, rows=3)), graph) == {K.TRANSFER_ROWS}
    assert kinds(with_node(plan, transfers=edit(tr, 0, rows=8)), graph) == set()  # 8 runs of 20: fine
    w = next(i for i, t in enumerate(tr) if t.tensor == "w")
    assert K.SLOT in kinds(with_node(plan, transfers=edit(tr, w, slot=1)), graph)
    assert K.TRANSFER_TENSOR in kinds(with_node(plan, transfers=edit(tr, 0, tensor="w")), graph)
    assert K.TRANSFER_TENSOR in kinds(with_node(plan, transfers=edit(tr, 0, direction="out")), graph)
    assert K.UNKNOWN_BUFFER in kinds(with_node(plan, transfers=edit(tr, 0, buffer="nope")), graph)
    # siracusa has no L3 <-> L1 DMA; the tensor also does not live in L3
    assert kinds(with_node(plan, transfers=edit(tr, 0, home_level="L3")), graph) == {K.DMA_ROUTE, K.HOME_LEVEL}
    assert kinds(with_node(plan, transfers=edit(tr, 0, home_level="L7")), graph) == {K.UNKNOWN_LEVEL}


def test_transfer_from_a_placement_not_alive_when_the_node_runs() -> None:
    """r2 runs at t = 2 and loads h from L2, but h's placement ends at t = 2 (half-open)."""
    graph, plan = two_node()
    mem = list(plan.memory)
    h = next(i for i, p in enumerate(mem) if p.tensor == "h")
    short = plan.model_copy(update={"memory": edit(mem, h, start=1, end=2)})
    found = validate(short, graph, HW)
    assert {(v.kind, v.node) for v in found} == {(K.MEMORY_LIFETIME, "r2")}
    assert "lives over [1, 2), the node runs at 2" in found[0].message
    assert kinds(plan.model_copy(update={"memory": edit(mem, h, start=1, end=3)}), graph) == set()
