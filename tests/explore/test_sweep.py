"""The sweep engine: grids, overrides, the Pareto front, the smallest feasible budgets, executors."""

from __future__ import annotations

import importlib.util
import pickle
import time
from pathlib import Path
from typing import Any

import pytest

import deeploy_tiler as dt
from deeploy_tiler.explore import sweep as sw
from deeploy_tiler.explore.sweep import SweepError, SweepPoint

KiB = 1024


@pytest.fixture(scope="module")
def graph() -> dt.Graph:
    return dt.load_model()


@pytest.fixture(scope="module")
def hw() -> dt.HwSpec:
    return dt.load_hw("siracusa")


@pytest.fixture(scope="module")
def mobilenet(testdata_dir: Path) -> dt.Graph:
    return dt.load_model(testdata_dir / "Models" / "miniMobileNet" / "network.onnx")


# --- grids and overrides -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("64000", [64000]),
        ("32KiB,16KiB,16KiB", [16 * KiB, 32 * KiB]),
        ("16KiB..256KiB", [16 * KiB, 32 * KiB, 64 * KiB, 128 * KiB, 256 * KiB]),
        ("16KiB..100KiB", [16 * KiB, 32 * KiB, 64 * KiB, 100 * KiB]),
        ("16KiB..16KiB", [16 * KiB]),
        ("1000..2000:x1.5", [1000, 1500, 2000]),
        ("8KiB..24KiB:+8KiB", [8 * KiB, 16 * KiB, 24 * KiB]),
        ("8KiB..20KiB:+8KiB", [8 * KiB, 16 * KiB, 20 * KiB]),
        ("1KiB, 4KiB..8KiB", [1 * KiB, 4 * KiB, 8 * KiB]),
    ],
)
def test_parse_grid(text: str, expected: list[int]) -> None:
    assert sw.parse_grid(text) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        (" , ", "empty"),
        ("16KiB,", "empty item"),
        ("256KiB..16KiB", "reversed"),
        ("16KiB..64KiB:x1", "factor must be > 1"),
        ("16KiB..64KiB:+0", "step must be positive"),
        ("16KiB..64KiB:fast", "not a factor"),
        ("0", "0 B"),
        ("0..1KiB", "cannot start at 0"),
        ("1..1GiB:+1", "more than"),
        ("64 parsecs", "not a byte size"),
    ],
)
def test_parse_grid_rejects(text: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        sw.parse_grid(text)


def test_parse_overrides() -> None:
    assert sw.parse_overrides([]) == [{}]
    assert sw.parse_overrides(["clock_hz=360e6, memories.L1.size_bytes=128KiB"]) == [
        {"clock_hz": 360_000_000, "memories.L1.size_bytes": 128 * KiB}
    ]
    variants = sw.parse_overrides(["clock_hz=100000000|200000000", "memories.L1.banks=16"])
    assert variants == [
        {"clock_hz": 100_000_000, "memories.L1.banks": 16},
        {"clock_hz": 200_000_000, "memories.L1.banks": 16},
    ]
    assert sw.parse_overrides(["energy_pj_per_cycle=1.5,memories.L1.weights_only=false"]) == [
        {"energy_pj_per_cycle": 1.5, "memories.L1.weights_only": False}
    ]
    for bad in ("clock_hz", "=3", "clock_hz="):
        with pytest.raises(ValueError, match="path=value"):
            sw.parse_overrides([bad])


def test_unknown_override_fails_before_any_point(graph: dt.Graph, hw: dt.HwSpec) -> None:
    seen: list[SweepPoint] = []
    with pytest.raises(dt.HwSpecError, match="bogus") as info:
        sw.sweep(
            graph, hw, l1_grid=[4096], overrides=[{}, {"memories.L1.bogus": 1}], executor="serial", on_point=seen.append
        )
    assert info.value.field == "memories.L1.bogus"
    assert seen == []


def test_empty_grids_and_bad_executor(graph: dt.Graph, hw: dt.HwSpec) -> None:
    with pytest.raises(SweepError, match="empty"):
        sw.sweep(graph, hw, l1_grid=[])
    with pytest.raises(SweepError, match="at least one"):
        sw.sweep(graph, hw, l1_grid=[4096], double_buffer=[])
    with pytest.raises(SweepError, match="unknown executor"):
        sw.sweep(graph, hw, l1_grid=[4096], executor="threads")  # type: ignore[arg-type]


# --- Pareto front --------------------------------------------------------------------------------------------


def _pt(index: int, l1: int, cycles: int | None, *, l2: int = 1000, clock: float = 1e6) -> SweepPoint:
    ok = cycles is not None
    return SweepPoint(
        index=index,
        l1=l1,
        l2=l2,
        double_buffer=True,
        status="ok" if ok else "infeasible",
        feasible=ok,
        total_cycles=cycles,
        latency_s=cycles / clock if cycles is not None else None,
    )


def test_pareto_front_dominance_2d() -> None:
    pts = [
        _pt(0, 100, None),  # infeasible: never on the front
        _pt(1, 200, 900),
        _pt(2, 400, 600),
        _pt(3, 400, 700),  # same memory as 2, slower: dominated
        _pt(4, 800, 600),  # more memory, same latency: dominated by 2
        _pt(5, 1600, 500),
    ]
    assert [p.index for p in sw.pareto_front(pts)] == [1, 2, 5]


def test_pareto_front_ties_and_three_objectives() -> None:
    twins = [_pt(0, 200, 500), _pt(1, 200, 500)]  # equal points do not dominate each other
    assert [p.index for p in sw.pareto_front(twins)] == [0, 1]
    # Less L1 but more L2 is a trade-off, not a dominance.
    pts = [_pt(0, 100, 800, l2=4000), _pt(1, 400, 800, l2=1000), _pt(2, 400, 800, l2=4000)]
    assert [p.index for p in sw.pareto_front(pts)] == [1, 0]  # sorted by L1 + L2


def test_pareto_front_compares_seconds_across_clocks() -> None:
    slow_clock = _pt(0, 100, 1000, clock=1e6)  # 1 ms
    fast_clock = _pt(1, 100, 1500, clock=3e6)  # 0.5 ms: more cycles, yet faster
    assert [p.index for p in sw.pareto_front([slow_clock, fast_clock])] == [1]


# --- smallest feasible budgets -------------------------------------------------------------------------------


def _fake_probe(truth: int, bound: int) -> Any:
    calls: list[int] = []

    def probe(b: int) -> dt.InfeasibleBudget | None:
        calls.append(b)
        return None if b >= truth else dt.InfeasibleBudget("L1", b, [("n", bound, "fake")])

    probe.calls = calls  # type: ignore[attr-defined]
    return probe


@pytest.mark.parametrize(("truth", "bound"), [(300, 300), (1000, 300), (5000, 1), (300, 250)])
def test_search_finds_the_boundary_from_any_lower_bound(truth: int, bound: int) -> None:
    search = sw._Search(_fake_probe(truth, bound), ceiling=1 << 20, level="L1")
    assert search.run() == (truth, "")
    assert search.known[truth] and not search.known[truth - 1] and search.bound == bound


def test_search_survives_a_wrong_bound_another_level_and_the_ceiling() -> None:
    assert sw._Search(_fake_probe(300, 400), ceiling=1 << 20, level="L1").run() == (300, "")  # claims 400 B
    other = sw._Search(_fake_probe(300, 400), ceiling=1 << 20, level="L2")  # a bound about L1 is no L2 bound
    assert other.run() == (300, "") and other.bound == 0
    value, note = sw._Search(_fake_probe(5000, 300), ceiling=4096, level="L1").run()
    assert value is None and "4096" in note
    value, note = sw._Search(_fake_probe(5000, 8000), ceiling=4096, level="L1").run()
    assert value is None and "8000" in note


@pytest.mark.parametrize("double_buffer", [True, False])
def test_min_feasible_l1_is_verified_by_planning(graph: dt.Graph, hw: dt.HwSpec, double_buffer: bool) -> None:
    m = sw.min_feasible_l1(graph, hw, double_buffer=double_buffer)
    assert m is not None
    plan = dt.plan(graph, hw, l1=m, double_buffer=double_buffer)
    assert max(n.l1_bytes for n in plan.nodes) <= m
    with pytest.raises(dt.InfeasibleBudget) as info:
        dt.plan(graph, hw, l1=m - 1, double_buffer=double_buffer)
    assert info.value.level == "L1"


@pytest.mark.parametrize("spec", ["siracusa", "rv32_mcu"])
def test_min_feasible_on_minimobilenet_verified(mobilenet: dt.Graph, spec: str) -> None:
    hw = dt.load_hw(spec)
    found = sw.min_feasible(mobilenet, hw)
    l1, l2 = found.budgets["L1"], found.budgets["L2"]
    assert l1 is not None and l2 is not None and found.verified == {"L1": True, "L2": True}
    dt.plan(mobilenet, hw, l1=l1, l2=l2)
    for kwargs, level in (({"l1": l1 - 1, "l2": l2}, "L1"), ({"l1": l1, "l2": l2 - 1}, "L2")):
        with pytest.raises(dt.InfeasibleBudget) as info:
            dt.plan(mobilenet, hw, **kwargs)
        assert info.value.level == level
    assert found.lower_bounds["L1"] <= l1 and found.lower_bounds["L2"] <= l2


def test_min_feasible_l1_none_when_the_chip_is_too_small(graph: dt.Graph, hw: dt.HwSpec) -> None:
    tiny = hw.with_overrides(
        {"memories.L1.size_bytes": 200, "memories.L1.reserved_bytes": 0, "memories.L1.default_budget_bytes": None}
    )
    found = sw.min_feasible(graph, tiny)
    assert found.budgets["L1"] is None and "200" in found.notes["L1"]


# --- the sweep -----------------------------------------------------------------------------------------------


def test_sweep_points_in_grid_order(graph: dt.Graph, hw: dt.HwSpec) -> None:
    seen: list[int] = []
    r = sw.sweep(
        graph,
        hw,
        l1_grid=[4096, 256],
        double_buffer=[True, False],
        executor="serial",
        on_point=lambda p: seen.append(p.index),
    )
    assert sorted(seen) == [0, 1, 2, 3]
    assert [(p.l1, p.double_buffer) for p in r.points] == [(256, True), (4096, True), (256, False), (4096, False)]
    bad = r.points[0]
    assert bad.status == "infeasible" and bad.infeasible_level == "L1" and bad.required_bytes == 300
    good = r.points[1]
    assert good.feasible and good.total_cycles and good.tiles and good.dma_bytes and good.l1_used
    assert good.l2 == hw.budget_bytes("L2") and good.tokens_per_s is None
    assert good.latency_s == pytest.approx(good.total_cycles / hw.clock_hz)
    assert [(m.double_buffer, m.budgets["L1"]) for m in r.min_feasible] == [(True, 300), (False, 300)]
    assert r.pareto and all(p.feasible for p in r.pareto)
    assert sw.SweepResult.model_validate_json(r.to_json()) == r


def test_a_failing_point_is_recorded_and_the_sweep_goes_on(
    graph: dt.Graph, hw: dt.HwSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = dt.api.plan

    def flaky(g: dt.Graph, spec: dt.HwSpec, **kw: Any) -> dt.Plan:
        if kw.get("l1") == 2048:
            raise RuntimeError("solver exploded")
        return real(g, spec, **kw)

    monkeypatch.setattr(dt.api, "plan", flaky)
    r = sw.sweep(graph, hw, l1_grid=[1024, 2048, 4096], executor="serial", search=False)
    assert [p.status for p in r.points] == ["ok", "error", "ok"]
    assert r.points[1].message == "RuntimeError: solver exploded"


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


def test_decode_steps_get_tokens_per_second(testdata_dir: Path, graph: dt.Graph) -> None:
    lm = dt.load_model(testdata_dir / "Models" / "microLlama" / "INT8" / "microLlama1" / "network.onnx")
    assert sw.decode_tokens_per_step(lm) == 1
    assert sw.decode_tokens_per_step(graph) is None  # the bundled layer runs 8 tokens at once: not a decode step


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
def serial_result(graph: dt.Graph, hw: dt.HwSpec) -> sw.SweepResult:
    return sw.sweep(graph, hw, l1_grid=[256, 1024, 4096], double_buffer=[True, False], executor="serial")


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
