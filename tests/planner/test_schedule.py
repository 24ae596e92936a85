"""planner.schedule: the event list, slots and buffers of small tilings worked out by hand."""

from __future__ import annotations

from deeploy_tiler.cost.model import Choice, CostParams
from deeploy_tiler.hw import load_hw
from deeploy_tiler.planner.schedule import Schedule, build_schedule
from deeploy_tiler.planner.setup import prepare
from tests.solver.graphs import gemm

HW = load_hw("siracusa")
PARAMS = CostParams.from_hw(HW)


def _schedule(double: tuple[bool, bool, bool]) -> Schedule:
    graph = gemm(16, 64, 32)  # A 16x64 int8 (rows follow M), B 32x64 int8 (whole), Y 16x32 int32
    setup = prepare(graph.nodes[0], graph, HW.engine("cluster"), PARAMS, 10**6, True)
    model = setup.problem.model
    assert model.space.candidates[0][1] == 8
    return build_schedule(setup.geometry, model, Choice(tiles=(1, 0), double=double), PARAMS)


def _events(s: Schedule) -> list[tuple[str, int]]:
    return [(e.kind, e.ref) for e in s.events]


def test_two_tile_double_buffered_events_alternate_slots() -> None:
    s = _schedule((True, True, True))
    assert _events(s) == [
        ("dma_start", 0),  # A rows 0..8 -> slot 0
        ("dma_start", 1),  # B, once
        ("dma_wait", 0),
        ("dma_wait", 1),
        ("dma_start", 2),  # A rows 8..16 -> slot 1, overlapping compute 0
        ("compute", 0),
        ("dma_start", 3),  # store of tile 0 from output slot 0
        ("dma_wait", 2),
        ("compute", 1),
        ("dma_start", 4),  # store of tile 1 from output slot 1
        ("dma_wait", 3),
        ("dma_wait", 4),
    ]
    t = s.transfers
    assert [(x.direction, x.buffer, x.slot) for x in t] == [
        ("in", "in0", 0),
        ("in", "in1", 0),
        ("in", "in0", 1),
        ("out", "out", 0),
        ("out", "out", 1),
    ]
    assert [x.region for x in t] == [
        ((0, 8), (0, 64)),
        ((0, 32), (0, 64)),
        ((8, 8), (0, 64)),
        ((0, 8), (0, 32)),
        ((8, 8), (0, 32)),
    ]
    assert [x.bytes for x in t] == [512, 2048, 512, 1024, 1024]
    assert s.dma_bytes == 512 * 2 + 2048 + 1024 * 2
    assert [step.slots for step in s.steps] == [{"in0": 0, "in1": 0, "out": 0}, {"in0": 1, "in1": 0, "out": 1}]


def test_single_buffered_loads_wait_for_the_compute_and_the_store() -> None:
    s = _schedule((False, False, False))
    assert _events(s) == [
        ("dma_start", 0),
        ("dma_start", 1),
        ("dma_wait", 0),
        ("dma_wait", 1),
        ("compute", 0),
        ("dma_start", 2),  # store of tile 0
        ("dma_start", 3),  # A of tile 1 into the one slot, after compute 0
        ("dma_wait", 3),
        ("dma_wait", 2),  # the output slot's pending store, before compute 1 overwrites it
        ("compute", 1),
        ("dma_start", 4),
        ("dma_wait", 4),
    ]
    assert all(x.slot == 0 for x in s.transfers)


def test_buffers_packed_from_zero_aligned_with_descriptors_last() -> None:
    s = _schedule((True, False, True))
    layout = [(b.name, b.offset, b.slot_bytes, b.copies) for b in s.buffers]
    desc = PARAMS.descriptor_slot_bytes * (2 + 1 + 2)
    assert layout == [
        ("in0", 0, 512, 2),
        ("in1", 1024, 2048, 1),
        ("out", 3072, 1024, 2),
        ("descriptors", 5120, desc, 1),
    ]
    assert s.l1_bytes == 5120 + desc
    assert [b.tile_shape for b in s.buffers[:3]] == [(8, 64), (32, 64), (8, 32)]
