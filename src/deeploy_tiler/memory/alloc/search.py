"""Exact depth-first search over *canonical* allocations (the MiniMalloc scheme, own implementation).

Canonical solutions
    Take any fit and let every movable buffer drop as low as it can (minimise the sum of offsets): each
    buffer then rests on a buffer below it or on address 0 (rounded up to its alignment). Listing the
    buffers by (offset, static rank) gives a placement order in which every buffer's offset equals its
    *floor*: the top of the highest already-placed buffer it conflicts with. The search enumerates only
    such orders: a node picks the next buffer among the unplaced ones, places it at its floor, and the
    key (floor, rank) of successive placements must increase strictly.

Pruning (each one keeps at least one canonical fit whenever a fit exists)
    * monotone keys: a candidate whose key is below the last placed key is skipped;
    * dominance: a candidate whose floor is at or above the lowest top ``floor + size`` of any unplaced
      movable buffer would leave room below that buffer, so it is skipped;
    * section inference: per time section, the unplaced bytes plus the lowest floor of an unplaced
      buffer there (at least the last placed offset) must fit the capacity; this gives a cheap
      threshold (offset <= capacity - max unplaced bytes of any section) and an exact per-candidate test;
    * "hatless" placements: if a failed candidate conflicts with no unplaced buffer, no later candidate
      of the node can succeed;
    * decomposition: when no unplaced buffer spans a section boundary, the two sides are independent
      sub-problems, solved one after the other with fresh orders.

Heuristic portfolio
    The static rank comes from one of several lexicographic orders (``W`` lifetime, ``A`` area,
    ``T`` the largest unplaced total of any of the buffer's sections, ``Z`` size; larger first). The
    orders are tried round robin with a cumulative node budget per order that doubles each round, so
    an order that happens to suit the instance finishes early. Each order's search is a generator that
    is *suspended* when its budget is spent and resumed in the next round (MiniMalloc restarts it),
    which roughly halves the nodes and returns exactly the offsets a restarting round robin would. A
    run that finishes is complete: if it found nothing, the instance is infeasible. Deep instances
    (more than 1500 buffers) run in a helper thread with a large stack for the nested generators.

The hot loop works on numpy arrays of one sub-problem: the floors of all unplaced buffers (placed ones
hold a sentinel), the unplaced bytes per section, and precomputed conflict / incidence matrices.
Candidates are tested exactly in geometrically growing batches so that a node that succeeds with its
first candidate pays for one test only.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .instance import Instance
from .timeline import sections

__all__ = ["DEFAULT_ORDERS", "SearchOutcome", "canonical_search"]

IntArray = np.ndarray[Any, np.dtype[np.int64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]

#: Static orders tried round robin (see module doc).
DEFAULT_ORDERS: tuple[str, ...] = ("WAT", "TAW", "TWA")

_DEAD = 1 << 40  # floor sentinel of a placed buffer; far above any capacity in units
_BIG_STACK_BUFFERS = 1500  # beyond this, run the search in a thread with a large stack (deep generators)

_Run = Generator[None, None, bool]  # a suspendable search: yields when its node budget is spent


class _Timeout(Exception):
    pass


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    """``offsets_u`` (in units, input order) when ``status == "feasible"``, else None."""

    status: str  # "feasible" | "infeasible" | "timeout"
    offsets_u: list[int] | None
    nodes: int
    backtracks: int
    order: str


class _Sub:
    """A sub-problem: buffers ``gidx`` (indices into the instance) over local sections ``[0, S)``."""

    __slots__ = (
        "S",
        "align",
        "align_m1",
        "ar",
        "fixed",
        "fixed_idx",
        "gidx",
        "has_align",
        "has_fixed",
        "hi",
        "hi_l",
        "incsz",
        "lo",
        "lo_l",
        "movable",
        "n",
        "ov",
        "ovi",
        "pairbuf",
        "secstart",
        "size",
        "width",
    )

    def __init__(
        self,
        gidx: IntArray,
        size: IntArray,
        lo: IntArray,
        hi: IntArray,
        ov: BoolArray,
        width: IntArray,
        align: IntArray,
        fixed: IntArray,
    ) -> None:
        self.gidx = gidx
        self.n = n = len(gidx)
        self.size = size
        self.lo = lo
        self.hi = hi
        self.lo_l: list[int] = lo.tolist()
        self.hi_l: list[int] = hi.tolist()
        self.ov = ov
        self.ovi = ov.astype(np.int64)
        self.width = width
        self.S = S = int(hi.max()) if n else 0
        sr = np.arange(S)
        inc = (sr[None, :] >= lo[:, None]) & (sr[None, :] < hi[:, None])
        self.incsz = inc * size[:, None]
        secs, bufs = np.nonzero(inc.T)
        self.pairbuf = bufs
        self.secstart = np.searchsorted(secs, sr)
        self.ar = np.arange(n)
        self.align = align
        self.align_m1 = align - 1
        self.has_align = bool((align > 1).any())
        self.fixed = fixed
        self.fixed_idx = np.flatnonzero(fixed >= 0)
        self.has_fixed = len(self.fixed_idx) > 0
        self.movable = fixed < 0

    def restrict(self, li: IntArray, a: int, b: int) -> _Sub:
        return _Sub(
            self.gidx[li],
            self.size[li],
            self.lo[li] - a,
            self.hi[li] - a,
            self.ov[np.ix_(li, li)],
            self.width[li],
            self.align[li],
            self.fixed[li],
        )


def _rank(order: str, width: IntArray, size: IntArray, tmax: IntArray, n: int) -> IntArray:
    """Rank of each buffer in the lexicographic order ``order`` (larger first, ties by index)."""
    keys = {"W": width, "A": width * size, "T": tmax, "Z": size}
    cols: list[IntArray] = [np.arange(n)]
    for ch in reversed(order):
        cols.append(-keys[ch])
    perm = np.lexsort(cols)
    rank = np.empty(n, dtype=np.int64)
    rank[perm] = np.arange(n)
    return rank


class _Engine:
    def __init__(self, capacity_u: int, n_total: int, deadline: float) -> None:
        self.C = capacity_u
        self.deadline = deadline
        self.sol = np.full(n_total, -1, dtype=np.int64)
        self.nodes = 0
        self.limit = 0
        self.backtracks = 0
        self.order = ""

    # -- decomposition ---------------------------------------------------------------------------
    def split(self, P: _Sub, eff: IntArray, total: IntArray) -> _Run:
        ai = (eff < _DEAD).nonzero()[0]
        if len(ai) == 0:
            return True
        lo = P.lo[ai]
        hi = P.hi[ai]
        S = P.S
        # cuts[s] = number of unplaced buffers spanning the boundary between sections s and s+1
        delta = np.bincount(lo, minlength=S + 1) - np.bincount(hi - 1, minlength=S + 1)
        cuts = np.cumsum(delta)[: S - 1]
        zs = (cuts == 0).nonzero()[0] + 1
        if len(zs) == 0:
            return (yield from self.start(P, eff, total, len(ai), cuts))
        bounds = np.concatenate([[0], zs, [S]])
        piece = np.searchsorted(bounds, lo, side="right") - 1
        for p in np.unique(piece).tolist():
            li = ai[piece == p]
            a = int(bounds[p])
            b = int(bounds[p + 1])
            sub = P.restrict(li, a, b)
            if not (yield from self.start(sub, eff[li], total[a:b], len(li), None)):
                return False
        return True

    def start(self, P: _Sub, eff: IntArray, total: IntArray, remaining: int, cuts: IntArray | None) -> _Run:
        if cuts is None:
            delta = np.bincount(P.lo, minlength=P.S + 1) - np.bincount(P.hi - 1, minlength=P.S + 1)
            cuts = np.cumsum(delta)[: P.S - 1]
        tmax = np.where(P.incsz > 0, total[None, :], 0).max(axis=1) if P.S else np.zeros(P.n, np.int64)
        pre = _rank(self.order, P.width, P.size, tmax, P.n)
        return (yield from self.dfs(P, pre, eff, total, cuts, -1, remaining))

    # -- the search node -------------------------------------------------------------------------
    def dfs(
        self, P: _Sub, pre: IntArray, eff: IntArray, total: IntArray, cuts: IntArray, lastkey: int, remaining: int
    ) -> _Run:
        self.nodes += 1
        while self.nodes > self.limit:
            yield  # node budget spent: suspend until the round robin grants more
        if not self.nodes & 255 and time.perf_counter() > self.deadline:
            raise _Timeout
        if remaining == 0:
            return True
        C = self.C
        size = P.size
        n = P.n
        tops = eff + size
        mh = int(np.minimum.reduce(tops if not P.has_fixed else tops[P.movable], initial=_DEAD))
        thr = min(mh - 1, C - int(np.maximum.reduce(total)))
        keys = eff * n
        keys += pre
        cm = keys > lastkey
        cm &= eff <= thr
        c = cm.nonzero()[0]
        k = len(c)
        if k == 0:
            self.backtracks += 1
            return False
        kc = keys[c]
        if k > 1:
            o = kc.argsort()
            c = c[o]
            kc = kc[o]
        alive: BoolArray | None = None
        first = 0
        step = 1
        pairbuf = P.pairbuf
        secstart = P.secstart
        while first < k:
            cc = c[first : first + step]
            kk = kc[first : first + step].tolist()
            q = len(cc)
            # Exact section test of placing each candidate at its floor. The threshold above already
            # guarantees floor + (unplaced bytes) <= C in every section, so only the lowest floor of the
            # buffers left in a section matters: min(floor', C) + bytes' <= C.
            if q == 1 and not P.has_align:
                j0 = int(cc[0])
                m0 = int(eff[j0])
                VT = P.ovi[cc] * (m0 + int(size[j0]))
                np.maximum(VT, eff, out=VT)
                VT[0, j0] = _DEAD
                Tt = total - P.incsz[cc]
                fl = np.minimum.reduceat(VT[0][pairbuf], secstart)
                np.minimum(fl, C, out=fl)
                fl += Tt[0]
                ok = np.array([int(np.maximum.reduce(fl)) <= C])
                ml = [m0]
            else:
                m = eff[cc]
                h = m + size[cc]
                if P.has_align:
                    hq = (h[:, None] + P.align_m1) // P.align * P.align
                    VT = np.maximum(eff, P.ovi[cc] * hq)
                else:
                    VT = np.maximum(eff, P.ovi[cc] * h[:, None])
                VT[P.ar[:q], cc] = _DEAD
                Tt = total - P.incsz[cc]
                if q == 1:
                    Fl = np.minimum.reduceat(VT[0][pairbuf], secstart)[None, :]
                else:
                    G = VT.take(pairbuf, axis=1)
                    offs = (secstart + len(pairbuf) * P.ar[:q, None]).ravel()
                    Fl = np.minimum.reduceat(G.ravel(), offs).reshape(q, P.S)
                np.minimum(Fl, C, out=Fl)
                Fl += Tt
                ok = np.maximum.reduce(Fl, axis=1) <= C
                ml = m.tolist()
            if P.has_fixed:
                fx = VT[:, P.fixed_idx]
                ok &= ~((fx > P.fixed[P.fixed_idx]) & (fx < _DEAD)).any(axis=1)
            for i in ok.nonzero()[0].tolist():
                j = int(cc[i])
                self.sol[P.gidx[j]] = ml[i]
                lo = P.lo_l[j]
                hi = P.hi_l[j]
                if hi - lo > 1:
                    nc = cuts.copy()
                    seg = nc[lo : hi - 1]
                    seg -= 1
                    if seg.all():
                        r = yield from self.dfs(P, pre, VT[i], Tt[i], nc, kk[i], remaining - 1)
                    else:
                        r = yield from self.split(P, VT[i], Tt[i])
                else:
                    r = yield from self.dfs(P, pre, VT[i], Tt[i], cuts, kk[i], remaining - 1)
                if r:
                    return True
                if alive is None:
                    alive = eff < _DEAD
                if not (P.ov[j] & alive).any():
                    self.backtracks += 1
                    return False  # "hatless": nothing unplaced above it, no alternative can do better
            first += step
            step *= 4
        self.backtracks += 1
        return False


def canonical_search(
    inst: Instance,
    *,
    time_limit: float | None = None,
    max_nodes: int | None = None,
    orders: Sequence[str] = DEFAULT_ORDERS,
) -> SearchOutcome:
    """Find offsets (in units) that fit ``inst.capacity_u``, prove that none exist, or give up.

    Gives up (status ``"timeout"``) after ``time_limit`` seconds or, deterministically, once the round
    robin has visited ``max_nodes`` nodes in total.
    """
    t0 = time.perf_counter()
    deadline = t0 + time_limit if time_limit is not None else float("inf")
    n = inst.n
    if n == 0:
        return SearchOutcome("feasible", [], 0, 0, "")
    for o in orders:
        if not o or set(o) - set("WATZ"):
            raise ValueError(f"unknown search order {o!r} (letters W, A, T, Z)")
    secs = sections(inst.start, inst.end)
    root = _Sub(
        np.arange(n),
        inst.size_u.copy(),
        secs.lo,
        secs.hi,
        inst.overlap_matrix(),
        inst.end - inst.start,
        inst.align_u.copy(),
        inst.fixed_u.copy(),
    )
    eff0 = np.where(inst.fixed_u >= 0, inst.fixed_u, 0).astype(np.int64)
    total0 = root.incsz.sum(axis=0)

    def run() -> SearchOutcome:
        engines = [_Engine(inst.capacity_u, n, deadline) for _ in orders]
        runs: list[_Run] = []
        for eng, o in zip(engines, orders, strict=True):
            eng.order = o
            runs.append(eng.split(root, eff0, total0))
        limit = n
        while True:
            limit *= 2
            for eng, r in zip(engines, runs, strict=True):
                spent = sum(e.nodes for e in engines)
                backs = sum(e.backtracks for e in engines)
                if max_nodes is not None and spent >= max_nodes:
                    return SearchOutcome("timeout", None, spent, backs, eng.order)
                eng.limit = limit if max_nodes is None else min(limit, eng.nodes + max_nodes - spent)
                try:
                    next(r)  # runs until this order's cumulative budget is spent (then it is suspended)
                except StopIteration as stop:
                    spent = sum(e.nodes for e in engines)
                    backs = sum(e.backtracks for e in engines)
                    if stop.value:
                        return SearchOutcome("feasible", [int(x) for x in eng.sol], spent, backs, eng.order)
                    return SearchOutcome("infeasible", None, spent, backs, eng.order)
                except _Timeout:
                    return SearchOutcome(
                        "timeout", None, sum(e.nodes for e in engines), sum(e.backtracks for e in engines), eng.order
                    )

    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, 8 * n + 1000))
    try:
        return run() if n <= _BIG_STACK_BUFFERS else _in_big_stack_thread(run, n)
    finally:
        sys.setrecursionlimit(old_limit)


def _in_big_stack_thread(fn: Callable[[], SearchOutcome], n: int) -> SearchOutcome:
    """Run ``fn`` in a helper thread whose C stack fits ``n`` nested generator frames (joined at once)."""
    box: list[SearchOutcome | BaseException] = []

    def target() -> None:
        try:
            box.append(fn())
        except BaseException as e:  # re-raised in the caller's thread
            box.append(e)

    old = threading.stack_size()
    threading.stack_size(min(max(64 << 20, n * 4096), 1 << 30))
    try:
        t = threading.Thread(target=target, name="deeploy-alloc-search")
        t.start()
    finally:
        threading.stack_size(old)
    t.join()
    res = box[0]
    if isinstance(res, BaseException):
        raise res
    return res
