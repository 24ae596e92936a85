"""Executors: serial, processes and Ray give the same results; Ctrl-C stops the workers."""

from __future__ import annotations

import importlib.util
import pickle
import time
from typing import Any

import pytest

import deeploy_tiler as dt
from deeploy_tiler.explore import sweep as sw
from deeploy_tiler.explore.executors import SweepError
from deeploy_tiler.explore.points import SweepPoint


def test_interrupt_stops_the_workers_and_keeps_what_finished(graph: dt.Graph, hw: dt.HwSpec) -> None:
    seen: list[SweepPoint] = []

    def on_point(p: SweepPoint) -> None:
        seen.append(p)
        if len(seen) == 2:
            raise KeyboardInterrupt

    t0 = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        sw.sweep(
            graph,
            hw,
            l1_grid=[1024 * k for k in range(1, 25)],
            executor="process",
            workers=2,
            search=False,
            on_point=on_point,
        )
    assert len(seen) == 2 and time.perf_counter() - t0 < 60  # 24 points were not waited for


def test_graph_shipped_to_workers_plans_the_same(graph: dt.Graph, hw: dt.HwSpec) -> None:
    graph.nodes[0].attrs  # noqa: B018  (fills the cached mapping proxy, which must not break pickling)
    copy = pickle.loads(pickle.dumps(graph))
    assert dt.plan(copy, hw, l1=4096).to_json() == dt.plan(graph, hw, l1=4096).to_json()


def _comparable(r: sw.SweepResult) -> dict[str, Any]:
    doc = r.model_dump(exclude={"seconds", "executor", "workers"})
    for p in doc["points"] + doc["pareto"]:
        p.pop("seconds")
    for m in doc["min_feasible"]:
        m.pop("seconds")
    return doc


@pytest.fixture(scope="module")
def serial_result(result: sw.SweepResult) -> sw.SweepResult:
    return result  # the same grid, run serially


def test_process_executor_gives_identical_results(
    graph: dt.Graph, hw: dt.HwSpec, serial_result: sw.SweepResult
) -> None:
    r = sw.sweep(graph, hw, l1_grid=[256, 1024, 4096], double_buffer=[True, False], executor="process", workers=2)
    assert (r.executor, r.workers) == ("process", 2)
    assert _comparable(r) == _comparable(serial_result)


@pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="Ray is not installed (optional extra: pip install 'deeploy_tiler[ray]')",
)
def test_ray_executor_gives_identical_results(graph: dt.Graph, hw: dt.HwSpec, serial_result: sw.SweepResult) -> None:
    r = sw.sweep(graph, hw, l1_grid=[256, 1024, 4096], double_buffer=[True, False], executor="ray", workers=2)
    assert r.executor == "ray"
    assert _comparable(r) == _comparable(serial_result)


def test_unreachable_ray_address_is_one_clear_error(graph: dt.Graph, hw: dt.HwSpec) -> None:
    # Without Ray installed this is the "needs Ray" error: a SweepError as well, before any point.
    with pytest.raises(SweepError, match=r"does not answer|needs Ray"):
        sw.sweep(graph, hw, l1_grid=[4096], executor="ray", ray_address="127.0.0.1:1")
    with pytest.raises(SweepError, match=r"HOST:PORT|needs Ray"):
        sw.sweep(graph, hw, l1_grid=[4096], executor="ray", ray_address="nonsense")
