"""Locate data shipped inside the package: the bundled hardware specs and the C runtime / kernel library."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def hw_specs_dir() -> Path:
    return _PKG / "hw" / "specs"


def emit_c_dir() -> Path:
    return _PKG / "emitter" / "c"
