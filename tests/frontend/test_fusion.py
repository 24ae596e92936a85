"""frontend.fusion: a RequantShift folds into its accumulating producer exactly when every condition holds."""

from __future__ import annotations

import numpy as np

from deeploy_tiler.frontend.fusion import fuse_requant
from deeploy_tiler.ir import DType, Node, Tensor, TensorKind

RQ_ATTRS = (("div", 256), ("n_levels_out", 256), ("signed", 1))


def _tensors(const_mul: bool = True) -> dict[str, Tensor]:
    c = np.zeros((1,), dtype=np.int64)
    return {
        "x": Tensor("x", (1, 4), DType.INT8, TensorKind.INPUT),
        "w": Tensor("w", (4, 4), DType.INT8, TensorKind.CONSTANT, np.zeros((4, 4), dtype=np.int64)),
        "acc": Tensor("acc", (1, 4), DType.INT32, TensorKind.ACTIVATION),
        "mul": Tensor("mul", (1,), DType.INT32, TensorKind.CONSTANT if const_mul else TensorKind.INPUT, c),
        "add": Tensor("add", (1,), DType.INT32, TensorKind.CONSTANT, c),
        "y": Tensor("y", (1, 4), DType.INT8, TensorKind.OUTPUT),
    }


def _nodes(op: str = "Gemm") -> list[Node]:
    return [
        Node("g", op, ("x", "w"), ("acc",), macs=16),
        Node("rq", "RequantShift", ("acc", "mul", "add"), ("y",), attributes=RQ_ATTRS),
    ]


def test_gemm_then_requant_becomes_one_node() -> None:
    nodes, tensors = fuse_requant(_nodes(), _tensors(), ("y",))
    (fused,) = nodes
    assert fused.name == "g" and fused.op_type == "Gemm"
    assert fused.inputs == ("x", "w", "mul", "add")
    assert fused.outputs == ("y",)
    assert fused.fused_nodes == ("g", "rq")
    assert fused.macs == 16
    rq = fused.requant
    assert rq is not None
    assert (rq.mul, rq.add, rq.div, rq.n_levels, rq.signed, rq.source_node) == ("mul", "add", 256, 256, True, "rq")
    assert "acc" not in tensors and set(tensors) == {"x", "w", "mul", "add", "y"}


def test_not_fused_after_a_non_accumulating_producer() -> None:
    nodes, tensors = fuse_requant(_nodes("Relu"), _tensors(), ("y",))
    assert [n.name for n in nodes] == ["g", "rq"] and "acc" in tensors


def test_not_fused_when_the_accumulator_has_another_reader() -> None:
    extra = Node("other", "Relu", ("acc",), ("z",))
    tensors = _tensors() | {"z": Tensor("z", (1, 4), DType.INT32, TensorKind.OUTPUT)}
    nodes, kept = fuse_requant([*_nodes(), extra], tensors, ("y", "z"))
    assert [n.name for n in nodes] == ["g", "rq", "other"] and "acc" in kept


def test_not_fused_when_the_accumulator_is_a_graph_output() -> None:
    nodes, _ = fuse_requant(_nodes(), _tensors(), ("y", "acc"))
    assert len(nodes) == 2


def test_not_fused_when_the_scale_is_not_constant() -> None:
    nodes, _ = fuse_requant(_nodes(), _tensors(const_mul=False), ("y",))
    assert len(nodes) == 2


def test_requant_of_a_graph_input_stays() -> None:
    rq = Node("rq", "RequantShift", ("x", "mul", "add"), ("y",), attributes=RQ_ATTRS)
    tensors = {k: t for k, t in _tensors().items() if k != "acc"}
    nodes, _ = fuse_requant([rq], tensors, ("y",))
    assert nodes == [rq]
