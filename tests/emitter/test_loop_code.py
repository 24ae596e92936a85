"""emitter/loop_code.py: the C of folded schedules, checked where it matters, by running it.

The trace test builds the host program with -DDT_TRACE (dt_loops.h prints every DMA start, wait and
compute step as it executes) and compares the printed sequence with the plan's event list, node by
node: same kinds, same transfer ids and step indices in the same order, every start landing in the L1
slot its transfer names and moving exactly its bytes. The run must also still pass bit-exactly.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from deeploy_tiler import api
from deeploy_tiler.emitter import build, emit_project, run
from deeploy_tiler.emitter.loop_code import flatten_field, program_depth, render_items, ring_entries
from deeploy_tiler.emitter.loops import fold
from deeploy_tiler.emitter.lower.call import RequantArgs
from deeploy_tiler.emitter.views import Ptr
from deeploy_tiler.hw import load_hw
from deeploy_tiler.ir import Graph
from deeploy_tiler.plan import Event, Plan

from ..conftest import load_model, load_npz_outputs


def test_fields_flatten_to_numbers_and_render_back_with_loop_indices() -> None:
    ints: list[int] = []
    rq = RequantArgs(Ptr("dt_c1", 8, True), None, (0, 1, 0, 0), (0, 0, 0, 0), 7, -128, 127)
    layout = (("x", flatten_field(Ptr("dt_arena_L1", 64, False), ints)), ("n", flatten_field(5, ints)))
    layout += (("rq", flatten_field(rq, ints)),)
    assert ints[:3] == [64, 5, 8]
    base = tuple(ints)
    coefs = ((32, 0, *([0] * (len(ints) - 2))),)
    records = [
        (("call", "dt_k", "dt_k_args_t", None, layout), tuple(b + k * c for b, c in zip(base, coefs[0], strict=True)))
        for k in range(4)
    ]
    program = fold(records)
    assert program_depth(program) == 1
    text = "\n".join(render_items(program, 0, ""))
    assert text.startswith("for (k0 = 0; k0 < 4; ++k0) {")
    assert ".x = DT_P(dt_arena_L1, 64 + 32*k0), .n = 5" in text
    assert ".rq = {.mul = DT_CP(dt_c1, 8), .add = 0, .mul_s = {0, 1, 0, 0}" in text
    assert "dt_cluster_fork(dt_k, &a);" in text


def test_dma_records_render_as_transfers_and_waits() -> None:
    records = [(("start1", "dt_arena_L1", "dt_c3"), (k, 0, 16 * k, 16)) for k in range(3)]
    records += [(("wait",), (k,)) for k in range(3)]
    text = "\n".join(render_items(fold(records), 0, ""))
    assert "dt_xfer1(k0, DT_P(dt_arena_L1, 0), DT_CP(dt_c3, 16*k0), 16);" in text
    assert "dt_xwait(k0);" in text


def test_the_ring_is_the_smallest_power_of_two_no_transfer_overwrites() -> None:
    def ev(kind: str, ref: int) -> Event:
        return Event(kind=kind, ref=ref)  # type: ignore[arg-type]

    double = [ev("dma_start", 0), ev("dma_start", 1), ev("dma_wait", 0), ev("dma_start", 2), ev("dma_wait", 1)]
    double += [ev("dma_wait", 2)]
    assert ring_entries(double, 3) == 2
    serial = [e for k in range(5) for e in (ev("dma_start", k), ev("dma_wait", k))]
    assert ring_entries(serial, 5) == 1
    # waiting for a transfer never started: no sharing, one entry per transfer id
    assert ring_entries([ev("dma_wait", 3)], 5) == 8


def _trace(plan: Plan, graph: Graph, out: Path, inputs: object = None, expected: object = None) -> list[str]:
    hw = load_hw(plan.hw)
    project = emit_project(plan, graph, hw, out, inputs=inputs, expected=expected)  # type: ignore[arg-type]
    plain = build(project, "host")
    assert run(project, plain).passed
    traced = build(project, "host", extra_cflags=("-DDT_TRACE",))
    proc = subprocess.run([str(traced.elf)], capture_output=True, text=True, timeout=600, check=False)
    return [line for line in proc.stdout.splitlines() if line.startswith("DT_EV ")]


def _expected_trace(plan: Plan, graph: Graph) -> list[str]:
    nodes = {n.name: n for n in plan.nodes}
    lines = []
    for i, node in enumerate(graph.nodes):
        np_ = nodes[node.name]
        bufs = {b.name: b for b in np_.buffers}
        trs = {t.id: t for t in np_.transfers}
        for e in np_.events:
            if e.kind == "dma_start":
                tr = trs[e.ref]
                b = bufs[tr.buffer]
                lines.append(f"DT_EV start {i} {e.ref} {b.offset + tr.slot * b.slot_bytes} {tr.bytes}")
            elif e.kind == "dma_wait":
                lines.append(f"DT_EV wait {i} {e.ref}")
            else:
                lines.append(f"DT_EV compute {i} {e.ref}")
    return lines


needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="host gcc not available")


@needs_gcc
@pytest.mark.parametrize("l1", [64_000, 4_000])
def test_the_traced_run_follows_the_plan_event_by_event_on_the_default_decoder(tmp_path: Path, l1: int) -> None:
    graph = api.load_model()
    plan = api.plan(graph, "siracusa", l1=l1)
    got = _trace(plan, graph, tmp_path)
    assert len(got) == sum(len(n.events) for n in plan.nodes)
    assert got == _expected_trace(plan, graph)


@needs_gcc
@pytest.mark.parametrize(
    ("model", "l1", "double"),
    [
        ("miniMobileNet", 4_000, True),
        ("CNN_Linear1", 16_000, False),
        ("MLPerf/KeywordSpotting", 8_000, True),
        ("microLlama/INT8/microLlama8", 612, True),
    ],
)
def test_the_traced_run_follows_the_plan_event_by_event_on_shared_models(
    model_dirs: dict[str, Path], tmp_path: Path, model: str, l1: int, double: bool
) -> None:
    folder = model_dirs[model]
    graph, inputs = load_model(folder)
    plan = api.plan(graph, "siracusa", l1=l1, double_buffer=double)
    assert plan.num_tiles > len([n for n in plan.nodes if n.alias_of is None])  # several tiles somewhere
    got = _trace(plan, graph, tmp_path, inputs, load_npz_outputs(folder))
    assert got == _expected_trace(plan, graph)
