"""Fixtures of the emitter tests: the kernel test driver (compiled once per session, shared by xdist
workers through a file lock), toolchain availability, and the model/budget matrix.

Which combinations run: by default a representative subset (see test_models.py); set
DEEPLOY_TILER_FULL=1 to run every shared model at every budget, with and without double buffering,
on host and RV32.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
from collections.abc import Iterator

import pytest

from deeploy_tiler.resources import emit_c_dir

from .kernel_driver import TEST_INSTANCES, Driver, build_driver, driver_source

FULL = os.environ.get("DEEPLOY_TILER_FULL", "") not in ("", "0")


def _driver_key() -> str:
    h = hashlib.sha256(driver_source(TEST_INSTANCES).encode())
    for p in sorted((emit_c_dir()).rglob("*")):
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


@pytest.fixture(scope="session")
def kernel_driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Driver]:
    if shutil.which("gcc") is None:
        pytest.skip("host gcc not available")
    root = tmp_path_factory.getbasetemp().parent  # shared by the xdist workers of one run
    work = root / f"dt_kernel_driver_{_driver_key()}"
    with open(root / "dt_kernel_driver.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        exe = work / "driver"
        if not exe.exists():
            work.mkdir(parents=True, exist_ok=True)
            build_driver(work)
        fcntl.flock(lock, fcntl.LOCK_UN)
    driver = Driver(exe)
    yield driver
    driver.close()


def need_rv32() -> None:
    if shutil.which("riscv64-unknown-elf-gcc") is None or shutil.which("qemu-system-riscv32") is None:
        if os.environ.get("CI"):
            pytest.fail("RV32 toolchain / QEMU missing (bash scripts/install.sh)")
        pytest.skip("RV32 toolchain / QEMU missing")
