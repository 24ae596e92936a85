"""Plans that stream from L3 run bit-exactly: weights and KV caches copied L3 -> L2 by the L3 DMA before
their readers (functional copy at wait, so a read before the wait would show as a mismatch)."""

from __future__ import annotations

from pathlib import Path

import deeploy_tiler as dt
from deeploy_tiler.emitter import toolchain_available
from deeploy_tiler.frontend import import_onnx
from deeploy_tiler.models import DecoderConfig, build_decoder, decoder_inputs

HW = dt.load_hw("siracusa")


def _small() -> tuple[dt.Graph, dict[str, object]]:
    cfg = DecoderConfig(name="small", layers=2, d_model=64, heads=4, ffn=128, kv_len=16)
    return import_onnx(build_decoder(cfg), name="small", source="<test>"), dict(decoder_inputs(cfg))


def test_streamed_decoder_is_bit_exact(tmp_path: Path) -> None:
    g, inputs = _small()
    plan = dt.plan(g, HW, l2=12_000)
    assert dt.validate(plan, g, HW) == []
    assert {s.tensor for s in plan.staging} & {*g.input_names, *g.output_names}  # KV caches stream too
    expected = dt.reference_run(g, inputs)  # type: ignore[arg-type]
    targets = ("host", "rv32") if toolchain_available("rv32") else ("host",)
    outcome = dt.verify(plan, g, HW, tmp_path, inputs=inputs, expected=expected, targets=targets)  # type: ignore[arg-type]
    for built, run in outcome.results:
        assert run.passed and all(o.mismatches == 0 for o in run.outputs), built.target
        assert built.within_budgets
        l3 = built.level("L3")
        assert l3.total >= plan.l3_bytes  # the streamed tensors live in the L3 section / arena
    network_c = (tmp_path / "network.c").read_text()
    assert network_c.count("dt_l3_dma_start(") == len(plan.staging)
    assert network_c.count("dt_l3_dma_wait(") == len(plan.staging)


def test_a_read_before_the_copy_is_caught(tmp_path: Path) -> None:
    """Issue a weight's copy one step after its first reader: that reader finds the staging buffer not yet
    filled, and the run must fail element-wise (the validator reports the same plan)."""
    g, inputs = _small()
    plan = dt.plan(g, HW, l2=12_000)
    k, st = next((k, s) for k, s in enumerate(plan.staging) if g.tensors[s.tensor].is_constant)
    staging = list(plan.staging)
    staging[k] = st.model_copy(update={"issue_step": st.first_step + 1})
    bad = plan.model_copy(update={"staging": tuple(staging)})
    assert dt.validate(bad, g, HW)
    expected = dt.reference_run(g, inputs)  # type: ignore[arg-type]
    outcome = dt.verify(bad, g, HW, tmp_path, inputs=inputs, expected=expected, targets=("host",))  # type: ignore[arg-type]
    _, run = outcome.results[0]
    assert not run.passed and sum(o.mismatches for o in run.outputs) > 0
