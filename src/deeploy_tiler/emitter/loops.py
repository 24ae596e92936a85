"""Loop recovery: a node's flat list of schedule records (DMA starts / waits, compute markers, kernel
calls), each an opaque `shape` plus a vector of integers, folded into nested counted loops whose
records' integers are affine in the loop indices.

Why: a regular tiling repeats the same handful of records per tile with offsets that move by a fixed
step; emitting one loop body instead of one table row per tile makes the C proportional to the nodes,
not to the tiles. Irregular records (prologue, epilogue, a last partial tile, a reload at a row
boundary) simply stay single records, and the next level folds those repeating groups again (a 2-D
tiling with partial border tiles becomes a loop over rows of [loop over full tiles, border tile]).

The folding is greedy (innermost loops first) and exact: `expand(fold(records)) == records` always,
and the emitter checks it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from operator import sub

__all__ = ["Item", "Leaf", "Loop", "Record", "affine_expr", "count_items", "expand", "fold"]

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


def _with_outer(item: Item, deltas: Iterator[int]) -> Item:
    """`item` as the first iteration of a new enclosing loop moving its integers by `deltas`."""
    if isinstance(item, Leaf):
        step = tuple(next(deltas) for _ in item.base)
        return Leaf(item.shape, item.base, (*item.coefs, step))
    return Loop(item.count, tuple(_with_outer(b, deltas) for b in item.body))


@dataclass
class _Seq:
    """The sequence being folded, with each item's interned shape key and integers (kept across passes:
    a folded loop's key is made from its body's keys and steps, so nothing is recomputed)."""

    items: list[Item]
    keys: list[int]
    vals: list[tuple[int, ...]]
    ids: dict[Hashable, int]


def _steps(keys: list[int], vals: list[tuple[int, ...]], i: int, p: int, n: int) -> list[tuple[int, ...]] | None:
    """The per-block steps when the MIN_REPEAT blocks of `p` items from `i` repeat affinely, else None."""
    if i + MIN_REPEAT * p > n:
        return None
    for b in range(1, MIN_REPEAT):
        if keys[i + b * p] != keys[i] or keys[i + b * p : i + (b + 1) * p] != keys[i : i + p]:
            return None
    deltas = []
    for j in range(p):
        d = tuple(map(sub, vals[i + p + j], vals[i + j]))
        for b in range(2, MIN_REPEAT):
            if tuple(map(sub, vals[i + b * p + j], vals[i + (b - 1) * p + j])) != d:
                return None
        deltas.append(d)
    return deltas


def _fold_period(seq: _Seq, p: int) -> _Seq:
    """Every run of at least MIN_REPEAT blocks of `p` items with the same shapes and integers moving by a
    fixed step per block, leftmost first, folded into a loop (`seq` itself when there is none)."""
    items, keys, vals = seq.items, seq.keys, seq.vals
    n = len(items)
    runs: list[tuple[int, int, list[tuple[int, ...]]]] = []  # (first item, blocks, steps)
    i = 0
    while i + MIN_REPEAT * p <= n:
        # cheap tests first: the first shapes of three blocks, their whole shapes, then the integers
        # block by block, stopping at the first record that does not move by the same step
        deltas = _steps(keys, vals, i, p, n) if keys[i] == keys[i + p] else None
        if deltas is None:
            i += 1
            continue
        r = MIN_REPEAT
        while (
            i + (r + 1) * p <= n and keys[i + r * p] == keys[i] and keys[i + r * p : i + (r + 1) * p] == keys[i : i + p]
        ):
            lo = i + (r - 1) * p
            if any(tuple(map(sub, vals[lo + p + j], vals[lo + j])) != deltas[j] for j in range(p)):
                break
            r += 1
        runs.append((i, r, deltas))
        i += r * p
    if not runs:
        return seq
    out = _Seq([], [], [], seq.ids)
    done = 0
    for i, r, deltas in runs:
        out.items += items[done:i]
        out.keys += keys[done:i]
        out.vals += vals[done:i]
        flat = iter([d for ds in deltas for d in ds])
        out.items.append(Loop(r, tuple(_with_outer(items[i + j], flat) for j in range(p))))
        key = ("P", r, tuple(zip(keys[i : i + p], deltas, strict=True)))
        out.keys.append(seq.ids.setdefault(key, len(seq.ids)))
        out.vals.append(tuple(v for j in range(p) for v in vals[i + j]))
        done = i + r * p
    out.items += items[done:]
    out.keys += keys[done:]
    out.vals += vals[done:]
    return out


def fold(records: Sequence[Record], *, max_period: int = 256) -> list[Item]:
    """Nested loops reproducing `records` in order (see the module docstring). Innermost loops first:
    runs of the shortest period are folded over the whole sequence, then longer periods; sweeps repeat
    while anything folds (the loops just made can repeat in turn: rows of tiles)."""
    ids: dict[Hashable, int] = {}
    seq = _Seq(
        [Leaf(shape, tuple(vec)) for shape, vec in records],
        [ids.setdefault(("L", shape), len(ids)) for shape, _ in records],
        [tuple(vec) for _, vec in records],
        ids,
    )
    changed = True
    while changed:  # sweeps over all periods until nothing folds (one per loop nesting level, about)
        changed = False
        for p in range(1, min(max_period, len(seq.items) // MIN_REPEAT) + 1):
            folded = _fold_period(seq, p)
            if folded is not seq:
                seq, changed = folded, True
    return seq.items


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
