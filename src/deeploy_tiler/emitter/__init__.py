"""C emission: a Plan becomes a self-contained C project (network, kernels, runtime, test harness) that
builds with host gcc and the RV32 cross compiler and runs bit-exactly against the reference."""

from .build import (
    BuildResult,
    MemoryUse,
    OutputCheck,
    RunResult,
    Target,
    Verification,
    build,
    build_and_run,
    run,
    toolchain_available,
    verify,
)
from .project import EmittedProject, NodeInfo, emit_project
from .untiled import untiled_plan

__all__ = [
    "BuildResult",
    "EmittedProject",
    "MemoryUse",
    "NodeInfo",
    "OutputCheck",
    "RunResult",
    "Target",
    "Verification",
    "build",
    "build_and_run",
    "emit_project",
    "run",
    "toolchain_available",
    "untiled_plan",
    "verify",
]
