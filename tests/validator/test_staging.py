"""L3 -> L2 staging checks: a streamed plan is valid, and each broken rule is reported by its kind."""

from __future__ import annotations

import pytest

import deeploy_tiler as dt
from deeploy_tiler.frontend import import_onnx
from deeploy_tiler.ir import Graph
from deeploy_tiler.models import DecoderConfig, build_decoder
from deeploy_tiler.plan import Plan
from deeploy_tiler.validator import ViolationKind, validate

HW = dt.load_hw("siracusa")
L2 = 12_000  # the 2-layer decoder's 80 KB of weights cannot stay resident, nor its KV caches (in and grown)


@pytest.fixture(scope="module")
def streamed() -> tuple[Plan, Graph]:
    cfg = DecoderConfig(name="small", layers=2, d_model=64, heads=4, ffn=128, kv_len=16)
    g = import_onnx(build_decoder(cfg), name="small", source="<test>")
    return dt.plan(g, HW, l2=L2), g


def _kinds(plan: Plan, g: Graph) -> set[ViolationKind]:
    return {v.kind for v in validate(plan, g, HW)}


def _with_staging(plan: Plan, k: int, **changes: object) -> Plan:
    staging = list(plan.staging)
    staging[k] = staging[k].model_copy(update=changes)
    return plan.model_copy(update={"staging": tuple(staging)})


def test_streamed_plan_is_valid(streamed: tuple[Plan, Graph]) -> None:
    plan, g = streamed
    assert plan.staging and validate(plan, g, HW) == []
    assert {s.tensor for s in plan.staging} & {*g.input_names, *g.output_names}  # KV caches stream too
    assert {s.direction for s in plan.staging} == {"in", "out"}
    assert max(p.offset + p.size for p in plan.memory if p.level == "L2") <= L2


def test_read_before_wait(streamed: tuple[Plan, Graph]) -> None:
    plan, g = streamed
    k = next(i for i, s in enumerate(plan.staging) if s.first_step < s.last_step or s.first_step < len(g.nodes))
    s = plan.staging[k]
    bad = _with_staging(plan, k, first_step=s.first_step + 1, last_step=max(s.last_step, s.first_step + 1))
    assert ViolationKind.HAZARD_STAGED_BEFORE_WAIT in _kinds(bad, g)


def test_wrong_waits_and_cycles(streamed: tuple[Plan, Graph]) -> None:
    plan, g = streamed
    assert ViolationKind.STAGING_CYCLES in _kinds(_with_staging(plan, 0, cycles=plan.staging[0].cycles + 1), g)
    assert ViolationKind.STAGING_CYCLES in _kinds(
        _with_staging(plan, 0, exposed_cycles=plan.staging[0].exposed_cycles + 7), g
    )


def test_bytes_and_order(streamed: tuple[Plan, Graph]) -> None:
    plan, g = streamed
    assert ViolationKind.TRANSFER_BYTES in _kinds(_with_staging(plan, 0, bytes=plan.staging[0].bytes - 4), g)
    swapped = plan.model_copy(update={"staging": (plan.staging[1], plan.staging[0], *plan.staging[2:])})
    assert ViolationKind.STAGING in _kinds(swapped, g)


def test_missing_copy_and_short_buffer(streamed: tuple[Plan, Graph]) -> None:
    plan, g = streamed
    kinds = _kinds(plan.model_copy(update={"staging": plan.staging[1:]}), g)
    assert ViolationKind.STAGING_BUFFER in kinds and ViolationKind.HAZARD_STAGED_BEFORE_WAIT in kinds
    s = plan.staging[0]
    memory = tuple(
        p.model_copy(update={"end": s.first_step})
        if (p.tensor, p.level, p.offset) == (s.tensor, "L2", s.staged_offset)
        else p
        for p in plan.memory
    )
    assert ViolationKind.STAGING_BUFFER in _kinds(plan.model_copy(update={"memory": memory}), g)


def test_copy_back_rules(streamed: tuple[Plan, Graph]) -> None:
    plan, g = streamed
    k = next(i for i, s in enumerate(plan.staging) if s.direction == "out")
    s = plan.staging[k]
    # a copy back before the last reader: that reader uses the buffer after it was given back
    early = _with_staging(plan, k, issue_step=s.last_step, last_step=s.last_step - 1)
    assert {ViolationKind.HAZARD_STAGED_BEFORE_WAIT, ViolationKind.STAGING_BUFFER} & _kinds(early, g)
    assert ViolationKind.STAGING in _kinds(_with_staging(plan, k, issue_step=s.issue_step + 1), g)


def test_budget_counts_staged_bytes(streamed: tuple[Plan, Graph]) -> None:
    plan, g = streamed
    peak = max(p.offset + p.size for p in plan.memory if p.level == "L2")
    tight = plan.model_copy(update={"budgets": {**plan.budgets, "L2": peak - 4}})
    assert ViolationKind.BUDGET in _kinds(tight, g)
