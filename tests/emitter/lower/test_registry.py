"""lower/registry.py: the op_type table covers the planner's operators; families match the C templates."""

from __future__ import annotations

import numpy as np
import pytest

from deeploy_tiler.emitter.lower import LOWERINGS, lower_step
from deeploy_tiler.emitter.sources import TEMPLATE_PARAMS
from deeploy_tiler.errors import UnsupportedOperatorError
from deeploy_tiler.ir import ALIAS_OPS
from deeploy_tiler.ops.builders import BUILDERS
from deeploy_tiler.reference.registry import FLOAT_ONLY_OPS
from deeploy_tiler.resources import emit_c_dir

from .steps import Step, fields


def test_every_planned_integer_operator_has_a_lowering() -> None:
    planned = set(BUILDERS) - set(FLOAT_ONLY_OPS)  # float ops have no integer semantics to emit
    assert planned - set(LOWERINGS) == set()
    assert set(LOWERINGS) - set(BUILDERS) == set()  # nothing lowerable that the planner cannot tile
    assert not set(LOWERINGS) & ALIAS_OPS  # aliases move no data: the emitter handles them itself


def test_families_are_the_kernel_templates() -> None:
    templates = {p.name.removesuffix(".tmpl.h") for p in (emit_c_dir() / "kernels").glob("*.tmpl.h")}
    assert templates == set(TEMPLATE_PARAMS)
    modules = {fn.__module__.rsplit(".", 1)[1] for fn in LOWERINGS.values()}
    # the float32 templates f32_<family> are lowered by their integer family's module
    floats = {t for t in templates if t.startswith("f32_")}
    assert floats == {"f32_conv2d", "f32_gemm", "f32_eltwise", "f32_pool"}
    assert {t.removeprefix("f32_") for t in floats} <= templates - floats
    assert modules == (templates - floats) | {"copy"}


def test_lower_step_dispatches_and_rejects_unknown_operators() -> None:
    s = Step()
    x = s.act("x", (3,))
    (call,) = lower_step(s.context("Relu", [x], (3,)))
    assert call.template == "eltwise" and fields(call)["d"] == (1, 1, 1, 3)
    with pytest.raises(UnsupportedOperatorError):
        lower_step(s.context("Softmax", [x], (3,)))
    with pytest.raises(UnsupportedOperatorError):
        lower_step(s.context("Conv", [x, s.const("w", np.ones(1))], (3,), group=1))  # 1-D tensor: no Conv
