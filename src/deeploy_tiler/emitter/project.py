"""Plan -> C project: network.c/.h (one function per node transcribing the plan's event list),
kernels.c (the kernel instances the network needs), main.c (test harness), Makefile, runtime copy."""

from __future__ import annotations

import math
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EmitError
from ..hw.spec import HwSpec
from ..ir import DType, Graph, Node
from ..plan import L1Buffer, NodePlan, Plan, Transfer
from ..resources import emit_c_dir
from .cwriter import array_body_np, comment_text, designated, ident
from .layout import Home, Layout, plan_layout
from .lower import KernelCall, StepContext, instance_name, lower_step, render_field
from .views import ITEMSIZE, Box, Ptr, View, collapse

# template stem -> its type parameter macro names
TEMPLATE_PARAMS: dict[str, tuple[str, ...]] = {
    "conv2d": ("DT_TX", "DT_TW", "DT_TY"),
    "gemm": ("DT_TA", "DT_TB", "DT_TY"),
    "eltwise": ("DT_TA", "DT_TB", "DT_TY"),
    "pool": ("DT_TX", "DT_TY"),
    "rowwise": ("DT_TX", "DT_TY"),
    "reduce_mean": ("DT_TX", "DT_TY"),
}

NPU_KINDS = {(1, False): "DT_NPU_CONV1X1", (3, False): "DT_NPU_CONV3X3", (3, True): "DT_NPU_DWCONV3X3"}


@dataclass(frozen=True)
class NodeInfo:
    index: int
    name: str
    op_type: str
    c_name: str
    tiles: int
    num_calls: int
    macs: int


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


def _ctype(dt: DType) -> str:
    return dt.c_type


