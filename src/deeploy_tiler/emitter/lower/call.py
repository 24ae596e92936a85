"""What a lowering produces: `KernelCall`s (a kernel function and the designated initializer of its
argument block), the per-step context a lowering reads, and the C text of one argument field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ...errors import EmitError
from ...ir import DType, Graph, Node
from ..views import Box, Ptr, View

SHORT = {
    DType.INT8: "i8",
    DType.UINT8: "u8",
    DType.INT16: "i16",
    DType.UINT16: "u16",
    DType.INT32: "i32",
    DType.UINT32: "u32",
    DType.INT64: "i64",
    DType.FLOAT32: "f32",
}
FLOAT_TEMPLATE_PREFIX = "f32_"  # c/kernels/f32_<family>.tmpl.h: the ordered float32 kernels


@dataclass(frozen=True)
class RequantArgs:
    """A dt_requant_t: mul / add pointers, their strides over the kernel's 4 output indices."""

    mul: Ptr | None  # None: no requantization (the clamp alone serves QAdd)
    add: Ptr | None
    mul_s: tuple[int, ...]
    add_s: tuple[int, ...]
    shift: int
    lo: int
    hi: int
    wide: int = 1  # 0 when |acc * mul + add + div/2| provably fits int32 (the kernel then skips int64)
    fmode: int = 0  # 1: onnxruntime's float32 requantization, 2: the same with the zero point added in float


FieldValue = int | Ptr | tuple[int, ...] | RequantArgs | None  # None: a NULL pointer / no requant


@dataclass(frozen=True)
class KernelCall:
    """One kernel invocation: `fn(&args)` where args is a `args_type` with `fields`."""

    args_type: str
    fn: str
    template: str | None  # template file stem to instantiate (None: a plain library function)
    types: tuple[DType, ...]
    fields: tuple[tuple[str, FieldValue], ...]
    comment: str = ""


def render_field(v: FieldValue) -> str:
    """C initializer text of one field value."""
    if v is None:
        return "0"
    if isinstance(v, Ptr):
        return v.c()
    if isinstance(v, RequantArgs):
        return (
            "{.mul = "
            + (v.mul.c() if v.mul is not None else "0")
            + ", .add = "
            + (v.add.c() if v.add is not None else "0")
            + ", .mul_s = {"
            + ", ".join(map(str, v.mul_s))
            + "}, .add_s = {"
            + ", ".join(map(str, v.add_s))
            + f"}}, .shift = {v.shift}, .lo = {v.lo}, "
            f".hi = {v.hi}, .wide = {v.wide}" + (f", .fmode = {v.fmode}" if v.fmode else "") + "}"
        )
    if isinstance(v, tuple):
        return "{" + ", ".join(str(int(x)) for x in v) + "}"
    return str(int(v))


@dataclass(frozen=True)
class StepContext:
    graph: Graph
    node: Node
    out_box: Box
    views: Mapping[str, View]  # tensor name -> view for this step
    what: str  # for messages

    def view(self, tensor: str) -> View:
        try:
            return self.views[tensor]
        except KeyError:
            raise EmitError(f"{self.what}: no buffer or home for tensor {tensor}") from None


@dataclass
class Fields:
    items: list[tuple[str, FieldValue]] = field(default_factory=list)

    def add(self, name: str, value: FieldValue | Sequence[int]) -> None:
        if isinstance(value, list):
            value = tuple(int(v) for v in value)
        self.items.append((name, value))  # type: ignore[arg-type]


def instance_name(template: str, types: Sequence[DType]) -> str:
    return "dt_" + template + "_" + "_".join(SHORT[t] for t in types)


def kernel_call(args_type: str, template: str, types: Sequence[DType], f: Fields, comment: str = "") -> KernelCall:
    return KernelCall(args_type, instance_name(template, types), template, tuple(types), tuple(f.items), comment)


def is_float_node(ctx: StepContext) -> bool:
    """A node of a float32 graph: its output is FLOAT32 (the frontend makes every tensor of it so)."""
    return any(ctx.graph.tensor(t).dtype.is_float for t in ctx.node.outputs)


def typed_call(
    ctx: StepContext, args_type: str, template: str, types: Sequence[DType], f: Fields, comment: str
) -> KernelCall:
    """The integer template instance for `types`, or for a float node the float32 template of the same
    family (same argument block, one type parameter)."""
    if is_float_node(ctx):
        return kernel_call(args_type, FLOAT_TEMPLATE_PREFIX + template, (DType.FLOAT32,), f, comment)
    return kernel_call(args_type, template, types, f, comment)
