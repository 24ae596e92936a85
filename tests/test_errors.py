"""errors: the messages and attributes of the typed errors, and the one-line pydantic summary."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from deeploy_tiler import errors as E


class _Two(BaseModel):
    a: int
    b: int


def _validation_error(data: dict[str, object]) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        _Two.model_validate(data)
    return info.value


def test_every_error_is_a_deeploy_tiler_error() -> None:
    for cls in (
        E.ModelError,
        E.UnsupportedOperatorError,
        E.ShapeError,
        E.LayerListError,
        E.HwSpecError,
        E.ReferenceError_,
        E.InfeasibleBudget,
        E.AllocationError,
        E.OptionError,
        E.PlanError,
        E.EmitError,
    ):
        assert issubclass(cls, E.DeeployTilerError), cls
    assert issubclass(E.OptionError, ValueError)  # callers catching ValueError still see bad options
    assert issubclass(E.ShapeError, E.ModelError) and issubclass(E.LayerListError, E.ModelError)


def test_validation_summary_names_each_field_and_counts_the_rest() -> None:
    err = _validation_error({"a": "x"})
    text = E.validation_summary(err)
    assert text.startswith("a: ")
    assert "; b: Field required" in text
    assert E.validation_summary(err, limit=1) == text.split("; ")[0] + "; and 1 more"


def test_validation_summary_of_a_document_level_error() -> None:
    err = _validation_error([])  # type: ignore[arg-type]
    assert E.validation_summary(err).startswith("(document): ")


def test_unsupported_operator_error_sorts_ops_and_cuts_long_node_lists() -> None:
    names = [f"n{i}" for i in range(7)]
    e = E.UnsupportedOperatorError({"ai.onnx::Zed": ["z"], "ai.onnx::Abs": names}, path="m.onnx")
    assert list(e.unsupported) == ["ai.onnx::Abs", "ai.onnx::Zed"]
    assert str(e) == (
        "m.onnx: unsupported operators: ai.onnx::Abs (nodes: n0, n1, n2, n3, n4, ...); ai.onnx::Zed (nodes: z)"
    )
    assert e.path == "m.onnx" and e.node is None
    assert str(E.UnsupportedOperatorError({"x::Y": ["a"]})) == "unsupported operators: x::Y (nodes: a)"


def test_infeasible_budget_attributes_and_message() -> None:
    needs = [("conv1", 5000, "weights"), ("gemm", 9000, "im2col")]
    e = E.InfeasibleBudget("L1", 4096, needs)
    assert e.nodes == ["conv1", "gemm"]
    assert e.min_bytes == {"conv1": 5000, "gemm": 9000}
    assert e.required_bytes == 9000
    assert str(e) == (
        "L1 budget of 4096 B is infeasible: node conv1 needs at least 5000 B of L1 (weights); "
        "node gemm needs at least 9000 B of L1 (im2col). Smallest L1 budget that fits every node: 9000 B"
    )


def test_infeasible_budget_shows_eight_nodes_and_counts_the_rest() -> None:
    needs = [(f"n{i}", 100 + i, "x") for i in range(11)]
    e = E.InfeasibleBudget("L2", 1, needs)
    text = str(e)
    assert "node n7 needs" in text and "node n8 needs" not in text
    assert "; and 3 more." in text
    assert e.required_bytes == 110
    assert E.InfeasibleBudget("L1", 1, []).required_bytes == 0


def test_keyword_attributes() -> None:
    a = E.AllocationError("too big", buffer="b0", time=3, excess_bytes=12)
    assert (a.buffer, a.time, a.excess_bytes, str(a)) == ("b0", 3, 12, "too big")
    o = E.OptionError("bad", field="--seed", path="x.json")
    assert (o.field, o.path) == ("--seed", "x.json")
    h = E.HwSpecError("bad", path="s.yaml", field="clock_hz")
    assert (h.path, h.field) == ("s.yaml", "clock_hz")
    m = E.ShapeError("bad", node="n1")
    assert (m.path, m.node) == (None, "n1")
