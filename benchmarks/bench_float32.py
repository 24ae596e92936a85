"""Plain float32 ONNX networks end to end: per model, does it import, plan on siracusa and siracusa_neureka
(float nodes on the cluster), pass the validator, and does the emitted C (host gcc; RV32 soft-float under
QEMU when installed) equal the float32 reference bit for bit; plus how far the reference is from onnxruntime.

    python benchmarks/bench_float32.py                          # the float32-runnable corpus models
    python benchmarks/bench_float32.py --models resnet8,float_cnn_bn --l1 8000

Models come from tests/models_onnx.py (seeded random weights, nothing downloaded). Columns: `host` / `rv32`
= mismatching output elements against our reference (over both specs), `max abs(ours - ort)` and `rel` = the
largest absolute difference from onnxruntime's CPU provider and that over the output's largest magnitude.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests import models_onnx as M  # noqa: E402

import deeploy_tiler as dt  # noqa: E402
from deeploy_tiler.errors import DeeployTilerError  # noqa: E402
from deeploy_tiler.frontend import import_onnx  # noqa: E402

MODELS = (
    "resnet8",
    "float_cnn_bn",
    "mobilenet_v2",
    "ds_cnn",
    "mlp_autoencoder",
    "cnn_pool_concat",
    "transformer_ffn",
    "se_hardswish",
)
SPECS = ("siracusa", "siracusa_neureka")


def _row(name: str, l1: int, targets: tuple[str, ...]) -> dict[str, Any]:
    import onnxruntime as ort  # type: ignore[import-untyped]

    model = getattr(M, name)()
    row: dict[str, Any] = {"model": name}
    try:
        g = import_onnx(model, name=name, source=f"{name}.onnx")
    except DeeployTilerError as e:
        return {**row, "imports": f"no ({e.__class__.__name__})"}
    row["imports"] = "yes"
    rng = np.random.default_rng(0)
    feeds = {t.name: rng.normal(size=t.shape).astype(np.float32) for t in g.inputs}
    ours = dt.reference_run(g, feeds)
    theirs = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)
    err = max(float(np.abs(v - t).max()) for v, t in zip(ours.values(), theirs, strict=True))
    scale = max(float(np.abs(t).max()) for t in theirs)
    row["ort_abs"], row["ort_rel"] = err, err / scale
    mism: dict[str, int] = dict.fromkeys(targets, 0)
    plans, valid, engines, tiles = [], True, set(), 0
    for spec in SPECS:
        hw = dt.load_hw(spec)
        plan = dt.plan(g, hw, l1=l1)
        plans.append(spec)
        valid &= dt.validate(plan, g, hw) == []
        engines |= {n.engine for n in plan.nodes}
        tiles = max(tiles, sum(n.num_tiles for n in plan.nodes))
        with tempfile.TemporaryDirectory() as tmp:
            result = dt.verify(plan, g, hw, Path(tmp), inputs=feeds, expected=ours, targets=targets)  # type: ignore[arg-type]
        for _, run in result.results:
            mism[run.target] += sum(o.mismatches for o in run.outputs)
    row.update(plans="/".join(plans), valid="yes" if valid else "NO", engines=",".join(sorted(engines)), tiles=tiles)
    row.update({t: mism[t] for t in targets})
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--l1", type=int, default=8_000, help="L1 budget in bytes (small: nodes split into tiles)")
    args = ap.parse_args()
    rv32 = shutil.which("riscv64-unknown-elf-gcc") and shutil.which("qemu-system-riscv32")
    targets = ("host", "rv32") if rv32 else ("host",)
    head = ["model", "imports", "plans on", "validates", "engines", "max tiles", *targets, "max abs(ours - ort)", "rel"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * (8 + len(targets)))
    for name in args.models.split(","):
        r = _row(name, args.l1, targets)
        if r["imports"] != "yes":
            print(f"| {name} | {r['imports']} |" + " |" * (7 + len(targets)))
            continue
        cells = [r["model"], r["imports"], r["plans"], r["valid"], r["engines"], str(r["tiles"])]
        cells += [f"{r[t]} mismatches" for t in targets]
        cells += [f"{r['ort_abs']:.3g}", f"{r['ort_rel']:.3g}"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
