"""Hypothesis strategies of the fuzz suite: random valid integer networks (as layer-list documents) and
mutated invalid inputs for every entry point (ONNX bytes, layer lists, spec YAML, allocation CSVs, plan
JSON, Python arguments, CLI argument lists).

A case is plain picklable data (`dict`): the worker process (harness.py) runs it (cases.py). Weights and
inputs come from a drawn seed through numpy, so shrinking works on the structure, not on arrays.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import numpy as np
import onnx
import yaml
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

ENTRY_POINTS = ("onnx", "layer_list", "spec", "csv", "plan_json", "api", "cli")
SPECS = ("siracusa", "siracusa_neureka", "rv32_mcu")

# Values that break integer fields: zero, negatives, huge, float, non-numbers.
WEIRD_INTS: list[Any] = [
    0,
    -1,
    -7,
    2**31,
    2**63 - 1,
    10**12,
    10**30,
    1.5,
    0.5,
    1e30,
    1e308,
    "x",
    "64KiB",
    None,
    [],
    True,
]
WEIRD_VALUES: list[Any] = [*WEIRD_INTS, {}, [1, 2], [-1], [0, 0], "", "int8", "float32", {"a": 1}]


# --- valid random networks ---------------------------------------------------------------------------------
def _requant(rng: np.random.Generator, name: str, channels: int, per_channel: bool) -> tuple[dict[str, Any], list]:
    shape = [channels, 1, 1] if per_channel else [1]
    count = channels if per_channel else 1
    mul = rng.integers(1, 64, size=count).tolist()
    add = rng.integers(-200, 200, size=count).tolist()
    tensors = [
        {"name": f"{name}.mul", "shape": shape, "dtype": "int32", "kind": "constant", "data": mul},
        {"name": f"{name}.add", "shape": shape, "dtype": "int32", "kind": "constant", "data": add},
    ]
    rq = {"mul": f"{name}.mul", "add": f"{name}.add", "div": 2 ** int(rng.integers(4, 11)), "n_levels": 256}
    return {**rq, "signed": True}, tensors


@st.composite
def valid_network(draw: st.DrawFn) -> dict[str, Any]:
    """A layer-list document of a random chain over NCHW int8 activations: Conv / depthwise Conv (+ requant),
    MaxPool / AveragePool (ceil_mode, pads), Relu, residual Add (+ requant), and optionally a Flatten + Gemm
    head, with weights and biases from a drawn seed."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    c = draw(st.integers(1, 8))
    h = draw(st.integers(3, 12))
    w = draw(st.integers(3, 12))
    tensors: list[dict[str, Any]] = [{"name": "x", "shape": [1, c, h, w], "dtype": "int8", "kind": "input"}]
    nodes: list[dict[str, Any]] = []
    cur, shape = "x", [1, c, h, w]
    history: list[tuple[str, list[int]]] = [(cur, shape)]
    n_layers = draw(st.integers(1, 5))
    for i in range(n_layers):
        kind = draw(st.sampled_from(["conv", "dwconv", "maxpool", "avgpool", "relu", "add"]))
        name, out = f"n{i}", f"t{i}"
        attrs: dict[str, Any] = {}
        inputs = [cur]
        rq = None
        _, ch, hh, ww = shape
        if kind in ("conv", "dwconv"):
            k = draw(st.sampled_from([1, 3])) if min(hh, ww) >= 3 else 1
            stride = draw(st.integers(1, 2))
            pad = draw(st.integers(0, k - 1)) if k > 1 else 0
            group = ch if kind == "dwconv" else 1
            c_out = ch if kind == "dwconv" else draw(st.integers(1, 12))
            wt = f"{name}.w"
            tensors.append(
                {
                    "name": wt,
                    "shape": [c_out, ch // group, k, k],
                    "dtype": "int8",
                    "kind": "constant",
                    "data": rng.integers(-8, 9, size=c_out * (ch // group) * k * k).tolist(),
                }
            )
            inputs.append(wt)
            if draw(st.booleans()):
                tensors.append(
                    {
                        "name": f"{name}.b",
                        "shape": [c_out],
                        "dtype": "int32",
                        "kind": "constant",
                        "data": rng.integers(-500, 500, size=c_out).tolist(),
                    }
                )
                inputs.append(f"{name}.b")
            attrs = {"kernel_shape": [k, k], "strides": [stride] * 2, "pads": [pad] * 4, "group": group}
            attrs["dilations"] = [1, 1]
            rq, rq_tensors = _requant(rng, f"{name}.rq", c_out, draw(st.booleans()))
            tensors += rq_tensors
            inputs += [rq["mul"], rq["add"]]
            oh, ow = (hh + 2 * pad - k) // stride + 1, (ww + 2 * pad - k) // stride + 1
            new_shape = [1, c_out, oh, ow]
            op = "Conv"
        elif kind in ("maxpool", "avgpool"):
            k = draw(st.integers(1, min(3, hh, ww)))
            stride = draw(st.integers(1, 3))
            pad = draw(st.integers(0, k - 1))
            ceil = draw(st.integers(0, 1))
            attrs = {"kernel_shape": [k, k], "strides": [stride] * 2, "pads": [pad] * 4, "ceil_mode": ceil}
            op = "MaxPool" if kind == "maxpool" else "AveragePool"
            if op == "AveragePool":
                attrs["count_include_pad"] = draw(st.integers(0, 1))
            from deeploy_tiler.frontend.shapes import window_output_size

            oh = window_output_size(hh, k, stride, 1, pad, pad, bool(ceil))
            ow = window_output_size(ww, k, stride, 1, pad, pad, bool(ceil))
            assert oh is not None and ow is not None
            new_shape = [1, ch, oh, ow]
        elif kind == "relu":
            op, new_shape = "Relu", shape
        else:
            same = [t for t, s in history if s == shape]
            other = draw(st.sampled_from(same))
            op, new_shape = "Add", shape
            inputs = [cur, other]
            rq, rq_tensors = _requant(rng, f"{name}.rq", ch, False)
            rq["div"] = 2
            tensors += rq_tensors
            inputs += [rq["mul"], rq["add"]]
        tensors.append({"name": out, "shape": new_shape, "dtype": "int8", "kind": "activation"})
        node: dict[str, Any] = {"name": name, "op": op, "inputs": inputs, "outputs": [out], "attributes": attrs}
        if rq is not None:
            node["requant"] = rq
        nodes.append(node)
        cur, shape = out, new_shape
        history.append((cur, shape))
    if draw(st.booleans()):
        flat = int(np.prod(shape))
        n_out = draw(st.integers(1, 16))
        tensors.append({"name": "flat", "shape": [1, flat], "dtype": "int8", "kind": "activation"})
        nodes.append({"name": "flatten", "op": "Flatten", "inputs": [cur], "outputs": ["flat"], "attributes": {}})
        tensors.append(
            {
                "name": "fc.w",
                "shape": [n_out, flat],
                "dtype": "int8",
                "kind": "constant",
                "data": rng.integers(-8, 9, size=n_out * flat).tolist(),
            }
        )
        rq, rq_tensors = _requant(rng, "fc.rq", n_out, False)
        tensors += rq_tensors
        tensors.append({"name": "fc.y", "shape": [1, n_out], "dtype": "int8", "kind": "activation"})
        nodes.append(
            {
                "name": "fc",
                "op": "Gemm",
                "inputs": ["flat", "fc.w", rq["mul"], rq["add"]],
                "outputs": ["fc.y"],
                "attributes": {"transB": 1},
                "requant": rq,
            }
        )
        cur = "fc.y"
    for t in tensors:
        if t["name"] == cur:
            t["kind"] = "output"
    return {"name": "fuzz", "tensors": tensors, "nodes": nodes, "inputs": ["x"], "outputs": [cur]}


@st.composite
def valid_case(draw: st.DrawFn) -> dict[str, Any]:
    """A valid network, a spec, an L1 budget (None: the spec's default) and an input seed."""
    return {
        "entry": "valid",
        "doc": draw(valid_network()),
        "spec": draw(st.sampled_from(SPECS)),
        "l1": draw(st.one_of(st.none(), st.integers(2_000, 64_000))),
        "double_buffer": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


# --- generic mutation of JSON-like documents ------------------------------------------------------------------
def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:8]):
            out += _paths(v, (*prefix, i))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any, delete: bool) -> None:
    parent = doc
    for p in path[:-1]:
        parent = parent[p]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = copy.deepcopy(value)  # never share the list / dict of WEIRD_VALUES


@st.composite
def mutated_document(draw: st.DrawFn, doc: Any) -> Any:
    """`doc` with 1..3 leaves or subtrees replaced by weird values or deleted."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        _set(doc, path, draw(st.sampled_from(WEIRD_VALUES)), delete=draw(st.integers(0, 5)) == 0)
    return doc


@st.composite
def corrupted_text(draw: st.DrawFn, text: str) -> str:
    """`text` truncated, or with characters inserted / deleted at random places."""
    how = draw(st.sampled_from(["truncate", "insert", "delete"]))
    pos = draw(st.integers(0, max(len(text) - 1, 0)))
    if how == "truncate":
        return text[:pos]
    if how == "insert":
        return (
            text[:pos]
            + draw(st.sampled_from(["{", "]", ":", "\n  - ", "\t", "'", '"', "\x00", "é", "&a"]))
            + text[pos:]
        )
    return text[:pos] + text[pos + draw(st.integers(1, 20)) :]


# --- per entry point ----------------------------------------------------------------------------------------------
def _onnx_base(c: int, hw: int, k: int, pool: str) -> onnx.ModelProto:
    rng = np.random.default_rng(c * 100 + hw)
    f32 = np.float32
    rq = {
        "div": numpy_helper.from_array(np.array(256.0, dtype=f32)),
        "n_levels_out": numpy_helper.from_array(np.array([256.0], dtype=f32)),
        "signed": numpy_helper.from_array(np.array([1.0], dtype=f32)),
    }
    nodes = [
        helper.make_node(
            "Conv", ["x", "w"], ["acc"], name="conv", kernel_shape=[k, k], pads=[k // 2] * 4, strides=[1, 1]
        ),
        helper.make_node("RequantShift", ["acc", "mul", "add"], ["r"], name="rq", **rq),
        helper.make_node(pool, ["r"], ["y"], name="pool", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
    ]
    inits = [
        numpy_helper.from_array(rng.integers(-5, 5, size=(4, c, k, k)).astype(f32), "w"),
        numpy_helper.from_array(np.full((4, 1, 1), 3, dtype=f32), "mul"),
        numpy_helper.from_array(np.zeros((4, 1, 1), dtype=f32), "add"),
    ]
    g = helper.make_graph(
        nodes,
        "fz",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, hw, hw])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=inits,
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)])
    m.ir_version = 6
    return m


@st.composite
def onnx_case(draw: st.DrawFn) -> dict[str, Any]:
    m = _onnx_base(
        draw(st.integers(1, 4)),
        draw(st.integers(2, 9)),
        draw(st.sampled_from([1, 3])),
        draw(st.sampled_from(["MaxPool", "AveragePool"])),
    )
    how = draw(st.sampled_from(["attribute", "dim", "initializer", "structure", "bytes"]))
    if how == "attribute":
        node = draw(st.sampled_from(list(m.graph.node)))
        key = draw(st.sampled_from(["strides", "pads", "dilations", "kernel_shape", "group", "ceil_mode", "auto_pad"]))
        value = draw(
            st.sampled_from(
                [
                    [0, 0],
                    [-1, -1],
                    [1.5, 1.5],
                    [0, 0, 0, 0],
                    [-1, 0, 0, 0],
                    [2**40, 1],
                    [1],
                    0,
                    -3,
                    2.5,
                    "SAME_UPPER",
                    "bogus",
                    [1, 1, 1, 1, 1, 1],
                    [100, 100, 100, 100],
                    1,
                    2,
                ]
            )
        )
        kept = [a for a in node.attribute if a.name != key]
        del node.attribute[:]
        node.attribute.extend([*kept, helper.make_attribute(key, value)])
    elif how == "dim":
        dims = m.graph.input[0].type.tensor_type.shape.dim
        d = dims[draw(st.integers(0, len(dims) - 1))]
        choice = draw(st.sampled_from([0, -1, -5, 2**31, 10**11, "sym"]))
        if choice == "sym":
            d.dim_param = "N"
        else:
            d.dim_value = choice
    elif how == "initializer":
        init = draw(st.sampled_from(list(m.graph.initializer)))
        dims = list(init.dims)
        i = draw(st.integers(0, len(dims) - 1))
        init.dims[i] = draw(st.sampled_from([0, dims[i] + 1, dims[i] * 1000, 10**12, -1]))
    elif how == "structure":
        node = draw(st.sampled_from(list(m.graph.node)))
        what = draw(st.sampled_from(["drop_input", "rename_input", "op_type", "drop_output", "empty_graph"]))
        if what == "drop_input" and node.input:
            del node.input[-1]
        elif what == "rename_input":
            node.input[0] = "nowhere"
        elif what == "op_type":
            node.op_type = draw(st.sampled_from(["Conv", "Gemm", "Foo", "MatMul", "Concat"]))
        elif what == "drop_output":
            del node.output[:]
        else:
            del m.graph.node[:]
    data = m.SerializeToString()
    if how == "bytes":
        pos = draw(st.integers(0, len(data)))
        data = draw(st.sampled_from([b"", data[:pos], data[:pos] + b"\xff\x00garbage" + data[pos:], b"not onnx"]))
    return {"entry": "onnx", "data": data}


@cache
def _base_layer_list() -> dict[str, Any]:
    """The ONNX base model as a layer list (a real Conv + requant + pool document, with data)."""
    from deeploy_tiler.frontend import dump_layer_list, import_onnx

    graph = import_onnx(_onnx_base(2, 6, 3, "MaxPool"), name="fz", source="<fuzz>")
    return json.loads(dump_layer_list(graph))


@st.composite
def layer_list_case(draw: st.DrawFn) -> dict[str, Any]:
    doc = draw(st.one_of(valid_network(), st.just(_base_layer_list())))
    how = draw(st.sampled_from(["mutate", "semantic", "semantic", "text", "requant"]))
    if how == "semantic":
        # Well-typed but wrong: schema-valid values that break an operator, shape or dtype rule.
        doc = copy.deepcopy(doc)
        what = draw(st.sampled_from(["attribute", "dim", "dtype", "kind"]))
        if what == "attribute" and any(n["attributes"] for n in doc["nodes"]):
            n = draw(st.sampled_from([n for n in doc["nodes"] if n["attributes"]]))
            key = draw(st.sampled_from(sorted(n["attributes"])))
            value = n["attributes"][key]
            bad = draw(st.sampled_from([0, -1, 2, 7, 2**31, 10**12]))
            if isinstance(value, list) and value:
                value = list(value)
                value[draw(st.integers(0, len(value) - 1))] = bad
                n["attributes"][key] = value
            else:
                n["attributes"][key] = bad
        elif what == "dim":
            t = draw(st.sampled_from(doc["tensors"]))
            if t["shape"]:
                t["shape"][draw(st.integers(0, len(t["shape"]) - 1))] = draw(st.sampled_from([0, -1, 2, 10**6, 2**33]))
        elif what == "dtype":
            t = draw(st.sampled_from(doc["tensors"]))
            t["dtype"] = draw(st.sampled_from(["int8", "uint8", "int16", "int32", "int64"]))
        else:
            t = draw(st.sampled_from(doc["tensors"]))
            t["kind"] = draw(st.sampled_from(["input", "output", "constant", "activation"]))
        return {"entry": "layer_list", "doc": doc}
    if how == "requant":
        doc = copy.deepcopy(doc)
        with_rq = [n for n in doc["nodes"] if n.get("requant")]
        if with_rq:
            n = draw(st.sampled_from(with_rq))
            key = draw(st.sampled_from(["div", "n_levels", "mul", "add", "signed"]))
            n["requant"][key] = draw(st.sampled_from([3, 6, 1000, 65536, 2**33, 1, 0, "ghost", False, "x"]))
        return {"entry": "layer_list", "doc": doc}
    if how == "text":
        return {"entry": "layer_list", "doc": draw(corrupted_text(json.dumps(doc)))}
    return {"entry": "layer_list", "doc": draw(mutated_document(doc))}


@cache
def _spec_doc(name: str) -> dict[str, Any]:
    from deeploy_tiler.hw import load_hw

    return load_hw(name).model_dump(mode="json")


@st.composite
def spec_case(draw: st.DrawFn) -> dict[str, Any]:
    doc = _spec_doc(draw(st.sampled_from(SPECS)))
    if draw(st.integers(0, 4)) == 0:
        return {"entry": "spec", "text": draw(corrupted_text(yaml.safe_dump(doc, sort_keys=False)))}
    return {"entry": "spec", "text": yaml.safe_dump(draw(mutated_document(doc)), sort_keys=False)}


@st.composite
def csv_case(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 6))
    rows = [["id", "lower", "upper", "size"]] + [[f"b{i}", str(i), str(i + 2), str(16 * (i + 1))] for i in range(n)]
    for _ in range(draw(st.integers(1, 3))):
        r = draw(st.integers(0, n))
        col = draw(st.integers(0, 3))
        rows[r][col] = draw(st.sampled_from(["-1", "1e3", "", "x", str(2**70), "é", "3.5", "0", "b0", "offset", "a,b"]))
    if draw(st.booleans()):
        extra = draw(st.sampled_from(["offset", "color", "id"]))
        rows = [
            row + ([extra] if i == 0 else [draw(st.sampled_from(["0", "-4", "x", "8"]))]) for i, row in enumerate(rows)
        ]
    data = "\n".join(",".join(r) for r in rows).encode()
    how = draw(st.sampled_from(["text", "text", "latin1", "empty", "header"]))
    if how == "latin1":
        data = data + b"\nb9,\xff\xfe,3,4"
    elif how == "empty":
        data = b""
    elif how == "header":
        data = b"id,lower,upper,size\n"
    name = draw(st.sampled_from(["buffers.1024.csv", "buffers.csv", "b.0.csv", f"b.{2**70}.csv"]))
    return {"entry": "csv", "data": data, "name": name, "strategy": draw(st.sampled_from(["auto", "greedy", "cpsat"]))}


@st.composite
def plan_json_case(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.integers(0, 3)) == 0:
        return {"entry": "plan_json", "mutation": "text", "draw": draw(st.integers(0, 2**31))}
    return {"entry": "plan_json", "mutation": "doc", "draw": draw(st.integers(0, 2**31))}


ARG_VALUES = st.sampled_from([*WEIRD_INTS, 64_000, 4_000, 2**40, 2**40 + 1, -64_000, "cluster", "neureka", "npu"])


@st.composite
def api_case(draw: st.DrawFn) -> dict[str, Any]:
    fn = draw(st.sampled_from(["plan", "plan_node", "allocate", "load_model", "reference_run", "emit", "load_hw"]))
    keys = {
        "plan": ["l1", "l2", "double_buffer", "engine", "workers", "seed", "time_limit_s", "bogus", "grid_limit"],
        "plan_node": ["node", "l1", "double_buffer", "engine", "workers", "bogus"],
        "allocate": ["capacity", "strategy", "time_limit", "seed", "buffers"],
        "load_model": ["path", "fuse"],
        "reference_run": ["inputs"],
        "emit": ["out_dir", "hw"],
        "load_hw": ["name"],
    }[fn]
    chosen = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3, unique=True))
    kwargs = {k: draw(ARG_VALUES) for k in chosen}
    return {"entry": "api", "fn": fn, "kwargs": kwargs}


SIZE_TEXT = st.sampled_from(["64000", "64KiB", "1e30", "10^30", "-5", "1.5", "64.5KiB", "0", "x", "", "9" * 40, "1TiB"])
PATHS = st.sampled_from(["afile", "afile/below.json", "adir", "missing/x.json", "new.json", "out", "ro/x.json"])
MODELS = st.sampled_from(["model.onnx", "empty.onnx", "garbage.onnx", "layers.json", "bad.json", "adir", "none.onnx"])


@st.composite
def cli_case(draw: st.DrawFn) -> dict[str, Any]:
    cmd = draw(st.sampled_from(["plan", "inspect", "emit", "alloc", "plan", "bogus"]))
    argv: list[str] = [cmd]
    if cmd == "alloc":
        argv.append(draw(st.sampled_from(["good.1024.csv", "bad.csv", "latin1.csv", "missing.csv", "adir"])))
        opts = {
            "--capacity": SIZE_TEXT,
            "--strategy": st.sampled_from(["auto", "x", "cpsat"]),
            "--json": PATHS,
            "--plot": st.sampled_from(["m.png", "m.txt", "afile/m.png", "adir"]),
            "--time-limit": st.sampled_from(["1", "-1", "x", "0"]),
            "--seed": st.sampled_from(["0", "-1", "x"]),
        }
    else:
        if draw(st.booleans()):
            argv.append(draw(MODELS))
        opts = {
            "--hw": st.sampled_from(["siracusa", "bad.yaml", "huge.yaml", "nope", "adir"]),
            "--l1": SIZE_TEXT,
            "--l2": SIZE_TEXT,
            "--json": PATHS,
            "--out": PATHS,
            "--bogus": st.just("1"),
        }
        if cmd == "inspect":
            opts = {"--hw": opts["--hw"], "--bogus": opts["--bogus"]}
        elif cmd == "emit":
            del opts["--json"]
        else:
            del opts["--out"]
    for key in draw(st.lists(st.sampled_from(sorted(opts)), max_size=3, unique=True)):
        argv += [key, draw(opts[key])]
    return {"entry": "cli", "argv": argv}


def invalid_case(entry: str) -> st.SearchStrategy[dict[str, Any]]:
    return {
        "onnx": onnx_case(),
        "layer_list": layer_list_case(),
        "spec": spec_case(),
        "csv": csv_case(),
        "plan_json": plan_json_case(),
        "api": api_case(),
        "cli": cli_case(),
    }[entry]


def onnx_base_bytes() -> bytes:
    """A valid small ONNX model (Conv + RequantShift + MaxPool with ceil_mode) for the CLI fixtures."""
    return _onnx_base(2, 6, 3, "MaxPool").SerializeToString()
