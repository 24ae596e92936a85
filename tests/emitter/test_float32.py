"""float32 networks end to end: import, plan on siracusa / siracusa_neureka (float nodes on the cluster),
validate, emit the ordered float32 kernels (c/kernels/f32_*.tmpl.h) and run them on host gcc and on
RV32 under QEMU (soft-float), every output bit equal to the float32 reference."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import deeploy_tiler as dt
from deeploy_tiler.emitter import build
from deeploy_tiler.frontend import import_onnx
from deeploy_tiler.ir import DType, Graph
from deeploy_tiler.ops.builders import node_geometry
from deeploy_tiler.ops.geometry import Follow, Full

from .conftest import need_rv32

M = pytest.importorskip("tests.models_onnx")

# model -> (builder, an L1 budget at which nodes split into tiles)
MODELS: dict[str, tuple[Any, int]] = {
    "resnet8": (M.resnet8, 8_000),
    "float_cnn_bn": (M.float_cnn_bn, 2_000),
    "float_mlp_bn": (M.float_mlp_bn, 1_000),
}
CASES = [
    ("resnet8", "siracusa", None),
    ("resnet8", "siracusa_neureka", "tiles"),
    ("float_cnn_bn", "siracusa", "tiles"),
    ("float_cnn_bn", "siracusa_neureka", None),
    ("float_cnn_bn", "siracusa_neureka", "tiles"),
    ("float_mlp_bn", "siracusa_neureka", "tiles"),
]


def _graph(name: str) -> Graph:
    return import_onnx(MODELS[name][0](), name=name, source=f"{name}.onnx")


def _inputs(graph: Graph) -> dict[str, np.ndarray[Any, Any]]:
    rng = np.random.default_rng(11)
    return {t.name: rng.normal(size=t.shape).astype(np.float32) for t in graph.inputs}


@pytest.mark.parametrize(("name", "spec", "budget"), CASES)
def test_float32_network_is_bit_exact_on_host_and_rv32(
    name: str, spec: str, budget: str | None, tmp_path: Path
) -> None:
    if shutil.which("gcc") is None:
        pytest.skip("host gcc not available")
    g = _graph(name)
    hw = dt.load_hw(spec)
    l1 = MODELS[name][1] if budget == "tiles" else 64_000
    plan = dt.plan(g, hw, l1=l1)
    assert dt.validate(plan, g, hw) == []
    assert {n.engine for n in plan.nodes} == {"cluster"}  # never the NPU
    if budget == "tiles":
        assert any(n.num_tiles > 1 for n in plan.nodes if n.op_type in ("Conv", "Gemm", "MatMul"))
    for n in plan.nodes:  # float32 buffers at 4 B per element
        for b in n.buffers:
            if b.tensor is not None:
                assert b.dtype == "float32" and b.slot_bytes >= 4 * int(np.prod(b.tile_shape))
    feeds = _inputs(g)
    expected = dt.reference_run(g, feeds)
    targets: list[Any] = ["host"]
    if shutil.which("riscv64-unknown-elf-gcc") and shutil.which("qemu-system-riscv32"):
        targets.append("rv32")
    result = dt.verify(plan, g, hw, tmp_path / "proj", inputs=feeds, expected=expected, targets=tuple(targets))
    assert [r.target for _, r in result.results] == targets
    for _, run in result.results:
        assert run.passed and all(o.mismatches == 0 for o in run.outputs)
        assert sum(o.numel for o in run.outputs) == sum(v.size for v in expected.values())
    want = {"dt_f32_eltwise_f32", "dt_f32_gemm_f32"} | (
        {"dt_f32_conv2d_f32"} if "cnn" in name or "res" in name else set()
    )
    assert want <= set(result.project.kernel_instances)


def test_a_changed_output_bit_is_a_mismatch(tmp_path: Path) -> None:
    # the harness compares bit patterns: one ulp off in one element fails
    if shutil.which("gcc") is None:
        pytest.skip("host gcc not available")
    g = _graph("float_cnn_bn")
    plan = dt.plan(g, "siracusa", l1=64_000)
    feeds = _inputs(g)
    expected = dt.reference_run(g, feeds)
    (name,) = expected
    off = expected[name].copy()
    off.reshape(-1)[3] = np.nextafter(off.reshape(-1)[3], np.float32(np.inf))
    result = dt.verify(plan, g, "siracusa", tmp_path / "p", inputs=feeds, expected={name: off}, targets=("host",))
    ((_, run),) = result.results
    assert not run.passed and run.outputs[0].mismatches == 1 and run.outputs[0].first_index == 3


def test_float_constants_are_exact_hex_literals(tmp_path: Path) -> None:
    g = _graph("float_cnn_bn")
    plan = dt.plan(g, "siracusa", l1=64_000)
    project = dt.emit(plan, g, "siracusa", tmp_path / "p")
    text = (project.out_dir / "network.c").read_text()
    w = next(t for t in g.constants if t.shape == (8, 3, 3, 3))
    assert w.data is not None
    first = float(np.int32(w.data.reshape(-1)[0]).view(np.float32))
    assert "const float " in text and f"{first.hex()}f" in text


def test_siracusa_target_builds(tmp_path: Path) -> None:
    if shutil.which("riscv64-unknown-elf-gcc") is None:
        need_rv32()
    g = _graph("float_cnn_bn")
    plan = dt.plan(g, "siracusa", l1=2_000)
    project = dt.emit(plan, g, "siracusa", tmp_path / "p", inputs=_inputs(g))
    assert build(project, "siracusa").elf.is_file()


@pytest.mark.parametrize("name", list(MODELS))
def test_reductions_are_never_tiled(name: str) -> None:
    # the float kernels reduce a whole K (input channels x window) per output in one call: the geometry
    # makes every reduced dimension Full, so no plan splits an accumulation across tiles
    g = _graph(name)
    for node in g.nodes:
        if node.op_type not in ("Conv", "Gemm", "MatMul"):
            continue
        w = node_geometry(node, g).operands[1]
        reduced = [m for m in w.dims if not isinstance(m, Follow)]
        assert reduced and all(isinstance(m, Full) for m in reduced)
        assert sum(isinstance(m, Follow) for m in w.dims) == 1  # only the output channel / column follows
        assert g.tensor(node.outputs[0]).dtype is DType.FLOAT32
