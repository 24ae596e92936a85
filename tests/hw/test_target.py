"""The target view: level roles derived from the spec, exact figures, and plans that do not depend on
what the levels are called."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

import pytest

import deeploy_tiler as dt
from deeploy_tiler.errors import PlanError
from deeploy_tiler.hw import HwSpec, load_hw, parse_hw
from deeploy_tiler.hw.target import derive_target, exact_rate, target_of

RENAME = {"L1": "TCDM", "L2": "SRAM", "L3": "HYPER", "WMEM": "MRAM"}


def _renamed(hw: HwSpec) -> HwSpec:
    """The same spec with every memory level renamed (and every reference to it)."""
    d = hw.model_dump(mode="json")
    for m in d["memories"]:
        m["name"] = RENAME[m["name"]]
    for x in d["dmas"]:
        x["src"], x["dst"] = RENAME[x["src"]], RENAME[x["dst"]]
    for e in d["engines"]:
        e["reads_levels"] = [RENAME[lv] for lv in e["reads_levels"]]
        e["writes_levels"] = [RENAME[lv] for lv in e["writes_levels"]]
        if e.get("npu") and e["npu"].get("weight_memory_level"):
            e["npu"]["weight_memory_level"] = RENAME[e["npu"]["weight_memory_level"]]
    return parse_hw(d)


@pytest.mark.parametrize(
    ("spec", "engine", "roles"),
    [
        ("siracusa", "cluster", ("L1", "L2", None, "L3")),
        ("siracusa_neureka", "cluster", ("L1", "L2", None, "L3")),
        ("siracusa_neureka", "neureka", ("L1", "L2", "WMEM", "L3")),
        ("rv32_mcu", "cpu", ("L1", "L2", None, None)),
    ],
)
def test_roles_come_from_the_spec(spec: str, engine: str, roles: tuple[str | None, ...]) -> None:
    hw = load_hw(spec)
    e = target_of(hw).engine(engine)
    got = (e.local.name, e.home.name, e.weight.name if e.weight else None, e.backing.name if e.backing else None)
    assert got == roles
    # and they stay the roles, whatever the levels are called
    r = target_of(_renamed(hw)).engine(engine)
    got_r = (r.local.name, r.home.name, r.weight.name if r.weight else None, r.backing.name if r.backing else None)
    assert got_r == tuple(RENAME[x] if x else None for x in roles)


def test_figures_are_exact_and_match_the_spec() -> None:
    hw = load_hw("siracusa_neureka")
    t = target_of(hw)
    npu = t.npu
    assert npu is not None and npu.name == "neureka" and t.cluster.name == "cluster"
    dma = hw.dma("L2", "L1")
    assert npu.dma.bandwidth == Fraction(dma.bandwidth_bytes_per_cycle) and isinstance(npu.dma.bandwidth, Fraction)
    assert npu.dma.setup_cycles == dma.setup_latency_cycles and npu.dma.max_dims == dma.max_dims
    assert npu.weight is not None and npu.weight.port_bandwidth == Fraction(32)
    assert npu.local.port_bandwidth == Fraction(64) and t.home.port_bandwidth is None
    assert npu.weight.weights_only and not npu.local.weights_only
    assert npu.local.budget_bytes == hw.memory("L1").budget_bytes
    assert npu.local.alignment == hw.memory("L1").alignment_bytes
    assert npu.call_overhead == hw.engine("neureka").call_overhead_cycles
    assert exact_rate(0.1) == Fraction(1, 10)  # a float rate is read as the fraction it was written as


def test_view_is_cached_per_spec_object_and_equal_to_a_fresh_one() -> None:
    hw = load_hw("siracusa")
    assert target_of(hw) is target_of(hw)
    assert target_of(hw) == derive_target(hw)
    other = hw.with_overrides({"memories.L1.alignment_bytes": 8})
    assert target_of(other).cluster.local.alignment == 8 and target_of(hw).cluster.local.alignment != 8


def test_an_engine_without_a_dma_to_its_local_level_is_named_when_planned_for() -> None:
    d: dict[str, Any] = load_hw("siracusa").model_dump(mode="json")
    d["memories"].append(dict(d["memories"][0], name="SCRATCH"))
    d["engines"].append(dict(d["engines"][0], name="island", reads_levels=["SCRATCH"], writes_levels=["SCRATCH"]))
    hw = parse_hw(d)  # a valid spec: the island reads SCRATCH directly, but no DMA feeds it
    target = target_of(hw)
    assert target.cluster.home.name == "L2"  # the other engines are unaffected
    with pytest.raises(PlanError, match="no DMA reaches SCRATCH, the local memory of engine island"):
        target.engine("island")
    with pytest.raises(dt.HwSpecError, match="unknown compute engine 'nope'"):
        target.engine("nope")


def _normalized(plan_json: str) -> dict[str, Any]:
    d: dict[str, Any] = json.loads(plan_json)
    for key in ("memory", "levels"):  # sorted by level name in the plan: the order follows the names
        d[key] = sorted(d[key], key=lambda x: json.dumps(x, sort_keys=True))
    return d


@pytest.mark.parametrize("spec", ["siracusa_neureka", "siracusa", "rv32_mcu"])
def test_plans_do_not_depend_on_level_names(spec: str) -> None:
    """Tiling, engine choice, the L2 budget's round trip and the memory plan read roles, not names: the
    plan on a spec whose levels are all renamed is the same plan with the names replaced."""
    graph = dt.load_model()
    hw = load_hw(spec)
    renamed = _renamed(hw)
    plan = dt.plan(graph, hw, l1=16_000)
    other = dt.plan(graph, renamed, l1=16_000)
    assert dt.validate(other, graph, renamed) == []
    assert set(other.budgets) >= {"TCDM", "SRAM"} and not set(other.budgets) & set(RENAME)
    back = other.to_json()
    for old, new in RENAME.items():
        back = back.replace(new, old)
    assert _normalized(back) == _normalized(plan.to_json())
    if spec == "siracusa_neureka":
        assert any(p.level == "MRAM" for p in other.memory)  # the weight memory is in play
