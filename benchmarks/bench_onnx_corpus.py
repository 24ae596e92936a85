"""The standard-quantized-ONNX corpus, end to end: per model and format, does it import, plan on siracusa and
siracusa_neureka, pass the validator, and does the emitted C (host; rv32 under QEMU for --rv32 models) agree
with onnxruntime element by element.

    python benchmarks/bench_onnx_corpus.py                      # every architecture x format, host only
    python benchmarks/bench_onnx_corpus.py --rv32 mlp_autoencoder,resnet8 --big
    python benchmarks/bench_onnx_corpus.py --archs resnet8 --formats qdq_u8s8_pc --json out.json

Models are built by tests/models_onnx.py (seeded random weights, quantize_static with seeded random
calibration data); `--big` adds MobileNetV2 at 96 px and 224 px. Columns: `ref` = the reference interpreter vs
onnxruntime on every 8-bit tensor both compute (graph outputs and every interior quantized tensor; elements
compared / differing / max |diff|), `host` / `rv32` = the emitted C's graph outputs vs onnxruntime (elements
compared / differing / verdict).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests import models_onnx as M  # noqa: E402

from deeploy_tiler import api  # noqa: E402
from deeploy_tiler.errors import DeeployTilerError  # noqa: E402
from deeploy_tiler.frontend import import_onnx  # noqa: E402
from deeploy_tiler.frontend.ort_compare import ort_run, quantized_tensors  # noqa: E402
from deeploy_tiler.frontend.qonnx import qonnx_to_qcdq  # noqa: E402
from deeploy_tiler.reference import reference_run  # noqa: E402

SPECS = ("siracusa", "siracusa_neureka")


def _diff(ours: dict[str, Any], theirs: dict[str, Any]) -> tuple[int, int, int]:
    total = differing = worst = 0
    for k, v in theirs.items():
        a, b = np.asarray(ours[k], np.int64), np.asarray(v, np.int64)
        d = np.abs(a - b)
        total += d.size
        differing += int(np.count_nonzero(d))
        worst = max(worst, int(d.max()) if d.size else 0)
    return total, differing, worst


def _models(args: argparse.Namespace) -> list[tuple[str, str, onnx.ModelProto]]:
    out = []
    archs = dict(M.ARCHITECTURES)
    if args.big:
        archs["mobilenet_v2_96"] = lambda: M.mobilenet_v2(px=96, width=16)
        archs["mobilenet_v2_224"] = lambda: M.mobilenet_v2(px=224, width=16)
    chosen = args.archs.split(",") if args.archs else [*list(archs), "prefill_decoder"]
    formats = args.formats.split(",") if args.formats else [*M.FORMATS, "qonnx_8bit", "qonnx_4bit"]
    for arch in chosen:
        for fmt in formats:
            if fmt.startswith("qonnx"):
                if arch == "prefill_decoder":
                    continue
                bits = int(fmt.split("_")[1][0])
                qdq = M.quantize(archs[arch](), M.FORMATS["qdq_u8s8_pc"])
                out.append((arch, fmt, M.to_qonnx(qdq, low_bits=bits)))
            elif arch == "prefill_decoder":
                out.append((arch, fmt, M.with_past_length(M.quantize(M.prefill_decoder(), M.FORMATS[fmt], past=2), 0)))
            else:
                out.append((arch, fmt, M.quantize(archs[arch](), M.FORMATS[fmt])))
    return out


def run_one(arch: str, fmt: str, model: onnx.ModelProto, rv32: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"model": arch, "format": fmt}
    try:
        graph = import_onnx(model, name=arch, source=f"{arch}/{fmt}")
    except DeeployTilerError as e:
        row["imports"] = f"no: {e}"
        return row
    row["imports"] = "yes"
    row["nodes"] = len(graph.nodes)
    ort_model = qonnx_to_qcdq(model, source=arch) if fmt.startswith("qonnx") else model  # ORT runs the QCDQ form
    rng = np.random.default_rng(0)
    inputs = {t.name: rng.integers(t.dtype.min, t.dtype.max + 1, t.shape) for t in graph.inputs}
    ref = reference_run(graph, inputs, keep_intermediates=True)
    extra = {k: v for k, v in quantized_tensors(ort_model).items() if k in ref}
    every = {k: v.astype(np.int64) for k, v in ort_run(ort_model, inputs, extra_outputs=extra).items()}
    row["ref"] = _diff(ref, {k: v for k, v in every.items() if k in ref})  # every 8-bit tensor both have
    theirs = {k: every[k] for k in graph.output_names}
    plans = {}
    for spec in SPECS:
        t0 = time.perf_counter()
        try:
            plans[spec] = api.plan(graph, spec)
        except DeeployTilerError as e:
            row[f"plan_{spec}"] = f"no: {str(e)[:120]}"
            continue
        row[f"plan_{spec}"] = f"yes ({time.perf_counter() - t0:.1f} s)"
        row[f"valid_{spec}"] = len(api.validate(plans[spec], graph, spec))
    if "siracusa" in plans:
        targets = ("host", "rv32") if rv32 else ("host",)
        with tempfile.TemporaryDirectory(prefix="dt-corpus-") as tmp:
            try:
                outcome = api.verify(
                    plans["siracusa"], graph, "siracusa", tmp, inputs=inputs, expected=theirs, targets=targets
                )
            except DeeployTilerError as e:
                row["host"] = f"emit failed: {str(e)[:160]}"
                return row
            for built, result in outcome.results:
                compared = sum(o.numel for o in result.outputs)
                differing = sum(o.mismatches for o in result.outputs)
                row[built.target] = (compared, differing, "pass" if result.passed else "FAIL")
    return row


def markdown(rows: list[dict[str, Any]]) -> str:
    """The table of docs/onnx_quantization.md."""

    def cell(v: Any) -> str:
        if isinstance(v, (list, tuple)):
            return " / ".join(map(str, v))
        text = str(v)
        return "refused (see below)" if text.startswith("no: ") and "unsupported" in text else text

    head = [
        "model",
        "format",
        "imports",
        "plans siracusa",
        "plans siracusa_neureka",
        "validator (violations)",
        "ref vs onnxruntime: elements / differing / max",
        "host C vs onnxruntime: elements / differing",
        "rv32",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        valid = f"{r.get('valid_siracusa', '-')} / {r.get('valid_siracusa_neureka', '-')}"
        plan = [cell(r.get(k, "-")).split(" (")[0] for k in ("plan_siracusa", "plan_siracusa_neureka")]
        host, rv32 = r.get("host", "-"), r.get("rv32", "-")
        vals = [
            r["model"],
            r["format"],
            cell(r["imports"]),
            *plan,
            valid,
            cell(r.get("ref", "-")),
            cell(host[:2] if isinstance(host, (list, tuple)) else host),
            cell(rv32[:2] if isinstance(rv32, (list, tuple)) else rv32),
        ]
        lines.append("| " + " | ".join(vals) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archs", default="")
    ap.add_argument("--formats", default="")
    ap.add_argument("--rv32", default="", help="comma-separated architectures also run on rv32 (QEMU)")
    ap.add_argument("--big", action="store_true", help="add MobileNetV2 at 96 and 224 px")
    ap.add_argument("--json", default="")
    ap.add_argument("--markdown", default="", help="also write the table as markdown")
    ap.add_argument("--from-json", default="", help="comma-separated JSON files of earlier runs: only print")
    args = ap.parse_args()
    rv32 = set(args.rv32.split(",")) if args.rv32 else set()
    if args.from_json:
        rows = [r for f in args.from_json.split(",") for r in json.loads(Path(f).read_text())]
        print(markdown(rows))
        return
    rows = []
    cols = [
        "model",
        "format",
        "imports",
        "nodes",
        "ref",
        "plan_siracusa",
        "valid_siracusa",
        "plan_siracusa_neureka",
        "valid_siracusa_neureka",
        "host",
        "rv32",
    ]
    print(" | ".join(cols))
    for arch, fmt, model in _models(args):
        row = run_one(arch, fmt, model, arch in rv32)
        rows.append(row)
        print(" | ".join(str(row.get(c, "-")) for c in cols), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    if args.markdown:
        Path(args.markdown).write_text(markdown(rows) + "\n")


if __name__ == "__main__":
    main()
