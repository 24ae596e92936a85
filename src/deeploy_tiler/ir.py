"""Typed, frozen intermediate representation: `Graph`, `Node`, `Tensor`.

Every tensor knows its integer dtype and exact byte size; every node its MACs. Nodes are stored in a
topological order (checked at construction), which is also the execution order planners use.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np

from .errors import ModelError


class DType(StrEnum):
    """Element types: the integer ones, and FLOAT32 for plain float32 networks (docs/float32.md).

    The shared integer models declare FLOAT but hold integers; they import as integer types. A FLOAT32
    tensor's values travel through the library as their IEEE-754 bit patterns (signed int32 values in
    int64 arrays, as `frontend.requant.float_bits` writes them), so `Tensor.data`, the reference's values
    and the emitter's arrays keep one integer type and every float is held exactly; `min` / `max` /
    `holds` of FLOAT32 are those of its bit patterns.
    """

    INT8 = "int8"
    UINT8 = "uint8"
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    FLOAT32 = "float32"

    @property
    def itemsize(self) -> int:
        return int(np.dtype(self.value).itemsize)

    @property
    def is_float(self) -> bool:
        return self is DType.FLOAT32

    @property
    def signed(self) -> bool:
        return self.value.startswith("int") or self.is_float

    @property
    def min(self) -> int:
        return int(np.iinfo("int32" if self.is_float else self.value).min)

    @property
    def max(self) -> int:
        return int(np.iinfo("int32" if self.is_float else self.value).max)

    @property
    def c_type(self) -> str:
        return "float" if self.is_float else f"{self.value}_t"

    def holds(self, lo: int, hi: int) -> bool:
        return self.min <= lo and hi <= self.max

    @staticmethod
    def smallest_holding(lo: int, hi: int, *, allow_unsigned: bool = True) -> DType:
        order = [DType.INT8, DType.UINT8, DType.INT16, DType.UINT16, DType.INT32, DType.UINT32, DType.INT64]
        for dt in order:
            if (allow_unsigned or dt.signed) and dt.holds(lo, hi):
                return dt
        raise ValueError(f"no integer dtype holds [{lo}, {hi}]")

    @staticmethod
    def from_levels(n_levels: int, signed: bool) -> DType:
        """The dtype of a quantized tensor with `n_levels` values (RequantShift's n_levels_out)."""
        if signed:
            lo, hi = -(n_levels // 2), n_levels // 2 - 1
        else:
            lo, hi = 0, n_levels - 1
        return DType.smallest_holding(lo, hi)


class TensorKind(StrEnum):
    INPUT = "input"
    OUTPUT = "output"
    CONSTANT = "constant"
    ACTIVATION = "activation"


@dataclass(frozen=True, eq=False)
class Tensor:
    """A named tensor. Constants carry their integer values (int64, read-only) in `data`."""

    name: str
    shape: tuple[int, ...]
    dtype: DType
    kind: TensorKind
    data: np.ndarray[Any, np.dtype[np.int64]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if any(d < 0 for d in self.shape):
            raise ModelError(f"tensor {self.name}: negative dimension in shape {self.shape}")
        if self.data is not None:
            if tuple(self.data.shape) != self.shape:
                raise ModelError(f"tensor {self.name}: data shape {self.data.shape} != declared {self.shape}")
            self.data.setflags(write=False)

    def __reduce__(self) -> tuple[Any, ...]:
        # Through the constructor, so an unpickled constant is read-only again.
        return (Tensor, (self.name, self.shape, self.dtype, self.kind, self.data))

    @property
    def numel(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.numel * self.dtype.itemsize

    @property
    def is_constant(self) -> bool:
        return self.kind is TensorKind.CONSTANT

    def same_as(self, other: Tensor) -> bool:
        """Structural equality (numpy arrays make dataclass equality unusable)."""
        if (self.name, self.shape, self.dtype, self.kind) != (other.name, other.shape, other.dtype, other.kind):
            return False
        if self.data is None or other.data is None:
            return self.data is None and other.data is None
        return bool(np.array_equal(self.data, other.data))


AttrValue = int | float | str | tuple[int, ...] | tuple[float, ...]


@dataclass(frozen=True)
class Requant:
    """A RequantShift fused into the node that produces its input (kernels apply it on the accumulator).

    mode "shift" (QuantLib's RequantShift): y = clip(floor((acc * mul + add + div // 2) / div), lo, hi);
    mode "float" (onnxruntime's requantization, docs/onnx_quantization.md):
    y = clip(round_half_even(float32(acc) * float32(mul)) + add, lo, hi), `mul` holding float32 bit patterns;
    mode "float_zp" (QLinearMul): the zero point is added in float before the rounding.
    `mul`/`add` name constant tensors (scalar or per channel) that are also listed in the node's inputs;
    lo, hi default to the n_levels range (a folded Relu / Clip narrows them).
    """

    mul: str
    add: str
    div: int
    n_levels: int
    signed: bool
    source_node: str
    mode: str = "shift"
    clamp: tuple[int, int] | None = None

    @property
    def out_dtype(self) -> DType:
        return DType.from_levels(self.n_levels, self.signed)

    @property
    def bounds(self) -> tuple[int, int]:
        if self.clamp is not None:
            return self.clamp
        n = self.n_levels
        return (-(n // 2), n // 2 - 1) if self.signed else (0, n - 1)


# Operators that only reinterpret their input's shape: output and input share one buffer.
ALIAS_OPS = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"})


@dataclass(frozen=True)
class Node:
    name: str
    op_type: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attributes: tuple[tuple[str, AttrValue], ...] = ()
    domain: str = ""
    requant: Requant | None = None
    macs: int = 0
    fused_nodes: tuple[str, ...] = ()  # names of the ONNX nodes this node stands for

    @cached_property
    def attrs(self) -> Mapping[str, AttrValue]:
        return MappingProxyType(dict(self.attributes))

    def __getstate__(self) -> dict[str, Any]:
        # The cached read-only view does not pickle; it is rebuilt on first use.
        return {k: v for k, v in self.__dict__.items() if k != "attrs"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def attr(self, name: str, default: Any = None) -> Any:
        return self.attrs.get(name, default)

    @property
    def is_alias(self) -> bool:
        return self.op_type in ALIAS_OPS


@dataclass(frozen=True)
class NodeBytes:
    """Bytes a node touches, by role."""

    inputs: int  # activation / graph-input operands
    weights: int  # constant operands (weights, biases, requantization constants, tables)
    outputs: int

    @property
    def total(self) -> int:
        return self.inputs + self.weights + self.outputs


@dataclass(frozen=True, eq=False)
class Graph:
    """A topologically ordered integer network."""

    name: str
    tensors: Mapping[str, Tensor]
    nodes: tuple[Node, ...]
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    source: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tensors", MappingProxyType(dict(self.tensors)))
        self._check()

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild through the constructor (re-checked); read-only views and caches do not pickle.
        return (Graph, (self.name, dict(self.tensors), self.nodes, self.input_names, self.output_names, self.source))

    def _check(self) -> None:
        available = {n for n, t in self.tensors.items() if t.kind in (TensorKind.INPUT, TensorKind.CONSTANT)}
        names: set[str] = set()
        for node in self.nodes:
            if node.name in names:
                raise ModelError(f"duplicate node name {node.name!r}", node=node.name)
            names.add(node.name)
            for t in node.inputs:
                if t and t not in self.tensors:
                    raise ModelError(f"node {node.name}: input tensor {t!r} is not defined", node=node.name)
                if t and t not in available:
                    raise ModelError(
                        f"node {node.name}: input {t!r} is not produced before it (graph not topological)",
                        node=node.name,
                    )
            for t in node.outputs:
                if t not in self.tensors:
                    raise ModelError(f"node {node.name}: output tensor {t!r} is not defined", node=node.name)
                if t in available:
                    raise ModelError(f"node {node.name}: tensor {t!r} is produced twice", node=node.name)
                available.add(t)
        for t in (*self.input_names, *self.output_names):
            if t not in self.tensors:
                raise ModelError(f"graph {self.name}: input/output {t!r} is not defined")
        missing = [t for t in self.output_names if t not in available]
        if missing:
            raise ModelError(f"graph {self.name}: outputs never produced: {missing}")

    # --- lookups -------------------------------------------------------------------------------
    @property
    def inputs(self) -> tuple[Tensor, ...]:
        return tuple(self.tensors[n] for n in self.input_names)

    @property
    def outputs(self) -> tuple[Tensor, ...]:
        return tuple(self.tensors[n] for n in self.output_names)

    def tensor(self, name: str) -> Tensor:
        try:
            return self.tensors[name]
        except KeyError:
            raise ModelError(f"graph {self.name}: no tensor named {name!r}") from None

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise ModelError(f"graph {self.name}: no node named {name!r}")

    @cached_property
    def _producers(self) -> Mapping[str, Node]:
        return MappingProxyType({t: n for n in self.nodes for t in n.outputs})

    @cached_property
    def _consumers(self) -> Mapping[str, tuple[Node, ...]]:
        acc: dict[str, list[Node]] = {}
        for n in self.nodes:
            for t in dict.fromkeys(n.inputs):
                if t:
                    acc.setdefault(t, []).append(n)
        return MappingProxyType({k: tuple(v) for k, v in acc.items()})

    def producer(self, tensor: str) -> Node | None:
        return self._producers.get(tensor)

    def consumers(self, tensor: str) -> tuple[Node, ...]:
        return self._consumers.get(tensor, ())

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    # --- derived facts -------------------------------------------------------------------------
    @property
    def total_macs(self) -> int:
        return sum(n.macs for n in self.nodes)

    @property
    def constants(self) -> tuple[Tensor, ...]:
        return tuple(t for t in self.tensors.values() if t.is_constant)

    def node_bytes(self, node: Node) -> NodeBytes:
        ins = [self.tensors[t] for t in dict.fromkeys(node.inputs) if t]
        return NodeBytes(
            inputs=sum(t.nbytes for t in ins if not t.is_constant),
            weights=sum(t.nbytes for t in ins if t.is_constant),
            outputs=sum(self.tensors[t].nbytes for t in node.outputs),
        )

    def lifetimes(self) -> dict[str, tuple[int, int]]:
        """Non-constant tensor -> [first step, last step] in node indices, both inclusive.

        Graph inputs are live from step 0 (written before the run); graph outputs until the last step
        (read after it). A tensor nobody reads lives only at the step that writes it.
        """
        last = len(self.nodes) - 1
        life: dict[str, list[int]] = {t: [0, 0] for t in self.input_names}
        for step, node in enumerate(self.nodes):
            for t in node.outputs:
                life[t] = [step, step]
            for t in node.inputs:
                if t in life:
                    life[t][1] = max(life[t][1], step)
        for t in self.output_names:
            life[t][1] = last
        return {t: (a, b) for t, (a, b) in life.items()}

    def summary(self) -> GraphSummary:
        rows = []
        for n in self.nodes:
            b = self.node_bytes(n)
            rows.append(
                NodeSummary(
                    name=n.name,
                    op_type=n.op_type + ("+RQ" if n.requant else ""),
                    input_shapes=tuple(
                        self.tensors[t].shape for t in n.inputs if t and not self.tensors[t].is_constant
                    ),
                    output_shapes=tuple(self.tensors[t].shape for t in n.outputs),
                    dtypes=tuple(
                        self.tensors[t].dtype.value
                        for t in (*n.inputs, *n.outputs)
                        if t and not self.tensors[t].is_constant
                    ),
                    macs=n.macs,
                    input_bytes=b.inputs,
                    weight_bytes=b.weights,
                    output_bytes=b.outputs,
                    untiled_bytes=b.inputs + b.weights + b.outputs if not n.is_alias else 0,
                )
            )
        return GraphSummary(name=self.name, nodes=tuple(rows))


@dataclass(frozen=True)
class NodeSummary:
    name: str
    op_type: str
    input_shapes: tuple[tuple[int, ...], ...]
    output_shapes: tuple[tuple[int, ...], ...]
    dtypes: tuple[str, ...]
    macs: int
    input_bytes: int
    weight_bytes: int
    output_bytes: int
    untiled_bytes: int  # every operand resident at once: the memory the node needs without tiling


@dataclass(frozen=True)
class GraphSummary:
    name: str
    nodes: tuple[NodeSummary, ...]

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.nodes)

    @property
    def weight_bytes(self) -> int:
        return sum(r.weight_bytes for r in self.nodes)

    @property
    def max_untiled_bytes(self) -> int:
        return max((r.untiled_bytes for r in self.nodes), default=0)

    def __str__(self) -> str:
        lines = [
            f"graph {self.name}: {len(self.nodes)} nodes, {self.total_macs} MACs, "
            f"{self.weight_bytes} B of constants, largest untiled node {self.max_untiled_bytes} B"
        ]
        for r in self.nodes:
            lines.append(
                f"  {r.name:40s} {r.op_type:18s} {r.output_shapes} macs={r.macs} "
                f"in={r.input_bytes} w={r.weight_bytes} out={r.output_bytes}"
            )
        return "\n".join(lines)
