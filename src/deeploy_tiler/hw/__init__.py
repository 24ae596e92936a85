"""The hardware spec: pydantic models of memories, DMA engines and compute engines (`spec`), loading of the
bundled YAML specs in `specs/` and of user files (`load`), and dotted-path overrides (`dotted`)."""

from .load import list_bundled_specs, load_hw, parse_hw_yaml
from .spec import ANY_OP, DTYPE_NAMES, ComputeEngine, DmaEngine, HwSpec, MemoryLevel, NpuRules, parse_hw

__all__ = [
    "ANY_OP",
    "DTYPE_NAMES",
    "ComputeEngine",
    "DmaEngine",
    "HwSpec",
    "MemoryLevel",
    "NpuRules",
    "list_bundled_specs",
    "load_hw",
    "parse_hw",
    "parse_hw_yaml",
]
