"""Build and run an emitted project: host gcc (-Wall -Wextra -Werror), RV32 cross gcc + QEMU, and the
siracusa target (the same cross gcc, the project's own crt0 / linker script; run on GVSoC, siracusa.py).

Results are typed: pass/fail, per output the mismatches and the first differing index, retired
instructions per node and in total (exact under QEMU with -icount shift=0; 0 on the host), code and
data sizes from the ELF, and the memory each level really holds (arena symbol sizes + constant arrays
measured in the ELF) against the plan's budgets.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..errors import EmitError
from ..hw.spec import HwSpec
from ..ir import Graph
from ..plan import Plan
from ..units import align_up
from . import siracusa
from .project import EmittedProject, emit_project

Target = Literal["host", "rv32", "siracusa"]

HOST_CC = os.environ.get("DEEPLOY_TILER_HOST_CC", "gcc")
RV32_PREFIX = "riscv64-unknown-elf-"
QEMU = "qemu-system-riscv32"
WARN = ["-std=c99", "-Wall", "-Wextra", "-Werror"]
RV32_ARCH = [
    "-march=rv32imc",
    "-mabi=ilp32",
    "-misa-spec=2.2",
    "--specs=picolibc.specs",
    "--oslib=semihost",
    "--crt0=semihost",
]


@dataclass(frozen=True)
class MemoryUse:
    """What one memory level really holds in the built program, against the plan."""

    level: str
    arena_bytes: int  # size of the dt_arena_<level> symbol in the ELF
    const_bytes: int  # constant arrays placed in the level's section (ELF symbol sizes, each rounded up to
    #                   the level alignment as the arrays are aligned)
    budget: int | None  # the plan's budget for the level (None: the plan has none)

    @property
    def total(self) -> int:
        return self.arena_bytes + self.const_bytes

    @property
    def within_budget(self) -> bool:
        return self.budget is None or self.total <= self.budget


@dataclass(frozen=True)
class BuildResult:
    target: Target
    elf: Path
    seconds: float
    text_bytes: int  # code (.text)
    rodata_bytes: int  # read-only data (.rodata: constants, tables, test data)
    data_bytes: int  # initialized data (.data, .sdata)
    bss_bytes: int  # zero-initialized data (.bss, .sbss: the arenas)
    memory: tuple[MemoryUse, ...]
    command: tuple[str, ...]
    # from the symbol table (linker scripts may merge .rodata into .text): functions, the network's
    # schedule tables (DMA descriptors, kernel argument blocks, events), its constants, the test data
    code_bytes: int = 0  # every function, C library included
    network_code_bytes: int = 0  # functions of the runtime, kernels and network (dt_*, network_*)
    table_bytes: int = 0
    const_bytes: int = 0
    test_data_bytes: int = 0

    @property
    def within_budgets(self) -> bool:
        return all(m.within_budget for m in self.memory)

    def level(self, name: str) -> MemoryUse:
        for m in self.memory:
            if m.level == name:
                return m
        raise KeyError(name)


@dataclass(frozen=True)
class OutputCheck:
    index: int
    name: str
    numel: int
    mismatches: int
    first_index: int | None  # first differing element (flat index), None when equal
    got: int | None
    expected: int | None


@dataclass(frozen=True)
class RunResult:
    target: Target
    passed: bool
    returncode: int
    outputs: tuple[OutputCheck, ...]
    node_instructions: tuple[tuple[str, int], ...]  # (node name, retired instructions), graph order
    total_instructions: int
    dma_transfers: int
    dma_bytes: int
    seconds: float
    stdout: str
    stderr: str

    @property
    def checked(self) -> bool:
        return bool(self.outputs)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise EmitError(f"{name} not found (install it: bash scripts/install.sh)")
    return path


def toolchain_available(target: Target) -> bool:
    if target == "host":
        return shutil.which(HOST_CC) is not None
    if target == "siracusa":  # building; running also needs GVSoC (siracusa.gvsoc_install())
        return shutil.which(RV32_PREFIX + "gcc") is not None
    return shutil.which(RV32_PREFIX + "gcc") is not None and shutil.which(QEMU) is not None


def _sources(p: Path) -> list[str]:
    return [
        str(p / f) for f in ("main.c", "network.c", "kernels.c", "dt/runtime/dt_runtime.c", "dt/kernels/dt_kernels.c")
    ]


def build(
    project: EmittedProject,
    target: Target = "host",
    *,
    opt: str = "-O2",
    timeout: float = 600.0,
    extra_cflags: tuple[str, ...] = (),
) -> BuildResult:
    """Compile the project for `target` into `<out_dir>/build/<target>/` (parallel-safe per project)."""
    p = project.out_dir
    bdir = p / "build" / target
    bdir.mkdir(parents=True, exist_ok=True)
    inc = [f"-I{p}", f"-I{p / 'dt' / 'runtime'}", f"-I{p / 'dt' / 'kernels'}"]
    defs = [
        f"-DDT_NUM_CORES={project.num_cores}",
        f"-DDT_DMA_MAX_PENDING={project.dma_queue}",
        "-fno-strict-aliasing",
        "-ffp-contract=off",  # as the Makefile: no fused multiply-add, the float32 kernels' order is exact
        *extra_cflags,
    ]
    if target == "host":
        elf = bdir / "prog"
        cmd = [_tool(HOST_CC), *WARN, opt, *defs, *inc, "-o", str(elf), *_sources(p)]
    elif target == "siracusa":
        elf = bdir / "prog.elf"
        cmd = siracusa.build_command(p, bdir, _tool(RV32_PREFIX + "gcc"), opt, defs, WARN)
    else:
        elf = bdir / "prog.elf"
        ram_base = 0x80000000 + project.flash_bytes
        link = (
            f"-Wl,--defsym=__flash=0x80000000,--defsym=__flash_size={project.flash_bytes:#x},"
            f"--defsym=__ram={ram_base:#x},--defsym=__ram_size={project.ram_bytes:#x}"
        )
        cmd = [
            _tool(RV32_PREFIX + "gcc"),
            *WARN,
            opt,
            *defs,
            *inc,
            *RV32_ARCH,
            link,
            f"-Wl,-Map={bdir / 'prog.map'}",
            "-o",
            str(elf),
            *_sources(p),
        ]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as e:
        raise EmitError(f"{target} build of {p} timed out after {timeout} s") from e
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise EmitError(f"{target} build of {p} failed:\n{proc.stderr[-6000:]}")
    sizes = _section_sizes(elf, target)
    memory = _measure_memory(project, elf, target)
    kinds = _symbol_breakdown(elf, target)
    return BuildResult(
        target,
        elf,
        seconds,
        sizes.get("text", 0),
        sizes.get("rodata", 0),
        sizes.get("data", 0),
        sizes.get("bss", 0),
        memory,
        tuple(cmd),
        code_bytes=kinds["code"],
        network_code_bytes=kinds["netcode"],
        table_bytes=kinds["tables"],
        const_bytes=kinds["consts"],
        test_data_bytes=kinds["test"],
    )


def _binutil(target: Target, tool: str) -> str:
    return _tool(tool if target == "host" else RV32_PREFIX + tool)


def _section_sizes(elf: Path, target: Target) -> dict[str, int]:
    out = subprocess.run([_binutil(target, "size"), "-A", str(elf)], capture_output=True, text=True, check=True)
    acc = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2 or not parts[1].isdigit():
            continue
        name, size = parts[0], int(parts[1])
        if name == ".text" or name.startswith(".text.") or name in (".init", ".fini", ".plt"):
            acc["text"] += size
        elif name.startswith((".rodata", ".srodata")):
            acc["rodata"] += size
        elif name.startswith((".data", ".sdata", ".tdata")):
            acc["data"] += size
        elif name.startswith((".bss", ".sbss", ".tbss")):
            acc["bss"] += size
    return acc


_TABLE = re.compile(r"^n\d+_")
_CONST = re.compile(r"^dt_c\d+$")


def _symbol_breakdown(elf: Path, target: Target) -> dict[str, int]:
    out = subprocess.run([_binutil(target, "readelf"), "-sW", str(elf)], capture_output=True, text=True, check=True)
    acc = {"code": 0, "netcode": 0, "tables": 0, "consts": 0, "test": 0}
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) < 8 or not parts[0].rstrip(":").isdigit() or not parts[2].isdigit():
            continue
        size, kind, name = int(parts[2]), parts[3], parts[7]
        if kind == "FUNC":
            acc["code"] += size
            if name.startswith(("dt_", "network_")):
                acc["netcode"] += size
        elif kind == "OBJECT":
            if _TABLE.match(name):
                acc["tables"] += size
            elif _CONST.match(name):
                acc["consts"] += size
            elif name.startswith("dt_test_"):
                acc["test"] += size
    return acc


def symbol_sizes(elf: Path, target: Target) -> dict[str, int]:
    out = subprocess.run(
        [_binutil(target, "nm"), "-S", "--defined-only", str(elf)], capture_output=True, text=True, check=True
    )
    sizes: dict[str, int] = {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) == 4:
            sizes[parts[3]] = int(parts[1], 16)
    return sizes


def _measure_memory(project: EmittedProject, elf: Path, target: Target) -> tuple[MemoryUse, ...]:
    syms = symbol_sizes(elf, target)
    levels = sorted({*project.arena_bytes, *project.const_bytes, *project.budgets})
    uses = []
    for level in levels:
        arena = syms.get(f"dt_arena_{level}", 0)
        al = project.alignment.get(level, 1)
        const = sum(align_up(syms.get(sym, 0), al) for sym, lv in project.const_symbols.items() if lv == level)
        if arena == 0 and const == 0 and level not in project.arena_bytes:
            continue
        uses.append(MemoryUse(level, arena, const, project.budgets.get(level)))
    return tuple(uses)


_NODE = re.compile(r"^DT_NODE (\d+) (\d+)$")
_OUT = re.compile(r"^DT_OUTPUT (\d+) (\d+) (\d+) (-?\d+) (-?\d+) (-?\d+)$")
_TOTAL = re.compile(r"^DT_TOTAL (\d+)$")
_DMA = re.compile(r"^DT_DMA (\d+) (\d+)$")


def run(project: EmittedProject, built: BuildResult, *, timeout: float = 600.0) -> RunResult:
    """Run a built program (natively, under QEMU with -icount shift=0, or on GVSoC's siracusa model) and
    parse its report. On siracusa the per-node counts are cluster core 0's cycles."""
    env = None
    if built.target == "host":
        cmd = [str(built.elf)]
    elif built.target == "siracusa":
        install = siracusa.gvsoc_install()
        if install is None:
            raise EmitError(f"no GVSoC install: set {siracusa.GVSOC_ENV} to a directory with bin/gvsoc")
        cmd = siracusa.gvsoc_command(install, built.elf, built.elf.parent)
        env = siracusa.gvsoc_env()
    else:
        mem_mb = (project.flash_bytes + project.ram_bytes) // (1 << 20) + 16
        cmd = [
            _tool(QEMU),
            "-machine",
            "virt",
            "-m",
            f"{max(mem_mb, 128)}M",
            "-bios",
            "none",
            "-display",
            "none",
            "-serial",
            "none",
            "-monitor",
            "none",
            "-chardev",
            "stdio,id=sh0",
            "-semihosting-config",
            "enable=on,target=native,chardev=sh0",
            "-icount",
            "shift=0",
            "-kernel",
            str(built.elf),
        ]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL, env=env
        )
    except subprocess.TimeoutExpired as e:
        raise EmitError(f"{built.target} run of {built.elf} timed out after {timeout} s") from e
    seconds = time.perf_counter() - t0
    return parse_report(project, built.target, proc.returncode, proc.stdout, proc.stderr, seconds)


