"""Report records of a plan: node rows, blocks, memory-map rectangles, the summary."""

from __future__ import annotations

import deeploy_tiler as dt
from deeploy_tiler.explore import plandata as pd


def test_short_names_drop_exporter_noise() -> None:
    assert pd.short_name("__QL_REPLACED__INTEGERIZE_PACT_LIN_PASS_1_MatMul") == "PACT_LIN_1_MatMul"
    assert pd.short_name("Conv_0") == "Conv_0"
    long = pd.short_name("x" * 40 + "_tail", width=12)
    assert long.startswith("\u2026") and long.endswith("_tail") and len(long) == 12


def test_node_rows_split_each_nodes_cycles(ml64: tuple[dt.Graph, dt.HwSpec, dt.Plan]) -> None:
    graph, hw, plan = ml64
    rows = pd.node_rows(plan, hw, graph)
    assert [r.name for r in rows] == [n.name for n in plan.nodes]
    for r, n in zip(rows, plan.nodes, strict=True):
        assert r.work + r.overhead == n.cycles.compute and r.work + r.overhead + r.exposed_dma == n.cycles.total
        assert r.overhead == (0 if n.alias_of else min(n.num_tiles * 100, n.cycles.compute))  # 100 per cluster call
    assert sum(r.macs or 0 for r in rows) == graph.total_macs
    no_spec = pd.node_rows(plan)
    assert all(r.overhead == 0 and r.work == r.total - r.exposed_dma for r in no_spec)


def test_blocks_follow_the_layers(ml64: tuple[dt.Graph, dt.HwSpec, dt.Plan]) -> None:
    _, _, plan = ml64
    blocks = list(pd.node_blocks(plan).values())
    assert list(dict.fromkeys(blocks)) == [f"layers.{k}" for k in range(8)]  # each layer one run, in order


def test_cnn_blocks_are_its_stages(mnv2: tuple[dt.Graph, dt.HwSpec, dt.Plan]) -> None:
    _, _, plan = mnv2
    assert list(dict.fromkeys(pd.node_blocks(plan).values())) == [
        "prologue",
        "net.0.net.0",
        "net.0.net.1",
        "net.0.net.2",
    ]


def test_memory_rects_cover_every_buffer(ml64: tuple[dt.Graph, dt.HwSpec, dt.Plan]) -> None:
    graph, _, plan = ml64
    l1 = pd.memory_rects(plan, "L1", graph)
    assert len(l1) == sum(len(n.buffers) for n in plan.nodes)
    assert sum(r.size for r in l1) == sum(b.bytes for n in plan.nodes for b in n.buffers)
    l2 = pd.memory_rects(plan, "L2", graph)
    placed = [b for b in plan.memory if b.level == "L2" and b.alias_of is None]
    weights = {t.name for t in graph.constants}
    assert [r for r in l2 if r.kind != "weights"] and all(r.label not in weights for r in l2 if r.kind != "weights")
    others = sorted((b.tensor, b.offset, b.size) for b in placed if b.tensor not in weights)
    assert sorted((r.label, r.offset, r.size) for r in l2 if r.kind != "weights") == others
    blocks = [r for r in l2 if r.kind == "weights"]
    resident = [b for b in placed if b.tensor in weights]
    assert len(blocks) < len(resident) / 2  # 200+ constants read as a few dozen blocks
    assert sum(r.size for r in blocks) >= sum(b.size for b in resident)  # padding between them included
    for r in blocks:  # no block hides an activation: nothing else overlaps it in time and address
        for o in l2:
            if o is not r and o.kind != "weights" and o.x0 < r.x1 and r.x0 < o.x1:
                assert o.offset >= r.offset + r.size or o.offset + o.size <= r.offset


def test_plan_facts_summarise(ml64: tuple[dt.Graph, dt.HwSpec, dt.Plan]) -> None:
    graph, hw, plan = ml64
    rows = pd.node_rows(plan, hw, graph)
    facts = pd.plan_facts(plan, rows, hw, tokens_per_step=1)
    assert facts.work + facts.overhead + facts.exposed_dma == plan.total_cycles
    assert facts.latency_s == plan.total_cycles / hw.clock_hz and facts.tokens_per_s == 1 / facts.latency_s
    assert facts.l1_peak == max(n.l1_bytes for n in plan.nodes) and facts.engines == {"cluster": facts.nodes}
    assert facts.top_nodes[0][1] == max(n.cycles.total for n in plan.nodes)
