from __future__ import annotations

import json
from pathlib import Path

import pytest

from deeploy_tiler.cli import main
from deeploy_tiler.cli.common import EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_OK
from deeploy_tiler.hw import list_bundled_specs


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, " ".join(out.split()), " ".join(err.split())  # rich wraps at the capture's width


def test_inspect_every_shared_model(capsys: pytest.CaptureFixture[str], model_dirs: dict[str, Path]) -> None:
    for name, folder in model_dirs.items():
        code, out, err = _run(capsys, "inspect", str(folder / "network.onnx"))
        assert code == EXIT_OK, (name, err)
        assert "total:" in out and "MACs" in out


@pytest.mark.parametrize("spec", list_bundled_specs())
def test_inspect_bundled_default_with_every_spec(capsys: pytest.CaptureFixture[str], spec: str) -> None:
    code, out, err = _run(capsys, "inspect", "--hw", spec)
    assert code == EXIT_OK, err
    assert "tiny_decoder" in out and f"spec {spec}" in out


def test_bad_inputs_give_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(capsys, "inspect", str(tmp_path / "missing.onnx"))
    assert code == EXIT_BAD_INPUT and "no such model file" in err and "Traceback" not in err
    code, _, err = _run(capsys, "inspect", "--hw", "no_such_chip")
    assert code == EXIT_BAD_INPUT and "no_such_chip" in err
    code, _, err = _run(capsys, "plan", "--l1", "64 parsecs")
    assert code == EXIT_BAD_INPUT and "--l1" in err
    code, _, err = _run(capsys, "inspect", "--bogus-option")
    assert code == EXIT_BAD_INPUT


def test_plan_bundled_default_writes_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "plan.json"
    code, out, err = _run(capsys, "plan", "--hw", "siracusa", "--l1", "16KiB", "--json", str(out_file))
    assert code == EXIT_OK, err
    doc = json.loads(out_file.read_text())
    assert doc["model"] == "tiny_decoder" and doc["budgets"]["L1"] == 16384
    assert "total modeled cycles" in out


def test_plan_infeasible_budget_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "plan", "--hw", "siracusa", "--l1", "100")
    assert code == EXIT_INFEASIBLE and "needs at least" in err


def test_verify_bundled_default_host_and_rv32(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from deeploy_tiler.emitter import toolchain_available

    target = "both" if toolchain_available("rv32") else "host"
    code, out, err = _run(capsys, "verify", "--l1", "2000", "--target", target, "--out", str(tmp_path / "c"))
    assert code == EXIT_OK, err
    assert "bit-exact on every target" in out
    assert (tmp_path / "c" / "network.c").is_file()


def test_emit_shared_model_writes_project(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model_dirs: dict[str, Path]
) -> None:
    code, _out, err = _run(
        capsys, "emit", str(model_dirs["miniMobileNet"]), "--l1", "4000", "--out", str(tmp_path / "mnv")
    )
    assert code == EXIT_OK, err
    assert {p.name for p in (tmp_path / "mnv").iterdir()} >= {"network.c", "main.c", "Makefile"}


def test_verify_rejects_unknown_target(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "verify", "--target", "arm")
    assert code == EXIT_BAD_INPUT and "--target" in err


def test_alloc_csv_json_contract(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    csv = tmp_path / "toy.12.csv"
    csv.write_text("id,lower,upper,size\nb1,0,3,4\nb2,3,9,4\nb3,0,9,4\nb4,9,21,4\nb5,0,21,4\n")
    out = tmp_path / "r.json"
    code, _text, err = _run(capsys, "alloc", str(csv), "--json", str(out), "--plot", str(tmp_path / "m.png"))
    assert code == EXIT_OK, err
    doc = json.loads(out.read_text())
    assert (
        doc["solved"]
        and doc["peak"] == 12
        and doc["lower_bound"] == 12
        and set(doc["offsets"]) == {"b1", "b2", "b3", "b4", "b5"}
    )
    assert isinstance(doc["seconds"], float) and (tmp_path / "m.png").stat().st_size > 0
    code, _, err = _run(capsys, "alloc", str(csv), "--capacity", "8")
    assert code != EXIT_OK and ("12" in err or "exceed" in err)


def test_inspect_a_bundled_decoder_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "inspect", "tinystories15m_head", "--hw", "siracusa")
    assert code == EXIT_OK, err
    assert "tinystories15m_head" in out and "1x1x32000" in out