@dataclass
class _Emitter:
    plan: Plan
    graph: Graph
    hw: HwSpec
    layout: Layout
    out: list[str] = field(default_factory=list)
    instances: dict[str, tuple[str, tuple[DType, ...]]] = field(default_factory=dict)
    l1_extent: dict[str, int] = field(default_factory=dict)
    infos: list[NodeInfo] = field(default_factory=list)
    num_cores: int = 1
    max_pending: int = 0  # most transfers in flight at once over all nodes (sizes the DMA queue)
    active: dict[str, Home] = field(default_factory=dict)  # staged copies the current node reads (L3 -> L2)

    # ---- views --------------------------------------------------------------------------------
    def home_ptr(self, tensor: str) -> Ptr:
        h: Home = self.active.get(tensor) or self.layout.homes[tensor]
        return Ptr(h.symbol, h.offset, h.const)

    def home_view(self, tensor: str) -> View:
        t = self.graph.tensor(tensor)
        return View(tensor, self.home_ptr(tensor), t.dtype, (0,) * len(t.shape), t.shape, t.shape, "home")

    def slot_ptr(self, buf: L1Buffer, slot: int) -> Ptr:
        if slot >= buf.copies:
            raise EmitError(f"buffer {buf.name}: slot {slot} of a buffer with {buf.copies} copies")
        return Ptr(f"dt_arena_{buf.level}", buf.offset + slot * buf.slot_bytes, False)

    # ---- transfers --------------------------------------------------------------------------
    def dma_desc(self, np_: NodePlan, tr: Transfer, bufs: Mapping[str, L1Buffer]) -> str:
        buf = bufs.get(tr.buffer)
        if buf is None:
            raise EmitError(f"node {np_.name}: transfer {tr.id} names unknown buffer {tr.buffer}")
        t = self.graph.tensor(tr.tensor)
        home = self.home_view(tr.tensor)
        region: Box = tuple((int(s), int(n)) for s, n in tr.region)
        if len(region) != len(t.shape):
            raise EmitError(f"node {np_.name}: transfer {tr.id} region rank {len(region)} != tensor rank")
        home.require(region, f"node {np_.name} transfer {tr.id}")
        ext = [n for _, n in region]
        nbytes = math.prod(ext) * t.dtype.itemsize
        if nbytes > buf.slot_bytes:
            raise EmitError(f"node {np_.name}: transfer {tr.id} moves {nbytes} B into slot of {buf.slot_bytes} B")
        local = View(
            tr.tensor, self.slot_ptr(buf, tr.slot), t.dtype, tuple(s for s, _ in region), tuple(ext), t.shape, "L1 slot"
        )
        es, sts = collapse(ext, [list(home.strides), list(local.strides)])
        isz = t.dtype.itemsize
        if sts[0][-1] == 1 and sts[1][-1] == 1:
            row = es[-1] * isz
            outer_e, outer_h, outer_l = es[:-1], sts[0][:-1], sts[1][:-1]
        else:
            row = isz
            outer_e, outer_h, outer_l = es, sts[0], sts[1]
        if len(outer_e) > 3:
            raise EmitError(f"node {np_.name}: transfer {tr.id} needs a {len(outer_e) + 1}-D copy (max 4)")
        pad = 3 - len(outer_e)
        n = [1] * pad + outer_e
        hs = [0] * pad + [s * isz for s in outer_h]
        ls = [0] * pad + [s * isz for s in outer_l]
        hp, lp = home.ptr([s for s, _ in region]), local.ptr([s for s, _ in region])
        if tr.direction == "in":
            src, dst, ss, ds = hp, lp, hs, ls
        else:
            src, dst, ss, ds = lp, hp, ls, hs
        if dst.const:
            raise EmitError(f"node {np_.name}: transfer {tr.id} writes into constant {tr.tensor}")
        # n[2] is the innermost outer dimension (n1); zero strides are left out (designated initializer)
        fields = [
            f".dst = {Ptr(dst.symbol, dst.offset, False).c()}",
            f".src = {Ptr(src.symbol, src.offset, True).c()}",
            f".row_bytes = {row}",
            f".n1 = {n[2]}",
            f".n2 = {n[1]}",
            f".n3 = {n[0]}",
        ]
        for name, v in (
            ("src_s1", ss[2]),
            ("src_s2", ss[1]),
            ("src_s3", ss[0]),
            ("dst_s1", ds[2]),
            ("dst_s2", ds[1]),
            ("dst_s3", ds[0]),
        ):
            if v:
                fields.append(f".{name} = {v}")
        return "{" + ", ".join(fields) + "}"

    # ---- one node ----------------------------------------------------------------------------
    def node_comment(self, i: int, node: Node, np_: NodePlan) -> str:
        g = self.graph
        lines = [f"node {i}: {node.name} ({node.op_type}{'+RequantShift' if node.requant else ''}) on {np_.engine}"]
        ins = ", ".join(f"{t} {list(g.tensor(t).shape)} {g.tensor(t).dtype.value}" for t in node.inputs if t)
        outs = ", ".join(f"{t} {list(g.tensor(t).shape)} {g.tensor(t).dtype.value}" for t in node.outputs)
        lines.append(f"  in: {ins}")
        lines.append(f"  out: {outs}")
        if np_.alias_of is not None:
            lines.append(f"  alias of {np_.alias_of}: no data movement")
            return comment_text("\n".join(lines))
        lines.append(
            f"  plan: {np_.num_tiles} tile(s) of {list(np_.tile_shape)}, loop order {list(np_.loop_order)}, "
            f"{np_.l1_bytes} B of L1, {np_.dma_bytes} B of DMA, {len(np_.transfers)} transfers, "
            f"{len(np_.events)} events"
        )
        c = np_.cycles
        lines.append(
            f"  modeled cycles: total {c.total} (compute {c.compute}, dma {c.dma}, exposed dma "
            f"{c.exposed_dma}); lower bound {np_.lower_bound_cycles}; solve {np_.solve.status}"
        )
        for b in np_.buffers:
            lines.append(
                f"  buffer {b.name:12s} {b.role:11s} {b.level}+{b.offset:<7d} {b.copies} x {b.slot_bytes} B "
                f"tile {list(b.tile_shape)} {b.dtype} {b.tensor or ''}"
            )
        return comment_text("\n".join(lines))

    def emit_node(self, i: int, node: Node, np_: NodePlan) -> None:
        o = self.out
        cid = f"n{i}"
        o.append("/*\n * " + self.node_comment(i, node, np_).replace("\n", "\n * ") + "\n */")
        if np_.alias_of is not None or node.is_alias:
            if node.outputs[0] in self.layout.alias_copies:
                src, dst = node.inputs[0], node.outputs[0]
                nb = self.graph.tensor(dst).nbytes
                o.append(
                    f"static int32_t dt_node_{i}(void) {{ /* alias placed apart by the plan: copy */\n"
                    f"    memcpy({self.home_ptr(dst).c()}, {self.home_ptr(src).c()}, {nb});\n"
                    f"    return 0;\n}}\n"
                )
            else:
                o.append(
                    f"static int32_t dt_node_{i}(void) {{ return 0; /* {ident(node.op_type)}: shares its input's "
                    f"buffer */ }}\n"
                )
            self.infos.append(NodeInfo(i, node.name, node.op_type, f"dt_node_{i}", 0, 0, node.macs))
            return
        bufs = {b.name: b for b in np_.buffers}
        for b in np_.buffers:
            self.l1_extent[b.level] = max(self.l1_extent.get(b.level, 0), b.offset + b.bytes)
        # transfers, indexed by id
        ids = sorted(tr.id for tr in np_.transfers)
        if ids != list(range(len(ids))):
            raise EmitError(f"node {node.name}: transfer ids {ids[:8]}... are not 0..n-1")
        trs = sorted(np_.transfers, key=lambda tr: tr.id)
        if trs:
            o.append(f"static const dt_dma_desc_t {cid}_xfers[{len(trs)}] = {{")
            for tr in trs:
                o.append(
                    f"    /* {tr.id}: {tr.direction} {tr.tensor} {[list(r) for r in tr.region]} "
                    f"{'->' if tr.direction == 'in' else '<-'} {tr.buffer}[{tr.slot}] */"
                )
                o.append("    " + self.dma_desc(np_, tr, bufs) + ",")
            o.append("};")
            o.append(f"static dt_dma_handle_t {cid}_handles[{len(trs)}];")
        # compute steps
        engine = self.hw.engine(np_.engine) if np_.engine in {e.name for e in self.hw.engines} else None
        on_npu = engine is not None and engine.kind == "npu"
        tables: dict[str, list[str]] = {}
        calls: list[str] = []
        steps: list[tuple[int, int]] = []
        io = [t for t in (*node.inputs, *node.outputs) if t]
        for si, st in enumerate(np_.steps):
            views: dict[str, View] = {}
            for bname, region in st.regions.items():
                sb = bufs.get(bname)
                if sb is None:
                    raise EmitError(f"node {node.name} step {si}: unknown buffer {bname}")
                if sb.tensor is None:
                    continue
                slot = st.slots.get(bname, 0)
                ten = self.graph.tensor(sb.tensor)
                reg = tuple((int(s), int(n)) for s, n in region)
                if math.prod(n for _, n in reg) * ITEMSIZE[ten.dtype] > sb.slot_bytes:
                    raise EmitError(f"node {node.name} step {si}: region of {bname} exceeds its slot")
                views.setdefault(
                    sb.tensor,
                    View(
                        sb.tensor,
                        self.slot_ptr(sb, slot),
                        ten.dtype,
                        tuple(s for s, _ in reg),
                        tuple(n for _, n in reg),
                        ten.shape,
                        f"L1 slot {bname}[{slot}]",
                    ),
                )
            for tname in io:
                if tname not in views:
                    views[tname] = self.home_view(tname)
            out_box = tuple((int(s), int(n)) for s, n in st.output_region)
            ctx = StepContext(self.graph, node, out_box, views, f"node {node.name} step {si}")
            kcalls = lower_step(ctx)
            first = len(calls)
            for kc in kcalls:
                calls.append(self.register_call(cid, kc, tables, on_npu, node))
            steps.append((first, len(kcalls)))
        for ttype, rows in tables.items():
            tname = f"{cid}_{ttype.replace('dt_', '').replace('_args_t', '').replace('_task_t', '_tasks')}"
            o.append(f"static const {ttype} {tname}[{len(rows)}] = {{")
            o.extend(rows)
            o.append("};")
        o.append(f"static const dt_call_t {cid}_calls[{max(len(calls), 1)}] = {{")
        o.extend(calls or ["    {0, 0, 0}"])
        o.append("};")
        o.append(
            f"static const dt_step_t {cid}_steps[{max(len(steps), 1)}] = {{"
            + ", ".join(f"{{{a}, {b}}}" for a, b in steps or [(0, 0)])
            + "};"
        )
        ev_code = {"dma_start": "DT_EV_DMA_START", "dma_wait": "DT_EV_DMA_WAIT", "compute": "DT_EV_COMPUTE"}
        for ev in np_.events:
            if ev.kind == "compute" and ev.ref >= len(steps):
                raise EmitError(f"node {node.name}: event computes step {ev.ref} of {len(steps)}")
            if ev.kind != "compute" and ev.ref >= len(trs):
                raise EmitError(f"node {node.name}: event names transfer {ev.ref} of {len(trs)}")
        pending = 0
        for e in np_.events:
            pending += 1 if e.kind == "dma_start" else -1 if e.kind == "dma_wait" else 0
            self.max_pending = max(self.max_pending, pending)
        evs = [f"{{{ev_code[e.kind]}, {e.ref}}}" for e in np_.events]
        o.append(f"static const dt_event_t {cid}_events[{max(len(evs), 1)}] = {{")
        for k in range(0, len(evs), 8):
            o.append("    " + ", ".join(evs[k : k + 8]) + ",")
        if not evs:
            o.append("    {0, 0}")
        o.append("};")
        o.append(
            f"static const dt_node_sched_t {cid}_sched = {{{cid}_events, {len(evs)}, "
            f"{cid + '_xfers' if trs else '0'}, {cid + '_handles' if trs else '0'}, {cid}_steps, {cid}_calls}};"
        )
        o.append(f"static int32_t dt_node_{i}(void) {{ return dt_run_node(&{cid}_sched); }}\n")
        self.infos.append(NodeInfo(i, node.name, node.op_type, f"dt_node_{i}", len(steps), len(calls), node.macs))

    def register_call(self, cid: str, kc: KernelCall, tables: dict[str, list[str]], on_npu: bool, node: Node) -> str:
        if kc.template is not None:
            self.instances[kc.fn] = (kc.template, kc.types)
        rows = tables.setdefault(kc.args_type, [])
        tname = f"{cid}_{kc.args_type.replace('dt_', '').replace('_args_t', '')}"
        init = designated([(k, render_field(v)) for k, v in kc.fields if v is not None])
        rows.append(f"    /* {comment_text(kc.comment)} */\n    {init},")
        args_ref = f"&{tname}[{len(rows) - 1}]"
        if on_npu and kc.args_type in ("dt_conv2d_args_t", "dt_gemm_args_t"):
            trows = tables.setdefault("dt_npu_task_t", [])
            if node.op_type == "Conv":
                k = int(self.graph.tensor(node.inputs[1]).shape[-1])
                dw = int(node.attr("group", 1)) > 1
                kind = NPU_KINDS.get((k, dw), "DT_NPU_CONV3X3")
            else:
                kind = "DT_NPU_GEMM"
            trows.append(f"    {{{kind}, 0, {kc.fn}, {args_ref}}},")
            return f"    {{dt_npu_run_task, &{cid}_npu_tasks[{len(trows) - 1}], 0}},"
        return f"    {{{kc.fn}, {args_ref}, 1}},"


