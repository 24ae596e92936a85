"""emitter/siracusa.py and the siracusa target, in three tiers:
- always: the project carries the siracusa runtime and routes int8 / uint8 x int8 GEMM / convolution
  instances through the SIMD kernels, every instance copying its argument block into L1 first; the SIMD
  kernels (their plain-C lane model on the host) are bit-exact with the portable ones, on whole shared
  models and on a GEMM layout the models lack;
- with riscv64-unknown-elf-gcc (CI): the siracusa ELF builds and links for shared models, and its
  section placement and arena sizes match the plan (no loaded L1 segment, arenas as emitted, in budget);
- with GVSoC (DEEPLOY_TILER_GVSOC): the ELF runs bit-exactly on the siracusa model, per-node cycles
  reported; skipped otherwise, saying so.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from deeploy_tiler.emitter import EmittedProject, build, emit_project, run, siracusa
from deeploy_tiler.emitter.build import _binutil
from deeploy_tiler.hw import load_hw
from deeploy_tiler.ir import DType
from deeploy_tiler.planner.pipeline import plan_network

from ..conftest import load_model, load_npz_outputs

HW = "siracusa"
CI_MODELS = [("miniMobileNet", 64000), ("miniMobileNet", 8000), ("MLPerf/KeywordSpotting", 8000)]


def _project(model_dirs: dict[str, Path], name: str, l1: int, out: Path) -> tuple[EmittedProject, object]:
    if name not in model_dirs:
        pytest.skip(f"shared model {name} not present")
    graph, inputs = load_model(model_dirs[name])
    hw = load_hw(HW)
    plan = plan_network(graph, hw, l1=l1, double_buffer=True)
    expected = load_npz_outputs(model_dirs[name])
    return emit_project(plan, graph, hw, out, inputs=inputs, expected=expected), plan


def _need_cross() -> None:
    if shutil.which("riscv64-unknown-elf-gcc") is None:
        pytest.skip("riscv64-unknown-elf-gcc missing (bash scripts/install.sh)")


def test_simd_instances_are_int8_weights_with_8_bit_activations() -> None:
    assert siracusa.simd_instance("gemm", (DType.INT8, DType.INT8, DType.INT8))
    assert siracusa.simd_instance("conv2d", (DType.UINT8, DType.INT8, DType.UINT8))
    assert not siracusa.simd_instance("gemm", (DType.INT16, DType.INT8, DType.INT32))
    assert not siracusa.simd_instance("conv2d", (DType.INT8, DType.UINT8, DType.INT8))
    assert not siracusa.simd_instance("eltwise", (DType.INT8, DType.INT8, DType.INT8))


def test_project_carries_siracusa_runtime_and_simd_routing(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    project, _ = _project(model_dirs, "miniMobileNet", 64000, tmp_path / "p")
    names = {str(p.relative_to(project.out_dir)) for p in project.files}
    for f in ("crt0.S", "link.ld", "dt_siracusa.c", "dt_siracusa.h", "include/stdio.h"):
        assert f"dt/runtime/siracusa/{f}" in names
    assert "dt/kernels/siracusa/gemm_simd.tmpl.h" in names and "kernels_siracusa.c" in names
    text = (project.out_dir / "kernels_siracusa.c").read_text()
    for name in project.kernel_instances:
        # every instance: the portable template renamed, and <name> copying its arguments into L1
        assert f"#define DT_NAME {name}_portable\n" in text and f"void {name}(const void *args_) {{" in text
        simd = f"#define DT_NAME {name}_simd\n" in text
        assert simd == (name.startswith(("dt_conv2d_i8_i8", "dt_conv2d_u8_i8", "dt_gemm_i8_i8", "dt_gemm_u8_i8")))
        assert f"    {name}_{'simd' if simd else 'portable'}(&a);" in text
    make = (project.out_dir / "Makefile").read_text()
    assert "siracusa: build/siracusa/prog.elf" in make and "--target=siracusa" in make


def _host_run(project: EmittedProject, kernels: str) -> str:
    p = project.out_dir
    exe = p / f"host_{kernels}"
    srcs = ["main.c", "network.c", f"{kernels}.c", "dt/runtime/dt_runtime.c", "dt/kernels/dt_kernels.c"]
    cmd = ["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", f"-DDT_NUM_CORES={project.num_cores}"]
    cmd += [f"-DDT_DMA_MAX_PENDING={project.dma_queue}", "-fno-strict-aliasing", f"-I{p}"]
    cmd += [f"-I{p / 'dt' / 'runtime'}", f"-I{p / 'dt' / 'kernels'}", "-o", str(exe), *(str(p / s) for s in srcs)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return subprocess.run([str(exe)], capture_output=True, text=True, check=False, timeout=300).stdout


@pytest.mark.parametrize(
    ("name", "l1"), [("miniMobileNetv2", 8000), ("CNN_Linear1", 8000), ("MLPerf/KeywordSpotting", 64000)]
)
def test_simd_kernels_bit_exact_on_host(model_dirs: dict[str, Path], tmp_path: Path, name: str, l1: int) -> None:
    """kernels_siracusa.c on the host (the SIMD kernels with the plain-C lane model) against outputs.npz."""
    if shutil.which("gcc") is None:
        pytest.skip("host gcc missing")
    project, _ = _project(model_dirs, name, l1, tmp_path / "p")
    assert "_simd.tmpl.h" in (project.out_dir / "kernels_siracusa.c").read_text()
    out = _host_run(project, "kernels_siracusa")
    assert "DT_RESULT PASS" in out, out[-2000:]
    assert all(" 0 -1 " in line for line in out.splitlines() if line.startswith("DT_OUTPUT"))


GEMM_DRIVER = r"""
#include <stdio.h>
#include "dt_kernels.h"
#define DT_TA int8_t
#define DT_TB int8_t
#define DT_TY int32_t
#define DT_NAME gemm_ref
#include "gemm.tmpl.h"
#undef DT_NAME
#define DT_NAME gemm_simd
#define DT_PORTABLE gemm_ref
#define DT_SIMD_XU 0
#include "siracusa/gemm_simd.tmpl.h"
int main(void) {
    static int8_t A[3 * 37], B[13 * 37];
    static int32_t y0[3 * 13], y1[3 * 13], bias[13];
    uint32_t s = 12345u;
    int i, t, bad = 0;
    for (i = 0; i < 3 * 37; ++i) { s = s * 1103515245u + 12345u; A[i] = (int8_t)(s >> 16); }
    for (i = 0; i < 13 * 37; ++i) { s = s * 1103515245u + 12345u; B[i] = (int8_t)(s >> 16); }
    for (i = 0; i < 13; ++i) bias[i] = i * 1000 - 5000;
    for (t = 0; t < 2; ++t) {
        /* Y[3 x 13] = A[3 x 37] @ B^T, B stored [13][37] (b_sk == 1), with and without bias */
        dt_gemm_args_t a = {A, B, t ? bias : 0, 0, {0}, 1, 1, 3, 13, 37, 0, 0, 37, 1, 0, 0, 1, 37, 0, 1, 0, 0, 13, 1};
        a.y = y0; dt_cluster_fork(gemm_ref, &a);
        a.y = y1; dt_cluster_fork(gemm_simd, &a);
        for (i = 0; i < 3 * 13; ++i) bad += y0[i] != y1[i];
    }
    printf("bad %d\n", bad);
    return bad != 0;
}
"""


def test_simd_gemm_with_transposed_b_matches_portable(tmp_path: Path) -> None:
    """The b_sk == 1 layout (Gemm transB) with a K that is no multiple of 4 and a partial column block."""
    if shutil.which("gcc") is None:
        pytest.skip("host gcc missing")
    from deeploy_tiler.resources import emit_c_dir

    c = emit_c_dir()
    (tmp_path / "t.c").write_text(GEMM_DRIVER)
    exe = tmp_path / "t"
    cmd = ["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-DDT_NUM_CORES=8"]
    cmd += [f"-I{c / 'runtime'}", f"-I{c / 'kernels'}", "-o", str(exe), str(tmp_path / "t.c")]
    cmd += [str(c / "runtime" / "dt_runtime.c")]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    res = subprocess.run([str(exe)], capture_output=True, text=True, check=False)
    assert res.returncode == 0 and "bad 0" in res.stdout, res.stdout + res.stderr


@pytest.mark.parametrize(("name", "l1"), CI_MODELS)
def test_siracusa_elf_builds_and_matches_plan(model_dirs: dict[str, Path], tmp_path: Path, name: str, l1: int) -> None:
    _need_cross()
    project, plan = _project(model_dirs, name, l1, tmp_path / "p")
    built = build(project, "siracusa")
    pl = siracusa.check_placement(
        built.elf, plan, project.arena_bytes, project.const_symbols, _binutil("siracusa", "readelf")
    )  # type: ignore[arg-type]
    assert pl.ok, pl.problems
    assert pl.l1_arena == project.arena_bytes.get("L1", 0) <= l1
    assert pl.l2_arena == project.arena_bytes.get("L2", 0)
    names = {s.name for s in pl.sections}
    assert {".text", ".l1", ".bss"} <= names
    assert not any(s.loaded for s in pl.sections if s.name == ".l1")
    assert built.within_budgets
    # the check is not blind: a wrong arena size is reported
    wrong = {**project.arena_bytes, "L1": project.arena_bytes.get("L1", 0) + 4}
    bad = siracusa.check_placement(built.elf, plan, wrong, project.const_symbols, _binutil("siracusa", "readelf"))  # type: ignore[arg-type]
    assert not bad.ok and "dt_arena_L1" in bad.problems[0]


GVSOC_MODELS = [("miniMobileNet", 64000), ("miniMobileNet", 8000), ("MLPerf/KeywordSpotting", 8000)]


@pytest.mark.parametrize(("name", "l1"), GVSOC_MODELS)
def test_bit_exact_on_gvsoc(model_dirs: dict[str, Path], tmp_path: Path, name: str, l1: int) -> None:
    _need_cross()
    if siracusa.gvsoc_install() is None:
        pytest.skip(f"GVSoC not installed: set {siracusa.GVSOC_ENV} to a GVSoC install to run the siracusa tier")
    project, plan = _project(model_dirs, name, l1, tmp_path / "p")
    built = build(project, "siracusa")
    res = run(project, built, timeout=1800)
    assert res.passed, res.stdout[-3000:] + res.stderr[-3000:]
    assert res.outputs and all(o.mismatches == 0 for o in res.outputs)
    assert res.dma_transfers > 0
    measured = dict(res.node_instructions)
    tiled = [n.name for n in plan.nodes if n.alias_of is None]  # type: ignore[attr-defined]
    assert all(measured[n] > 0 for n in tiled)
    assert np.isfinite(sum(measured.values()))


def test_symbol_sizes_in_hex_are_read(tmp_path: Path) -> None:
    """readelf -sW prints sizes of 100,000 B or more in hex: such an arena must not read as missing."""
    fake = tmp_path / "readelf"
    fake.write_text(
        "#!/bin/sh\ncat <<'X'\n   Num:    Value  Size Type    Bind   Vis      Ndx Name\n"
        "  1702: 10000000 28872 OBJECT  GLOBAL DEFAULT    4 dt_arena_L1\n"
        "  1882: 1c0e0d80 0x22000 OBJECT  GLOBAL DEFAULT    5 dt_arena_L2\nX\n"
    )
    fake.chmod(0o755)
    syms = siracusa._symbols(str(fake), tmp_path / "prog.elf")
    assert syms["dt_arena_L1"] == (0x10000000, 28872)
    assert syms["dt_arena_L2"] == (0x1C0E0D80, 0x22000)


def _prefill_project(out: Path, l1: int) -> tuple[EmittedProject, object]:
    """One decoder layer of microLlama64's shape prefilling 64 tokens (bundled microllama64_prefill has 8)."""
    from deeploy_tiler.frontend import import_onnx
    from deeploy_tiler.models import DecoderConfig, build_decoder, decoder_inputs
    from deeploy_tiler.reference import reference_run

    cfg = DecoderConfig(name="prefill1", layers=1, d_model=64, heads=16, ffn=256, kv_len=0, tokens=64)
    graph = import_onnx(build_decoder(cfg), name=cfg.name, source="<test>")
    inputs = decoder_inputs(cfg)
    hw = load_hw(HW)
    plan = plan_network(graph, hw, l1=l1, double_buffer=True)
    expected = reference_run(graph, inputs)
    return emit_project(plan, graph, hw, out, inputs=inputs, expected=expected), plan


