"""schemas: the schema files published in the repository equal what the code generates."""

from __future__ import annotations

import json
from pathlib import Path

from deeploy_tiler.schemas import schemas, write_schemas

from .conftest import REPO_ROOT


def test_published_schema_files_equal_the_generated_ones() -> None:
    published = REPO_ROOT / "schemas"
    generated = schemas()
    assert sorted(generated) == sorted(p.name for p in published.glob("*.json"))
    for name, schema in generated.items():
        text = (published / name).read_text()
        assert text == json.dumps(schema, indent=1, sort_keys=True) + "\n", f"schemas/{name} is stale"


def test_write_schemas_writes_every_schema_readable_back(tmp_path: Path) -> None:
    paths = write_schemas(tmp_path)
    assert [p.name for p in paths] == list(schemas())
    for p in paths:
        assert json.loads(p.read_text()) == schemas()[p.name]
    assert schemas()["plan.schema.json"]["type"] == "object"
