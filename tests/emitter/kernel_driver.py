"""A C test driver for the kernel library: compiled once per test session, fed jobs on stdin.

The driver's field tables are generated from the argument structs in emit/kernels/dt_kernels.h
(offsetof does the layout), so any `KernelCall` produced by the emitter's lowering can be executed:
buffers are named by the C symbols the lowering's pointers refer to, and each job prints the bytes of
the buffers asked for. One process runs many jobs, so hypothesis examples cost no compilation.

Job protocol (text, one command per line):
    J <kernel function>            start a job (zeroes the argument block)
    S <symbol> <bytes> <hex>       a buffer and its initial bytes
    P <field> <symbol> <offset>    a pointer field (symbol "-" = NULL)
    F <field> <int>                an int32 field
    A <field> <n> <v0> ...         an int32 array field
    C                              call the kernel (forked over the cores)
    O <symbol>                     print "<hex of the buffer>"
    E                              end of the job (buffers freed)
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deeploy_tiler.emitter.lower import KernelCall, RequantArgs
from deeploy_tiler.emitter.sources import kernel_instances_source
from deeploy_tiler.emitter.views import Ptr
from deeploy_tiler.ir import DType
from deeploy_tiler.resources import emit_c_dir

_STRUCT = re.compile(r"typedef struct \{(.*?)\} (\w+);", re.S)


def parse_structs(header: str) -> dict[str, list[tuple[str, str, int]]]:
    """struct name -> [(field path, kind 'ptr'|'int'|'arr'|'struct:<name>', array length)]."""
    text = re.sub(r"/\*.*?\*/", "", header, flags=re.S)
    out: dict[str, list[tuple[str, str, int]]] = {}
    for body, name in _STRUCT.findall(text):
        fields: list[tuple[str, str, int]] = []
        for decl in body.split(";"):
            decl = decl.strip()
            if not decl:
                continue
            m = re.match(r"((?:const\s+)?\w+)\s+(.*)", decl)
            assert m, decl
            base, rest = m.group(1), m.group(2)
            for d in rest.split(","):
                d = d.strip()
                if d.startswith("*"):
                    fields.append((d.lstrip("*").strip(), "ptr", 0))
                elif "[" in d:
                    n, ln = d.split("[")
                    fields.append((n.strip(), "arr", int(ln.rstrip("]"))))
                elif base.startswith("dt_"):
                    fields.append((d, "struct:" + base, 0))
                else:
                    fields.append((d, "int", 0))
        out[name] = fields
    return out


def _flatten(structs: dict[str, list[tuple[str, str, int]]], name: str, prefix: str = "") -> list[tuple[str, str, int]]:
    flat = []
    for f, kind, n in structs[name]:
        if kind.startswith("struct:"):
            flat += _flatten(structs, kind.split(":")[1], prefix + f + ".")
        else:
            flat.append((prefix + f, kind, n))
    return flat


def driver_source(instances: Mapping[str, tuple[str, tuple[DType, ...]]]) -> str:
    header = (emit_c_dir() / "kernels" / "dt_kernels.h").read_text()
    structs = parse_structs(header)
    args_types = [s for s in structs if s.endswith("_args_t")]
    lines = [
        "#include <stdio.h>",
        "#include <stdlib.h>",
        "#include <string.h>",
        "#include <stddef.h>",
        '#include "dt_kernels.h"',
        "",
    ]
    lines += [f"DT_KERNEL_DECL({n});" for n in sorted(instances)]
    lines.append("typedef struct { const char *type; const char *name; size_t off; int kind; int n; } field_t;")
    lines.append("static const field_t FIELDS[] = {")
    for st in args_types:
        for path, kind, n in _flatten(structs, st):
            k = {"ptr": 0, "int": 1, "arr": 2}[kind]
            lines.append(f'    {{"{st}", "{path}", offsetof({st}, {path}), {k}, {n}}},')
    lines.append("    {0, 0, 0, 0, 0}};")
    lines.append("typedef struct { const char *name; dt_task_fn fn; const char *type; } kernel_t;")
    lines.append("static const kernel_t KERNELS[] = {")
    type_of = {
        "conv2d": "dt_conv2d_args_t",
        "gemm": "dt_gemm_args_t",
        "eltwise": "dt_eltwise_args_t",
        "pool": "dt_pool_args_t",
        "rowwise": "dt_rowwise_args_t",
        "reduce_mean": "dt_reduce_args_t",
    }
    for n, (tmpl, _) in sorted(instances.items()):
        lines.append(f'    {{"{n}", {n}, "{type_of[tmpl]}"}},')
    lines.append('    {"dt_gather", dt_gather, "dt_gather_args_t"},')
    lines.append("    {0, 0, 0}};")
    lines.append(r"""
