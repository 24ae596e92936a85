"""emitter.untiled: one tile per node with every operand in L1, accepted by the independent validator."""

from __future__ import annotations

from deeploy_tiler import api
from deeploy_tiler.emitter.untiled import untiled_plan
from deeploy_tiler.hw import load_hw

HW = load_hw("siracusa")


def test_one_tile_per_node_and_the_validator_accepts_it() -> None:
    graph = api.default_model()
    plan = untiled_plan(graph, HW)
    assert [n.name for n in plan.nodes] == [n.name for n in graph.nodes]
    assert all(n.num_tiles == 1 for n in plan.nodes) and not plan.memory
    assert api.validate(plan, graph, HW) == []
    peak = max(n.l1_bytes for n in plan.nodes)
    assert plan.budgets["L1"] == peak


def test_each_buffer_holds_its_whole_tensor_aligned() -> None:
    graph = api.default_model()
    plan = untiled_plan(graph, HW)
    align = HW.memory("L1").alignment_bytes
    for n in plan.nodes:
        if n.alias_of is not None:
            assert n.l1_bytes == 0 and not n.buffers
            continue
        end = 0
        for b in n.buffers:
            assert b.copies == 1 and b.offset % align == 0 and b.offset >= end
            if b.tensor is not None:
                t = graph.tensor(b.tensor)
                assert b.tile_shape == t.shape and b.slot_bytes >= t.nbytes
            end = b.offset + b.slot_bytes * b.copies
        assert n.l1_bytes >= end
        assert sum(1 for e in n.events if e.kind == "compute") == 1
