"""The ``click`` group class of every ``nbflow`` command group: aliases, and a suggestion
for a mistyped command (``No such command 'jbo'. Did you mean 'job'?``)."""

from __future__ import annotations

from typing import Any

import click

from nbflow.errors import did_you_mean

CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class CommandGroup(click.Group):
    """A command group whose commands may have aliases (``pipeline`` for ``job``) and whose
    unknown-command error names the closest commands."""

    group_class = type  # subgroups are CommandGroups too

    def __init__(self, *args: Any, aliases: dict[str, str] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", CONTEXT_SETTINGS)
        super().__init__(*args, **kwargs)
        self.aliases: dict[str, str] = dict(aliases or {})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, self.aliases.get(cmd_name, cmd_name))

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0]
        if (
            self.get_command(ctx, name) is None
            and not ctx.resilient_parsing
            and not name.startswith("-")
        ):
            known = self.list_commands(ctx)
            raise click.UsageError(
                f"No such command {name!r}.{did_you_mean(name, [*known, *self.aliases])} "
                f"Commands: {', '.join(known)}.",
                ctx,
            )
        return super().resolve_command(ctx, args)
