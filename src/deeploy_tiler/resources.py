"""Locate data shipped with the package (hardware specs, C runtime), installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent
_REPO = _PKG.parent.parent


def _find(installed_name: str, repo_name: str) -> Path:
    # A wheel carries the data inside the package; an editable / source install reads the repo folder.
    for candidate in (_PKG / installed_name, _REPO / repo_name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"package data folder {repo_name!r} not found next to {_PKG}")


def hw_specs_dir() -> Path:
    return _find("hw_specs", "hw_specs")


def emit_c_dir() -> Path:
    return _find("emit_c", "emit")
