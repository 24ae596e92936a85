"""The README's Python examples run as written (against the shared models folder)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs(
    index: int, testdata_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cwd = os.getcwd()
    os.chdir(testdata_dir)  # the examples name models as Models/...; plan.json goes to a temp copy
    try:
        code = BLOCKS[index].replace('open("plan.json", "w")', f'open(r"{tmp_path / "plan.json"}", "w")')
        exec(compile(code, f"README block {index}", "exec"), {})
    finally:
        os.chdir(cwd)
    assert capsys.readouterr().out  # every example prints what it computed


def test_readme_has_examples() -> None:
    assert len(BLOCKS) >= 2


def test_readme_layout_lists_every_room_of_the_architecture() -> None:
    # The README's layout table is generated from docs/architecture.md's room table: same rooms, same roles.
    arch = (README.parent / "docs" / "architecture.md").read_text()
    rooms = [
        [c.strip() for c in line.strip("|").split("|")][:2] for line in arch.splitlines() if line.startswith("| `")
    ]
    layout = README.read_text().split("## Layout", 1)[1].split("\n## ", 1)[0]
    assert len(rooms) >= 15
    for where, role in rooms:
        assert f"| {where} | {role} |" in layout, f"README layout lacks the room {where}"
