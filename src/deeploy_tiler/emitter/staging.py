"""network.c's L3 -> L2 staging copies (`Plan.staging`).

One whole-tensor descriptor per copy: in, from the tensor's L3 home to its L2 staging buffer, started
right before the node at its issue step and waited for right before the node at its first step; out
(a graph output), from the staging buffer back to the L3 home, started and waited for right before the
node at its issue step (the step after its last use; N + 1: after the run). A per-step function that
`network_run` calls before each node, and once after the last (`dt_l3_steps[N]`), does both (0 where
nothing happens); copies back first, then copies in started, then copies in waited for. Over a copy's
window [first, last] the nodes use the staged buffer instead of the home (`staged_homes`).
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
            home, stage = layout.homes[st.tensor], layout.staged[st.id]
            if st.direction == "in":
                to, frm = Ptr(stage.symbol, stage.offset, False).c(), Ptr(home.symbol, home.offset, True).c()
            else:
                to, frm = Ptr(home.symbol, home.offset, False).c(), Ptr(stage.symbol, stage.offset, True).c()
            o.append(
                f"    /* {st.id}: {st.direction} {comment_text(st.tensor)} {st.bytes} B, issued at step "
                f"{st.issue_step}, staged over steps {st.first_step}..{st.last_step} */"
            )
            o.append(f"    {{.dst = {to}, .src = {frm}, .row_bytes = {st.bytes}, .n1 = 1, .n2 = 1, .n3 = 1}},")
        o.append("};")
        if any(st.direction == "in" for st in plan.staging):
            o.append(f"static dt_dma_handle_t dt_l3_handles[{len(plan.staging)}];")
    steps: list[str] = []
    for t in range(1, n + 2):
        backs = [st.id for st in plan.staging if st.direction == "out" and st.issue_step == t]
        starts = [st.id for st in plan.staging if st.direction == "in" and st.issue_step == t]
        waits = [st.id for st in plan.staging if st.direction == "in" and st.first_step == t]
        if not backs and not starts and not waits:
            steps.append("0")
            continue
        o.append(f"static void dt_l3_step_{t - 1}(void) {{")
        for k in backs:
            o.append(f"    dt_l3_dma_wait(dt_l3_dma_start(&dt_l3_xfers[{k}])); /* back to L3 */")
        o += [f"    dt_l3_handles[{k}] = dt_l3_dma_start(&dt_l3_xfers[{k}]);" for k in starts]
        o += [f"    dt_l3_dma_wait(dt_l3_handles[{k}]);" for k in waits]
        o.append("}")
        steps.append(f"dt_l3_step_{t - 1}")
    o.append(f"static void (*const dt_l3_steps[{n + 1}])(void) = {{" + ", ".join(steps) + "};")
    return o
