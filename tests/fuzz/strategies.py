"""Hypothesis strategies of the fuzz suite: random valid integer networks (as layer-list documents) and the
generic mutations of documents and text; the per-entry-point invalid inputs built on them are in
`invalid.py` (ONNX bytes, layer lists, spec YAML, allocation CSVs, plan JSON, Python arguments, CLI).

A case is plain picklable data (`dict`): the worker process (harness.py) runs it (cases.py). Weights and
inputs come from a drawn seed through numpy, so shrinking works on the structure, not on arrays.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from hypothesis import strategies as st

from deeploy_tiler.frontend.shapes import window_output_size

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
    spec = draw(st.sampled_from(SPECS))
    return {
        "entry": "valid",
        "doc": draw(valid_network()),
        "spec": spec,
        # within the spec's usable L1 (a larger budget is a PlanError, tested with the invalid inputs)
        "l1": draw(st.one_of(st.none(), st.integers(2_000, 30_720 if spec == "rv32_mcu" else 64_000))),
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
