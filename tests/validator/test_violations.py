"""The report: `assert_valid` raises a `PlanValidationError` naming every violation; violation text; floods
are capped per node and kind."""

from __future__ import annotations

import pytest

from deeploy_tiler.errors import PlanError
from deeploy_tiler.validator import PlanValidationError, Violation, assert_valid, validate
from deeploy_tiler.validator.violations import MAX_PER_KIND, Report

from .builders import HW, K, with_node
from .cases import conv_plan, two_node


def test_assert_valid_and_violation_text() -> None:
    graph, plan = conv_plan()
    assert_valid(plan, graph, HW)
    broken = with_node(plan, l1_bytes=1)
    with pytest.raises(PlanValidationError) as info:
        assert_valid(broken, graph, HW)
    assert isinstance(info.value, PlanError)
    assert info.value.violations[0].kind is K.L1_BYTES
    assert "L1_BYTES: node n: l1_bytes is 1" in str(info.value)
    v = Violation(K.BUDGET, None, "too big")
    assert str(v) == "BUDGET: too big"


def test_floods_are_summarized() -> None:
    graph, plan = two_node()
    n = plan.nodes[0]
    shifted = tuple(s.model_copy(update={"output_region": ((0, 1), (0, 9))}) for s in n.steps)
    many = with_node(plan, steps=shifted * 30, num_tiles=60)
    found = validate(many, graph, HW)
    bounds = [v for v in found if v.kind is K.REGION_BOUNDS]
    assert len(bounds) == 21 and "more like the above" in bounds[-1].message


def test_report_keeps_the_first_messages_per_node_and_kind_then_one_summary() -> None:
    report = Report()
    for i in range(MAX_PER_KIND + 3):
        report.add(K.SLOT, "a", f"a{i}")
    report.add(K.SLOT, "b", "b0")  # another node: its own count
    report.add(K.DTYPE, "a", "d0")  # another kind: its own count
    found = report.finish()
    assert [v.message for v in found] == [
        *(f"a{i}" for i in range(MAX_PER_KIND)),
        "b0",
        "d0",
        "... and 3 more like the above",
    ]
    assert found[-1].kind is K.SLOT and found[-1].node == "a"


def test_validation_error_shows_a_bounded_list() -> None:
    violations = [Violation(K.SLOT, "n", f"m{i}") for i in range(5)]
    err = PlanValidationError(violations, shown=2)
    assert err.violations == tuple(violations)
    assert str(err) == "invalid plan: 5 violation(s)\n  SLOT: node n: m0\n  SLOT: node n: m1\n  ... and 3 more"
