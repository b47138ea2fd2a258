"""The ``nbflow`` command line: thin wrappers that load a job and call the public API.

One module per command group (``job``, ``runs``, ``notebook``); ``loading`` finds what a
command names.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from nbflow.cli.command_error import CommandError
from nbflow.cli.interrupt import INTERRUPTED_EXIT_CODE
from nbflow.cli.invocation import run_command
from nbflow.cli.job_commands import add_job_commands
from nbflow.cli.notebook_commands import add_notebook_commands
from nbflow.cli.run_commands import add_run_commands, step_rows
from nbflow.errors import NbflowError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["build_parser", "main", "step_rows"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nbflow", description="Run and inspect nbflow jobs.")
    groups = parser.add_subparsers(dest="group", required=True)
    add_job_commands(groups)
    add_run_commands(groups)
    add_notebook_commands(groups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nbflow`` console script."""
    args = build_parser().parse_args(argv)
    try:
        code: int = run_command(args)
    except (CommandError, NbflowError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted (Ctrl-C).", file=sys.stderr)
        return INTERRUPTED_EXIT_CODE
    return code
