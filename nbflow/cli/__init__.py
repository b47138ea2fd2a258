"""The ``nbflow`` command line: thin wrappers that load a job and call the public API.

One module per command group (``job``, ``asset``, ``runs``, ``notebook``, ``new``,
``example``, ``completion``); ``loading`` finds what a command names; :mod:`nbflow.cli.app`
builds the ``click`` command tree (``click`` is imported only when the command line runs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from nbflow.cli.run_commands import step_rows

__all__ = ["main", "step_rows"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nbflow`` console script; returns the exit code.

    ``argv`` defaults to ``sys.argv[1:]``. Usage errors exit with code 2, a failed run with
    1, Ctrl-C with 130.
    """
    from nbflow.cli.app import run_cli

    return run_cli(argv)


def __getattr__(name: str) -> Any:
    if name == "step_rows":  # loads the run views: not for ``nbflow --help``
        from nbflow.cli.run_commands import step_rows

        return step_rows
    raise AttributeError(f"module 'nbflow.cli' has no attribute {name!r}")
