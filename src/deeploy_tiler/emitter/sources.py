"""The text of the generated project's files. Static C and Makefile text lives in Jinja templates
(c/templates/*.j2); this module computes what varies (sizes, tables, test data) and renders them."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jinja2
import numpy as np

from ..errors import EmitError
from ..hw.spec import HwSpec
from ..ir import DType, Graph
from ..plan import Plan
from ..resources import emit_c_dir
from ..units import align_up
from .cwriter import array_body_np, comment_text, f32_bits, f32_body
from .layout import Layout
from .network import NetworkEmitter
from .siracusa import ARGS_TYPES, simd_instance
from .siracusa import FLAGS as SIRACUSA_FLAGS
from .views import Ptr

# kernel template stem (c/kernels/<stem>.tmpl.h) -> its type parameter macro names
TEMPLATE_PARAMS: dict[str, tuple[str, ...]] = {
    "conv2d": ("DT_TX", "DT_TW", "DT_TY"),
    "gemm": ("DT_TA", "DT_TB", "DT_TY"),
    "eltwise": ("DT_TA", "DT_TB", "DT_TY"),
    "pool": ("DT_TX", "DT_TY"),
    "rowwise": ("DT_TX", "DT_TY"),
    "reduce_mean": ("DT_TX", "DT_TY"),
    # the ordered float32 kernels (one type parameter, float)
    "f32_conv2d": ("DT_T",),
    "f32_gemm": ("DT_T",),
    "f32_eltwise": ("DT_T",),
    "f32_pool": ("DT_T",),
}

Instances = Mapping[str, tuple[str, tuple[DType, ...]]]  # instance name -> (template stem, types)
HOMES_LISTED = 400  # network.c's header comment lists at most this many non-constant homes


def _c_list(items: Iterable[Any]) -> str:
    """A C brace initializer: `{a, b, c}`."""
    return "{" + ", ".join(str(x) for x in items) + "}"


@functools.cache
def _environment() -> jinja2.Environment:
    # block tags on lines of their own vanish (trim/lstrip); StrictUndefined turns a missing value into
    # an error instead of empty text; keep_trailing_newline keeps each file's final newline
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(emit_c_dir() / "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["c_list"] = _c_list
    return env


def render(template: str, **values: Any) -> str:
    """Render c/templates/`template` with `values` (every name it uses must be given)."""
    return _environment().get_template(template).render(**values)


@dataclass(frozen=True)
class HarnessArray:
    """A test input or expected output array of main.c."""

    index: int
    ctype: str
    length: int
    body: str


def const_decls(graph: Graph, layout: Layout, hw: HwSpec) -> tuple[list[str], dict[str, int]]:
    """network.c's constant arrays (in their level's section) and the bytes they take per level."""
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
        data = t.data if t.numel else np.zeros(1, dtype=np.int64)
        try:
            body = f32_body(data, f"constant {name}") if t.dtype.is_float else array_body_np(data, t.dtype)
        except ValueError as e:
            raise EmitError(str(e)) from None
        lines.append(f"const {t.dtype.c_type} {home.symbol}[{n}] DT_CONST_IN({home.level}, {align}) = {body};")
        sizes[home.level] = sizes.get(home.level, 0) + align_up(n * t.dtype.itemsize, align)
    return lines, sizes


def network_h(graph: Graph, arenas: Mapping[str, int]) -> str:
    return render(
        "network.h.j2",
        num_nodes=len(graph.nodes),
        num_inputs=len(graph.input_names),
        num_outputs=len(graph.output_names),
        arenas=[(level, max(size, 1)) for level, size in sorted(arenas.items())],
    )


def _sizes(sizes: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v} B" for k, v in sorted(sizes.items()))


def network_c(
    plan: Plan, graph: Graph, layout: Layout, arenas: Mapping[str, int], const_lines: list[str], em: NetworkEmitter
) -> str:
    homes: list[str] = []
    for name, home in layout.homes.items():
        if home.const or len(homes) >= HOMES_LISTED:
            continue
        extra = f" (plan offset {home.plan_offset})" if home.plan_offset is not None else ""
        alias = "" if home.tensor == name else f" = alias of {home.tensor}"
        homes.append(f"{comment_text(name)}: {home.level}+{home.offset}{extra} {graph.tensor(name).nbytes} B{alias}")
    inputs = [em.home_ptr(t).c() for t in graph.input_names]
    l1 = em.hw.memories[0].name
    l1_arena = (l1, arenas[l1]) if arenas.get(l1, 0) > 0 else None
    return render(
        "network.c.j2",
        model=comment_text(plan.model),
        hw=comment_text(plan.hw),
        budgets=_sizes(plan.budgets),
        total_cycles=plan.total_cycles,
        lower_bound_cycles=plan.lower_bound_cycles,
        arena_sizes=_sizes(arenas),
        notes=[comment_text(note) for note in layout.notes],
        homes=homes,
        arenas=[(level, size) for level, size in sorted(arenas.items()) if size > 0],
        const_lines=const_lines,
        body=em.out,
        node_names=[node.name.replace("\\", "/").replace('"', "'") for node in graph.nodes],
        input_ptrs=[
            p.replace("(const void *)", "(void *)").replace("(const uint8_t *)", "(uint8_t *)") for p in inputs
        ],
        input_bytes=[graph.tensor(t).nbytes for t in graph.input_names],
        output_ptrs=[Ptr(em.home_ptr(t).symbol, em.home_ptr(t).offset, True).c() for t in graph.output_names],
        output_numel=[graph.tensor(t).numel for t in graph.output_names],
        node_functions=[info.c_name for info in em.infos],
        ring=em.ring,
        l1_arena=l1_arena,
    )


def kernels_h(instances: Instances) -> str:
    return render("kernels.h.j2", names=sorted(instances))


def kernel_instances_source(instances: Instances) -> str:
    """C source instantiating the typed kernel templates (also used by the kernel test driver)."""
    return render(
        "kernels.c.j2",
        instances=[
            {
                "name": name,
                "template": template,
                "params": [(p, t.c_type) for p, t in zip(TEMPLATE_PARAMS[template], types, strict=True)],
            }
            for name, (template, types) in sorted(instances.items())
        ],
    )


def kernel_instances_siracusa(instances: Instances) -> str:
    """kernels_siracusa.c: the instances of kernels.c, each copying its argument block into L1 first,
    GEMM / convolution ones with int8 weights through the SIMD kernels (c/kernels/siracusa/)."""
    rows = []
    for name, (template, types) in sorted(instances.items()):
        simd = simd_instance(template, types)
        rows.append(
            {
                "name": name,
                "args_type": ARGS_TYPES[template],
                "simd": simd,
                "unsigned_x": int(types[0] == DType.UINT8),
                "template": template,
                "params": [(p, t.c_type) for p, t in zip(TEMPLATE_PARAMS[template], types, strict=True)],
            }
        )
    return render("kernels_siracusa.c.j2", instances=rows)


def _test_arrays(graph: Graph, names: tuple[str, ...], arrays: Mapping[str, Any], what: str) -> list[HarnessArray]:
    out = []
    for k, name in enumerate(names):
        t = graph.tensor(name)
        # float32 tensors: their values' bit patterns, loaded and compared as int32 (bit-exact, -0 != +0)
        a = f32_bits(arrays[name]) if t.dtype.is_float else np.asarray(arrays[name]).astype(np.int64)
        dtype = DType.INT32 if t.dtype.is_float else t.dtype
        if what == "input" and tuple(a.shape) != t.shape:
            raise EmitError(f"input {name}: shape {a.shape} != {t.shape}")
        if what == "expected output":
            a = a.reshape(-1)
            if a.size != t.numel:
                raise EmitError(f"expected output {name}: {a.size} elements for {t.numel}")
        if a.size and not dtype.holds(int(a.min()), int(a.max())):
            raise EmitError(f"{what} {name}: values outside {t.dtype.value}")
        body = array_body_np(a if a.size else np.zeros(1, dtype=np.int64), dtype)
        out.append(HarnessArray(k, dtype.c_type, max(t.numel, 1), body))
    return out


def main_c(
    graph: Graph,
    inputs: Mapping[str, np.ndarray[Any, Any]] | None,
    expected: Mapping[str, np.ndarray[Any, Any]] | None,
) -> str:
    """The test harness: with `inputs`, loads them (else zero inputs); with `expected`, compares every
    output element (else prints NOCHECK)."""
    return render(
        "main.c.j2",
        has_inputs=inputs is not None,
        test_inputs=[] if inputs is None else _test_arrays(graph, graph.input_names, inputs, "input"),
        test_expected=[] if expected is None else _test_arrays(graph, graph.output_names, expected, "expected output"),
        result="PASS" if expected is not None else "NOCHECK",
    )


def makefile(flash: int, ram: int, cores: int, queue: int) -> str:
    return render(
        "Makefile.j2",
        flash=f"{flash:#x}",
        ram=f"{ram:#x}",
        cores=cores,
        queue=queue,
        siracusa_flags=" ".join(SIRACUSA_FLAGS),
    )
