"""Bit-exact integer reference interpreter (numpy, int64): the correctness oracle of the project."""

from .interpreter import check_supported, reference_run, run_node
from .registry import FLOAT_ONLY_OPS, KERNELS

SUPPORTED_OPS = frozenset(KERNELS)

__all__ = ["FLOAT_ONLY_OPS", "KERNELS", "SUPPORTED_OPS", "check_supported", "reference_run", "run_node"]
