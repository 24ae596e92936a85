"""CI forms of the rv32 benchmarks: the kernel instruction counts and the rv32_mcu calibration run and
agree between host and rv32 (skipped without the cross toolchain / QEMU or the shared models)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
needs_rv32 = pytest.mark.skipif(
    shutil.which("riscv64-unknown-elf-gcc") is None or shutil.which("qemu-system-riscv32") is None,
    reason="rv32 toolchain / QEMU missing (bash scripts/install.sh)",
)


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@needs_rv32
def test_kernel_counts_short(capsys: pytest.CaptureFixture[str]) -> None:
    assert _load("bench_kernels").main(["--short"]) == 0  # every host checksum equals the rv32 one
    out = capsys.readouterr().out
    assert "| matmul 8x64x64 | gemm | 32768 |" in out and "| depthwise 3x3 32->32 8x8 | depthwise |" in out


@needs_rv32
def test_calibration_short(capsys: pytest.CaptureFixture[str], model_dirs: dict[str, Path]) -> None:
    b = _load("bench_calibrate")
    assert b.main(["--short"]) == 0
    out = capsys.readouterr().out
    assert "effective_macs_per_cycle.int8" in out and "call_overhead_cycles" in out
    assert "skipped" not in out
