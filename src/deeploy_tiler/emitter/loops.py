"""Loop recovery: a node's flat list of schedule records (DMA starts / waits, compute markers, kernel
calls), each an opaque `shape` plus a vector of integers, folded into nested counted loops whose
records' integers are affine in the loop indices.

Why: a regular tiling repeats the same handful of records per tile with offsets that move by a fixed
step; emitting one loop body instead of one table row per tile makes the C proportional to the nodes,
not to the tiles. Irregular records (prologue, epilogue, a last partial tile, a reload at a row
boundary) simply stay single records, and the next level folds those repeating groups again (a 2-D
tiling with partial border tiles becomes a loop over rows of [loop over full tiles, border tile]).

The folding is greedy (innermost loops first) and exact: `expand(fold(records)) == records` always, and the emitter checks it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass

__all__ = ["Leaf", "Loop", "Item", "Record", "fold", "expand", "affine_expr", "count_items"]

Record = tuple[Hashable, tuple[int, ...]]  # (shape, integers)
MIN_REPEAT = 3  # any two blocks of the same shapes are "affine": a loop of 2 would only obscure them


@dataclass(frozen=True)
class Leaf:
    """One record: its integers at all enclosing loop indices 0 (`base`) and, per enclosing loop from the
    innermost outward, how much each integer moves per iteration (`coefs`)."""

    shape: Hashable
    base: tuple[int, ...]
    coefs: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class Loop:
    count: int
    body: tuple[Leaf | Loop, ...]


Item = Leaf | Loop


def _key(item: Item) -> Hashable:
    if isinstance(item, Leaf):
        return ("L", item.shape, item.coefs)
    return ("P", item.count, tuple(_key(b) for b in item.body))


def _values(item: Item) -> tuple[int, ...]:
    if isinstance(item, Leaf):
        return item.base
    out: tuple[int, ...] = ()
    for b in item.body:
        out += _values(b)
    return out


def _with_outer(item: Item, deltas: Iterator[int]) -> Item:
    """`item` as the first iteration of a new enclosing loop moving its integers by `deltas`."""
    if isinstance(item, Leaf):
        step = tuple(next(deltas) for _ in item.base)
        return Leaf(item.shape, item.base, (*item.coefs, step))
    return Loop(item.count, tuple(_with_outer(b, deltas) for b in item.body))


def _fold_period(items: Sequence[Item], p: int) -> list[Item]:
    """Every run of at least MIN_REPEAT blocks of `p` items with the same shapes and integers moving by a
    fixed step per block, leftmost first, folded into a loop."""
    ids: dict[Hashable, int] = {}
    keys = [ids.setdefault(_key(x), len(ids)) for x in items]
    vals = [_values(x) for x in items]
    n = len(items)
    out: list[Item] = []
    i = 0
    while i < n:
        if i + MIN_REPEAT * p <= n and keys[i : i + p] == keys[i + p : i + 2 * p]:
            deltas = [tuple(b - a for a, b in zip(vals[i + j], vals[i + p + j], strict=True)) for j in range(p)]
            r = 2
            while i + (r + 1) * p <= n and keys[i + r * p : i + (r + 1) * p] == keys[i : i + p]:
                lo = i + (r - 1) * p
                if any(
                    tuple(b - a for a, b in zip(vals[lo + j], vals[lo + p + j], strict=True)) != deltas[j]
                    for j in range(p)
                ):
                    break
                r += 1
            if r >= MIN_REPEAT:
                flat = iter([d for ds in deltas for d in ds])
                out.append(Loop(r, tuple(_with_outer(items[i + j], flat) for j in range(p))))
                i += r * p
                continue
        out.append(items[i])
        i += 1
    return out


def fold(records: Sequence[Record], *, max_period: int = 48) -> list[Item]:
    """Nested loops reproducing `records` in order (see the module docstring). Innermost loops first:
    runs of the shortest period are folded over the whole sequence, then longer periods, starting again
    from period 1 after every fold (the loops just made can repeat in turn: rows of tiles)."""
    items: list[Item] = [Leaf(shape, tuple(vec)) for shape, vec in records]
    p = 1
    while p <= max_period and MIN_REPEAT * p <= len(items):
        folded = _fold_period(items, p)
        if len(folded) < len(items):
            items, p = folded, 1
        else:
            p += 1
    return items


def expand(items: Sequence[Item], indices: tuple[int, ...] = ()) -> list[Record]:
    """The records a folded program stands for; `indices` are the enclosing loop indices, outermost first."""
    out: list[Record] = []
    for item in items:
        if isinstance(item, Leaf):
            inner_first = tuple(reversed(indices[len(indices) - len(item.coefs) :]))
            vec = list(item.base)
            for k, step in zip(inner_first, item.coefs, strict=True):
                for p, s in enumerate(step):
                    vec[p] += k * s
            out.append((item.shape, tuple(vec)))
        else:
            for k in range(item.count):
                out.extend(expand(item.body, (*indices, k)))
    return out


def count_items(items: Sequence[Item]) -> int:
    """Leaves and loops written out (the size of the emitted program, not of its run)."""
    return sum(1 if isinstance(x, Leaf) else 1 + count_items(x.body) for x in items)


def affine_expr(base: int, terms: Sequence[tuple[str, int]]) -> str:
    """C text of base + sum(coef * var), zero terms left out: `64 + 128*k1 - k0`."""
    parts: list[str] = []
    for var, c in terms:
        if c == 0:
            continue
        mag = var if abs(c) == 1 else f"{abs(c)}*{var}"
        parts.append(("- " if c < 0 else "+ ") + mag)
    if not parts:
        return str(base)
    head = parts[0]
    text = (head[2:] if head.startswith("+") else "-" + head[2:]) if base == 0 else f"{base} {head}"
    return " ".join([text, *parts[1:]])
