from __future__ import annotations

import numpy as np
import pytest

from deeploy_tiler.errors import ModelError
from deeploy_tiler.ir import DType, Graph, Node, Tensor, TensorKind


def _t(name: str, shape: tuple[int, ...], kind: TensorKind, dtype: DType = DType.INT8) -> Tensor:
    data = np.zeros(shape, dtype=np.int64) if kind is TensorKind.CONSTANT else None
    return Tensor(name, shape, dtype, kind, data)


def _chain() -> Graph:
    tensors = [
        _t("x", (1, 8), TensorKind.INPUT),
        _t("w", (8, 4), TensorKind.CONSTANT),
        _t("h", (1, 4), TensorKind.ACTIVATION, DType.INT32),
        _t("r", (4,), TensorKind.ACTIVATION, DType.INT32),
        _t("y", (4,), TensorKind.OUTPUT, DType.INT32),
    ]
    nodes = (
        Node("mm", "MatMul", ("x", "w"), ("h",), macs=32),
        Node("fl", "Reshape", ("h",), ("r",)),
        Node("relu", "Relu", ("r",), ("y",)),
    )
    return Graph("g", {t.name: t for t in tensors}, nodes, ("x",), ("y",))


def test_dtype_facts() -> None:
    assert DType.INT8.itemsize == 1 and DType.INT32.itemsize == 4
    assert DType.from_levels(256, True) is DType.INT8 and DType.from_levels(256, False) is DType.UINT8
    assert DType.from_levels(65536, True) is DType.INT16
    assert DType.smallest_holding(0, 200) is DType.UINT8 and DType.smallest_holding(-1, 200) is DType.INT16
    assert DType.smallest_holding(0, 200, allow_unsigned=False) is DType.INT16


def test_bytes_lifetimes_and_lookups() -> None:
    g = _chain()
    assert g.tensor("w").nbytes == 32 and g.tensor("h").nbytes == 16
    assert g.node_bytes(g.nodes[0]).weights == 32 and g.node_bytes(g.nodes[0]).inputs == 8
    assert g.lifetimes() == {"x": (0, 0), "h": (0, 1), "r": (1, 2), "y": (2, 2)}
    assert g.producer("h") is g.nodes[0] and g.consumers("h") == (g.nodes[1],)
    assert g.nodes[1].is_alias and not g.nodes[0].is_alias
    assert g.total_macs == 32 and [t.name for t in g.inputs] == ["x"]
    s = g.summary()
    assert s.total_macs == 32 and s.nodes[1].untiled_bytes == 0 and "mm" in str(s)


def test_constants_are_read_only() -> None:
    w = _chain().tensor("w")
    assert w.data is not None
    with pytest.raises(ValueError):
        w.data[0, 0] = 1


def test_graph_rejects_non_topological_and_undefined() -> None:
    g = _chain()
    with pytest.raises(ModelError, match="not produced before"):
        Graph("g", g.tensors, tuple(reversed(g.nodes)), ("x",), ("y",))
    with pytest.raises(ModelError, match="duplicate node name"):
        Graph("g", g.tensors, (g.nodes[0], g.nodes[0]), ("x",), ("h",))
    with pytest.raises(ModelError, match="'q' is not defined"):
        Graph("g", g.tensors, (Node("a", "Relu", ("q",), ("h",)),), ("x",), ("h",))


def test_tensor_shape_checks() -> None:
    with pytest.raises(ModelError, match="data shape"):
        Tensor("c", (2, 2), DType.INT8, TensorKind.CONSTANT, np.zeros((4,), dtype=np.int64))


def test_graph_pickles_for_worker_processes() -> None:
    import pickle

    g = _chain()
    _ = g.nodes[0].attrs, g.producer("h")  # populate the caches first
    g2 = pickle.loads(pickle.dumps(g))
    assert g2.nodes == g.nodes and g2.input_names == g.input_names
    assert all(g.tensors[k].same_as(g2.tensors[k]) for k in g.tensors)
    assert g2.lifetimes() == g.lifetimes() and g2.nodes[0].attrs == g.nodes[0].attrs
    w = g2.tensor("w").data
    assert w is not None and not w.flags.writeable
