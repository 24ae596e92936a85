"""The house plan, checked: which room may import which (docs/architecture.md), no import circles between
modules (function-level imports included), and no Python file over 500 lines without a reason at its top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "deeploy_tiler"
MAX_LINES = 500
LONG_FILE_MARK = "Long file:"  # a module docstring line starting so explains why the file is longer

# Room -> the rooms it may import (docs/architecture.md). Ground-floor modules are rooms of their own.
GROUND = {"errors", "units", "resources"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "units": set(),
    "resources": set(),
    "ir": {"errors", "units"},
    "plan": {"errors", "units"},
    "hw": {"errors", "units", "resources"},
    "frontend": {"errors", "units", "ir"},
    "schemas": {"plan", "frontend"},
    "reference": {"errors", "units", "ir"},
    "models": {"errors", "units", "ir"},
    "ops": {"errors", "units", "ir", "hw"},
    "cost": {"errors", "units", "ir", "hw", "ops", "plan"},
    "solver": {"errors", "units", "cost", "plan"},
    "memory": {"errors", "units", "ir", "hw", "ops", "plan"},
    "planner": {"errors", "units", "ir", "hw", "ops", "cost", "solver", "memory", "plan"},
    # The validator trusts nothing it checks: no solver, geometry, cost or planner code.
    "validator": {"errors", "units", "ir", "hw", "plan"},
    "emitter": {"errors", "units", "ir", "hw", "plan", "resources"},
    "api": {
        "errors",
        "units",
        "ir",
        "hw",
        "plan",
        "frontend",
        "reference",
        "models",
        "solver",
        "planner",
        "memory",
        "validator",
        "emitter",
    },
    "explore": {"errors", "units", "ir", "hw", "plan", "solver", "planner", "memory", "api"},
    "cli": {"errors", "units", "ir", "hw", "plan", "memory", "emitter", "explore", "api", "<package>"},
    "<package>": {"api", "errors", "hw", "ir", "plan", "solver", "validator"},
    "__main__": {"cli"},
}


def _module_name(path: Path, root: Path = PKG) -> tuple[str, ...]:
    parts = path.relative_to(root).with_suffix("").parts
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imports(path: Path, root: Path = PKG) -> set[tuple[str, ...]]:
    """Every module of the package that `path` imports, at any depth of the file (function-level too)."""
    mod = _module_name(path, root)
    base_pkg = mod if path.name == "__init__.py" else mod[:-1]
    found: set[tuple[str, ...]] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = base_pkg[: len(base_pkg) - (node.level - 1)] if node.level > 1 else base_pkg
            target = (*base, *(node.module.split(".") if node.module else ()))
            for alias in node.names:  # `from . import x` may name a submodule
                sub = (*target, alias.name)
                found.add(sub if _exists(sub, root) else target)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("deeploy_tiler"):
            found.add(tuple(node.module.split(".")[1:]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("deeploy_tiler."):
                    found.add(tuple(alias.name.split(".")[1:]))
    return {m for m in found if _exists(m, root)}


def _exists(mod: tuple[str, ...], root: Path = PKG) -> bool:
    p = root.joinpath(*mod) if mod else root
    return p.with_suffix(".py").is_file() or (p / "__init__.py").is_file()


def _room(mod: tuple[str, ...]) -> str:
    return mod[0] if mod else "<package>"


def _graph(root: Path) -> dict[tuple[str, ...], set[tuple[str, ...]]]:
    return {_module_name(p, root): _imports(p, root) for p in sorted(root.rglob("*.py"))}


def _violations(graph: dict[tuple[str, ...], set[tuple[str, ...]]], mod: tuple[str, ...]) -> list[str]:
    room = _room(mod)
    return sorted(".".join(t) for t in graph[mod] if _room(t) != room and _room(t) not in ALLOWED[room])


MODULES = sorted(PKG.rglob("*.py"))
GRAPH = _graph(PKG)


def test_every_room_is_in_the_table() -> None:
    rooms = {_room(m) for m in GRAPH}
    assert rooms <= set(ALLOWED), f"rooms missing from the table: {sorted(rooms - set(ALLOWED))}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PKG)))
def test_imports_follow_the_pipeline(path: Path) -> None:
    mod = _module_name(path)
    bad = _violations(GRAPH, mod)
    room = _room(mod)
    assert not bad, f"{'.'.join(mod) or 'deeploy_tiler'} ({room}) imports {bad}; allowed: {sorted(ALLOWED[room])}"


def _parent_packages(mod: tuple[str, ...]) -> set[tuple[str, ...]]:
    # Importing a.b.c runs a/__init__ and a/b/__init__ first; the package's own __init__ is not an edge.
    return {mod[:i] for i in range(1, len(mod))}


def _cycles(deps_of: dict[tuple[str, ...], set[tuple[str, ...]]]) -> list[list[str]]:
    # Edges: a module to what it imports. Edges between a module and its own parent packages are skipped
    # (a package __init__ re-exporting its submodules is the package's face, not a circle).
    graph = {m: {t for t in deps if t != m} for m, deps in deps_of.items()}
    state: dict[tuple[str, ...], int] = {}
    stack: list[tuple[str, ...]] = []
    cycles: list[list[str]] = []

    def visit(m: tuple[str, ...]) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if t in _parent_packages(m) or m in _parent_packages(t):
                continue  # a submodule importing through its own package's face, or a package re-exporting
            if state.get(t) == 1:
                cycles.append([".".join(x) for x in stack[stack.index(t) :]] + [".".join(t)])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    return cycles


def test_no_import_circles() -> None:
    cycles = _cycles(GRAPH)
    assert not cycles, f"import circles: {cycles[:5]}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PKG)))
def test_files_are_short_or_say_why(path: Path) -> None:
    text = path.read_text()
    lines = text.count("\n")
    doc = ast.get_docstring(ast.parse(text)) or ""
    assert lines <= MAX_LINES or any(line.startswith(LONG_FILE_MARK) for line in doc.splitlines()), (
        f"{path.relative_to(PKG)} has {lines} lines (> {MAX_LINES}) and no '{LONG_FILE_MARK}' line in its docstring"
    )


def test_the_checks_catch_planted_defects(tmp_path: Path) -> None:
    # The checks must be able to fail: a validator module importing the solver, and a two-module circle.
    root = tmp_path / "pkg"
    for rel, text in {
        "__init__.py": "",
        "solver/__init__.py": "",
        "solver/options.py": "X = 1\n",
        "validator/__init__.py": "",
        "validator/checks.py": "def f():\n    from ..solver.options import X\n    return X\n",
        "cost/__init__.py": "",
        "cost/a.py": "from ..ops.b import B\n",
        "ops/__init__.py": "",
        "ops/b.py": "B = 1\n\ndef g():\n    from ..cost.a import B\n",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    graph = _graph(root)
    assert _violations(graph, ("validator", "checks")) == ["solver.options"]
    assert _cycles(graph) == [["cost.a", "ops.b", "cost.a"]]
