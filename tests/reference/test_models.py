"""Bit-exact check of the reference interpreter on every shared model: each output of `outputs.npz`
(including microLlama's 16 grown KV caches) must be reproduced with zero difference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deeploy_tiler.reference import reference_run
from tests.conftest import SHARED_MODELS, load_model, load_npz_outputs


@pytest.mark.parametrize("fuse", [True, False], ids=["fused", "unfused"])
@pytest.mark.parametrize("model", SHARED_MODELS)
def test_bit_exact(model_dirs: dict[str, Path], model: str, fuse: bool) -> None:
    folder = model_dirs[model]
    graph, inputs = load_model(folder, fuse=fuse)
    expected = load_npz_outputs(folder)
    got = reference_run(graph, inputs)
    assert list(got) == list(graph.output_names)
    assert len(got) == len(expected)
    bad = []
    for (name, value), ref in zip(got.items(), expected, strict=True):
        assert value.dtype == np.int64
        if value.shape != ref.shape:
            bad.append(f"{name}: shape {value.shape} != {ref.shape}")
        elif not np.array_equal(value, ref):
            diff = np.abs(value - ref)
            bad.append(
                f"{name}: {int(np.count_nonzero(diff))} of {ref.size} elements differ, max abs diff {int(diff.max())}"
            )
    assert not bad, f"{model} ({'fused' if fuse else 'unfused'}): " + "; ".join(bad)


@pytest.mark.parametrize("model", SHARED_MODELS)
def test_fused_and_unfused_agree_on_every_tensor(model_dirs: dict[str, Path], model: str) -> None:
    """Fusion only removes the int32 tensor between an operator and its RequantShift."""
    folder = model_dirs[model]
    fused, inputs = load_model(folder, fuse=True)
    unfused, _ = load_model(folder, fuse=False)
    a = reference_run(fused, inputs, keep_intermediates=True)
    b = reference_run(unfused, inputs, keep_intermediates=True)
    assert set(a) <= set(b)
    assert len(b) - len(a) == sum(1 for n in fused.nodes if n.requant is not None)
    for name, value in a.items():
        assert np.array_equal(value, b[name]), name


def test_microllama_caches_grow_by_one(model_dirs: dict[str, Path]) -> None:
    folder = model_dirs["microLlama/INT8/microLlama8"]
    graph, inputs = load_model(folder)
    out = reference_run(graph, inputs)
    caches = [v for k, v in out.items() if k != "output"]
    assert len(caches) == 16
    assert all(c.shape == (1, 16, 9, 4) for c in caches)


def test_activations_are_intermediates(model_dirs: dict[str, Path]) -> None:
    """Every QuantLib intermediate of microLlama8's activations.npz is one of our tensors, exactly."""
    folder = model_dirs["microLlama/INT8/microLlama8"]
    graph, inputs = load_model(folder, fuse=False)
    ours = reference_run(graph, inputs, keep_intermediates=True)
    seen = {(v.shape, v.tobytes()) for v in ours.values()}
    with np.load(folder / "activations.npz") as acts:
        unmatched = [k for k in acts.files if (acts[k].shape, acts[k].astype(np.int64).tobytes()) not in seen]
    assert not unmatched, unmatched[:5]
