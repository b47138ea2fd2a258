"""The ``nbflow`` command tree (``click``) and running it as the console script does.

Usage errors (an unknown command or option, a bad value) print click's usage line and a
suggestion, and exit with code 2; command errors print one ``error: ...`` line.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from nbflow.cli.command_helps import HELPS
from nbflow.cli.command_tree import CommandGroup, LazyCommands
from nbflow.cli.interrupt import INTERRUPTED_EXIT_CODE

if TYPE_CHECKING:
    from collections.abc import Sequence

PROG_NAME = "nbflow"
COMPLETE_VAR = "_NBFLOW_COMPLETE"

COMMANDS = tuple(
    LazyCommands(module, adder, {name: HELPS[name] for name in names})
    for module, adder, names in (
        ("nbflow.cli.job_commands", "add_job_commands", ("job",)),
        ("nbflow.cli.asset_commands", "add_asset_commands", ("asset",)),
        ("nbflow.cli.run_commands", "add_run_commands", ("runs",)),
        ("nbflow.cli.notebook_commands", "add_notebook_commands", ("notebook",)),
        ("nbflow.cli.project_commands", "add_project_commands", ("new", "example")),
        ("nbflow.cli.completion_command", "add_completion_command", ("completion",)),
    )
)
"""Every top-level command, loaded when it is used: ``nbflow --help`` and ``nbflow runs``
do not load the engine or the notebook layer."""


def _version() -> str:
    import nbflow

    return str(nbflow.__version__)


def build_cli() -> click.Group:
    """The ``nbflow`` group with every command registered (each loads when it is used)."""

    @click.group(
        cls=CommandGroup,
        name=PROG_NAME,
        aliases={"pipeline": "job"},
        lazy=COMMANDS,
        help="Run and inspect nbflow jobs, assets and notebooks.",
    )
    @click.version_option(
        _version(), "--version", prog_name=PROG_NAME, message="%(prog)s %(version)s"
    )
    def cli() -> None:
        pass

    return cli


def run_cli(argv: Sequence[str] | None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), run the command, return its exit code.

    With ``_NBFLOW_COMPLETE`` set (``bash_source``, ``zsh_complete``, ...), print the shell
    completion script or the completions instead, as click does, and exit.
    """
    cli = build_cli()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = cli.main(
            args=args, prog_name=PROG_NAME, complete_var=COMPLETE_VAR, standalone_mode=False
        )
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        print("Interrupted (Ctrl-C).", file=sys.stderr)
        return INTERRUPTED_EXIT_CODE
    return code if isinstance(code, int) else 0
