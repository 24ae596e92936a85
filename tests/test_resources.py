"""resources: the package data folders exist and hold what the rest of the package reads from them."""

from __future__ import annotations

from deeploy_tiler import resources
from deeploy_tiler.hw.load import list_bundled_specs


def test_hw_specs_dir_holds_the_bundled_specs() -> None:
    folder = resources.hw_specs_dir()
    assert folder.is_dir()
    stems = sorted(p.stem for p in folder.glob("*.yaml"))
    assert "siracusa" in stems
    assert stems == list_bundled_specs()


def test_emit_c_dir_holds_the_c_sources() -> None:
    folder = resources.emit_c_dir()
    assert folder.is_dir()
    assert any(folder.rglob("*.c")) and any(folder.rglob("*.h"))
    assert folder.parent.name == "emitter"
