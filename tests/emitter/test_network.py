"""emitter/network.py: DMA descriptors, node functions and the queue size, on the bundled default plan."""

from __future__ import annotations

import functools
import math
import re

import pytest

from deeploy_tiler import api
from deeploy_tiler.emitter.layout import plan_layout
from deeploy_tiler.emitter.network import NetworkEmitter
from deeploy_tiler.errors import EmitError
from deeploy_tiler.hw import load_hw
from deeploy_tiler.ir import Graph
from deeploy_tiler.plan import Plan


@functools.cache
def _default() -> tuple[Graph, Plan]:
    graph = api.load_model()
    return graph, api.plan(graph, "siracusa")


def _emitter() -> NetworkEmitter:
    graph, plan = _default()
    hw = load_hw("siracusa")
    return NetworkEmitter(plan, graph, hw, plan_layout(plan, graph, hw))


def test_dma_descriptors_move_exactly_the_region() -> None:
    em = _emitter()
    graph, plan = _default()
    checked = 0
    for np_ in plan.nodes:
        bufs = {b.name: b for b in np_.buffers}
        for tr in np_.transfers:
            (kind, dst, src), ints = em.dma_record(np_, tr, bufs)
            ref, dst_off, src_off, row = ints[:4]
            counts = ints[4:7] if kind == "start" else (1, 1, 1)  # start1: one contiguous run
            assert kind in ("start", "start1") and ref == tr.id
            t = graph.tensor(tr.tensor)
            assert row * math.prod(counts) == math.prod(n for _, n in tr.region) * t.dtype.itemsize
            buf = bufs[tr.buffer]
            l1_side = (dst, dst_off) if tr.direction == "in" else (src, src_off)
            assert l1_side == (f"dt_arena_{buf.level}", buf.offset + tr.slot * buf.slot_bytes)
            checked += 1
    assert checked > 10


def test_transfer_into_an_unknown_buffer_raises() -> None:
    em = _emitter()
    _, plan = _default()
    np_ = next(n for n in plan.nodes if n.transfers)
    with pytest.raises(EmitError, match="unknown buffer"):
        em.dma_record(np_, np_.transfers[0], {})
    buf = np_.buffers[0]
    with pytest.raises(EmitError, match="slot 1 of a buffer with 1 copies"):
        em.slot_ptr(buf.model_copy(update={"copies": 1}), 1)


def test_nodes_become_functions_and_the_queue_covers_the_plan() -> None:
    em = _emitter()
    graph, plan = _default()
    for i, (node, np_) in enumerate(zip(graph.nodes, plan.nodes, strict=True)):
        em.emit_node(i, node, np_)
    text = "\n".join(em.out)
    assert [info.c_name for info in em.infos] == [f"dt_node_{i}" for i in range(len(graph.nodes))]
    for i, node in enumerate(graph.nodes):
        if node.is_alias:
            copies = node.outputs[0] in em.layout.alias_copies  # an alias the plan placed apart
            head = f"static int32_t dt_node_{i}(void) {{ " + ("/* alias placed apart" if copies else "return 0;")
            assert head in text
            assert em.infos[i].tiles == 0
        else:
            assert f"static int32_t dt_node_{i}(void) {{\n" in text
            records, written = em.folded[i]
            assert records == len(plan.nodes[i].events) + em.infos[i].num_calls
            assert 0 < written <= records
    in_flight = worst = 0
    for np_ in plan.nodes:
        for e in np_.events:
            in_flight += {"dma_start": 1, "dma_wait": -1}.get(e.kind, 0)
            worst = max(worst, in_flight)
    assert em.max_pending == worst > 0
    called = set(re.findall(r"dt_cluster_fork\((dt_\w+), &a\)", text)) - {"dt_gather"}  # gather: no template
    assert set(em.instances) == called