#define MAXBUF 64
static char names[MAXBUF][64];
static unsigned char *bufs[MAXBUF];
static long sizes[MAXBUF];
static int nbuf;
static union { unsigned char raw[1024]; long long align; } args;
static const kernel_t *cur;

static int find(const char *s) { int i; for (i = 0; i < nbuf; ++i) if (!strcmp(names[i], s)) return i; return -1; }
static const field_t *field(const char *name) {
    const field_t *f;
    for (f = FIELDS; f->type; ++f) if (!strcmp(f->type, cur->type) && !strcmp(f->name, name)) return f;
    fprintf(stderr, "unknown field %s of %s\n", name, cur->type); exit(2);
}
static int hexv(int c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

int main(void) {
    static char line[1 << 22];
    while (fgets(line, sizeof line, stdin)) {
        char cmd = line[0];
        char a[256], b[256];
        long v, n, i;
        if (cmd == 'J') {
            const kernel_t *k;
            sscanf(line + 2, "%255s", a);
            cur = 0;
            for (k = KERNELS; k->name; ++k) if (!strcmp(k->name, a)) cur = k;
            if (!cur) { fprintf(stderr, "unknown kernel %s\n", a); return 2; }
            memset(&args, 0, sizeof args);
        } else if (cmd == 'S') {
            char *p;
            sscanf(line + 2, "%63s %ld", names[nbuf], &n);
            sizes[nbuf] = n;
            bufs[nbuf] = calloc((size_t)(n + 16), 1);
            p = strchr(strchr(line + 2, ' ') + 1, ' ');
            if (p) { ++p; for (i = 0; i < n && p[2 * i] && p[2 * i] != '\n'; ++i)
                bufs[nbuf][i] = (unsigned char)(hexv(p[2 * i]) * 16 + hexv(p[2 * i + 1])); }
            ++nbuf;
        } else if (cmd == 'P') {
            const field_t *f;
            sscanf(line + 2, "%255s %255s %ld", a, b, &v);
            f = field(a);
            { void *ptr = 0; if (strcmp(b, "-")) { int j = find(b);
                if (j < 0) { fprintf(stderr, "no buffer %s\n", b); return 2; }
                ptr = bufs[j] + v; } memcpy(args.raw + f->off, &ptr, sizeof ptr); }
        } else if (cmd == 'F') {
            const field_t *f; int32_t x;
            sscanf(line + 2, "%255s %ld", a, &v);
            f = field(a); x = (int32_t)v; memcpy(args.raw + f->off, &x, 4);
        } else if (cmd == 'A') {
            const field_t *f; char *p = line + 2; int used;
            sscanf(p, "%255s %ld%n", a, &n, &used); p += used;
            f = field(a);
            for (i = 0; i < n; ++i) { int32_t x; sscanf(p, "%ld%n", &v, &used); p += used; x = (int32_t)v;
                memcpy(args.raw + f->off + 4 * i, &x, 4); }
        } else if (cmd == 'C') {
            dt_cluster_fork(cur->fn, &args);
        } else if (cmd == 'O') {
            int j;
            sscanf(line + 2, "%255s", a);
            j = find(a);
            for (i = 0; i < sizes[j]; ++i) printf("%02x", bufs[j][i]);
            printf("\n");
        } else if (cmd == 'E') {
            for (i = 0; i < nbuf; ++i) free(bufs[i]);
            nbuf = 0;
            printf("END\n");
            fflush(stdout);
        }
    }
    return 0;
}
""")
    return "\n".join(lines)


# Every template instance the kernel tests use.
_T = DType
TEST_INSTANCES: dict[str, tuple[str, tuple[DType, ...]]] = {}


def _add(tmpl: str, *types: DType) -> None:
    from deeploy_tiler.emitter.lower import instance_name

    TEST_INSTANCES[instance_name(tmpl, types)] = (tmpl, types)


for _x in (_T.INT8, _T.UINT8):
    for _y in (_T.INT8, _T.UINT8, _T.INT32):
        _add("conv2d", _x, _T.INT8, _y)
        _add("pool", _x, _x)
    for _b in (_T.INT8, _T.UINT8):
        for _y in (_T.INT8, _T.UINT8, _T.INT32):
            _add("gemm", _x, _b, _y)
for _a in (_T.INT8, _T.UINT8, _T.INT16, _T.INT32):
    for _b in (_T.INT8, _T.UINT8, _T.INT16, _T.INT32):
        for _y in (_T.INT8, _T.UINT8, _T.INT32):
            _add("eltwise", _a, _b, _y)
for _x in (_T.INT8, _T.UINT8):
    for _y in (_T.INT8, _T.UINT8, _T.INT32):
        _add("rowwise", _x, _y)
        _add("reduce_mean", _x, _y)
for _x in (_T.INT8, _T.UINT8, _T.INT32):
    _add("eltwise", _x, _x, _x)


def build_driver(workdir: Path, *, num_cores: int = 3) -> Path:
    """Compile the driver (host gcc, -Werror) into `workdir`; returns the executable."""
    src = emit_c_dir()
    (workdir / "instances.c").write_text(kernel_instances_source(TEST_INSTANCES))
    (workdir / "driver.c").write_text(driver_source(TEST_INSTANCES))
    exe = workdir / "driver"
    cmd = [
        "gcc",
        "-std=c99",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-Wno-format-truncation",
        "-O1",
        "-fno-strict-aliasing",
        f"-DDT_NUM_CORES={num_cores}",
        f"-I{src / 'runtime'}",
        f"-I{src / 'kernels'}",
        "-o",
        str(exe),
        str(workdir / "driver.c"),
        str(workdir / "instances.c"),
        str(src / "runtime" / "dt_runtime.c"),
        str(src / "kernels" / "dt_kernels.c"),
    ]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return exe


@dataclass
class Driver:
    exe: Path

    def __post_init__(self) -> None:
        self.proc = subprocess.Popen(
            [str(self.exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1 << 20
        )

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)

    def run(
        self, calls: Sequence[KernelCall], buffers: Mapping[str, np.ndarray[Any, Any]], outputs: Sequence[str]
    ) -> dict[str, bytes]:
        """Run kernel calls on named buffers (raw bytes of the arrays); return the output buffers' bytes."""
        assert self.proc.stdin and self.proc.stdout
        lines = []
        for k, call in enumerate(calls):
            lines.append(f"J {call.fn}")
            if k == 0:
                for name, arr in buffers.items():
                    raw = np.ascontiguousarray(arr).tobytes()
                    lines.append(f"S {name} {len(raw)} {raw.hex()}")
            for fname, v in call.fields:
                _field_lines(lines, fname, v)
            lines.append("C")
        for o in outputs:
            lines.append(f"O {o}")
        lines.append("E")
        self.proc.stdin.write("\n".join(lines) + "\n")
        self.proc.stdin.flush()
        result = {}
        for o in outputs:
            result[o] = bytes.fromhex(self.proc.stdout.readline().strip())
        end = self.proc.stdout.readline().strip()
        assert end == "END", end
        return result


def _ptr(v: Ptr | None) -> str:
    return "- 0" if v is None else f"{v.symbol} {v.offset}"


def _field_lines(lines: list[str], name: str, v: object) -> None:
    if v is None:
        return  # NULL pointer / no requantization: the argument block starts zeroed
    if isinstance(v, Ptr):
        lines.append(f"P {name} {_ptr(v)}")
    elif isinstance(v, RequantArgs):
        lines.append(f"P {name}.mul {_ptr(v.mul)}")
        lines.append(f"P {name}.add {_ptr(v.add)}")
        lines.append(f"A {name}.mul_s 4 {' '.join(map(str, v.mul_s))}")
        lines.append(f"A {name}.add_s 4 {' '.join(map(str, v.add_s))}")
        lines.append(f"F {name}.shift {v.shift}")
        lines.append(f"F {name}.lo {v.lo}")
        lines.append(f"F {name}.hi {v.hi}")
        lines.append(f"F {name}.wide {v.wide}")
    elif isinstance(v, tuple):
        lines.append(f"A {name} {len(v)} {' '.join(map(str, v))}")
    else:
        lines.append(f"F {name} {int(v)}")  # type: ignore[call-overload]
