"""Models the package builds itself (no download, no data files)."""

from .tiny_decoder import DEFAULT_MODEL_NAME, build_tiny_decoder, tiny_decoder_inputs

__all__ = ["DEFAULT_MODEL_NAME", "build_tiny_decoder", "tiny_decoder_inputs"]
