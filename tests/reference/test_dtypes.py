"""The frontend's inferred dtypes hold every value the reference interpreter produces on the shared
models (fused and unfused graphs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deeploy_tiler.ir import TensorKind
from deeploy_tiler.reference import reference_run
from tests.conftest import SHARED_MODELS, load_model


@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "unfused"])
@pytest.mark.parametrize("model", SHARED_MODELS)
def test_values_fit_inferred_dtypes(model_dirs: dict[str, Path], model: str, fuse: bool) -> None:
    graph, inputs = load_model(model_dirs[model], fuse=fuse)
    values = reference_run(graph, inputs, keep_intermediates=True)
    assert set(values) == {n for n, t in graph.tensors.items() if t.kind is not TensorKind.CONSTANT}
    bad = []
    for name, v in values.items():
        dt = graph.tensor(name).dtype
        lo, hi = int(v.min()), int(v.max())
        if not dt.holds(lo, hi):
            producer = graph.producer(name)
            op = producer.op_type if producer else "graph input"
            bad.append(f"{name} ({op}): values [{lo}, {hi}] outside {dt.value}")
    assert not bad, "; ".join(bad)
