"""C text of a node's folded schedule (`loops.fold`): nested `for` loops whose statements are the
plan's events with affine arguments (c/runtime/dt_loops.h): `dt_xfer(...)` for a DMA start,
`dt_xwait(ref)` for a wait, `DT_STEP(ref);` then one block per kernel call for a compute step.

Records are built by network.py; this module knows their shapes:
  ("start", dst symbol, src symbol)  ints: ref, dst offset, src offset, row bytes, n1, n2, n3,
                                      src strides s1..s3, dst strides s1..s3
  ("start1", dst symbol, src symbol) the same for one contiguous run: ref, dst offset, src offset, bytes
  ("wait",)                          ints: ref
  ("step",)                          ints: step index
  ("call", fn, args type, NPU task kind or None, field layout)   ints: the argument block's numbers
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence

from ..errors import EmitError
from ..plan import Event
from .loops import Item, Leaf, affine_expr
from .lower.call import FieldValue, RequantArgs
from .views import Ptr

__all__ = ["flatten_field", "program_depth", "render_items", "ring_entries"]


def flatten_field(v: FieldValue, ints: list[int]) -> Hashable:
    """Append the numbers of one argument field to `ints`; return its layout (what is not a number)."""
    if v is None:
        return "null"
    if isinstance(v, Ptr):
        ints.append(v.offset)
        return ("ptr", v.symbol, v.const)
    if isinstance(v, RequantArgs):
        mul = flatten_field(v.mul, ints)
        add = flatten_field(v.add, ints)
        ints.extend(int(x) for x in v.mul_s)
        ints.extend(int(x) for x in v.add_s)
        ints.extend((v.shift, v.lo, v.hi, v.wide))
        return ("rq", mul, add, len(v.mul_s), len(v.add_s), v.fmode)
    if isinstance(v, tuple):
        ints.extend(int(x) for x in v)
        return ("tuple", len(v))
    ints.append(int(v))
    return "int"


def _ptr(symbol: str, const: bool, offset: str) -> str:
    return f"{'DT_CP' if const else 'DT_P'}({symbol}, {offset})"


def _field(layout: Hashable, exprs: Iterator[str]) -> str:
    if layout == "null":
        return "0"
    if layout == "int":
        return next(exprs)
    if not isinstance(layout, tuple):
        raise EmitError(f"unknown argument field layout {layout!r}")
    if layout[0] == "ptr":
        return _ptr(layout[1], layout[2], next(exprs))
    if layout[0] == "tuple":
        return "{" + ", ".join(next(exprs) for _ in range(layout[1])) + "}"
    _, mul, add, n_mul, n_add, fmode = layout
    mul_c, add_c = _field(mul, exprs), _field(add, exprs)
    mul_s = ", ".join(next(exprs) for _ in range(n_mul))
    add_s = ", ".join(next(exprs) for _ in range(n_add))
    shift, lo, hi, wide = (next(exprs) for _ in range(4))
    return (
        f"{{.mul = {mul_c}, .add = {add_c}, .mul_s = {{{mul_s}}}, .add_s = {{{add_s}}}, .shift = {shift}, "
        f".lo = {lo}, .hi = {hi}, .wide = {wide}" + (f", .fmode = {fmode}" if fmode else "") + "}"
    )


def _leaf(leaf: Leaf, depth: int) -> str:
    # coefs run from the innermost enclosing loop (k{depth-1}) outward
    names = [f"k{depth - 1 - j}" for j in range(len(leaf.coefs))]
    exprs = [
        affine_expr(b, [(names[j], leaf.coefs[j][p]) for j in range(len(leaf.coefs))]) for p, b in enumerate(leaf.base)
    ]
    shape = leaf.shape
    if not isinstance(shape, tuple):
        raise EmitError(f"unknown schedule record {shape!r}")
    kind = shape[0]
    if kind in ("start", "start1"):
        ref, dst, src, *rest = exprs
        fn = "dt_xfer" if kind == "start" else "dt_xfer1"
        return f"{fn}({ref}, {_ptr(shape[1], False, dst)}, {_ptr(shape[2], True, src)}, {', '.join(rest)});"
    if kind == "wait":
        return f"dt_xwait({exprs[0]});"
    if kind == "step":
        return f"DT_STEP({exprs[0]});"
    if kind == "call":
        _, fn, args_type, npu_kind, layout = shape
        it = iter(exprs)
        init = "{" + ", ".join(f".{name} = {_field(f, it)}" for name, f in layout) + "}"
        if npu_kind is None:
            return f"{{ const {args_type} a = {init}; dt_cluster_fork({fn}, &a); }}"
        return (
            f"{{ const {args_type} a = {init}; const dt_npu_task_t t = {{{npu_kind}, 0, {fn}, &a}}; "
            f"dt_npu_run_task(&t); }}"
        )
    raise EmitError(f"unknown schedule record kind {kind!r}")


def render_items(items: Sequence[Item], depth: int, indent: str) -> list[str]:
    """The C statements of `items` at loop depth `depth` (loop variables k0, k1, ... outermost first)."""
    out: list[str] = []
    for item in items:
        if isinstance(item, Leaf):
            out.append(indent + _leaf(item, depth))
        else:
            out.append(f"{indent}for (k{depth} = 0; k{depth} < {item.count}; ++k{depth}) {{")
            out.extend(render_items(item.body, depth + 1, indent + "    "))
            out.append(indent + "}")
    return out


def program_depth(items: Sequence[Item]) -> int:
    """Deepest loop nesting of a folded program (how many loop variables its function declares)."""
    return max((1 + program_depth(x.body) for x in items if not isinstance(x, Leaf)), default=0)


def ring_entries(events: Sequence[Event], num_transfers: int) -> int:
    """The smallest power of two R such that, indexing descriptors and handles by `ref & (R - 1)`, no
    transfer starts into an entry whose transfer was not waited for yet, and every wait finds its own
    transfer. Falls back to one entry per transfer id (no sharing at all) when the events need it."""
    limit = 1
    while limit < max(num_transfers, 1):
        limit *= 2
    r = 1
    while r < limit:
        busy: dict[int, int] = {}
        ok = True
        for e in events:
            if e.kind == "compute":
                continue
            slot = e.ref & (r - 1)
            if e.kind == "dma_start":
                if slot in busy:
                    ok = False
                    break
                busy[slot] = e.ref
            elif busy.get(slot) == e.ref:
                del busy[slot]
            else:
                ok = False
                break
        if ok:
            return r
        r *= 2
    return limit
