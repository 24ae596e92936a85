"""`tile-report`: explore how a network fits a chip. Calls only the public API; prints with rich.

One module per command group (`inspect_plan`, `emit_verify`, `alloc`, `sweep`, `report`), shared options and exit
codes in `common`. Exit codes (a stable contract): 0 success, 1 internal error (or a failed sweep point),
2 bad input (file, spec, option), 3 infeasible budget, 4 a check failed (validator violations, output
mismatch), 130 interrupted (a sweep saves the points it finished first).
"""

from __future__ import annotations

import typer
from rich.markup import escape

from ..errors import DeeployTilerError, InfeasibleBudget
from .alloc import alloc
from .common import EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_INTERNAL, EXIT_OK, err_console
from .emit_verify import emit, verify
from .inspect_plan import inspect, plan
from .report import report_command
from .sweep import sweep_command

__all__ = ["app", "main", "run"]

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Plan integer networks on RISC-V MCUs.")
for command in (inspect, plan, emit, verify, alloc):
    app.command()(command)
app.command("sweep")(sweep_command)
app.command("report")(report_command)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; typed errors become one clear line and an exit code, never a traceback."""
    try:
        # Without standalone mode click returns a command's exit code instead of calling sys.exit.
        code = app(args=argv, standalone_mode=False)
    except InfeasibleBudget as e:
        err_console.print(f"[bold red]infeasible:[/] {_one_line(e)}", highlight=False, soft_wrap=True)
        return EXIT_INFEASIBLE
    except DeeployTilerError as e:
        err_console.print(f"[bold red]error:[/] {_one_line(e)}", highlight=False, soft_wrap=True)
        return EXIT_BAD_INPUT
    except OSError as e:
        # The file system refused a read or write the checks could not foresee (disk full, permissions).
        err_console.print(f"[bold red]error:[/] {_one_line(e)}", highlight=False, soft_wrap=True)
        return EXIT_BAD_INPUT
    except typer.Exit as e:
        return int(e.exit_code)
    except typer.Abort:
        return EXIT_INTERNAL
    except Exception as e:
        # Usage errors (unknown option, bad value) come from the click typer bundles: one line, exit 2.
        # Anything else is a bug and keeps its traceback.
        message = getattr(e, "format_message", None)
        if callable(message) and isinstance(getattr(e, "exit_code", None), int):
            err_console.print(f"[bold red]error:[/] {escape(' '.join(str(message()).split()))}", highlight=False)
            return EXIT_BAD_INPUT
        raise
    return code if isinstance(code, int) else EXIT_OK


def _one_line(e: BaseException) -> str:
    """The error's message on one line, with rich markup in it escaped (file names may hold brackets)."""
    return escape(" ".join(str(e).split()))


def run() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