def _const_decls(graph: Graph, layout: Layout, hw: HwSpec) -> tuple[list[str], dict[str, int]]:
    lines: list[str] = []
    sizes: dict[str, int] = {}
    for name, home in layout.homes.items():
        if not home.const or home.tensor != name:
            continue
        t = graph.tensor(name)
        if t.data is None:
            raise EmitError(f"constant {name} has no data")
        lo, hi = (int(t.data.min()), int(t.data.max())) if t.data.size else (0, 0)
        if not t.dtype.holds(lo, hi):
            raise EmitError(f"constant {name}: values [{lo}, {hi}] do not fit {t.dtype.value}")
        n = max(t.numel, 1)
        lines.append(f"/* {comment_text(name)} {list(t.shape)} */")
        align = hw.memory(home.level).alignment_bytes
        lines.append(
            f"const {_ctype(t.dtype)} {home.symbol}[{n}] DT_CONST_IN({home.level}, {align}) = "
            f"{array_body_np(t.data if t.numel else np.zeros(1, dtype=np.int64), t.dtype)};"
        )
        sizes[home.level] = sizes.get(home.level, 0) + -(-n * t.dtype.itemsize // align) * align
    return lines, sizes


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
    em = _Emitter(plan, graph, hw, layout, num_cores=cores)
    body: list[str] = []
    em.out = body
    for i, node in enumerate(graph.nodes):
        em.active = {s.tensor: layout.staged[s.id] for s in plan.staging if s.first_step <= i + 1 <= s.last_step}
        em.emit_node(i, node, plan_nodes[node.name])
    em.active = {}
    body += _l3_steps(plan, graph, layout, em)
    const_lines, const_sizes = _const_decls(graph, layout, hw)
    arenas = dict(layout.arena_bytes)
    for level, ext in em.l1_extent.items():
        arenas[level] = max(arenas.get(level, 0), ext)
    expected_map = _expected_map(graph, expected)
    files = []
    files.append(_write(out / "network.h", _network_h(graph, arenas)))
    files.append(_write(out / "network.c", _network_c(plan, graph, hw, layout, arenas, const_lines, body, em)))
    files.append(_write(out / "kernels.c", _kernels_c(em.instances)))
    files.append(_write(out / "kernels.h", _kernels_h(em.instances)))
    files.append(_write(out / "main.c", _main_c(graph, layout, inputs, expected_map)))
    tables = sum(256 * n.num_calls + 64 * n.tiles for n in em.infos) + sum(
        48 * len(n.transfers) + 4 * len(n.events) for n in plan.nodes
    )
    flash, ram = _memory_sizes(arenas, const_sizes, graph, tables)
    queue = max(64, em.max_pending)
    files.append(_write(out / "Makefile", _makefile(flash, ram, cores, queue)))
    # the runtime and kernel library, copied so the project builds on its own
    src = emit_c_dir()
    for sub in ("runtime", "kernels"):
        dst = out / "dt" / sub
        if dst.exists():
            shutil.rmtree(dst)
        shutil.copytree(src / sub, dst)
        files.extend(sorted(p for p in dst.iterdir() if p.is_file()))
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


def _l3_steps(plan: Plan, graph: Graph, layout: Layout, em: _Emitter) -> list[str]:
    """The L3 -> L2 staging copies (`Plan.staging`): one whole-tensor descriptor each, started right
    before the node at its issue step and waited for right before the node at its first step, by a
    per-step function `network_run` calls before the node (`dt_l3_steps`, NULL where nothing happens)."""
    n = len(graph.nodes)
    o = [f"/* L3 -> L2 staging: {len(plan.staging)} copies, {plan.l3_bytes} B per run */"]
    if plan.staging:
        o.append(f"static const dt_dma_desc_t dt_l3_xfers[{len(plan.staging)}] = {{")
        for st in plan.staging:
            dst, src = layout.staged[st.id], em.home_ptr(st.tensor)
            o.append(
                f"    /* {st.id}: {comment_text(st.tensor)} {st.bytes} B, issued at step {st.issue_step}, read at "
                f"steps {st.first_step}..{st.last_step} */"
            )
            to, frm = Ptr(dst.symbol, dst.offset, False).c(), Ptr(src.symbol, src.offset, True).c()
            o.append(f"    {{.dst = {to}, .src = {frm}, .row_bytes = {st.bytes}, .n1 = 1, .n2 = 1, .n3 = 1}},")
        o.append("};")
        o.append(f"static dt_dma_handle_t dt_l3_handles[{len(plan.staging)}];")
    steps: list[str] = []
    for t in range(1, n + 1):
        starts = [st.id for st in plan.staging if st.issue_step == t]
        waits = [st.id for st in plan.staging if st.first_step == t]
        if not starts and not waits:
            steps.append("0")
            continue
        o.append(f"static void dt_l3_step_{t - 1}(void) {{")
        o += [f"    dt_l3_handles[{k}] = dt_l3_dma_start(&dt_l3_xfers[{k}]);" for k in starts]
        o += [f"    dt_l3_dma_wait(dt_l3_handles[{k}]);" for k in waits]
        o.append("}")
        steps.append(f"dt_l3_step_{t - 1}")
    o.append(f"static void (*const dt_l3_steps[{max(n, 1)}])(void) = {{" + ", ".join(steps or ["0"]) + "};")
    return o


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


def _network_h(graph: Graph, arenas: Mapping[str, int]) -> str:
    lines = [
        "/* Generated by deeploy_tiler: the network's interface. */",
        "#ifndef DT_NETWORK_H",
        "#define DT_NETWORK_H",
        "",
        "#include <stdint.h>",
        "",
        f"#define DT_NUM_NODES {len(graph.nodes)}",
        f"#define DT_NUM_INPUTS {len(graph.input_names)}",
        f"#define DT_NUM_OUTPUTS {len(graph.output_names)}",
        "",
    ]
    for level, size in sorted(arenas.items()):
        lines.append(f"#define DT_ARENA_{level}_BYTES {max(size, 1)}")
    lines += [
        "",
        "/* Runs every node in plan order; per-node retired instructions land in dt_node_instr.",
        " * Returns 0, or 1 + the index of the first node that left a DMA transfer pending. */",
        "int32_t network_run(void);",
        "extern uint64_t dt_node_instr[DT_NUM_NODES];",
        "extern const char *const dt_node_names[DT_NUM_NODES];",
        "extern void *const dt_input_ptrs[DT_NUM_INPUTS];",
        "extern const uint32_t dt_input_bytes[DT_NUM_INPUTS];",
        "extern const void *const dt_output_ptrs[DT_NUM_OUTPUTS];",
        "extern const uint32_t dt_output_numel[DT_NUM_OUTPUTS];",
        "",
        "#endif /* DT_NETWORK_H */",
        "",
    ]
    return "\n".join(lines)


def _network_c(
    plan: Plan,
    graph: Graph,
    hw: HwSpec,
    layout: Layout,
    arenas: Mapping[str, int],
    const_lines: list[str],
    body: list[str],
    em: _Emitter,
) -> str:
    h = [
        f"/* Generated by deeploy_tiler from the plan of {comment_text(plan.model)} on {comment_text(plan.hw)}.",
        f" * Budgets: {', '.join(f'{k} {v} B' for k, v in sorted(plan.budgets.items()))}; "
        f"modeled total {plan.total_cycles} cycles (lower bound {plan.lower_bound_cycles}).",
        f" * Arenas (sized exactly from the plan): {', '.join(f'{k} {v} B' for k, v in sorted(arenas.items()))}.",
        " * Each node function runs the plan's event list as is (dt_run_node): DMA starts / waits on the",
        " * transfers' regions and slots, and compute steps calling the kernels on the planned L1 slots.",
        " * Homes of whole tensors (level + offset):",
    ]
    for note in layout.notes:
        h.append(f" *   note: {comment_text(note)}")
    shown = 0
    for name, home in layout.homes.items():
        if home.const or shown >= 400:
            continue
        shown += 1
        extra = f" (plan offset {home.plan_offset})" if home.plan_offset is not None else ""
        alias = "" if home.tensor == name else f" = alias of {home.tensor}"
        h.append(f" *   {comment_text(name)}: {home.level}+{home.offset}{extra} {graph.tensor(name).nbytes} B{alias}")
    h.append(" */")
    h += [
        '#include "network.h"',
        "",
        "#include <string.h>",
        "",
        '#include "dt_runtime.h"',
        '#include "dt_kernels.h"',
        '#include "kernels.h"',
        "",
    ]
    for level, size in sorted(arenas.items()):
        if size > 0:
            h.append(f"DT_ARENA({level}, {size});")
    h.append("")
    h += const_lines
    h.append("")
    h += body
    # interface tables
    n = len(graph.nodes)
    h.append(f"uint64_t dt_node_instr[{n}];")
    h.append(f"const char *const dt_node_names[{n}] = {{")
    for node in graph.nodes:
        h.append(f'    "{node.name.replace(chr(92), "/").replace(chr(34), chr(39))}",')
    h.append("};")
    h.append(
        f"void *const dt_input_ptrs[{len(graph.input_names)}] = {{"
        + ", ".join(
            em.home_ptr(t).c().replace("(const void *)", "(void *)").replace("(const uint8_t *)", "(uint8_t *)")
            for t in graph.input_names
        )
        + "};"
    )
    h.append(
        f"const uint32_t dt_input_bytes[{len(graph.input_names)}] = {{"
        + ", ".join(str(graph.tensor(t).nbytes) for t in graph.input_names)
        + "};"
    )
    h.append(
        f"const void *const dt_output_ptrs[{len(graph.output_names)}] = {{"
        + ", ".join(Ptr(em.home_ptr(t).symbol, em.home_ptr(t).offset, True).c() for t in graph.output_names)
        + "};"
    )
    h.append(
        f"const uint32_t dt_output_numel[{len(graph.output_names)}] = {{"
        + ", ".join(str(graph.tensor(t).numel) for t in graph.output_names)
        + "};"
    )
    h.append("")
    h.append("static int32_t (*const dt_nodes[DT_NUM_NODES])(void) = {")
    for info in em.infos:
        h.append(f"    {info.c_name},")
    h.append("};")
    h.append("""
int32_t network_run(void) {
    int32_t i;
    for (i = 0; i < DT_NUM_NODES; ++i) {
        uint64_t t0;
        if (dt_l3_steps[i]) dt_l3_steps[i](); /* L3 -> L2 staging copies issued / awaited before node i */
        t0 = dt_perf_read();
        const int32_t rc = dt_nodes[i]();
        dt_node_instr[i] = dt_perf_read() - t0;
        if (rc != 0) return 1 + i;
    }
    return 0;
}
""")
    del hw
    return "\n".join(h)


def _kernels_h(instances: Mapping[str, tuple[str, tuple[DType, ...]]]) -> str:
    lines = [
        "/* Generated: the kernel instances this network uses. */",
        "#ifndef DT_NETWORK_KERNELS_H",
        "#define DT_NETWORK_KERNELS_H",
        "",
        '#include "dt_kernels.h"',
        "",
    ]
    lines += [f"DT_KERNEL_DECL({name});" for name in sorted(instances)]
    lines += ["", "#endif", ""]
    return "\n".join(lines)


def kernel_instances_source(instances: Mapping[str, tuple[str, tuple[DType, ...]]]) -> str:
    """C source instantiating the typed kernel templates (also used by the kernel test driver)."""
    lines = [
        "/* Generated: typed instances of the kernel templates (emit/kernels/<template>.tmpl.h). */",
        '#include "dt_kernels.h"',
        "",
    ]
    for name, (template, types) in sorted(instances.items()):
        params = TEMPLATE_PARAMS[template]
        lines.append(f"#define DT_NAME {name}")
        for p, t in zip(params, types, strict=True):
            lines.append(f"#define {p} {t.c_type}")
        lines.append(f'#include "{template}.tmpl.h"')
        lines.append("#undef DT_NAME")
        for p in params:
            lines.append(f"#undef {p}")
        lines.append("")
    return "\n".join(lines)


def _kernels_c(instances: Mapping[str, tuple[str, tuple[DType, ...]]]) -> str:
    return kernel_instances_source(instances)


def _main_c(
    graph: Graph,
    layout: Layout,
    inputs: Mapping[str, np.ndarray[Any, Any]] | None,
    expected: Mapping[str, np.ndarray[Any, Any]] | None,
) -> str:
    lines = [
        "/* Generated test harness: load inputs, run the network, compare outputs, print counts.",
        " * Output lines (parsed by deeploy_tiler.emit.build):",
        " *   DT_NODE <index> <retired instructions>",
        " *   DT_OUTPUT <index> <elements> <mismatches> <first mismatching index or -1> <got> <expected>",
        " *   DT_TOTAL <retired instructions>   and   DT_RESULT PASS|FAIL|NOCHECK */",
        "#include <stdint.h>",
        "#include <stdio.h>",
        "#include <string.h>",
        "",
        '#include "network.h"',
        '#include "dt_runtime.h"',
        "",
    ]
    del layout
    if inputs is not None:
        for k, name in enumerate(graph.input_names):
            t = graph.tensor(name)
            a = np.asarray(inputs[name]).astype(np.int64)
            if tuple(a.shape) != t.shape:
                raise EmitError(f"input {name}: shape {a.shape} != {t.shape}")
            if a.size and not t.dtype.holds(int(a.min()), int(a.max())):
                raise EmitError(f"input {name}: values outside {t.dtype.value}")
            lines.append(
                f"static const {t.dtype.c_type} dt_test_in{k}[{max(t.numel, 1)}] = "
                f"{array_body_np(a if a.size else np.zeros(1, dtype=np.int64), t.dtype)};"
            )
    if expected is not None:
        for k, name in enumerate(graph.output_names):
            t = graph.tensor(name)
            a = np.asarray(expected[name]).astype(np.int64).reshape(-1)
            if a.size != t.numel:
                raise EmitError(f"expected output {name}: {a.size} elements for {t.numel}")
            if a.size and not t.dtype.holds(int(a.min()), int(a.max())):
                raise EmitError(f"expected output {name}: values outside {t.dtype.value}")
            lines.append(
                f"static const {t.dtype.c_type} dt_test_exp{k}[{max(t.numel, 1)}] = "
                f"{array_body_np(a if a.size else np.zeros(1, dtype=np.int64), t.dtype)};"
            )
    lines.append("""
static void dt_print_u64(const char *tag, int32_t index, uint64_t v) {
    char buf[24];
    int32_t n = 0;
    do {
        buf[n++] = (char)('0' + (int32_t)(v % 10u));
        v /= 10u;
    } while (v);
    if (index >= 0) printf("%s %ld ", tag, (long)index);
    else printf("%s ", tag);
    while (n) putchar(buf[--n]);
    putchar('\\n');
}
""")
    lines.append("int main(void) {")
    lines.append("    int32_t failed = 0, rc, i;")
    lines.append("    uint64_t total = 0;")
    if inputs is not None:
        for k in range(len(graph.input_names)):
            lines.append(f"    memcpy(dt_input_ptrs[{k}], dt_test_in{k}, dt_input_bytes[{k}]);")
    else:
        lines.append("    for (i = 0; i < DT_NUM_INPUTS; ++i) memset(dt_input_ptrs[i], 0, dt_input_bytes[i]);")
    lines.append("    rc = network_run();")
    lines.append(
        '    if (rc != 0) { printf("DT_ERROR node %ld left a DMA transfer pending\\n", (long)(rc - 1)); failed = 1; }'
    )
    lines.append(
        '    for (i = 0; i < DT_NUM_NODES; ++i) { dt_print_u64("DT_NODE", i, dt_node_instr[i]); '
        "total += dt_node_instr[i]; }"
    )
    if expected is not None:
        for k, name in enumerate(graph.output_names):
            t = graph.tensor(name)
            ct = t.dtype.c_type
            lines.append("    {")
            lines.append(f"        const {ct} *got = (const {ct} *)dt_output_ptrs[{k}];")
            lines.append("        uint32_t j, bad = 0; long first = -1, g = 0, e = 0;")
            lines.append(f"        for (j = 0; j < dt_output_numel[{k}]; ++j) {{")
            lines.append(
                f"            if (got[j] != dt_test_exp{k}[j]) {{ if (first < 0) {{ first = (long)j; "
                f"g = (long)got[j]; e = (long)dt_test_exp{k}[j]; }} ++bad; }}"
            )
            lines.append("        }")
            lines.append(
                f'        printf("DT_OUTPUT {k} %lu %lu %ld %ld %ld\\n", '
                f"(unsigned long)dt_output_numel[{k}], "
                "(unsigned long)bad, first, g, e);"
            )
            lines.append("        if (bad) failed = 1;")
            lines.append("    }")
    lines.append('    dt_print_u64("DT_TOTAL", -1, total);')
    lines.append('    printf("DT_DMA %lu %lu\\n", (unsigned long)dt_dma_transfers(), (unsigned long)dt_dma_bytes());')
    result = '"PASS" : "FAIL"' if expected is not None else '"NOCHECK" : "FAIL"'
    lines.append(f'    printf("DT_RESULT %s\\n", failed ? "FAIL" : {result.split(" : ")[0]});')
    lines.append("    return failed;")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _memory_sizes(
    arenas: Mapping[str, int], const_sizes: Mapping[str, int], graph: Graph, tables: int
) -> tuple[int, int]:
    """RV32 link regions: flash for code, constants, schedule tables (an upper estimate) and test data."""
    test_data = sum(t.nbytes for t in (*graph.inputs, *graph.outputs))
    flash = max(4 << 20, _round_mb(sum(const_sizes.values()) + test_data + tables + (2 << 20)))
    ram = max(2 << 20, _round_mb(sum(arenas.values()) + (1 << 20)))
    return flash, ram


def _makefile(flash: int, ram: int, cores: int, queue: int) -> str:
    return f"""# Generated by deeploy_tiler. `make host` / `make rv32` build, `make run-host` / `make run-rv32` run.
CORES ?= {cores}
SRCS = main.c network.c kernels.c dt/runtime/dt_runtime.c dt/kernels/dt_kernels.c
INC = -I. -Idt/runtime -Idt/kernels
WARN = -std=c99 -Wall -Wextra -Werror
CFLAGS ?= -O2
DEFS = -DDT_NUM_CORES=$(CORES) -DDT_DMA_MAX_PENDING={queue} -fno-strict-aliasing

HOST_CC ?= gcc
RV32_CC ?= riscv64-unknown-elf-gcc
QEMU ?= qemu-system-riscv32
FLASH_SIZE = {flash:#x}
RAM_SIZE = {ram:#x}
RAM_BASE = $(shell printf '%#x' $$((0x80000000 + $(FLASH_SIZE))))
QEMU_MEM = $(shell echo $$(( ($(FLASH_SIZE) + $(RAM_SIZE)) / 1048576 + 16 )))M
RV32_FLAGS = -march=rv32imc -mabi=ilp32 -misa-spec=2.2 --specs=picolibc.specs --oslib=semihost --crt0=semihost \\
  -Wl,--defsym=__flash=0x80000000,--defsym=__flash_size=$(FLASH_SIZE) \\
  -Wl,--defsym=__ram=$(RAM_BASE),--defsym=__ram_size=$(RAM_SIZE) \\
  -Wl,-Map=build/rv32/prog.map

.PHONY: host rv32 run-host run-rv32 clean
host: build/host/prog
rv32: build/rv32/prog.elf

build/host/prog: $(SRCS) network.h kernels.h
\tmkdir -p build/host
\t$(HOST_CC) $(WARN) $(CFLAGS) $(DEFS) $(INC) -o $@ $(SRCS)

build/rv32/prog.elf: $(SRCS) network.h kernels.h
\tmkdir -p build/rv32
\t$(RV32_CC) $(WARN) $(CFLAGS) $(DEFS) $(INC) $(RV32_FLAGS) -o $@ $(SRCS)

run-host: build/host/prog
\t./build/host/prog

run-rv32: build/rv32/prog.elf
\ttimeout 600 $(QEMU) -machine virt -m $(QEMU_MEM) -bios none -display none -serial none -monitor none \\
\t  -chardev stdio,id=sh0 -semihosting-config enable=on,target=native,chardev=sh0 -icount shift=0 \\
\t  -kernel build/rv32/prog.elf

clean:
\trm -rf build
"""


def _round_mb(n: int) -> int:
    mb = 1 << 20
    return -(-n // mb) * mb


__all__ = ["EmittedProject", "NodeInfo", "emit_project", "instance_name", "kernel_instances_source"]