def parse_report(
    project: EmittedProject, target: Target, returncode: int, stdout: str, stderr: str, seconds: float
) -> RunResult:
    names = {n.index: n.name for n in project.nodes}
    nodes: list[tuple[str, int]] = []
    outputs: list[OutputCheck] = []
    total = dma_n = dma_b = 0
    result = None
    for line in stdout.splitlines():
        line = line.strip()
        if m := _NODE.match(line):
            nodes.append((names.get(int(m.group(1)), m.group(1)), int(m.group(2))))
        elif m := _OUT.match(line):
            k = int(m.group(1))
            bad = int(m.group(3))
            first = int(m.group(4))
            outputs.append(
                OutputCheck(
                    k,
                    project.outputs[k] if k < len(project.outputs) else str(k),
                    int(m.group(2)),
                    bad,
                    first if first >= 0 else None,
                    int(m.group(5)) if bad else None,
                    int(m.group(6)) if bad else None,
                )
            )
        elif m := _TOTAL.match(line):
            total = int(m.group(1))
        elif m := _DMA.match(line):
            dma_n, dma_b = int(m.group(1)), int(m.group(2))
        elif line.startswith("DT_RESULT "):
            result = line.split()[1]
    passed = returncode == 0 and result in ("PASS", "NOCHECK") and all(o.mismatches == 0 for o in outputs)
    return RunResult(
        target, passed, returncode, tuple(outputs), tuple(nodes), total, dma_n, dma_b, seconds, stdout, stderr
    )


