"""Notebook parameters on the command line: ``-f params.yaml`` and ``-y YAML`` (as papermill
takes them), ``--help-notebook``, and the ``-p KEY VALUE...`` groups of ``notebook sweep``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from nbflow.cli.command_error import CommandError
from nbflow.execution.views.table import format_table

_GRID_KEY = "nbflow.grid"


def _yaml_mapping(text: str, what: str) -> dict[str, Any]:
    import yaml

    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CommandError(f"{what} is not valid YAML: {exc}".replace("\n", " ")) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, Mapping):
        raise CommandError(
            f"{what} must hold a mapping of parameter names to values, got "
            f"{type(loaded).__name__}. Fix: e.g. 'alpha: 0.5'."
        )
    return {str(k): v for k, v in loaded.items()}


def parameter_files(files: tuple[str, ...], texts: tuple[str, ...]) -> dict[str, Any]:
    """The parameters of ``-f`` YAML files then ``-y`` YAML texts, later ones winning."""
    params: dict[str, Any] = {}
    for file in files:
        try:
            text = Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(
                f"Cannot read parameters file {file}: {exc.strerror}. Fix: pass the path of a "
                "YAML file."
            ) from None
        except UnicodeDecodeError:
            raise CommandError(f"Parameters file {file} is not UTF-8 text.") from None
        params.update(_yaml_mapping(text, f"Parameters file {file}"))
    for text in texts:
        params.update(_yaml_mapping(text, f"-y {text!r}"))
    return params


def print_notebook_help(notebook: str) -> int:
    """Print the parameters the notebook declares, as papermill infers them from its
    ``parameters`` cell: name, type, default and the comment beside it."""
    from nbflow.notebook.code_version import resolve_notebook
    from nbflow.notebook.papermill import notebook_parameters

    path = resolve_notebook(notebook)
    found = notebook_parameters(path)
    print(f"Parameters of notebook {notebook}:")
    if found is None:
        print("  No cell is tagged 'parameters': the notebook declares none.")
        return 0
    if not found:
        print("  The 'parameters' cell assigns no variables.")
        return 0
    rows = [
        [
            p["name"],
            "" if p["inferred_type_name"] == "None" else p["inferred_type_name"],
            p["default"],
            p["help"],
        ]
        for p in found
    ]
    print(format_table(["Parameter", "Type", "Default", "Help"], rows))
    return 0


def _takes_value(token: str) -> bool:
    """Whether ``token`` is a value of ``-p`` rather than the next option (negative numbers
    are values)."""
    if not token.startswith("-") or token == "-":
        return True
    try:
        float(token)
    except ValueError:
        return False
    return True


class GridCommand(click.Command):
    """A command whose ``-p/--parameter KEY VALUE...`` options each take a key and any
    number of values (``-p x 1 2 3``), which click's options cannot."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        grid: list[list[str]] = []
        rest: list[str] = []
        pending = list(args)
        index = 0
        while index < len(pending):
            token = pending[index]
            index += 1
            if token == "--":
                rest += pending[index - 1 :]
                break
            if token not in ("-p", "--parameter"):
                rest.append(token)
                continue
            group: list[str] = []
            while index < len(pending) and _takes_value(pending[index]):
                group.append(pending[index])
                index += 1
            if not group:
                raise click.UsageError(f"{token} needs a parameter name and values.", ctx)
            grid.append(group)
        ctx.meta[_GRID_KEY] = grid
        return super().parse_args(ctx, rest)

    @staticmethod
    def grid(ctx: click.Context) -> list[list[str]]:
        """The ``-p`` groups of the command line, each ``[key, value, ...]``."""
        return list(ctx.meta.get(_GRID_KEY, []))

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_options(ctx, formatter)
        with formatter.section("Parameters"):
            formatter.write_dl(
                [("-p, --parameter KEY VALUE...", "a parameter and the values to try")]
            )
