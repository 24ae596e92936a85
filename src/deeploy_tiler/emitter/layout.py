"""Where every tensor lives between nodes (its *home*): a level, and an arena offset or a const array.

* Activations, graph inputs and outputs live in one static arena per level (`dt_arena_L2`, ...).
  With `Plan.memory` filled, offsets are the plan's, except that address ranges holding only constants
  are cut out (constants are emitted as `const` arrays the linker places in the level's section, so
  the arena does not reserve their bytes twice): an activation's arena offset is its plan offset minus
  the constant-only bytes below it (a multiple of the level alignment, so alignment is kept).
* Without `Plan.memory` (the planner leaves it to the allocator), every non-constant buffer gets its own
  slot, in first-use order, at offsets aligned to the level alignment, in the first level after L1
  ("L2"): simple and safe (no reuse), documented in the generated network.c.
* Data-free reshapes (Reshape, Flatten, Squeeze, Unsqueeze, Identity) share their input's home; with a
  plan placing an alias elsewhere, the alias node copies the bytes (memcpy) instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import EmitError
from ..hw.spec import HwSpec
from ..ir import Graph, TensorKind
from ..plan import Plan
from ..units import align_up


@dataclass(frozen=True)
class Home:
    tensor: str
    level: str
    symbol: str  # C symbol: an arena (byte array) or a const array
    offset: int  # bytes from `symbol`
    const: bool
    plan_offset: int | None = None  # the plan's offset when it differs (compaction), for comments


@dataclass
class Layout:
    homes: dict[str, Home]
    arena_bytes: dict[str, int]  # level -> arena size
    const_level: dict[str, str]  # constant tensor -> level of its section
    alias_copies: dict[str, str] = field(default_factory=dict)  # alias output -> input needing a copy
    notes: list[str] = field(default_factory=list)
    source: str = "plan"  # "plan" (Plan.memory) or "emitter" (own sequential layout)


def _alias_root(graph: Graph) -> dict[str, str]:
    root: dict[str, str] = {}
    for node in graph.nodes:
        if node.is_alias and node.inputs:
            src = node.inputs[0]
            root[node.outputs[0]] = root.get(src, src)
    return root


def const_symbol(index: int) -> str:
    return f"dt_c{index}"


def home_level_name(hw: HwSpec) -> str:
    names = [m.name for m in hw.memories]
    if "L2" in names:
        return "L2"
    if len(names) < 2:
        raise EmitError(f"hw spec {hw.name} has no level beyond {names[0]} to hold whole tensors")
    return names[1]


def plan_layout(plan: Plan, graph: Graph, hw: HwSpec) -> Layout:
    consts = [t for t in graph.tensors.values() if t.kind is TensorKind.CONSTANT]
    const_index = {t.name: i for i, t in enumerate(consts)}
    roots = _alias_root(graph)
    home_level = home_level_name(hw)
    placed = {p.tensor: p for p in plan.memory}
    const_level = {t.name: (placed[t.name].level if t.name in placed else home_level) for t in consts}
    homes: dict[str, Home] = {}
    for t in consts:
        homes[t.name] = Home(t.name, const_level[t.name], const_symbol(const_index[t.name]), 0, True)
    arena: dict[str, int] = {}
    alias_copies: dict[str, str] = {}
    notes: list[str] = []
    nonconst = [
        n
        for n in (*graph.input_names, *(o for node in graph.nodes for o in node.outputs))
        if not graph.tensors[n].is_constant
    ]
    nonconst = list(dict.fromkeys(nonconst))
    if plan.memory:
        # constant-only address blocks per level, cut out of the arena
        blocks: dict[str, list[tuple[int, int]]] = {}
        for pb in plan.memory:
            ten = graph.tensors.get(pb.tensor)
            if ten is not None and ten.is_constant and pb.alias_of is None:
                a = hw.memory(pb.level).alignment_bytes
                blocks.setdefault(pb.level, []).append((pb.offset, align_up(pb.offset + pb.size, a)))
        merged: dict[str, list[tuple[int, int]]] = {}
        for level, bl in blocks.items():
            out: list[tuple[int, int]] = []
            for s, e in sorted(bl):
                if out and s <= out[-1][1]:
                    out[-1] = (out[-1][0], max(out[-1][1], e))
                else:
                    out.append((s, e))
            merged[level] = out

        def compact(level: str, off: int) -> int:
            return off - sum(min(e, off) - s for s, e in merged.get(level, []) if s < off)

        for name in nonconst:
            pl = placed.get(name)
            if pl is None:
                r = roots.get(name)
                if r is not None and r in homes:
                    homes[name] = homes[r]
                    continue
                raise EmitError(f"plan for {plan.model}: tensor {name} has no place in Plan.memory")
            if not graph.tensors[name].is_constant:
                for s, e in merged.get(pl.level, []):
                    if s < pl.offset + pl.size and pl.offset < e:
                        raise EmitError(f"Plan.memory: {name} at {pl.level}+{pl.offset} overlaps constant bytes")
            off = compact(pl.level, pl.offset)
            homes[name] = Home(
                name, pl.level, f"dt_arena_{pl.level}", off, False, pl.offset if off != pl.offset else None
            )
            arena[pl.level] = max(arena.get(pl.level, 0), off + graph.tensors[name].nbytes)
        for node in graph.nodes:
            if node.is_alias and node.inputs:
                src, dst = node.inputs[0], node.outputs[0]
                if (
                    src in homes
                    and dst in homes
                    and (homes[src].symbol, homes[src].offset) != (homes[dst].symbol, homes[dst].offset)
                ):
                    alias_copies[dst] = src
        if any(merged.values()):
            notes.append(
                "constant-only address ranges of Plan.memory are cut out of the arenas (constants "
                "are const arrays); arena offset = plan offset - constant bytes below it"
            )
        return Layout(homes, arena, const_level, alias_copies, notes, "plan")
    # own layout: one slot per alias class, first-use order, no reuse
    align = hw.memory(home_level).alignment_bytes
    off = 0
    for name in nonconst:
        r = roots.get(name)
        if r is not None and r in homes:
            homes[name] = homes[r]
            continue
        size = max(graph.tensors[name].nbytes, *(graph.tensors[m].nbytes for m, rr in roots.items() if rr == name), 1)
        off = align_up(off, align)
        homes[name] = Home(name, home_level, f"dt_arena_{home_level}", off, False)
        off += size
    arena[home_level] = off
    notes.append(
        f"Plan.memory is empty: the emitter placed every activation / input / output in its own "
        f"{home_level} slot (first-use order, {align}-byte aligned, no reuse over time; aliases share "
        f"their input's slot)"
    )
    return Layout(homes, arena, const_level, {}, notes, "emitter")
