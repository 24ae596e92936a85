"""What every `tile-report` command shares: the consoles, the stable exit codes, the model and spec
options, and the one-line failure."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from ..units import parse_bytes

# Exit codes (a stable contract): 0 success, 1 internal error (or a failed sweep point), 2 bad input
# (file, spec, option), 3 infeasible budget, 4 a check failed, 130 interrupted.
EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_CHECK_FAILED = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130  # the shell's convention for SIGINT

# Off a terminal (pipes, CI logs) rich would squeeze tables into 80 columns and cut node names.
_WIDTH = None if sys.stdout.isatty() else 200
console = Console(width=_WIDTH)
err_console = Console(stderr=True, width=_WIDTH)

ModelArg = Annotated[
    Path | None, typer.Argument(help="ONNX model, layer-list JSON or bundled model name (tinystories15m, ...)")
]
HwOpt = Annotated[str, typer.Option("--hw", help="bundled spec name or YAML path")]


def fail(message: str, code: int) -> NoReturn:
    # Escaped: messages quote user text (paths, spec source tags such as [A:clock]) that rich would eat as markup.
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def size_option(text: str | None, option: str) -> int | None:
    if text is None:
        return None
    try:
        return parse_bytes(text)
    except ValueError as e:
        fail(f"{option}: {e}", EXIT_BAD_INPUT)
