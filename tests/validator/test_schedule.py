"""Schedule simulation: each planted hazard in a node's event list is caught with its exact kind."""

from __future__ import annotations

from deeploy_tiler.plan import Event

from .builders import K, edit, is_ev, kinds, move_event, region_shift, with_node
from .cases import conv_plan


def test_step_region_disagreeing_with_the_loaded_slot() -> None:
    graph, plan = conv_plan(double=False)
    n = plan.nodes[0]
    second_x = next(i for i, t in enumerate(n.transfers) if t.tensor == "x" and t.region[2][0] == 3)
    loaded = region_shift(n.transfers[second_x].region, 2, -1)  # loads rows 2..6, step 1 claims 3..7
    assert kinds(with_node(plan, transfers=edit(n.transfers, second_x, region=loaded)), graph) == {K.REGION_MISMATCH}


def test_dropped_wait_is_a_load_before_compute() -> None:
    graph, plan = conv_plan()
    n = plan.nodes[0]
    events = tuple(e for e in n.events if not is_ev("dma_wait", 0)(e))
    assert kinds(with_node(plan, events=events), graph) == {K.HAZARD_LOAD_BEFORE_COMPUTE, K.UNWAITED_TRANSFER}
    late = move_event(n.events, is_ev("dma_wait", 0), is_ev("dma_start", max(t.id for t in n.transfers)))
    assert kinds(with_node(plan, events=late), graph) == {K.HAZARD_LOAD_BEFORE_COMPUTE}
    early = move_event(n.events, is_ev("compute", 0), is_ev("dma_start", 0))
    assert kinds(with_node(plan, events=early), graph) == {K.HAZARD_LOAD_BEFORE_COMPUTE}


def test_load_into_a_slot_still_in_use() -> None:
    graph, plan = conv_plan(double=False)
    n = plan.nodes[0]
    second_x = next(t.id for t in n.transfers if t.tensor == "x" and t.region[2][0] == 3)
    # single buffer: prefetching tile 1's rows into the only slot before compute 0 ran
    early = move_event(n.events, is_ev("dma_start", second_x), is_ev("compute", 0))
    assert kinds(with_node(plan, events=early), graph) == {K.HAZARD_OVERWRITE_WHILE_READ}
    # and waited before compute 0 too: compute 0 reads rows that were overwritten
    both = move_event(early, is_ev("dma_wait", second_x), is_ev("compute", 0))
    assert kinds(with_node(plan, events=both), graph) == {K.HAZARD_OVERWRITE_WHILE_READ}


def test_double_buffered_prefetch_into_the_wrong_slot() -> None:
    graph, plan = conv_plan(double=True)
    n = plan.nodes[0]
    second_x = next(i for i, t in enumerate(n.transfers) if t.tensor == "x" and t.region[2][0] == 3)
    steps = edit(n.steps, 1, slots={**n.steps[1].slots, "buf_x": 0})
    bad = with_node(plan, transfers=edit(n.transfers, second_x, slot=0), steps=steps)
    assert kinds(bad, graph) == {K.HAZARD_DMA_RACE, K.HAZARD_OVERWRITE_WHILE_READ}


def test_store_before_compute_and_output_overwrite() -> None:
    graph, plan = conv_plan(double=True)
    n = plan.nodes[0]
    store0 = next(t.id for t in n.transfers if t.direction == "out")
    early = move_event(n.events, is_ev("dma_start", store0), is_ev("compute", 0))
    # the compute then also writes a slot whose (premature) store is in flight, and its tile is never stored
    assert kinds(with_node(plan, events=early), graph) == {
        K.HAZARD_STORE_BEFORE_COMPUTE,
        K.HAZARD_OUTPUT_OVERWRITE,
        K.OUTPUT_NOT_STORED,
    }
    single_graph, single = conv_plan(double=False)
    m = single.nodes[0]
    s0 = next(t.id for t in m.transfers if t.direction == "out")
    late = move_event(m.events, is_ev("dma_wait", s0), is_ev("dma_start", s0 + 1))
    assert kinds(with_node(single, events=late), single_graph) == {K.HAZARD_OUTPUT_OVERWRITE}


def test_output_never_stored_and_store_of_the_wrong_region() -> None:
    graph, plan = conv_plan(double=False)
    n = plan.nodes[0]
    s0 = next(t for t in n.transfers if t.direction == "out")
    events = tuple(e for e in n.events if not (e.kind != "compute" and e.ref == s0.id))
    transfers = tuple(t for t in n.transfers if t.id != s0.id)
    dropped = with_node(plan, events=events, transfers=transfers, dma_bytes=n.dma_bytes - s0.bytes)
    assert kinds(dropped, graph) == {K.OUTPUT_NOT_STORED}
    idx = n.transfers.index(s0)
    wrong = edit(n.transfers, idx, region=region_shift(s0.region, 2, 1))  # rows 1..4: no compute writes them
    assert kinds(with_node(plan, transfers=wrong), graph) == {K.REGION_MISMATCH, K.OUTPUT_NOT_STORED}
    ahead = edit(n.transfers, idx, region=region_shift(s0.region, 2, 4))  # tile 1's rows, not computed yet
    assert K.HAZARD_STORE_BEFORE_COMPUTE in kinds(with_node(plan, transfers=ahead), graph)


def test_malformed_event_lists() -> None:
    graph, plan = conv_plan()
    n = plan.nodes[0]
    assert K.SCHEDULE in kinds(with_node(plan, events=(*n.events, Event(kind="dma_wait", ref=99))), graph)
    assert K.SCHEDULE in kinds(with_node(plan, events=(*n.events, Event(kind="compute", ref=7))), graph)
    assert K.SCHEDULE in kinds(with_node(plan, events=(*n.events, Event(kind="compute", ref=1))), graph)
    assert K.SCHEDULE in kinds(with_node(plan, events=(*n.events, n.events[0])), graph)  # started twice
    no_compute = tuple(e for e in n.events if not is_ev("compute", 1)(e))
    assert K.SCHEDULE in kinds(with_node(plan, events=no_compute), graph)
    never = tuple(e for e in n.events if e.ref != 0 or e.kind == "compute")
    assert K.TRANSFER_NOT_STARTED in kinds(with_node(plan, events=never), graph)
