"""network.c's L3 -> L2 staging copies (`Plan.staging`).

One whole-tensor descriptor per copy, from the tensor's L3 home to its L2 staging buffer. The copy is
started right before the node at its issue step and waited for right before the node at its first
step, by a per-step function `network_run` calls before the node (`dt_l3_steps`, 0 where nothing
happens). Between the wait and its last reader, the nodes read the staged buffer instead of the home
(`staged_homes`).
"""

from __future__ import annotations

from ..ir import Graph
from ..plan import Plan
from .cwriter import comment_text
from .layout import Home, Layout
from .views import Ptr

__all__ = ["staged_homes", "staging_source"]


def staged_homes(plan: Plan, layout: Layout, index: int) -> dict[str, Home]:
    """Tensor -> staged copy, for the node at graph position `index` (step index + 1)."""
    step = index + 1
    return {st.tensor: layout.staged[st.id] for st in plan.staging if st.first_step <= step <= st.last_step}


def staging_source(plan: Plan, graph: Graph, layout: Layout) -> list[str]:
    """The descriptors, handles, per-step functions and the `dt_l3_steps` table."""
    n = len(graph.nodes)
    o = [f"/* L3 -> L2 staging: {len(plan.staging)} copies, {plan.l3_bytes} B per run */"]
    if plan.staging:
        o.append(f"static const dt_dma_desc_t dt_l3_xfers[{len(plan.staging)}] = {{")
        for st in plan.staging:
            home, dst = layout.homes[st.tensor], layout.staged[st.id]
            to, frm = Ptr(dst.symbol, dst.offset, False).c(), Ptr(home.symbol, home.offset, True).c()
            o.append(
                f"    /* {st.id}: {comment_text(st.tensor)} {st.bytes} B, issued at step {st.issue_step}, read at "
                f"steps {st.first_step}..{st.last_step} */"
            )
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
