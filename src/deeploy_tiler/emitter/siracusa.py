"""The siracusa target: the emitted project built for Siracusa bare metal (the project's own crt0 and
linker script in c/runtime/siracusa/, no PULP runtime) and run on GVSoC's siracusa model.

Tiers: building and linking needs only riscv64-unknown-elf-gcc (CI checks the ELF's section placement
and sizes against the plan, `check_placement`); running needs a GVSoC install named by the environment
variable DEEPLOY_TILER_GVSOC (its bin/gvsoc), and is skipped without one. Per-node counts printed by the
program are cluster core 0's cycles (mcycle), the network's own core; `node_cycles` sets them beside the
plan's modeled cycles.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..ir import DType
from ..plan import Plan

GVSOC_ENV = "DEEPLOY_TILER_GVSOC"
L1_BASE, L1_SIZE = 0x10000000, 0x40000
L2_BASE, L2_SIZE = 0x1C000000, 0x200000
FC_STACK = 8192  # link.ld: top of L2
STACK_CORE0, STACK_WORKER = 8192, 4096  # link.ld: the cluster cores' stacks at the top of L1

# -ffreestanding: the program links no C library (dt_siracusa.c has the few functions it needs)
FLAGS = (
    "-march=rv32imc",
    "-mabi=ilp32",
    "-misa-spec=2.2",
    "-ffreestanding",
    "-nostdlib",
    "-nostartfiles",
    "-DDT_TARGET_SIRACUSA=1",
)
SOURCES = (
    "main.c",
    "network.c",
    "kernels_siracusa.c",
    "dt/runtime/siracusa/dt_siracusa.c",
    "dt/runtime/siracusa/crt0.S",
    "dt/kernels/dt_kernels.c",
)
SIMD_TEMPLATES = ("gemm", "conv2d")
# kernel template -> its argument block (kernels_siracusa.c copies it onto the core's stack)
ARGS_TYPES = {
    "conv2d": "dt_conv2d_args_t",
    "gemm": "dt_gemm_args_t",
    "eltwise": "dt_eltwise_args_t",
    "pool": "dt_pool_args_t",
    "rowwise": "dt_rowwise_args_t",
    "reduce_mean": "dt_reduce_args_t",
    "f32_conv2d": "dt_conv2d_args_t",
    "f32_gemm": "dt_gemm_args_t",
    "f32_eltwise": "dt_eltwise_args_t",
    "f32_pool": "dt_pool_args_t",
}  # templates with an int8 XpulpV2 kernel in c/kernels/siracusa/


def simd_instance(template: str, types: Sequence[DType]) -> bool:
    """Whether a kernel instance runs a SIMD kernel: GEMM / convolution with int8 weights and int8 or uint8
    activations (pv.sdotsp.b / pv.sdotusp.b)."""
    return template in SIMD_TEMPLATES and types[0] in (DType.INT8, DType.UINT8) and types[1] == DType.INT8


def build_command(out_dir: Path, bdir: Path, cc: str, opt: str, defs: Sequence[str], warn: Sequence[str]) -> list[str]:
    inc = [f"-I{out_dir / 'dt' / 'runtime' / 'siracusa' / 'include'}", f"-I{out_dir}"]
    inc += [f"-I{out_dir / 'dt' / 'runtime'}", f"-I{out_dir / 'dt' / 'kernels'}"]
    return [
        cc,
        *warn,
        opt,
        *defs,
        *inc,
        *FLAGS,
        "-T",
        str(out_dir / "dt" / "runtime" / "siracusa" / "link.ld"),
        f"-Wl,-Map={bdir / 'prog.map'}",
        "-o",
        str(bdir / "prog.elf"),
        *(str(out_dir / s) for s in SOURCES),
        "-lgcc",
    ]


def gvsoc_install() -> Path | None:
    """The GVSoC install named by DEEPLOY_TILER_GVSOC, or None when unset or without bin/gvsoc."""
    root = os.environ.get(GVSOC_ENV)
    if not root:
        return None
    exe = Path(root) / "bin" / "gvsoc"
    return Path(root) if exe.is_file() else None


def gvsoc_command(install: Path, elf: Path, work_dir: Path) -> list[str]:
    """GVSoC's command line for an ELF on its siracusa target (as Deeploy invokes it)."""
    return [
        str(install / "bin" / "gvsoc"),
        "--target=siracusa",
        f"--binary={elf}",
        f"--work-dir={work_dir}",
        "image",
        "flash",
        "run",
    ]


