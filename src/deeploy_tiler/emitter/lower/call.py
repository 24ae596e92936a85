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
}


@dataclass(frozen=True)
class RequantArgs:
    """A dt_requant_t: mul / add pointers, their strides over the kernel's 4 output indices."""

    mul: Ptr
    add: Ptr
    mul_s: tuple[int, ...]
    add_s: tuple[int, ...]
    shift: int
    lo: int
    hi: int
    wide: int = 1  # 0 when |acc * mul + add + div/2| provably fits int32 (the kernel then skips int64)


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
            + v.mul.c()
            + ", .add = "
            + v.add.c()
            + ", .mul_s = {"
            + ", ".join(map(str, v.mul_s))
            + "}, .add_s = {"
            + ", ".join(map(str, v.add_s))
            + f"}}, .shift = {v.shift}, .lo = {v.lo}, "
            f".hi = {v.hi}, .wide = {v.wide}}}"
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
