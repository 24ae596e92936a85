"""The published JSON schemas (plan, layer list), versioned with the documents they describe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .frontend.layer_list import layer_list_schema
from .plan import Plan


def schemas() -> dict[str, dict[str, Any]]:
    return {"plan.schema.json": Plan.json_schema(), "layer_list.schema.json": layer_list_schema()}


def write_schemas(folder: str | Path) -> list[Path]:
    """Write every schema into `folder` (the repository keeps them in `schemas/`)."""
    out = []
    for name, schema in schemas().items():
        path = Path(folder) / name
        path.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
        out.append(path)
    return out
