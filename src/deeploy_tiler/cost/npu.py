"""The N-EUREKA task model (ops.npu) summed over every tile of a tiling, as a `Poly` over the tile choice:
the NPU's compute term of the node cost model and of the CP-SAT objective."""

from __future__ import annotations

from ..ops.npu import NpuTask, best_row_subtiles
from ..units import ceil_div
from .tilespace import Poly, TileSpace


def npu_compute_poly(task: NpuTask, space: TileSpace) -> Poly:
    """Task cycles summed over every tile of a tiling, as a Poly over the candidates.

    sum_tiles cycles = (setup + fill) * N + [prod_s sum_s subtiles] * sum_c passes(c)
                       + pixels * sum_c out_words(c)   (each sum over the tiles of one dimension)."""
    ch = task.channel_dim
    per_pass, words = [], []
    for i in range(len(space.candidates[ch])):
        sizes = [z for _, z in space.tiles(ch, i)]
        per_pass.append(sum(task.per_pass(k) for z in sizes for k in task.passes(z)))
        words.append(sum(task.out_words(k) for z in sizes for k in task.passes(z)))
    if len(task.spatial) == 2:
        h, w = task.spatial
        sub = Poly.table(
            h, [sum(ceil_div(z, task.pe_h) for _, z in space.tiles(h, i)) for i in range(len(space.candidates[h]))]
        ) * Poly.table(
            w, [sum(ceil_div(z, task.pe_w) for _, z in space.tiles(w, i)) for i in range(len(space.candidates[w]))]
        )
        pixels = space.out_shape[h] * space.out_shape[w]
    else:
        (m,) = task.spatial
        sub = Poly.table(
            m,
            [
                sum(best_row_subtiles(task.row_batch, z, task.pe_h, task.pe_w) for _, z in space.tiles(m, i))
                for i in range(len(space.candidates[m]))
            ],
        )
        pixels = space.out_shape[m] * task.row_batch
    tiles = Poly.const(1)
    for d in range(len(space.out_shape)):
        tiles = tiles * Poly.table(d, space.counts(d))
    return tiles * (task.setup + task.load_cycles) + sub * Poly.table(ch, per_pass) + Poly.table(ch, words) * pixels
