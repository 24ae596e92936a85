"""Building one compute step by hand for the lowering tests: a one-node graph, views of its operands
(whole tensors at their home, or the box an L1 slot holds), and the step's output box."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from deeploy_tiler.emitter.lower import KernelCall, StepContext
from deeploy_tiler.emitter.lower.call import FieldValue
from deeploy_tiler.emitter.views import Box, Ptr, View
from deeploy_tiler.ir import DType, Graph, Node, Requant, Tensor, TensorKind


@dataclass
class Step:
    """Operands of one node: activations (graph inputs) and constants, then `context()`."""

    tensors: dict[str, Tensor] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)

    def act(self, name: str, shape: tuple[int, ...], dt: DType = DType.INT8) -> str:
        self.tensors[name] = Tensor(name, shape, dt, TensorKind.INPUT)
        self.inputs.append(name)
        return name

    def const(self, name: str, values: Any, dt: DType = DType.INT8) -> str:
        data = np.asarray(values, dtype=np.int64)
        self.tensors[name] = Tensor(name, tuple(data.shape), dt, TensorKind.CONSTANT, data)
        return name

    def context(
        self,
        op: str,
        inputs: Sequence[str],
        out_shape: tuple[int, ...],
        out_dt: DType = DType.INT8,
        *,
        out_box: Box | None = None,
        held: Mapping[str, Box] | None = None,
        requant: Requant | None = None,
        **attrs: Any,
    ) -> StepContext:
        """The step of node `op` computing `out_box` (default: the whole output); `held[t]` is the box an
        L1 slot of tensor t holds (default: the whole tensor at its home, symbol `h_<t>`)."""
        self.tensors["y"] = Tensor("y", out_shape, out_dt, TensorKind.OUTPUT)
        ins = tuple(inputs) + ((requant.mul, requant.add) if requant else ())
        node = Node("n", op, ins, ("y",), attributes=tuple(sorted(attrs.items())), requant=requant)
        graph = Graph("t", dict(self.tensors), (node,), tuple(self.inputs), ("y",))
        views = {}
        for name, t in self.tensors.items():
            box = (held or {}).get(name, tuple((0, d) for d in t.shape))
            views[name] = View(
                name,
                Ptr(f"h_{name}", 0, t.is_constant),
                t.dtype,
                tuple(s for s, _ in box),
                tuple(n for _, n in box),
                t.shape,
                "test view",
            )
        box = out_box if out_box is not None else tuple((0, d) for d in out_shape)
        return StepContext(graph, node, box, views, "test step")


def fields(call: KernelCall) -> dict[str, FieldValue]:
    return dict(call.fields)


def ptr(symbol: str, nbytes: int, const: bool = False) -> Ptr:
    return Ptr(symbol, nbytes, const)
