"""``nbflow completion bash|zsh|fish``: print the shell's completion script.

The script is click's, the same that ``_NBFLOW_COMPLETE=bash_source nbflow`` prints; load it
with ``eval "$(nbflow completion bash)"`` (in ``~/.bashrc`` to keep it).
"""

from __future__ import annotations

import click

from nbflow.cli.command_helps import HELPS

SHELLS = ("bash", "zsh", "fish")


def completion_script(cli: click.Command, shell: str) -> str:
    """The completion script of ``shell`` for the ``nbflow`` command."""
    from click.shell_completion import get_completion_class

    from nbflow.cli.app import COMPLETE_VAR, PROG_NAME

    completion = get_completion_class(shell)
    assert completion is not None  # SHELLS are click's own
    return completion(cli, {}, PROG_NAME, COMPLETE_VAR).source()


def add_completion_command(root: click.Group) -> None:
    """Register ``nbflow completion SHELL``."""

    @root.command(
        "completion",
        help=HELPS["completion"],
    )
    @click.argument("shell", type=click.Choice(SHELLS))
    def completion(shell: str) -> int:
        click.echo(completion_script(root, shell), nl=False)
        return 0
