"""Retired RV32 instructions per MAC (or per element) of each C kernel family, measured under QEMU.

    python benchmarks/bench_kernels.py [--opt -O2] [--short] [--json out.json]

Builds one program from the package's kernel library (the same sources an emitted project copies) with
a set of int8 kernel calls shaped like the shared models' layers: GEMM / MatMul (B row-major and
transposed), 3x3 and 1x1 convolutions, depthwise 3x3, elementwise Add + requant, standalone requant.
Each call is timed with `minstret` (exact under QEMU `-icount shift=0`), over the cluster fork (the
functional backend runs the 8 cores one after the other, so the count is the sum over cores). The same
program runs on the host; every output checksum must agree between host and rv32 (exit 1 otherwise).
The kernels' bit-exactness against the reference is the kernel tests' job (tests/emitter).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from deeploy_tiler.emitter.build import QEMU, RV32_ARCH, RV32_PREFIX, WARN  # noqa: E402
from deeploy_tiler.emitter.sources import kernel_instances_source  # noqa: E402
from deeploy_tiler.ir import DType  # noqa: E402
from deeploy_tiler.resources import emit_c_dir  # noqa: E402


@dataclass(frozen=True)
class Case:
    name: str
    family: str  # gemm | conv | depthwise | eltwise | requant
    kernel: str  # template instance
    setup: str  # C statements filling `a` (the argument block) and the buffers
    work: int  # MACs (gemm / conv / depthwise) or output elements


def _gemm(m: int, n: int, k: int, transposed_b: bool, rq: bool = True) -> Case:
    b_sk, b_sn = (1, k) if transposed_b else (n, 1)
    name = f"matmul {m}x{n}x{k}{' B^T' if transposed_b else ''}"
    setup = f"""
    dt_gemm_args_t a; memset(&a, 0, sizeof a);
    a.a = X8; a.b = W8; a.y = Y8; a.nb1 = 1; a.nb2 = 1; a.m = {m}; a.n = {n}; a.k = {k};
    a.a_sm = {k}; a.a_sk = 1; a.b_sk = {b_sk}; a.b_sn = {b_sn}; a.y_sm = {n}; a.y_sn = 1;
    {"set_rq(&a.rq, 0, 0, 0, 1); a.rq.mul_s[3] = 1; a.rq.add_s[3] = 1;" if rq else ""}
    RUN(bench_gemm, &a, {m * n});"""
    return Case(name, "gemm", "bench_gemm", setup, m * n * k)


def _conv(cin: int, cout: int, h: int, w: int, kernel: int, depthwise: bool = False) -> Case:
    pad = kernel // 2
    cin_g = 1 if depthwise else cin
    groups_out = 1 if depthwise else cout
    name = f"{'depthwise' if depthwise else 'conv'} {kernel}x{kernel} {cin}->{cout} {h}x{w}"
    setup = f"""
    dt_conv2d_args_t a; memset(&a, 0, sizeof a);
    a.x = X8; a.w = W8; a.y = Y8; a.n = 1; a.y_c = {cout}; a.y_h = {h}; a.y_w = {w};
    a.x_bs = {cin * h * w}; a.x_cs = {h * w}; a.x_hs = {w}; a.x_h = {h}; a.x_w = {w}; a.x_c0 = 0;
    a.y_bs = {cout * h * w}; a.y_cs = {h * w}; a.y_hs = {w}; a.oc0 = 0; a.cout_g = {groups_out};
    a.cin_g = {cin_g}; a.kh = {kernel}; a.kw = {kernel}; a.sh = 1; a.sw = 1; a.dh = 1; a.dw = 1;
    a.pad_t = {pad}; a.pad_l = {pad}; a.w_os = {cin_g * kernel * kernel};
    set_rq(&a.rq, 1, 0, 0, 0);
    RUN(bench_conv, &a, {cout * h * w});"""
    return Case(name, "depthwise" if depthwise else "conv", "bench_conv", setup, cout * h * w * cin_g * kernel * kernel)


def _eltwise(rows: int, cols: int, op: str) -> Case:
    setup = f"""
    dt_eltwise_args_t a; memset(&a, 0, sizeof a);
    a.a = X8; a.b = {"W8" if op == "DT_EW_ADD" else "0"}; a.y = Y8; a.op = {op};
    a.d[0] = 1; a.d[1] = 1; a.d[2] = {rows}; a.d[3] = {cols};
    a.a_s[2] = {cols}; a.a_s[3] = 1; a.b_s[2] = {cols}; a.b_s[3] = 1; a.y_s[2] = {cols}; a.y_s[3] = 1;
    set_rq(&a.rq, 0, 0, 0, 0);
    RUN(bench_eltwise, &a, {rows * cols});"""
    label = "add + requant" if op == "DT_EW_ADD" else "requant"
    fam = "eltwise" if op == "DT_EW_ADD" else "requant"
    return Case(f"{label} {rows}x{cols}", fam, "bench_eltwise", setup, rows * cols)


def cases(short: bool) -> list[Case]:
    out = [
        _gemm(8, 64, 64, False),
        _gemm(1, 64, 64, False),
        _gemm(8, 32, 32, False),
        _gemm(8, 8, 8, True),
        _gemm(16, 64, 64, True),
        _conv(16, 32, 8, 8, 3),
        _conv(32, 64, 8, 8, 1),
        _conv(32, 32, 8, 8, 3, depthwise=True),
        _eltwise(8, 256, "DT_EW_ADD"),
        _eltwise(8, 256, "DT_EW_COPY"),
    ]
    if not short:
        out += [_gemm(32, 128, 128, False), _conv(32, 32, 16, 16, 3), _conv(64, 64, 16, 16, 3, depthwise=True)]
    return out


_MAIN = r"""
#include <stdio.h>
#include <string.h>
#include "dt_kernels.h"
DT_KERNEL_DECL(bench_gemm);
DT_KERNEL_DECL(bench_conv);
DT_KERNEL_DECL(bench_eltwise);
static int8_t X8[65536], W8[65536], Y8[65536];
static int32_t MUL[1024], ADD[1024];
static uint32_t seed = 12345u;
static int8_t rnd8(void) { seed = seed * 1103515245u + 12345u; return (int8_t)(seed >> 16); }
static void set_rq(dt_requant_t *rq, int chan, int a, int b, int c) {
    (void)a; (void)b; (void)c;
    rq->mul = MUL; rq->add = ADD; rq->shift = 9; rq->lo = -128; rq->hi = 127; rq->wide = 0;
    rq->mul_s[1] = chan; rq->add_s[1] = chan;
}
static uint32_t checksum(int n) {
    uint32_t h = 2166136261u;
    int i;
    for (i = 0; i < n; ++i) h = (h ^ (uint8_t)Y8[i]) * 16777619u;
    return h;
}
#define RUN(fn, args, nout)                                                                 \
    do {                                                                                    \
        uint64_t t0_, t1_;                                                                  \
        memset(Y8, 0, sizeof Y8);                                                           \
        t0_ = dt_perf_read();                                                               \
        dt_cluster_fork(fn, args);                                                          \
        t1_ = dt_perf_read();                                                               \
        printf("BENCH %d %lu %lu\n", case_id, (unsigned long)(t1_ - t0_), (unsigned long)checksum(nout)); \
    } while (0)
