"""Plan -> C project: network.c/.h (one function per node transcribing the plan's event list),
kernels.c/.h (the kernel instances the network needs), main.c (test harness), Makefile, runtime copy.

The node tables come from network.py, the file texts from sources.py (templates in c/templates/)."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EmitError
from ..hw.spec import HwSpec
from ..ir import Graph
from ..plan import Plan
from ..resources import emit_c_dir
from ..units import align_up
from . import sources
from .layout import plan_layout
from .network import NetworkEmitter, NodeInfo
from .staging import staged_homes, staging_source


@dataclass(frozen=True)
class EmittedProject:
    """What `emit_project` wrote."""

    out_dir: Path
    files: tuple[Path, ...]
    nodes: tuple[NodeInfo, ...]
    arena_bytes: Mapping[str, int]  # level -> bytes of its static arena
    const_bytes: Mapping[str, int]  # level -> bytes of constant arrays in its section
    budgets: Mapping[str, int]  # level -> the plan's budget
    l1_planned: int  # max over nodes of the L1 bytes the plan's buffers span
    layout_source: str  # "plan" or "emitter"
    notes: tuple[str, ...]
    kernel_instances: tuple[str, ...]
    has_test: bool
    num_cores: int
    const_symbols: Mapping[str, str] = field(default_factory=dict)  # C symbol -> level
    alignment: Mapping[str, int] = field(default_factory=dict)  # level -> buffer alignment (bytes)
    dma_queue: int = 64  # DT_DMA_MAX_PENDING: >= the most transfers the plan keeps in flight
    flash_bytes: int = 4 << 20  # rv32 link: flash (code, constants) and RAM (arenas, stack) sizes
    ram_bytes: int = 2 << 20
    outputs: tuple[str, ...] = field(default=())


def emit_project(
    plan: Plan,
    graph: Graph,
    hw: HwSpec,
    out_dir: str | Path,
    *,
    inputs: Mapping[str, np.ndarray[Any, Any]] | None = None,
    expected: Mapping[str, np.ndarray[Any, Any]] | Any = None,
    num_cores: int | None = None,
) -> EmittedProject:
    """Write a self-contained C project for `plan` into `out_dir` (created; existing files replaced).

    `inputs` (graph input name -> array) and `expected` (graph output name -> array, or a sequence in
    graph output order) make main.c a test: it loads the inputs, runs the network, compares every
    output element and prints per-node and total retired instructions. Without them main.c runs the
    network on zero inputs and prints the counts.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = [n.name for n in graph.nodes]
    plan_nodes = {n.name: n for n in plan.nodes}
    missing = [n for n in names if n not in plan_nodes]
    if missing:
        raise EmitError(f"plan for {plan.model} has no entry for nodes {missing[:5]}")
    layout = plan_layout(plan, graph, hw)
    cores = num_cores if num_cores is not None else max((e.cores for e in hw.engines if e.kind == "cluster"), default=1)
    em = NetworkEmitter(plan, graph, hw, layout, num_cores=cores)
    for i, node in enumerate(graph.nodes):
        em.active = staged_homes(plan, layout, i)
        em.emit_node(i, node, plan_nodes[node.name])
    em.active = {}
    em.out += staging_source(plan, graph, layout)
    const_lines, const_sizes = sources.const_decls(graph, layout, hw)
    arenas = dict(layout.arena_bytes)
    for level, ext in em.l1_extent.items():
        arenas[level] = max(arenas.get(level, 0), ext)
    expected_map = _expected_map(graph, expected)
    files = []
    files.append(_write(out / "network.h", sources.network_h(graph, arenas)))
    files.append(_write(out / "network.c", sources.network_c(plan, graph, layout, arenas, const_lines, em)))
    files.append(_write(out / "kernels.c", sources.kernel_instances_source(em.instances)))
    files.append(_write(out / "kernels.h", sources.kernels_h(em.instances)))
    files.append(_write(out / "kernels_siracusa.c", sources.kernel_instances_siracusa(em.instances)))
    files.append(_write(out / "main.c", sources.main_c(graph, inputs, expected_map)))
    tables = sum(256 * n.num_calls + 64 * n.tiles for n in em.infos) + sum(
        48 * len(n.transfers) + 4 * len(n.events) for n in plan.nodes
    )
    flash, ram = _memory_sizes(arenas, const_sizes, graph, tables)
    queue = max(64, em.max_pending)
    files.append(_write(out / "Makefile", sources.makefile(flash, ram, cores, queue)))
    # the runtime and kernel library, copied so the project builds on its own
    src = emit_c_dir()
    for sub in ("runtime", "kernels"):
        dst = out / "dt" / sub
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(src / sub, dst)
        files.extend(sorted(p for p in dst.rglob("*") if p.is_file()))
    l1_level = hw.memories[0].name
    return EmittedProject(
        out_dir=out,
        files=tuple(files),
        nodes=tuple(em.infos),
        arena_bytes=arenas,
        const_bytes=const_sizes,
        budgets=dict(plan.budgets),
        l1_planned=em.l1_extent.get(l1_level, 0),
        layout_source=layout.source,
        notes=tuple(layout.notes),
        kernel_instances=tuple(sorted(em.instances)),
        has_test=expected_map is not None,
        num_cores=cores,
        const_symbols={h.symbol: h.level for h in layout.homes.values() if h.const},
        flash_bytes=flash,
        ram_bytes=ram,
        outputs=graph.output_names,
        alignment={m.name: m.alignment_bytes for m in hw.memories},
        dma_queue=queue,
    )


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _expected_map(graph: Graph, expected: Any) -> dict[str, np.ndarray[Any, Any]] | None:
    if expected is None:
        return None
    if isinstance(expected, Mapping):
        return {k: np.asarray(v) for k, v in expected.items()}
    arrs = list(expected)
    if len(arrs) != len(graph.output_names):
        raise EmitError(f"{len(arrs)} expected arrays for {len(graph.output_names)} graph outputs")
    return dict(zip(graph.output_names, (np.asarray(a) for a in arrs), strict=True))


def _memory_sizes(
    arenas: Mapping[str, int], const_sizes: Mapping[str, int], graph: Graph, tables: int
) -> tuple[int, int]:
    """RV32 link regions: flash for code, constants, schedule tables (an upper estimate) and test data."""
    test_data = sum(t.nbytes for t in (*graph.inputs, *graph.outputs))
    flash = max(4 << 20, align_up(sum(const_sizes.values()) + test_data + tables + (2 << 20), 1 << 20))
    ram = max(2 << 20, align_up(sum(arenas.values()) + (1 << 20), 1 << 20))
    return flash, ram


__all__ = ["EmittedProject", "NodeInfo", "emit_project"]