def test_prefill_decoder_elf_matches_plan(tmp_path: Path) -> None:
    """A prefill decoder's L2 arena passes 100,000 B (readelf's hex sizes): the placement still reads it."""
    _need_cross()
    project, plan = _prefill_project(tmp_path / "p", 64000)
    built = build(project, "siracusa")
    pl = siracusa.check_placement(
        built.elf, plan, project.arena_bytes, project.const_symbols, _binutil("siracusa", "readelf")
    )  # type: ignore[arg-type]
    assert pl.ok, pl.problems
    assert pl.l2_arena == project.arena_bytes["L2"] >= 100_000
    assert pl.l1_arena == project.arena_bytes["L1"] <= 64000


def test_prefill_decoder_bit_exact_on_gvsoc(tmp_path: Path) -> None:
    _need_cross()
    if siracusa.gvsoc_install() is None:
        pytest.skip(f"GVSoC not installed: set {siracusa.GVSOC_ENV} to a GVSoC install to run the siracusa tier")
    project, plan = _prefill_project(tmp_path / "p", 8000)
    res = run(project, build(project, "siracusa"), timeout=1800)
    assert res.passed, res.stdout[-3000:] + res.stderr[-3000:]
    assert res.outputs and all(o.mismatches == 0 for o in res.outputs)
    measured = dict(res.node_instructions)
    assert all(measured[n.name] > 0 for n in plan.nodes if n.alias_of is None)  # type: ignore[attr-defined]
