"""emitter.layout: homes of every tensor for a full plan (constant bytes cut out of the arena) and for a
plan without memory (own sequential slots), checked against the plan and an independent recomputation."""

from __future__ import annotations

import itertools

import pytest

from deeploy_tiler import api
from deeploy_tiler.emitter.layout import const_symbol, home_level_name, plan_layout
from deeploy_tiler.errors import EmitError
from deeploy_tiler.hw import load_hw
from deeploy_tiler.planner.pipeline import tile_network
from deeploy_tiler.units import align_up

HW = load_hw("siracusa")


def test_home_level_name() -> None:
    assert home_level_name(HW) == "L2"
    one = HW.model_copy(update={"memories": HW.memories[:1]})
    with pytest.raises(EmitError, match=r"hw spec siracusa has no level beyond L1 to hold whole tensors"):
        home_level_name(one)
    assert const_symbol(3) == "dt_c3"


def test_full_plan_offsets_are_plan_offsets_minus_constant_bytes_below() -> None:
    graph = api.default_model()
    plan = api.plan(graph, HW, l1=32768)
    layout = plan_layout(plan, graph, HW)
    assert layout.source == "plan"
    const_blocks = {}
    for pb in plan.memory:
        if graph.tensors[pb.tensor].is_constant and pb.alias_of is None:
            a = HW.memory(pb.level).alignment_bytes
            const_blocks.setdefault(pb.level, set()).update(range(pb.offset, align_up(pb.offset + pb.size, a)))
    for pb in plan.memory:
        t = graph.tensors[pb.tensor]
        home = layout.homes[pb.tensor]
        if t.is_constant:
            assert home.const and home.symbol.startswith("dt_c") and home.offset == 0
            continue
        below = sum(1 for b in const_blocks.get(pb.level, ()) if b < pb.offset)
        if pb.alias_of is None:
            assert home.offset == pb.offset - below, pb.tensor
            assert home.symbol == f"dt_arena_{pb.level}"
            assert home.offset + t.nbytes <= layout.arena_bytes[pb.level]


def test_without_memory_every_root_gets_its_own_aligned_slot() -> None:
    graph = api.default_model()
    tiled = tile_network(graph, HW, l1=32768)
    layout = plan_layout(tiled, graph, HW)
    assert layout.source == "emitter" and "Plan.memory is empty" in layout.notes[0]
    slots: dict[tuple[str, int], int] = {}
    for name, home in layout.homes.items():
        if home.const:
            continue
        assert home.level == "L2" and home.offset % HW.memory("L2").alignment_bytes == 0
        slots[(home.symbol, home.offset)] = max(slots.get((home.symbol, home.offset), 0), graph.tensors[name].nbytes)
    spans = sorted((off, off + size) for (_, off), size in slots.items())
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))  # no two slots overlap
    assert layout.arena_bytes["L2"] >= spans[-1][1]
    for node in graph.nodes:
        if node.is_alias:  # a data-free reshape shares its input's slot
            assert layout.homes[node.outputs[0]] == layout.homes[node.inputs[0]]
