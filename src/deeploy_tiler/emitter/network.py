"""The body of network.c: per node, a comment with its plan, the DMA descriptor / event / step /
kernel-argument tables transcribing the plan's event list, and its function `dt_node_<i>()`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import EmitError
from ..hw.spec import HwSpec
from ..ir import DType, Graph, Node
from ..plan import L1Buffer, NodePlan, Plan, Transfer
from .cwriter import comment_text, designated, ident
from .layout import Home, Layout
from .lower import KernelCall, StepContext, lower_step, render_field
from .views import ITEMSIZE, Box, Ptr, View, collapse

# (kernel size, depthwise) of a Conv -> the NPU task kind
NPU_KINDS = {(1, False): "DT_NPU_CONV1X1", (3, False): "DT_NPU_CONV3X3", (3, True): "DT_NPU_DWCONV3X3"}


@dataclass(frozen=True)
class NodeInfo:
    """One node of the emitted network: its C function, compute steps (tiles) and kernel calls."""

    index: int
    name: str
    op_type: str
    c_name: str
    tiles: int
    num_calls: int
    macs: int


@dataclass
class NetworkEmitter:
    """Emits the node functions of one plan into `out`, collecting what the other files need: the kernel
    instances used, per-level L1 extents, per-node infos, and the most DMA transfers in flight."""

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

    # ---- views --------------------------------------------------------------------------------
    def home_ptr(self, tensor: str) -> Ptr:
        h: Home = self.layout.homes[tensor]
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
