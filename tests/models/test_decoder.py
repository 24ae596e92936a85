"""The stacked-decoder builder: shapes, named bundled models, calibrated requantization."""

from __future__ import annotations

import numpy as np
import pytest

import deeploy_tiler as dt
from deeploy_tiler.errors import ModelError
from deeploy_tiler.frontend import import_onnx
from deeploy_tiler.models import BUNDLED, DecoderConfig, build_decoder, bundled_inputs, decoder_inputs
from deeploy_tiler.reference.interpreter import reference_run


def test_decode_shapes_and_caches() -> None:
    cfg = DecoderConfig(name="d", layers=2, d_model=32, heads=4, ffn=64, kv_len=8)
    g = import_onnx(build_decoder(cfg), name="d", source="<test>")
    assert g.input_names == ("input", "past_k.0", "past_v.0", "past_k.1", "past_v.1")
    assert g.output_names == ("output", "present_k.0", "present_v.0", "present_k.1", "present_v.1")
    assert g.tensor("present_k.1").shape == (1, 4, 9, 8)
    out = reference_run(g, decoder_inputs(cfg))
    # the Concat appends the new token after the cache: the old rows are the inputs, unchanged
    assert np.array_equal(out["present_k.0"][:, :, :8, :], decoder_inputs(cfg)["past_k.0"])


def test_no_stage_saturates() -> None:
    """Calibration: every requantized tensor uses its range without piling up at the clip bounds."""
    cfg = DecoderConfig(name="d", layers=2, d_model=64, heads=4, ffn=128, kv_len=16)
    g = import_onnx(build_decoder(cfg), name="d", source="<test>")
    values = reference_run(g, decoder_inputs(cfg), keep_intermediates=True)
    checked = 0
    for node in g.nodes:
        if node.requant is None:
            continue
        y = values[node.outputs[0]]
        lo, hi = (-128, 127) if node.requant.signed else (0, 255)
        clipped = float(np.mean((y == lo) | (y == hi)))
        assert clipped < 0.02, (node.name, clipped)
        assert int(y.max()) - int(y.min()) > 16, node.name  # not dead
        checked += 1
    assert checked >= 2 * 12


def test_prefill_and_head() -> None:
    cfg = DecoderConfig(name="p", layers=1, d_model=32, heads=2, ffn=48, tokens=4, vocab=100)
    g = import_onnx(build_decoder(cfg), name="p", source="<test>")
    assert g.input_names == ("input",)
    assert g.tensor("logits").shape == (1, 4, 100)
    assert cfg.weight_bytes == 4 * 32 * 32 + 3 * 32 * 48 + 32 * 100


def test_named_models() -> None:
    assert dt.load_model().name == "tiny_decoder"
    g = dt.load_model("llama_d128x8")
    consts = sum(t.nbytes for t in g.tensors.values() if t.is_constant)
    assert consts > 2 * 1024 * 1024  # 2 MiB of projection weights plus norms and requant constants
    assert set(bundled_inputs("llama_d128x8")) == set(g.input_names)
    assert "tinystories15m" in BUNDLED
    with pytest.raises(ModelError, match="no bundled model"):
        bundled_inputs("nope")


def test_microllama64_prefill_has_microllama64_weights_and_64_tokens() -> None:
    cfg = BUNDLED["microllama64_prefill"]
    assert cfg is not None and cfg.kv_len == 0 and cfg.seq == 64 and cfg.head_dim == 4
    g = dt.load_model("microllama64_prefill")
    assert g.input_names == ("input",) and g.tensor(g.input_names[0]).shape == (1, 64, 64)
    # the same int8 projection / FFN weights as the shared microLlama64 (524,288 B over 8 layers)
    assert cfg.weight_bytes == 524_288
    matmul_weights = [t for t in g.tensors.values() if t.is_constant and len(t.shape) == 2 and t.shape[0] >= 64]
    assert sum(t.nbytes for t in matmul_weights) == 524_288


def test_deterministic() -> None:
    cfg = DecoderConfig(name="d", layers=1, d_model=32, heads=4, ffn=32, kv_len=4)
    assert build_decoder(cfg).SerializeToString() == build_decoder(cfg).SerializeToString()


def test_bad_config() -> None:
    with pytest.raises(ValueError, match="multiple of heads"):
        DecoderConfig(d_model=30, heads=4)


def test_chunked_head_equals_one_gemm_per_chunk() -> None:
    """A chunked head is the vocabulary split in column blocks: chunk c's logits are the final norm times
    lm_head.c, requantized, at columns [c * w, (c + 1) * w) of the logits."""
    cfg = DecoderConfig(name="h", layers=1, d_model=32, heads=2, ffn=48, kv_len=4, vocab=120, head_chunks=4)
    g = import_onnx(build_decoder(cfg), name="h", source="<test>")
    assert g.tensor("logits").shape == (1, 1, 120)
    assert [t for t in g.tensors if t.startswith("lm_head.") and g.tensors[t].is_constant][:4] == [
        "lm_head.0",
        "lm_head.1",
        "lm_head.2",
        "lm_head.3",
    ]
    assert all(g.tensor(f"lm_head.{c}").shape == (32, 30) for c in range(4))
    assert cfg.weight_bytes == 4 * 32 * 32 + 3 * 32 * 48 + 32 * 120
    values = reference_run(g, decoder_inputs(cfg), keep_intermediates=True)
    heads = [n for n in g.nodes if n.op_type == "MatMul" and n.inputs[1].startswith("lm_head.")]
    assert len(heads) == 4
    for c, node in enumerate(heads):
        assert node.requant is not None  # fused: MatMul + RequantShift
        assert np.array_equal(values["logits"][0, 0, 30 * c : 30 * (c + 1)], values[node.outputs[0]].reshape(-1))


def test_chunked_head_does_not_saturate() -> None:
    cfg = DecoderConfig(name="h", layers=1, d_model=64, heads=4, ffn=96, kv_len=8, vocab=512, head_chunks=8)
    g = import_onnx(build_decoder(cfg), name="h", source="<test>")
    y = reference_run(g, decoder_inputs(cfg))["logits"]
    assert float(np.mean((y == -128) | (y == 127))) < 0.02
    assert int(y.max()) - int(y.min()) > 16


def test_head_chunks_must_divide_the_vocabulary() -> None:
    with pytest.raises(ValueError, match="must divide the vocabulary"):
        DecoderConfig(vocab=100, head_chunks=3)
    with pytest.raises(ValueError, match="must divide the vocabulary"):
        DecoderConfig(head_chunks=2)  # no head to chunk


def test_tinystories15m_head_streams_its_head_from_l3() -> None:
    """The 9.2 MB int8 head does not fit Siracusa's 2 MiB L2: at the default L2 budget every head chunk is
    staged from L3, and the plan passes the validator."""
    g = dt.load_model("tinystories15m_head")
    head = [t for t in g.tensors.values() if t.is_constant and t.name.startswith("lm_head.") and len(t.shape) == 2]
    assert len(head) == 32 and sum(t.nbytes for t in head) == 288 * 32000
    hw = dt.load_hw("siracusa")
    p = dt.plan(g, hw)
    staged = {s.tensor: s for s in p.staging if s.direction == "in"}
    assert {t.name for t in head} <= set(staged)
    assert all(staged[t.name].home_level == "L3" and staged[t.name].bytes == t.nbytes for t in head)
    assert p.l3_bytes >= 288 * 32000
    assert dt.validate(p, g, hw) == []