def gvsoc_env() -> dict[str, str]:
    """GVSoC's launcher is Python with its own dependencies (pyelftools, prettytable, rich): when the
    `python3` first on PATH lacks them, the system interpreter's directory goes first."""
    env = dict(os.environ)
    probe = "import elftools, prettytable, rich"
    first = shutil.which("python3")
    ok = first is not None and subprocess.run([first, "-c", probe], capture_output=True, check=False).returncode == 0
    if not ok and Path("/usr/bin/python3").is_file():
        env["PATH"] = "/usr/bin:" + env.get("PATH", "")
    return env


# ---- the ELF against the plan ------------------------------------------------------------------
@dataclass(frozen=True)
class Section:
    name: str
    address: int
    size: int
    loaded: bool  # in a PT_LOAD segment (written by the simulator's loader)


@dataclass(frozen=True)
class Placement:
    """Where the siracusa ELF puts the plan's memory, and what does not fit the chip or the plan."""

    sections: tuple[Section, ...]
    l1_arena: int  # bytes of dt_arena_L1 (0: the plan uses no L1)
    l2_arena: int
    l1_used: int  # L1 sections (arena + runtime flags) + the cluster stacks
    l2_used: int  # L2 sections + the FC stack
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _symbols(readelf: str, elf: Path) -> dict[str, tuple[int, int]]:
    out = subprocess.run([readelf, "-sW", str(elf)], capture_output=True, text=True, check=True).stdout
    syms: dict[str, tuple[int, int]] = {}
    for line in out.splitlines():
        parts = line.split()
        # readelf prints a size of 100,000 or more in hex (0x22000), smaller ones in decimal
        size = parts[2] if len(parts) >= 8 else ""
        if parts and parts[0].rstrip(":").isdigit() and (size.isdigit() or size.startswith("0x")):
            syms[parts[7]] = (int(parts[1], 16), int(size, 0))
    return syms


def _sections(readelf: str, elf: Path) -> list[Section]:
    sec = subprocess.run([readelf, "-SW", str(elf)], capture_output=True, text=True, check=True).stdout
    seg = subprocess.run([readelf, "-lW", str(elf)], capture_output=True, text=True, check=True).stdout
    loaded: set[str] = set()
    heads: list[str] = []
    mapping = False
    for line in seg.splitlines():
        s = line.strip()
        if s.startswith(("LOAD", "NULL", "GNU_", "RISCV_")):
            heads.append(s.split()[0])
        if s.startswith("Segment Sections"):
            mapping = True
            continue
        if mapping and s[:2].isdigit():
            idx, *names = s.split()
            if int(idx) < len(heads) and heads[int(idx)] == "LOAD":
                loaded.update(names)
    out = []
    for line in sec.splitlines():
        s = line.strip()
        if not s.startswith("[") or "]" not in s:
            continue
        parts = s.split("]", 1)[1].split()
        if len(parts) < 6 or parts[0] in ("NULL", "Name"):
            continue
        name, addr, size = parts[0], int(parts[2], 16), int(parts[4], 16)
        if addr:
            out.append(Section(name, addr, size, name in loaded))
    return out


