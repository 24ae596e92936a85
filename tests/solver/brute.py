"""An independent brute-force tiler for single Conv / depthwise Conv / Gemm / MatMul nodes.

It shares nothing with the library but the candidate tile sizes and the documented cost formula
(cost.py's docstring): operand regions come from the operator semantics written out here, loads follow
the documented loop orders, every transfer is costed one by one, L1 is summed buffer by buffer.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import product
from math import ceil, prod

from deeploy_tiler.hw import HwSpec
from deeploy_tiler.ir import Graph
from tests.solver.checks import runs

DESCRIPTOR = 32
Region = tuple[tuple[int, int], ...]
Interval = tuple[int, int]


def _clip(lo: int, hi: int, size: int) -> Interval:
    lo, hi = max(lo, 0), min(hi, size)
    return (lo, max(hi - lo, 0))


@dataclass(frozen=True)
class _Op:
    loop_order: tuple[int, ...]
    deps: tuple[frozenset[int], ...]  # per operand: output dims its region depends on
    scratch: int

    def regions(self, graph: Graph, out: Region) -> list[Region]:
        raise NotImplementedError


class _Conv(_Op):
    def regions(self, graph: Graph, out: Region) -> list[Region]:
        node = graph.nodes[0]
        x, w = (graph.tensor(t).shape for t in node.inputs[:2])
        s, p, k = node.attr("strides")[0], node.attr("pads")[0], w[2]
        dw = node.attr("group") > 1
        (n0, nn), (c0, cn), (h0, hn), (w0, wn) = out
        hr = _clip(h0 * s - p, (h0 + hn - 1) * s - p + k, x[2])
        wr = _clip(w0 * s - p, (w0 + wn - 1) * s - p + k, x[3])
        xr = ((n0, nn), (c0, cn) if dw else (0, x[1]), hr, wr)
        return [xr, ((c0, cn), (0, w[1]), (0, k), (0, k))]


class _Gemm(_Op):
    def regions(self, graph: Graph, out: Region) -> list[Region]:
        k = graph.tensor(graph.nodes[0].inputs[0]).shape[1]
        (m0, mn), (n0, nn) = out
        return [((m0, mn), (0, k)), ((n0, nn), (0, k))]  # transB = 1


class _MatMul(_Op):
    def regions(self, graph: Graph, out: Region) -> list[Region]:
        b_shape = graph.tensor(graph.nodes[0].inputs[1]).shape
        k = graph.tensor(graph.nodes[0].inputs[0]).shape[2]
        b, m, n = out
        br = (b, (0, k), n) if len(b_shape) == 3 else ((0, k), n)
        return [(b, m, (0, k)), br]


def op_of(graph: Graph, cores: int) -> _Op:
    node = graph.nodes[0]
    if node.op_type == "Conv":
        w = graph.tensor(node.inputs[1]).shape
        dw = node.attr("group") > 1
        scratch = cores * w[1] * w[2] * w[3] if w[2] * w[3] > 1 else 0
        return _Conv((1, 0, 2, 3), (frozenset({0, 1, 2, 3} if dw else {0, 2, 3}), frozenset({1})), scratch)
    if node.op_type == "Gemm":
        return _Gemm((1, 0), (frozenset({0}), frozenset({1})), 0)
    b_batch = len(graph.tensor(node.inputs[1]).shape) == 3
    return _MatMul((0, 2, 1), (frozenset({0, 1}), frozenset({0, 2}) if b_batch else frozenset({2})), 0)


def legal_candidates(graph: Graph, cores: int) -> tuple[tuple[int, ...], ...]:
    """Every ceil(D/k) tile size whose tiles never need an empty operand region."""
    out_shape = graph.tensor("y").shape
    op = op_of(graph, cores)
    cands = []
    for d, extent in enumerate(out_shape):
        ok = []
        for t in sorted({-(-extent // k) for k in range(1, extent + 1)}, reverse=True):
            good = True
            for s in range(0, extent, t):
                out = tuple((s, min(t, extent - s)) if e == d else (0, out_shape[e]) for e in range(len(out_shape)))
                if any(z == 0 for r in op.regions(graph, out) for _, z in r):
                    good = False
            if good:
                ok.append(t)
        cands.append(tuple(ok))
    return tuple(cands)


@dataclass(frozen=True)
class Best:
    total: Fraction | None  # None: nothing fits
    tiles: tuple[int, ...] | None


def brute_force(
    graph: Graph, hw: HwSpec, budget: int, double_buffer: bool, candidates: tuple[tuple[int, ...], ...]
) -> Best:
    node = graph.nodes[0]
    eng = hw.cluster_engine
    l1_name = eng.reads_levels[0]
    dma = hw.dma("L2", l1_name)
    align = hw.memory(l1_name).alignment_bytes
    bw = Fraction(dma.bandwidth_bytes_per_cycle).limit_denominator(10**6)
    rate = Fraction(eng.macs_per_cycle("int8") or 1).limit_denominator(10**6)
    op = op_of(graph, eng.cores)
    out_shape = graph.tensor("y").shape
    tensors = [graph.tensor(t) for t in node.inputs] + [graph.tensor("y")]
    best: tuple[Fraction, int, tuple[int, ...]] | None = None
    for tiles in product(*candidates):
        per_dim = [[(s, min(t, e - s)) for s in range(0, e, t)] for t, e in zip(tiles, out_shape, strict=True)]
        n_tiles = prod(len(p) for p in per_dim)
        cycles: list[list[Fraction]] = [[] for _ in tensors]
        maxima = [[0] * len(t.shape) for t in tensors]
        last_key: list[tuple[int, ...] | None] = [None] * (len(tensors) - 1)
        for combo in product(*(range(len(per_dim[d])) for d in op.loop_order)):
            idx = dict(zip(op.loop_order, combo, strict=True))
            out = tuple(per_dim[d][idx[d]] for d in range(len(out_shape)))
            regions = [*op.regions(graph, out), out]
            for b, (t, r) in enumerate(zip(tensors, regions, strict=True)):
                maxima[b] = [max(a, z) for a, (_, z) in zip(maxima[b], r, strict=True)]
                if b < len(tensors) - 1:
                    # reloaded when a loop at or outside its innermost dependent loop with > 1 tile moves
                    inner = max(
                        (p for p, d in enumerate(op.loop_order) if d in op.deps[b] and len(per_dim[d]) > 1), default=-1
                    )
                    key = tuple(idx[op.loop_order[p]] for p in range(inner + 1))
                    if key == last_key[b]:
                        continue
                    last_key[b] = key
                nbytes = prod(z for _, z in r) * t.dtype.itemsize
                cycles[b].append(
                    dma.setup_latency_cycles * runs(r, t.shape, dma.max_dims)
                    + dma.per_row_cycles * runs(r, t.shape)
                    + Fraction(nbytes) / bw
                )
        compute = ceil(Fraction(node.macs) / rate) + n_tiles * eng.call_overhead_cycles
        slots = [-(-prod(m) * t.dtype.itemsize // align) * align for m, t in zip(maxima, tensors, strict=True)]
        scratch = -(-op.scratch // align) * align
        for modes in product((False, True) if double_buffer else (False,), repeat=len(tensors)):
            l1 = scratch + sum((2 if d else 1) * (s + DESCRIPTOR) for s, d in zip(slots, modes, strict=True))
            if l1 > budget:
                continue
            edge = single = double = Fraction(0)
            for b, (cs, d) in enumerate(zip(cycles, modes, strict=True)):
                e = cs[-1] if b == len(tensors) - 1 else cs[0]
                edge += e
                if d:
                    double += sum(cs) - e
                else:
                    single += sum(cs) - e
            total = edge + single + max(Fraction(compute), double)
            if best is None or (total, l1) < best[:2]:
                best = (total, l1, tiles)
    return Best(None, None) if best is None else Best(best[0], best[2])
