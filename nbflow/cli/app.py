"""The ``nbflow`` command tree (``click``) and running it as the console script does.

Usage errors (an unknown command or option, a bad value) print click's usage line and a
suggestion, and exit with code 2; command errors print one ``error: ...`` line.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from nbflow.cli.asset_commands import add_asset_commands
from nbflow.cli.command_tree import CommandGroup
from nbflow.cli.completion_command import add_completion_command
from nbflow.cli.interrupt import INTERRUPTED_EXIT_CODE
from nbflow.cli.job_commands import add_job_commands
from nbflow.cli.notebook_commands import add_notebook_commands
from nbflow.cli.project_commands import add_project_commands
from nbflow.cli.run_commands import add_run_commands

if TYPE_CHECKING:
    from collections.abc import Sequence

PROG_NAME = "nbflow"
COMPLETE_VAR = "_NBFLOW_COMPLETE"


def _version() -> str:
    import nbflow

    return str(nbflow.__version__)


def build_cli() -> click.Group:
    """The ``nbflow`` group with every command registered."""

    @click.group(
        cls=CommandGroup,
        name=PROG_NAME,
        aliases={"pipeline": "job"},
        help="Run and inspect nbflow jobs, assets and notebooks.",
    )
    @click.version_option(
        _version(), "--version", prog_name=PROG_NAME, message="%(prog)s %(version)s"
    )
    def cli() -> None:
        pass

    add_job_commands(cli)
    add_asset_commands(cli)
    add_run_commands(cli)
    add_notebook_commands(cli)
    add_project_commands(cli)
    add_completion_command(cli)
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