int main(void) {
    int i, case_id = 0;
    for (i = 0; i < 65536; ++i) { X8[i] = rnd8(); W8[i] = rnd8(); }
    for (i = 0; i < 1024; ++i) { MUL[i] = 3 + (i % 13); ADD[i] = (i % 7) - 3; }
CASES
    return 0;
}
"""


def program(cs: list[Case]) -> str:
    body = "\n".join(f"    case_id = {i}; {{{c.setup}\n    }}" for i, c in enumerate(cs))
    return _MAIN.replace("CASES", body)


def _build_and_run(work: Path, target: str, opt: str) -> dict[int, tuple[int, int]]:
    c_dir = emit_c_dir()
    srcs = [str(work / "bench.c"), str(work / "kernels.c"), str(c_dir / "runtime" / "dt_runtime.c")]
    srcs.append(str(c_dir / "kernels" / "dt_kernels.c"))
    inc = [f"-I{c_dir / 'runtime'}", f"-I{c_dir / 'kernels'}"]
    defs = ["-DDT_NUM_CORES=8", "-DDT_DMA_MAX_PENDING=16", "-fno-strict-aliasing"]
    elf = work / f"bench_{target}"
    if target == "host":
        cmd = ["gcc", *WARN, opt, *defs, *inc, "-o", str(elf), *srcs]
        run = [str(elf)]
    else:
        link = "-Wl,--defsym=__flash=0x80000000,--defsym=__flash_size=0x400000,"
        link += "--defsym=__ram=0x80400000,--defsym=__ram_size=0x400000"
        cmd = [RV32_PREFIX + "gcc", *WARN, opt, *defs, *inc, *RV32_ARCH, link, "-o", str(elf), *srcs]
        run = [QEMU, "-machine", "virt", "-m", "128M", "-bios", "none", "-display", "none", "-serial", "none"]
        run += ["-monitor", "none", "-chardev", "stdio,id=sh0", "-semihosting-config"]
        run += ["enable=on,target=native,chardev=sh0", "-icount", "shift=0", "-kernel", str(elf)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    out = subprocess.run(run, check=True, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    res = {}
    for line in out.stdout.splitlines():
        if line.startswith("BENCH "):
            _, i, n, h = line.split()
            res[int(i)] = (int(n), int(h))
    return res


def measure(opt: str, short: bool) -> list[dict[str, object]]:
    cs = cases(short)
    i8 = DType.INT8
    instances = {
        "bench_gemm": ("gemm", (i8, i8, i8)),
        "bench_conv": ("conv2d", (i8, i8, i8)),
        "bench_eltwise": ("eltwise", (i8, i8, i8)),
    }
    with tempfile.TemporaryDirectory(prefix="dt_bench_kernels_") as tmp:
        work = Path(tmp)
        (work / "bench.c").write_text(program(cs))
        (work / "kernels.c").write_text(kernel_instances_source(instances))
        host = _build_and_run(work, "host", opt)
        rv32 = _build_and_run(work, "rv32", opt)
    rows: list[dict[str, object]] = []
    for i, c in enumerate(cs):
        n, h = rv32[i]
        rows.append(
            {
                "case": c.name,
                "family": c.family,
                "work": c.work,
                "instructions": n,
                "per_unit": n / c.work,
                "checksum_match": host[i][1] == h,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--opt", default="-O2", help="optimisation flag of both builds")
    ap.add_argument("--short", action="store_true", help="the CI form: fewer, smaller cases")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if shutil.which(RV32_PREFIX + "gcc") is None or shutil.which(QEMU) is None:
        print("rv32 toolchain or QEMU missing (bash scripts/install.sh)")
        return 2
    rows = measure(args.opt, args.short)
    print(f"## instructions per MAC (per element for eltwise / requant), rv32imc {args.opt}, QEMU minstret\n")
    print("| case | family | MACs / elements | instructions | per unit | host = rv32 |")
    print("|---|---|---:|---:|---:|---|")
    for r in rows:
        print(
            f"| {r['case']} | {r['family']} | {r['work']} | {r['instructions']} | {r['per_unit']:.2f} | "
            f"{'yes' if r['checksum_match'] else 'NO'} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0 if all(r["checksum_match"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
