"""emitter.build: parse_report reads the test program's report lines; the outcome is PASS only when the
program says so, exits 0 and no output differs."""

from __future__ import annotations

from pathlib import Path

import pytest

from deeploy_tiler import api
from deeploy_tiler.emitter import EmittedProject
from deeploy_tiler.emitter.build import parse_report


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> EmittedProject:
    graph = api.default_model()
    plan = api.plan(graph, "siracusa", l1=32768)
    out: Path = tmp_path_factory.mktemp("proj")
    return api.emit(plan, graph, "siracusa", out, inputs=api.default_inputs())


def test_parse_report_reads_every_line(project: EmittedProject) -> None:
    stdout = "\n".join(
        [
            "DT_NODE 0 120",
            "DT_NODE 1 80",
            "noise",
            "DT_OUTPUT 0 256 0 -1 0 0",
            "DT_TOTAL 200",
            "DT_DMA 12 3456",
            "DT_RESULT PASS",
        ]
    )
    r = parse_report(project, "host", 0, stdout, "", 0.5)
    assert r.passed and r.total_instructions == 200
    assert r.node_instructions == ((project.nodes[0].name, 120), (project.nodes[1].name, 80))
    (o,) = r.outputs
    assert (o.name, o.numel, o.mismatches) == (project.outputs[0], 256, 0)
    assert (o.first_index, o.got, o.expected) == (None, None, None)


def test_a_mismatch_or_a_bad_exit_fails(project: EmittedProject) -> None:
    bad = "DT_OUTPUT 0 256 3 17 -5 4\nDT_RESULT PASS"
    r = parse_report(project, "rv32", 0, bad, "", 0.1)
    assert not r.passed
    (o,) = r.outputs
    assert (o.mismatches, o.first_index, o.got, o.expected) == (3, 17, -5, 4)
    assert not parse_report(project, "host", 1, "DT_RESULT PASS", "", 0.1).passed
    assert not parse_report(project, "host", 0, "DT_RESULT FAIL", "", 0.1).passed
    assert not parse_report(project, "host", 0, "", "", 0.1).passed  # no result line at all
    assert parse_report(project, "host", 0, "DT_RESULT NOCHECK", "", 0.1).passed
