"""A wheel built from the repository works without the source tree: specs and the C runtime ship inside."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_carries_its_data_and_runs_alone(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path / "dist"),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("deeploy_tiler-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for spec in ("siracusa", "siracusa_neureka", "rv32_mcu"):
        assert f"deeploy_tiler/hw/specs/{spec}.yaml" in names
    assert "deeploy_tiler/py.typed" in names  # PEP 561: type checkers read the package's annotations
    assert any(n.startswith("deeploy_tiler/emitter/c/runtime/") for n in names)
    assert any(n.startswith("deeploy_tiler/emitter/c/kernels/") for n in names)
    assert "deeploy_tiler/emitter/c/templates/main.c.j2" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "import deeploy_tiler as dt, deeploy_tiler.resources as r;"
        f"assert r.hw_specs_dir().is_relative_to(r'{site}') and r.emit_c_dir().is_relative_to(r'{site}');"
        "g = dt.load_model(); p = dt.plan(g, 'siracusa', l1=4000); assert dt.validate(p, g, 'siracusa') == [];"
        "print(len(p.nodes))"
    )
    # -I: isolated mode, so neither the repository nor an editable install is on the path
    out = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, r'{site}'); {probe}"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
    assert out.stdout.strip() == "26"
