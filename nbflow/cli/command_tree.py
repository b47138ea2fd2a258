"""The ``click`` group class of every ``nbflow`` command group: aliases, a suggestion for a
mistyped command (``No such command 'jbo'. Did you mean 'job'?``), and commands whose modules
load only when they are used (so ``nbflow --help`` does not load the engine)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from nbflow.errors import did_you_mean

if TYPE_CHECKING:
    from collections.abc import Mapping

CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@dataclass(frozen=True)
class LazyCommands:
    """Commands that ``module``'s function ``adder`` registers on a group, loaded when one of
    them is first used; ``helps`` gives each command's help, as its definition does, for
    listings that should not load it."""

    module: str
    adder: str
    helps: Mapping[str, str]


class CommandGroup(click.Group):
    """A command group whose commands may have aliases (``pipeline`` for ``job``), may load
    lazily (:class:`LazyCommands`), and whose unknown-command error names the closest
    commands."""

    group_class = type  # subgroups are CommandGroups too

    def __init__(
        self,
        *args: Any,
        aliases: dict[str, str] | None = None,
        lazy: tuple[LazyCommands, ...] = (),
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("context_settings", CONTEXT_SETTINGS)
        super().__init__(*args, **kwargs)
        self.aliases: dict[str, str] = dict(aliases or {})
        self.lazy: dict[str, LazyCommands] = {name: entry for entry in lazy for name in entry.helps}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        name = self.aliases.get(cmd_name, cmd_name)
        entry = self.lazy.get(name)
        if entry is not None:
            self.load(entry)
        return super().get_command(ctx, name)

    def load(self, entry: LazyCommands) -> None:
        """Register ``entry``'s commands now."""
        for name in entry.helps:
            self.lazy.pop(name, None)
        getattr(importlib.import_module(entry.module), entry.adder)(self)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help``, from the lazy commands' helps where not loaded."""
        rows: list[tuple[str, str | None]] = []
        for name in self.list_commands(ctx):
            entry = self.lazy.get(name)
            if entry is not None:
                rows.append((name, entry.helps[name]))
                continue
            command = super().get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, None))
        if not rows:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in rows)
        listed = []
        for name, text in rows:
            if text is None:
                command = super().get_command(ctx, name)
                assert command is not None
                listed.append((name, command.get_short_help_str(limit)))
            else:
                # shortened as click shortens a loaded command's help
                listed.append((name, click.Command(name, help=text).get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(listed)

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
