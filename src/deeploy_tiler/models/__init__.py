"""Models the package builds itself (no download, no data files).

`BUNDLED` names every bundled model; `bundled_model(name)` builds one (ONNX, requantization
calibrated) and `bundled_inputs(name)` gives its deterministic sample inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx

from ..errors import ModelError
from .decoder import DecoderConfig, build_decoder, decoder_inputs
from .tiny_decoder import DEFAULT_MODEL_NAME, build_tiny_decoder, tiny_decoder_inputs

__all__ = [
    "BUNDLED",
    "DEFAULT_MODEL_NAME",
    "DecoderConfig",
    "build_decoder",
    "build_tiny_decoder",
    "bundled_inputs",
    "bundled_model",
    "decoder_inputs",
    "tiny_decoder_inputs",
]

# Stacked decoders (decoder.py). d128 x 8 with FFN 512 holds 2 MiB of int8 weights; the TinyStories-15M
# shape (d 288, 6 layers, 6 heads, FFN 768, KV 256) holds 6.0 MB in its body, 15.2 MB with its head (9.2 MB,
# 32 chunks of 1000 vocabulary columns: 288,000 B each, staged from L3 one by one within an L2 of 1 MB).
BUNDLED: dict[str, DecoderConfig | None] = {
    DEFAULT_MODEL_NAME: None,
    "llama_d128x8": DecoderConfig(name="llama_d128x8", layers=8, d_model=128, heads=8, ffn=512, kv_len=64),
    "tinystories15m": DecoderConfig(name="tinystories15m", layers=6, d_model=288, heads=6, ffn=768, kv_len=256),
    "tinystories15m_head": DecoderConfig(
        name="tinystories15m_head", layers=6, d_model=288, heads=6, ffn=768, kv_len=256, vocab=32000, head_chunks=32
    ),
    "tinystories_layer": DecoderConfig(name="tinystories_layer", layers=1, d_model=288, heads=6, ffn=768, kv_len=256),
    # the shared microLlama64's shape (8 layers, d 64, 16 heads, FFN 256) prefilling 64 tokens at once, as
    # Deeploy's microLlama64_parallel does (its published cycles: benchmarks/bench_gvsoc_prefill.py)
    "microllama64_prefill": DecoderConfig(
        name="microllama64_prefill", layers=8, d_model=64, heads=16, ffn=256, kv_len=0, tokens=64
    ),
}


def _config(name: str) -> DecoderConfig | None:
    if name not in BUNDLED:
        raise ModelError(f"no bundled model {name!r}; bundled: {', '.join(sorted(BUNDLED))}", path=name)
    return BUNDLED[name]


def bundled_model(name: str) -> onnx.ModelProto:
    cfg = _config(name)
    return build_tiny_decoder() if cfg is None else build_decoder(cfg)


def bundled_inputs(name: str) -> dict[str, np.ndarray[Any, Any]]:
    cfg = _config(name)
    return tiny_decoder_inputs() if cfg is None else decoder_inputs(cfg)
