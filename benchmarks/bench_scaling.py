"""How planning and validation grow with the network: stacked decoders and CNNs of distinct layers.

    python benchmarks/bench_scaling.py [--hw siracusa] [--short] [--decoders 1 2 4 8 16 32 64] [--cnns 10 ...]

Every size runs in a fresh Python process (nothing cached across sizes, imports not timed): build the
model in-process (decoder: the bundled layer — d_model 32, 4 heads, FFN 64 — stacked N times; CNN: N
3x3 convolutions + RequantShift whose (in, out) channel pairs all differ, so no two layers share a
tiling subproblem), then time `dt.plan` (tiling + memory plan) and `dt.validate`; the one-off import of
the planner and validator modules (ortools, pandas; about 2 s without bytecode caches) happens before
the clock starts and is printed beside. CPU seconds (process time) are printed too: on a shared machine
they move less with the load than wall time. Prints a Markdown
table and, per family, the exponent b of a least-squares fit time ~ a * nodes^b over the sizes from
the second on (the first holds the one-off solver start-up). `--short` (the CI form, run by the tests): decoders 1-4,
CNNs 5-20. Exits 1 if a plan fails validation.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from deeploy_tiler import api  # noqa: E402
from deeploy_tiler.frontend import import_onnx  # noqa: E402
from deeploy_tiler.ir import Graph  # noqa: E402
from deeploy_tiler.models.tiny_decoder import build_tiny_decoder  # noqa: E402

DECODERS = (1, 2, 4, 8, 16, 32, 64)
CNNS = (10, 25, 50, 100, 200)
SHORT_DECODERS = (1, 2, 4)
SHORT_CNNS = (5, 10, 20)


def stacked_decoder(layers: int) -> Graph:
    """The bundled decoder layer repeated `layers` times (each layer's tensors and weights renamed)."""
    base = build_tiny_decoder()
    g = base.graph
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    prev = "input"
    for i in range(layers):
        out = "output" if i == layers - 1 else f"L{i}.output"

        def rename(name: str, i: int = i, prev: str = prev, out: str = out) -> str:
            return {"input": prev, "output": out}.get(name, f"L{i}.{name}")

        for n in g.node:
            m = onnx.NodeProto()
            m.CopyFrom(n)
            m.name = f"L{i}.{n.name}"
            m.input[:] = [rename(x) for x in n.input]
            m.output[:] = [rename(x) for x in n.output]
            nodes.append(m)
        for t in g.initializer:
            u = onnx.TensorProto()
            u.CopyFrom(t)
            u.name = rename(t.name)
            inits.append(u)
        prev = out
    name = f"decoder{layers}"
    graph = helper.make_graph(nodes, name, list(g.input), list(g.output), initializer=inits)
    model = helper.make_model(graph, opset_imports=list(base.opset_import), producer_name="bench_scaling")
    model.ir_version = base.ir_version
    return import_onnx(model, name=name, source=f"<{name}>")


def _de_bruijn_pairs(k: int) -> list[int]:
    """A cyclic sequence over 0..k-1 in which every ordered pair appears once (de Bruijn B(k, 2))."""
    a = [0] * (2 * k)
    seq: list[int] = []

    def db(t: int, p: int) -> None:
        if t > 2:
            if 2 % p == 0:
                seq.extend(a[1 : p + 1])
            return
        a[t] = a[t - p]
        db(t + 1, p)
        for j in range(a[t - p] + 1, k):
            a[t] = j
            db(t + 1, t)

    db(1, 1)
    return seq


def distinct_cnn(layers: int, *, hw_size: int = 12, seed: int = 5) -> Graph:
    """`layers` 3x3 convolutions (+ RequantShift), channel counts 8..23 walked so that no (in, out)
    pair repeats: every layer is its own tiling subproblem."""
    k = 16
    assert layers <= k * k, "at most 256 distinct layers"
    walk = _de_bruijn_pairs(k)
    chans = [8 + c for c in (walk + walk[:1])[: layers + 1]]
    rng = np.random.default_rng(seed)
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []

    def const(name: str, values: np.ndarray[Any, Any]) -> str:
        inits.append(numpy_helper.from_array(values.astype(np.float32), name))
        return name

    x = "input"
    for i in range(layers):
        w = const(f"conv{i}.weight", rng.integers(-8, 8, size=(chans[i + 1], chans[i], 3, 3)))
        conv = f"conv{i}_out"
        nodes.append(
            helper.make_node(
                "Conv", [x, w], [conv], name=f"conv{i}", kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]
            )
        )
        mul = const(f"rq{i}.mul", np.array([int(rng.integers(8, 16))]))
        add = const(f"rq{i}.add", np.array([0]))
        y = "output" if i == layers - 1 else f"act{i}"
        nodes.append(
            helper.make_node(
                "RequantShift",
                [conv, mul, add],
                [y],
                name=f"rq{i}",
                div=numpy_helper.from_array(np.array(2.0**10, dtype=np.float32)),
                n_levels_out=numpy_helper.from_array(np.array([256.0], dtype=np.float32)),
                signed=numpy_helper.from_array(np.array([1.0], dtype=np.float32)),
            )
        )
        x = y
    name = f"cnn{layers}"
    shape_in, shape_out = [1, chans[0], hw_size, hw_size], [1, chans[layers], hw_size, hw_size]
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, shape_in)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, shape_out)],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 10)], producer_name="bench_scaling")
    model.ir_version = 5
    return import_onnx(model, name=name, source=f"<{name}>")


