"""Mutated invalid inputs for every entry point of the package: ONNX bytes, layer lists, spec YAML,
allocation CSVs, plan JSON, Python arguments and CLI argument lists (each a picklable case dict)."""

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

from .strategies import SPECS, WEIRD_INTS, corrupted_text, mutated_document, valid_network

ENTRY_POINTS = ("onnx", "layer_list", "spec", "csv", "plan_json", "api", "cli")


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