def check_placement(
    elf: Path,
    plan: Plan,
    arena_bytes: Mapping[str, int],
    const_symbols: Mapping[str, str],
    readelf: str,
) -> Placement:
    """The siracusa ELF's memory against the chip (L1 256 KiB with the stacks at its top, L2 2 MiB, no
    loaded segment in L1) and the plan (arena sizes equal to the emitter's, within the budgets, constants
    in L2)."""
    syms = _symbols(readelf, elf)
    sections = _sections(readelf, elf)
    problems: list[str] = []

    def inside(addr: int, size: int, base: int, span: int) -> bool:
        return base <= addr and addr + size <= base + span

    arenas = {}
    for level, base, span in (("L1", L1_BASE, L1_SIZE), ("L2", L2_BASE, L2_SIZE)):
        want = arena_bytes.get(level, 0)
        addr, size = syms.get(f"dt_arena_{level}", (0, 0))
        arenas[level] = size
        if want and size != want:
            problems.append(f"dt_arena_{level} has {size} B in the ELF, the emitter sized it {want} B")
        if size and not inside(addr, size, base, span):
            problems.append(f"dt_arena_{level} at {addr:#x}+{size} is outside {level}")
        budget = plan.budgets.get(level)
        if budget is not None and size > budget:
            problems.append(f"dt_arena_{level} ({size} B) exceeds the plan's {level} budget {budget} B")
    for sym, level in const_symbols.items():
        if sym not in syms:
            continue
        addr, size = syms[sym]
        base, span = (L1_BASE, L1_SIZE) if level == "L1" else (L2_BASE, L2_SIZE)
        if not inside(addr, size, base, span):
            problems.append(f"constant {sym} ({level}) at {addr:#x} is outside {level}")
    l1 = [s for s in sections if inside(s.address, s.size, L1_BASE, L1_SIZE)]
    l2 = [s for s in sections if inside(s.address, s.size, L2_BASE, L2_SIZE)]
    for s in l1:
        if s.loaded:
            problems.append(f"section {s.name} is loaded into L1 (GVSoC's loader hangs on it)")
    stacks = STACK_CORE0 + 7 * STACK_WORKER
    l1_used = (max((s.address + s.size for s in l1), default=L1_BASE) - L1_BASE) + stacks
    l2_used = (max((s.address + s.size for s in l2), default=L2_BASE) - L2_BASE) + FC_STACK
    if l1_used > L1_SIZE:
        problems.append(f"L1 needs {l1_used} B with the stacks, more than {L1_SIZE}")
    if l2_used > L2_SIZE:
        problems.append(f"L2 needs {l2_used} B, more than {L2_SIZE}")
    others = [s for s in sections if s not in l1 and s not in l2]
    for s in others:
        problems.append(f"section {s.name} at {s.address:#x} is in neither L1 nor L2")
    return Placement(tuple(sections), arenas["L1"], arenas["L2"], l1_used, l2_used, tuple(problems))


# ---- measured against modeled ---------------------------------------------------------------------
@dataclass(frozen=True)
class NodeCycles:
    """One node: cycles measured on GVSoC (cluster core 0) beside the plan's model."""

    name: str
    op_type: str
    measured: int
    modeled: int
    modeled_compute: int
    modeled_dma: int
    macs: int
    calls: int
    dma_bytes: int

    @property
    def ratio(self) -> float:
        return self.measured / self.modeled if self.modeled else 0.0


def node_cycles(
    plan: Plan, measured: Sequence[tuple[str, int]], calls: Mapping[str, int], macs: Mapping[str, int]
) -> tuple[NodeCycles, ...]:
    by_name = {n.name: n for n in plan.nodes}
    rows = []
    for name, cyc in measured:
        np_ = by_name.get(name)
        if np_ is None:
            continue
        c = np_.cycles
        rows.append(
            NodeCycles(
                name,
                np_.op_type,
                cyc,
                c.total,
                c.compute,
                c.dma,
                macs.get(name, 0),
                calls.get(name, 0),
                np_.dma_bytes,
            )
        )
    return tuple(rows)


__all__ = [
    "ARGS_TYPES",
    "FLAGS",
    "GVSOC_ENV",
    "SOURCES",
    "NodeCycles",
    "Placement",
    "Section",
    "build_command",
    "check_placement",
    "gvsoc_command",
    "gvsoc_env",
    "gvsoc_install",
    "node_cycles",
    "simd_instance",
]
