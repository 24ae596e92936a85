"""emitter/sources.py: the project files rendered from c/templates/*.j2."""

from __future__ import annotations

import jinja2
import numpy as np
import pytest

from deeploy_tiler import api
from deeploy_tiler.emitter import sources
from deeploy_tiler.errors import EmitError
from deeploy_tiler.ir import DType
from deeploy_tiler.resources import emit_c_dir

TEMPLATES = {
    "Makefile.j2",
    "main.c.j2",
    "network.c.j2",
    "network.h.j2",
    "kernels.c.j2",
    "kernels.h.j2",
    "kernels_siracusa.c.j2",
}


def test_templates_ship_with_the_c_sources() -> None:
    found = {p.name for p in (emit_c_dir() / "templates").iterdir()}
    assert found == TEMPLATES
    for name in TEMPLATES:
        assert (emit_c_dir() / "templates" / name).read_text().endswith("\n")


def test_a_missing_value_is_an_error_not_empty_text() -> None:
    with pytest.raises(jinja2.UndefinedError, match="queue"):
        sources.render("Makefile.j2", flash="0x1", ram="0x1", cores=1)


def test_makefile_values_and_recipe_tabs() -> None:
    text = sources.makefile(5 << 20, 3 << 20, 8, 70)
    lines = text.splitlines()
    assert "CORES ?= 8" in lines and "FLASH_SIZE = 0x500000" in lines and "RAM_SIZE = 0x300000" in lines
    assert "-DDT_DMA_MAX_PENDING=70" in text
    assert "\t$(HOST_CC) $(WARN) $(CFLAGS) $(DEFS) $(INC) -o $@ $(SRCS)" in lines  # make needs the tab
    assert text.endswith("clean:\n\trm -rf build\n")


def test_kernel_instances_source() -> None:
    assert sources.kernel_instances_source({}).splitlines()[1:] == ['#include "dt_kernels.h"']
    text = sources.kernel_instances_source(
        {
            "dt_pool_u8_i8": ("pool", (DType.UINT8, DType.INT8)),
            "dt_gemm_i8_i8_i32": ("gemm", (DType.INT8, DType.INT8, DType.INT32)),
        }
    )
    body = text.split('#include "dt_kernels.h"\n', 1)[1]
    assert body == (
        "\n#define DT_NAME dt_gemm_i8_i8_i32\n#define DT_TA int8_t\n#define DT_TB int8_t\n#define DT_TY int32_t\n"
        '#include "gemm.tmpl.h"\n#undef DT_NAME\n#undef DT_TA\n#undef DT_TB\n#undef DT_TY\n'
        "\n#define DT_NAME dt_pool_u8_i8\n#define DT_TX uint8_t\n#define DT_TY int8_t\n"
        '#include "pool.tmpl.h"\n#undef DT_NAME\n#undef DT_TX\n#undef DT_TY\n'
    )
    assert "DT_KERNEL_DECL(dt_pool_u8_i8);" in sources.kernels_h({"dt_pool_u8_i8": ("pool", ())}).splitlines()


def test_network_h_sizes_every_arena() -> None:
    g = api.load_model()
    lines = sources.network_h(g, {"L2": 100, "L1": 0}).splitlines()
    assert lines.index("#define DT_ARENA_L1_BYTES 1") < lines.index("#define DT_ARENA_L2_BYTES 100")
    assert f"#define DT_NUM_NODES {len(g.nodes)}" in lines


def test_main_c_harness_modes_and_checks() -> None:
    g = api.load_model()
    inputs = api.default_inputs()
    expected = api.reference_run(g, inputs)
    nocheck = sources.main_c(g, None, None)
    assert "memset(dt_input_ptrs[i], 0" in nocheck and '"NOCHECK"' in nocheck and "dt_test_" not in nocheck
    test = sources.main_c(g, inputs, expected)
    assert '"PASS"' in test and "memcpy(dt_input_ptrs[0], dt_test_in0, dt_input_bytes[0]);" in test
    assert test.count("DT_OUTPUT ") == len(g.output_names) + 1  # one printf per output, plus the doc line
    name = g.input_names[0]
    with pytest.raises(EmitError, match=f"input {name}: shape"):
        sources.main_c(g, {**inputs, name: np.zeros((1, 1))}, None)
    out = g.output_names[0]
    with pytest.raises(EmitError, match=f"expected output {out}: 1 elements"):
        sources.main_c(g, inputs, {**expected, out: np.zeros(1)})
    with pytest.raises(EmitError, match="values outside"):
        sources.main_c(g, inputs, {**expected, out: np.full(expected[out].shape, 1 << 40)})