def build_and_run(
    project: EmittedProject, target: Target = "host", *, timeout: float = 600.0
) -> tuple[BuildResult, RunResult]:
    built = build(project, target, timeout=timeout)
    return built, run(project, built, timeout=timeout)


@dataclass(frozen=True)
class Verification:
    """emit + build + run of one plan on one or more targets (what `tile-report verify` reports)."""

    project: EmittedProject
    results: tuple[tuple[BuildResult, RunResult], ...]

    @property
    def passed(self) -> bool:
        return all(r.passed and b.within_budgets for b, r in self.results)

    def target(self, name: Target) -> tuple[BuildResult, RunResult]:
        for b, r in self.results:
            if b.target == name:
                return b, r
        raise KeyError(name)


def verify(
    plan: Plan,
    graph: Graph,
    hw: HwSpec,
    out_dir: str | Path,
    *,
    inputs: Mapping[str, np.ndarray[Any, Any]],
    expected: Any,
    targets: Sequence[Target] = ("host", "rv32"),
    timeout: float = 600.0,
) -> Verification:
    """Emit the plan as a C test project in `out_dir`, build and run it on each target and compare the
    outputs with `expected` element by element (see `RunResult`, `BuildResult.memory`)."""
    project = emit_project(plan, graph, hw, out_dir, inputs=inputs, expected=expected)
    return Verification(project, tuple(build_and_run(project, t, timeout=timeout) for t in targets))


__all__ = [
    "BuildResult",
    "MemoryUse",
    "OutputCheck",
    "RunResult",
    "Target",
    "Verification",
    "build",
    "build_and_run",
    "parse_report",
    "run",
    "symbol_sizes",
    "toolchain_available",
    "verify",
]
