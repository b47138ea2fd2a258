"""Running one parsed command: its errors as one line, the line that says where runs are
recorded, and a quiet end when the reader of stdout goes away (``nbflow runs list | head -1``)."""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import click

from nbflow.cli.command_error import CommandError
from nbflow.cli.interrupt import INTERRUPTED_EXIT_CODE
from nbflow.errors import NbflowError
from nbflow.storage.instance import default_home

if TYPE_CHECKING:
    from collections.abc import Callable


def history_line() -> str:
    """``nbflow: runs recorded in <folder> (<why that folder>)``."""
    root, origin = default_home()
    return f"nbflow: runs recorded in {root} ({origin})"


def _stdout_to_devnull() -> None:
    """Send what is left for stdout to the null device, so the exit flush cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


def run_command(args: SimpleNamespace) -> int:
    """Run the command ``args`` names and return its exit code.

    When it ends without an error (and was not interrupted), one line on stderr says where
    the run history is (the instance of ``Instance.get()``), so stdout stays the command's
    own (e.g. ``--json``).
    When stdout's reader closed the pipe, the command ends quietly with code 0: nothing
    more is written, and there is no traceback.
    """
    try:
        code: int = args.handler(args)
        sys.stdout.flush()
    except BrokenPipeError:
        _stdout_to_devnull()
        return 0
    if code != INTERRUPTED_EXIT_CODE and getattr(args, "records_runs", True):
        print(history_line(), file=sys.stderr)  # Ctrl-C: its one line says it all
    return code


def invoke(
    handler: Callable[[SimpleNamespace], int], *, records_runs: bool = True, **values: Any
) -> int:
    """Run ``handler`` with the parsed ``values`` as attributes of its argument.

    A :class:`CommandError` or :class:`NbflowError` is printed as one ``error: ...`` line
    (exit code 2); Ctrl-C prints one line (exit code 130). ``records_runs=False``: the
    command touches no run history, so no line says where it is. A non-zero code ends the
    command through click (``click.exceptions.Exit``), so it is the process's exit code
    however click runs.
    """
    args = SimpleNamespace(handler=handler, records_runs=records_runs, **values)
    try:
        code = run_command(args)
    except (CommandError, NbflowError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        print("Interrupted (Ctrl-C).", file=sys.stderr)
        code = INTERRUPTED_EXIT_CODE
    if code:
        raise click.exceptions.Exit(code)
    return code
