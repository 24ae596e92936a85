"""Residency in the pipeline: budgets checked before any solve, the L2 requirement stated before tiling,
weights and KV caches streamed from L3 when L2 cannot hold them, and the plans valid and deterministic."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import deeploy_tiler as dt
from deeploy_tiler.errors import BudgetError, DeeployTilerError
from deeploy_tiler.planner.residency import check_memory_levels

SIRACUSA = dt.load_hw("siracusa")


def test_budget_above_usable_is_a_typed_error_before_any_solve() -> None:
    g = dt.load_model()
    usable = SIRACUSA.memory("L2").usable_bytes
    t = time.perf_counter()
    with pytest.raises(BudgetError, match="L2 budget 2097156 B outside") as info:
        dt.plan(g, SIRACUSA, l2=usable + 4)
    assert info.value.level == "L2" and time.perf_counter() - t < 1.0
    with pytest.raises(BudgetError, match="L1 budget"):
        dt.plan(g, SIRACUSA, l1=SIRACUSA.memory("L1").usable_bytes + 1)
    with pytest.raises(DeeployTilerError):  # the argument check's OptionError comes first
        dt.plan(g, SIRACUSA, l2=-1)


def test_memory_levels_decided_before_tiling() -> None:
    """TinyStories-15M's body: its KV caches and their grown copies (graph outputs) do not fit 1 MB of L2;
    the answer comes from the graph alone, in well under a second, and names the parts."""
    g = dt.load_model("tinystories15m")
    t = time.perf_counter()
    with pytest.raises(dt.InfeasibleBudget) as info:
        check_memory_levels(g, SIRACUSA, 64_000)
    assert time.perf_counter() - t < 1.0
    msg = str(info.value)
    assert "activations live" in msg and "staged whole from L3" in msg and "small constants resident" in msg


def test_no_l3_keeps_every_constant_resident() -> None:
    g = dt.load_model("llama_d128x8")
    with pytest.raises(dt.InfeasibleBudget, match="has no L3") as info:
        dt.plan(g, "rv32_mcu", l2=262_144)
    assert info.value.required_bytes > sum(t.nbytes for t in g.constants)


def test_microllama64_streams_at_256k(model_dirs: dict[str, Path]) -> None:
    g = dt.load_model(model_dirs["microLlama/INT8/microLlama64"])
    p = dt.plan(g, SIRACUSA, l2=262_144)
    assert dt.validate(p, g, SIRACUSA) == []
    assert p.staging and p.l3_bytes == sum(s.bytes for s in p.staging)
    assert max(q.offset + q.size for q in p.memory if q.level == "L2") <= 262_144
    resident = dt.plan(g, SIRACUSA)  # all resident at the default L2
    assert not resident.staging and "staging" not in resident.to_json()
    # the L3 waits are in the total, and the lower bound stays below it
    assert p.total_cycles == sum(n.cycles.total for n in p.nodes) + sum(s.exposed_cycles for s in p.staging)
    assert p.lower_bound_cycles <= p.total_cycles
    assert dt.plan(g, SIRACUSA, l2=262_144).to_json() == p.to_json()  # deterministic
    assert dt.Plan.from_json(p.to_json()) == p
