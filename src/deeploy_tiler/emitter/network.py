"""The body of network.c: per node, a comment with its plan and its function `dt_node_<i>()`, which runs
the plan's event list in order: the events (DMA starts with their descriptors, waits, compute steps with
their kernel calls) become records, folded into counted loops with affine arguments (`loops`,
`loop_code`), so a regular tiling costs one loop body, not one table row per tile."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

from ..errors import EmitError
from ..hw.spec import HwSpec
from ..ir import DType, Graph, Node
from ..plan import L1Buffer, NodePlan, Plan, Transfer
from .cwriter import comment_text, ident
from .layout import Home, Layout
from .loop_code import flatten_field, program_depth, render_items, ring_entries
from .loops import Record, count_items, expand, fold
from .lower import KernelCall, StepContext, lower_step
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
    active: dict[str, Home] = field(default_factory=dict)  # staged copies the current node reads (L3 -> L2)
    ring: int = 1  # descriptor / handle ring entries (dt_loops.h), a power of two
    folded: dict[int, tuple[int, int]] = field(default_factory=dict)  # node -> (records, items written)

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
    def dma_record(self, np_: NodePlan, tr: Transfer, bufs: Mapping[str, L1Buffer]) -> Record:
        """The `dma_start` of `tr` as a loop record: shape (the two symbols), integers (ref, offsets,
        row bytes, counts, strides in bytes; n[2] is the innermost outer dimension n1)."""
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
        if n == [1, 1, 1] and not any(ss) and not any(ds):  # one contiguous run: the short form
            return ("start1", dst.symbol, src.symbol), (tr.id, dst.offset, src.offset, row)
        shape = ("start", dst.symbol, src.symbol)
        ints = (tr.id, dst.offset, src.offset, row, n[2], n[1], n[0], ss[2], ss[1], ss[0], ds[2], ds[1], ds[0])
        return shape, ints

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
        starts = [self.dma_record(np_, tr, bufs) for tr in trs]
        # compute steps: the kernel calls of each, lowered on the step's slots
        engine = self.hw.engine(np_.engine) if np_.engine in {e.name for e in self.hw.engines} else None
        on_npu = engine is not None and engine.kind == "npu"
        step_calls: list[list[Record]] = []
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
            step_calls.append([self.call_record(kc, on_npu, node) for kc in lower_step(ctx)])
        for ev in np_.events:
            if ev.kind == "compute" and ev.ref >= len(step_calls):
                raise EmitError(f"node {node.name}: event computes step {ev.ref} of {len(step_calls)}")
            if ev.kind != "compute" and ev.ref >= len(trs):
                raise EmitError(f"node {node.name}: event names transfer {ev.ref} of {len(trs)}")
        pending = 0
        for e in np_.events:
            pending += 1 if e.kind == "dma_start" else -1 if e.kind == "dma_wait" else 0
            self.max_pending = max(self.max_pending, pending)
        self.ring = max(self.ring, ring_entries(np_.events, len(trs)))
        # the event list as records, in order, folded into loops
        records: list[Record] = []
        for e in np_.events:
            if e.kind == "dma_start":
                records.append(starts[e.ref])
            elif e.kind == "dma_wait":
                records.append((("wait",), (e.ref,)))
            else:
                records.append((("step",), (e.ref,)))
                records.extend(step_calls[e.ref])
        program = fold(records)
        if expand(program) != records:  # the folding is exact by construction; a bug must not pass
            raise EmitError(f"node {node.name}: loop folding does not reproduce the event list")
        depth = program_depth(program)
        o.append(f"static int32_t dt_node_{i}(void) {{")
        if depth:
            o.append("    int " + ", ".join(f"k{d}" for d in range(depth)) + ";")
        o.extend(render_items(program, 0, "    "))
        o.append("    return dt_dma_pending() == 0 ? 0 : -1;")
        o.append("}\n")
        self.folded[i] = (len(records), count_items(program))
        num_calls = sum(len(c) for c in step_calls)
        self.infos.append(NodeInfo(i, node.name, node.op_type, f"dt_node_{i}", len(step_calls), num_calls, node.macs))

    def call_record(self, kc: KernelCall, on_npu: bool, node: Node) -> Record:
        """One kernel call as a loop record: shape (function, argument type, NPU task kind, field layout),
        integers (every number and pointer offset of its argument block)."""
        if kc.template is not None:
            self.instances[kc.fn] = (kc.template, kc.types)
        kind: str | None = None
        if on_npu and kc.args_type in ("dt_conv2d_args_t", "dt_gemm_args_t"):
            if node.op_type == "Conv":
                k = int(self.graph.tensor(node.inputs[1]).shape[-1])
                dw = int(node.attr("group", 1)) > 1
                kind = NPU_KINDS.get((k, dw), "DT_NPU_CONV3X3")
            else:
                kind = "DT_NPU_GEMM"
        layout: list[tuple[str, Hashable]] = []
        ints: list[int] = []
        for name, v in kc.fields:
            if v is not None:
                layout.append((name, flatten_field(v, ints)))
        return ("call", kc.fn, kc.args_type, kind, tuple(layout)), tuple(ints)