def measure(kind: str, size: int, hw: str) -> dict[str, Any]:
    """Build, plan and validate one network in this process; wall seconds of each step."""
    t_import = time.perf_counter()
    importlib.import_module("deeploy_tiler.planner.pipeline")  # imported by dt.plan on first use
    importlib.import_module("deeploy_tiler.validator")
    t_import = time.perf_counter() - t_import
    graph = stacked_decoder(size) if kind == "decoder" else distinct_cnn(size)
    spec = api.load_hw(hw)
    t0, c0 = time.perf_counter(), time.process_time()
    plan = api.plan(graph, spec)
    t1, c1 = time.perf_counter(), time.process_time()
    violations = api.validate(plan, graph, spec)
    t2, c2 = time.perf_counter(), time.process_time()
    return {
        "kind": kind,
        "size": size,
        "nodes": len(graph.nodes),
        "plan_s": t1 - t0,
        "validate_s": t2 - t1,
        "plan_cpu_s": c1 - c0,
        "validate_cpu_s": c2 - c1,
        "import_s": t_import,
        "violations": len(violations),
    }


def _fresh(kind: str, size: int, hw: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--one", kind, str(size), "--hw", hw]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def fitted_exponent(nodes: list[int], seconds: list[float]) -> float:
    """b of the least-squares line log t = log a + b log n (nan with fewer than two points)."""
    if len(nodes) < 2:
        return math.nan
    b, _ = np.polyfit(np.log(nodes), np.log(np.maximum(seconds, 1e-6)), 1)
    return float(b)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hw", default="siracusa")
    ap.add_argument("--short", action="store_true", help="the CI form: small sizes only")
    ap.add_argument("--decoders", type=int, nargs="*", default=None, help="decoder layer counts")
    ap.add_argument("--cnns", type=int, nargs="*", default=None, help="CNN layer counts")
    ap.add_argument("--one", nargs=2, metavar=("KIND", "SIZE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), args.hw)))
        return 0
    decoders = args.decoders if args.decoders is not None else (SHORT_DECODERS if args.short else DECODERS)
    cnns = args.cnns if args.cnns is not None else (SHORT_CNNS if args.short else CNNS)
    rows = [_fresh("decoder", n, args.hw) for n in decoders] + [_fresh("cnn", n, args.hw) for n in cnns]
    print(f"## plan + validate wall time, `{args.hw}`, fresh process per size\n")
    print("| network | layers | nodes | plan s | validate s | plan CPU s | validate CPU s | violations | imports s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['kind']} | {r['size']} | {r['nodes']} | {r['plan_s']:.2f} | {r['validate_s']:.2f} | "
            f"{r['plan_cpu_s']:.2f} | {r['validate_cpu_s']:.2f} | {r['violations']} | {r['import_s']:.2f} |"
        )
    print("\n| network | fitted over layers | plan exponent | validate exponent | plan CPU exp. | validate CPU exp. |")
    print("|---|---|---:|---:|---:|---:|")
    for kind in ("decoder", "cnn"):
        fit = [r for r in rows if r["kind"] == kind][1:]
        if len(fit) < 2:
            continue
        nodes = [r["nodes"] for r in fit]
        plan_b = fitted_exponent(nodes, [r["plan_s"] for r in fit])
        val_b = fitted_exponent(nodes, [r["validate_s"] for r in fit])
        plan_c = fitted_exponent(nodes, [r["plan_cpu_s"] for r in fit])
        val_c = fitted_exponent(nodes, [r["validate_cpu_s"] for r in fit])
        span = f"{fit[0]['size']}..{fit[-1]['size']}"
        print(f"| {kind} | {span} | {plan_b:.2f} | {val_b:.2f} | {plan_c:.2f} | {val_c:.2f} |")
    return 1 if any(r["violations"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
