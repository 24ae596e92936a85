"""The package: its public names, its independence from the code it checks, and its strict layering."""

from __future__ import annotations

import ast
from pathlib import Path

import deeploy_tiler.validator as validator

PACKAGE = Path(validator.__file__).parent
# Each module may import only modules earlier in this list (the layering the package docstring states).
LAYERS = (
    "violations",
    "regions",
    "semantics",
    "context",
    "engines",
    "plan_checks",
    "transfers",
    "steps",
    "schedule",
    "memory",
    "nodes",
    "run",
    "__init__",
)
# What the validator may read from the rest of the library: the contract, never solver/ops/cost/planner.
ALLOWED_OUTSIDE = {"errors", "hw.spec", "ir", "plan"}


def _relative_imports(path: Path) -> tuple[set[str], set[str]]:
    """(sibling modules, modules outside the package) a file imports, from every import statement in it."""
    siblings, outside = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                siblings.add(node.module or "")
            elif node.level == 2:
                outside.add(node.module or "")
            else:
                assert node.level == 0 and not (node.module or "").startswith("deeploy_tiler"), path.name
        elif isinstance(node, ast.Import):
            assert not any(a.name.startswith("deeploy_tiler") for a in node.names), path.name
    return siblings, outside


def test_public_names() -> None:
    assert sorted(validator.__all__) == [
        "ENGINE_RULES",
        "PlanValidationError",
        "Violation",
        "ViolationKind",
        "assert_valid",
        "needed_regions",
        "validate",
    ]
    assert all(hasattr(validator, name) for name in validator.__all__)


def test_every_module_is_in_the_layering() -> None:
    assert {p.stem for p in PACKAGE.glob("*.py")} == set(LAYERS)


def test_modules_import_only_earlier_layers_and_the_contract() -> None:
    for i, name in enumerate(LAYERS):
        siblings, outside = _relative_imports(PACKAGE / f"{name}.py")
        assert siblings <= set(LAYERS[:i]), f"{name} imports {sorted(siblings - set(LAYERS[:i]))}"
        assert outside <= ALLOWED_OUTSIDE, f"{name} imports {sorted(outside - ALLOWED_OUTSIDE)}"


def test_modules_stay_under_500_lines() -> None:
    for p in PACKAGE.glob("*.py"):
        assert len(p.read_text().splitlines()) < 500, p.name
