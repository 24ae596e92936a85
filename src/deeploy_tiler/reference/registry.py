"""op_type -> kernel: binds a node's attributes (as the frontend delivers them) to the pure kernels.

Each entry takes the node's operand values (None for an omitted optional operand; the operands of a
fused RequantShift are NOT included) and its attribute mapping, and returns the single output.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from . import intops as I
from . import kernels as K
from . import qlinear as Q
from .kernels import Array

Attrs = Mapping[str, Any]
NodeKernel = Callable[[Sequence[Array | None], Attrs], Array]

# Float operators a user's model may bring: no integer semantics is defined for them (see docs).
FLOAT_ONLY_OPS: Mapping[str, str] = MappingProxyType(
    {
        "Softmax": "iSoftmax or ITAMax",
        "LayerNormalization": "iLayerNorm",
    }
)


def _req(ops: Sequence[Array | None], i: int, op: str) -> Array:
    if i >= len(ops) or ops[i] is None:
        raise ValueError(f"{op}: required operand #{i} is missing")
    v = ops[i]
    assert v is not None
    return v


def _opt(ops: Sequence[Array | None], i: int) -> Array | None:
    return ops[i] if i < len(ops) else None


def _str(attrs: Attrs, name: str, default: str) -> str:
    v = attrs.get(name, default)
    return v.decode() if isinstance(v, bytes) else str(v)


def _int(attrs: Attrs, name: str, default: int | None = None) -> int:
    v = attrs.get(name, default)
    if v is None:
        raise ValueError(f"attribute {name!r} is missing")
    return K.integral(v, name)


def _tuple(attrs: Attrs, name: str) -> tuple[int, ...] | None:
    v = attrs.get(name)
    if v is None:
        return None
    vals = v if isinstance(v, tuple) else (v,)
    return tuple(K.integral(e, name) for e in vals)


def _conv(ops: Sequence[Array | None], a: Attrs) -> Array:
    return K.conv(
        _req(ops, 0, "Conv"),
        _req(ops, 1, "Conv"),
        _opt(ops, 2),
        group=_int(a, "group", 1),
        strides=_tuple(a, "strides"),
        pads=_tuple(a, "pads"),
        dilations=_tuple(a, "dilations"),
        auto_pad=_str(a, "auto_pad", "NOTSET"),
    )


def _gemm(ops: Sequence[Array | None], a: Attrs) -> Array:
    return K.gemm(
        _req(ops, 0, "Gemm"),
        _req(ops, 1, "Gemm"),
        _opt(ops, 2),
        alpha=_int(a, "alpha", 1),
        beta=_int(a, "beta", 1),
        trans_a=bool(_int(a, "transA", 0)),
        trans_b=bool(_int(a, "transB", 0)),
    )


def _pool_kwargs(a: Attrs) -> dict[str, Any]:
    kernel = _tuple(a, "kernel_shape")
    if kernel is None:
        raise ValueError("attribute 'kernel_shape' is missing")
    return {
        "kernel_shape": kernel,
        "strides": _tuple(a, "strides"),
        "pads": _tuple(a, "pads"),
        "dilations": _tuple(a, "dilations"),
        "ceil_mode": bool(_int(a, "ceil_mode", 0)),
        "auto_pad": _str(a, "auto_pad", "NOTSET"),
    }


def _max_pool(ops: Sequence[Array | None], a: Attrs) -> Array:
    if _int(a, "storage_order", 0) != 0:
        raise ValueError("MaxPool storage_order=1 is not supported")
    return K.max_pool(_req(ops, 0, "MaxPool"), **_pool_kwargs(a))


def _average_pool(ops: Sequence[Array | None], a: Attrs) -> Array:
    return K.average_pool(
        _req(ops, 0, "AveragePool"), count_include_pad=bool(_int(a, "count_include_pad", 0)), **_pool_kwargs(a)
    )


def _reduce_mean(ops: Sequence[Array | None], a: Attrs) -> Array:
    return K.reduce_mean(_req(ops, 0, "ReduceMean"), axes=_tuple(a, "axes"), keepdims=bool(_int(a, "keepdims", 1)))


def _integer_mean(ops: Sequence[Array | None], a: Attrs) -> Array:
    x = _req(ops, 0, "IntegerMean")
    axes = _tuple(a, "axes")
    return I.integer_mean(x, axes=tuple(range(x.ndim)) if axes is None else axes, keepdims=bool(_int(a, "keepdims", 1)))


def _slice(ops: Sequence[Array | None], a: Attrs) -> Array:
    starts, ends = _tuple(a, "starts"), _tuple(a, "ends")
    if starts is None or ends is None:
        raise ValueError("Slice needs constant starts and ends")
    return K.slice_(_req(ops, 0, "Slice"), starts=starts, ends=ends, axes=_tuple(a, "axes"), steps=_tuple(a, "steps"))


def _pad(ops: Sequence[Array | None], a: Attrs) -> Array:
    pads = _tuple(a, "pads")
    if pads is None:
        raise ValueError("Pad needs constant pads")
    value = a.get("constant_value", a.get("value", 0))
    return K.pad(
        _req(ops, 0, "Pad"),
        pads=pads,
        mode=_str(a, "mode", "constant"),
        constant_value=K.integral(value, "constant_value"),
    )


def _clip(ops: Sequence[Array | None], a: Attrs) -> Array:
    def bound(name: str) -> float | None:
        v = a.get(name)
        if isinstance(v, tuple):
            v = v[0] if v else None
        return None if v is None else float(v)

    return K.clip(_req(ops, 0, "Clip"), lo=bound("min"), hi=bound("max"))


def _requant_shift(ops: Sequence[Array | None], a: Attrs) -> Array:
    return K.requant_shift(
        _req(ops, 0, "RequantShift"),
        _req(ops, 1, "RequantShift"),
        _req(ops, 2, "RequantShift"),
        div=_int(a, "div"),
        n_levels=_int(a, "n_levels_out"),
        signed=bool(_int(a, "signed", 1)),
    )


def _unary(fn: Callable[[Array], Array], op: str) -> NodeKernel:
    return lambda ops, a: fn(_req(ops, 0, op))


def _binary(fn: Callable[[Array, Array], Array], op: str) -> NodeKernel:
    return lambda ops, a: fn(_req(ops, 0, op), _req(ops, 1, op))


def _concat(ops: Sequence[Array | None], a: Attrs) -> Array:
    return K.concat([o for o in ops if o is not None], axis=_int(a, "axis"))


def _reshape(ops: Sequence[Array | None], a: Attrs) -> Array:
    shape = _tuple(a, "shape")
    if shape is None:
        raise ValueError("Reshape needs a constant shape")
    return K.reshape(_req(ops, 0, "Reshape"), shape=shape)


def _unsqueeze(ops: Sequence[Array | None], a: Attrs) -> Array:
    axes = _tuple(a, "axes")
    if axes is None:
        raise ValueError("Unsqueeze needs constant axes")
    return K.unsqueeze(_req(ops, 0, "Unsqueeze"), axes=axes)


KERNELS: Mapping[str, NodeKernel] = MappingProxyType(
    {
        "Conv": _conv,
        "Gemm": _gemm,
        "MatMul": _binary(K.matmul, "MatMul"),
        "Add": _binary(K.add, "Add"),
        "Sub": _binary(K.sub, "Sub"),
        "Mul": _binary(K.mul, "Mul"),
        "MaxPool": _max_pool,
        "AveragePool": _average_pool,
        "GlobalAveragePool": _unary(K.global_average_pool, "GlobalAveragePool"),
        "Flatten": lambda ops, a: K.flatten(_req(ops, 0, "Flatten"), axis=_int(a, "axis", 1)),
        "Reshape": _reshape,
        "Transpose": lambda ops, a: K.transpose(_req(ops, 0, "Transpose"), perm=_tuple(a, "perm")),
        "Concat": _concat,
        "Gather": lambda ops, a: K.gather(_req(ops, 0, "Gather"), _req(ops, 1, "Gather"), axis=_int(a, "axis", 0)),
        "Slice": _slice,
        "Squeeze": lambda ops, a: K.squeeze(_req(ops, 0, "Squeeze"), axes=_tuple(a, "axes")),
        "Unsqueeze": _unsqueeze,
        "Pad": _pad,
        "Relu": _unary(K.relu, "Relu"),
        "Clip": _clip,
        "Identity": _unary(K.identity, "Identity"),
        "RequantShift": _requant_shift,
        "ReduceMean": _reduce_mean,
        "RequantFloat": lambda ops, a: Q.requant_float(
            _req(ops, 0, "RequantFloat"),
            _req(ops, 1, "RequantFloat"),
            _req(ops, 2, "RequantFloat"),
            _int(a, "lo"),
            _int(a, "hi"),
            zp_in_float=bool(_int(a, "zp_in_float", 0)),
        ),
        "QAdd": lambda ops, a: Q.qadd(
            _req(ops, 0, "QAdd"),
            _req(ops, 1, "QAdd"),
            ratio_a=_int(a, "ratio_a"),
            ratio_b=_int(a, "ratio_b"),
            fixed=_int(a, "fixed"),
            scalar_a=bool(_int(a, "scalar_a", 0)),
            scalar_b=bool(_int(a, "scalar_b", 0)),
            lo=_int(a, "lo"),
            hi=_int(a, "hi"),
        ),
        "IntegerMean": _integer_mean,
        "iSoftmax": lambda ops, a: I.isoftmax(
            _req(ops, 0, "iSoftmax"),
            coeff_a=_int(a, "coeffA"),
            coeff_b=_int(a, "coeffB"),
            coeff_c=_int(a, "coeffC"),
            log2=_int(a, "log2"),
            n_levels=_int(a, "n_levels", 256),
        ),
        "ITAMax": lambda ops, a: I.itamax(_req(ops, 0, "ITAMax"), n_levels=_int(a, "n_levels", 256)),
        "iRMSNorm": lambda ops, a: I.irmsnorm(
            _req(ops, 0, "iRMSNorm"), _req(ops, 1, "iRMSNorm"), d=_int(a, "D"), n_levels=_int(a, "n_levels", 256)
        ),
        "iLayerNorm": lambda ops, a: I.ilayernorm(
            _req(ops, 0, "iLayerNorm"),
            _req(ops, 1, "iLayerNorm"),
            _req(ops, 2, "iLayerNorm"),
            d=_int(a, "D"),
            n_levels=_int(a, "n_levels", 256),
        ),
        "iGELU": lambda ops, a: I.igelu(_req(ops, 0, "iGELU"), b=_int(a, "b"), one=_int(a, "one")),
        "iHardswish": lambda ops, a: I.ihardswish(
            _req(ops, 0, "iHardswish"), one_over_six=_int(a, "one_over_six"), six=_int(a, "six"), three=_int(a, "three")
        ),
        "TrueIntegerDiv": lambda ops, a: I.true_integer_div(
            _req(ops, 0, "TrueIntegerDiv"),
            delta=_int(a, "Delta"),
            eps=_int(a, "eps"),
            eta=_int(a, "eta"),
            y=_int(a, "y"),
        ),
    }
)
