"""Running one parsed command: the line that says where runs are recorded, and a quiet end
when the reader of stdout goes away (``nbflow runs list | head -1``)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from nbflow.cli.interrupt import INTERRUPTED_EXIT_CODE
from nbflow.storage.instance import default_home

if TYPE_CHECKING:
    import argparse


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


def run_command(args: argparse.Namespace) -> int:
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
    if code != INTERRUPTED_EXIT_CODE:  # Ctrl-C: its one line says it all
        print(history_line(), file=sys.stderr)
    return code
