"""Options shared by several commands: where the job is (``-f``/``-m``, ``-j``), its run
config (``-c``, ``--config-json``), and a whole number of at least 1."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from nbflow.cli.command_error import CommandError

if TYPE_CHECKING:
    from collections.abc import Callable

F = Any  # a click command callback being decorated


class PositiveInt(click.ParamType):  # type: ignore[type-arg,unused-ignore]
    """A whole number of at least 1."""

    name = "N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = 0
        if number < 1:
            self.fail(f"expected a whole number of at least 1, got {value!r}", param, ctx)
        return number


def _stacked(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(fn: F) -> F:
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


def where_options(what: str = "job") -> Callable[[F], F]:
    """``-f/--python-file FILE`` or ``-m/--module-name MODULE``: where the definitions are."""
    return _stacked(
        click.option(
            "-f",
            "--python-file",
            "file",
            metavar="FILE",
            type=click.Path(dir_okay=False),
            help=f"Python file defining the {what}",
        ),
        click.option(
            "-m", "--module-name", "module", metavar="MODULE", help=f"module defining the {what}"
        ),
    )


def job_options(*, with_config: bool = True) -> Callable[[F], F]:
    """Where the job is (``-f``/``-m``), which one (``-j``) and, ``with_config``, its run
    config (``-c`` files and ``--config-json``)."""
    options = [
        where_options(),
        click.option(
            "-j", "--job", metavar="JOB", help="job name (needed when several are defined)"
        ),
    ]
    if with_config:
        options += [config_options()]
    options.append(click.option("--mode", hidden=True))  # accepted for legacy command lines
    return _stacked(*options)


def config_options() -> Callable[[F], F]:
    """``-c FILE`` (repeatable YAML) and ``--config-json JSON``, merged in that order."""
    return _stacked(
        click.option(
            "-c",
            "--config",
            multiple=True,
            metavar="FILE",
            help="run-config YAML (repeatable; later files win)",
        ),
        click.option(
            "--config-json",
            metavar="JSON",
            help="run config as a JSON object, merged over the -c files",
        ),
    )


def check_where(file: str | None, module: str | None) -> None:
    """Exactly one of ``-f`` and ``-m`` is given."""
    if file and module:
        raise CommandError("-f/--python-file and -m/--module-name exclude each other: give one.")
    if not file and not module:
        raise CommandError(
            "Name the Python file (-f FILE) or the module (-m MODULE) that defines it."
        )
