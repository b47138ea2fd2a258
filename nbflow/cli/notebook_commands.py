"""``nbflow notebook``: run parameterized notebooks (nbflow.notebook is imported only here,
when these commands run)."""

from __future__ import annotations

import contextlib
import json
import math
import sys
import time
import warnings
from typing import TYPE_CHECKING, Any

import click

from nbflow.cli.command_error import CommandError
from nbflow.cli.command_helps import HELPS
from nbflow.cli.command_tree import CommandGroup
from nbflow.cli.invocation import invoke
from nbflow.cli.notebook_parameters import GridCommand, parameter_files, print_notebook_help
from nbflow.cli.options import PositiveInt
from nbflow.errors import NbflowError, NbflowWarning
from nbflow.execution.views.table import format_table

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from types import SimpleNamespace

    from nbflow.notebook.param_sweep import SweepRow


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Show warnings as ``warning: ...`` lines on stderr, without a source line."""

    def show(message: Any, category: Any, *_: Any, **__: Any) -> None:
        print(f"warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("always", NbflowWarning)
        warnings.showwarning = show
        yield


def _say(line: str) -> None:
    """Print a progress line at once (stdout may be a pipe)."""
    print(line, flush=True)


def _parameters_text(parameters: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_notebook_value_text(v)}" for k, v in parameters.items())


def _notebook_value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return repr(value)


def _single_parameters(pairs: Sequence[Sequence[str]]) -> dict[str, Any]:
    from nbflow.notebook.parameters import parse_parameter_value

    params: dict[str, Any] = {}
    for key, value in pairs:
        if key in params:
            raise CommandError(f"Parameter {key!r} is given twice. Fix: pass -p {key} once.")
        params[key] = parse_parameter_value(value)
    return params


def _grid_parameters(entries: Sequence[Sequence[str]]) -> dict[str, list[Any]]:
    from nbflow.notebook.parameters import parse_parameter_value

    grid: dict[str, list[Any]] = {}
    for key, *values in entries:
        if not values:
            raise CommandError(
                f"-p {key} has no values. Fix: list the values to try, e.g. -p {key} 1 2 3."
            )
        if key in grid:
            raise CommandError(
                f"Parameter {key!r} is given twice. Fix: list all its values after one -p {key}."
            )
        grid[key] = [parse_parameter_value(v) for v in values]
    return grid


def cmd_notebook_run(args: SimpleNamespace) -> int:
    from nbflow.notebook.runner import run_notebook

    if args.help_notebook:
        return print_notebook_help(args.notebook)
    parameters = {
        **parameter_files(args.parameters_file, args.parameters_yaml),
        **_single_parameters(args.parameters),
    }
    _say(
        f"Running {args.notebook}" + (f" with {_parameters_text(parameters)}" if parameters else "")
    )
    started = time.perf_counter()
    try:
        with _warnings_as_lines():
            run = run_notebook(
                args.notebook,
                parameters,
                output_path=args.output,
                kernel_name=args.kernel,
                cwd=args.cwd,
                execution_timeout=args.execution_timeout,
            )
    except NbflowError:
        _say(f"Notebook {args.notebook} failed after {time.perf_counter() - started:.2f} s")
        raise
    print(
        f"Ran {run.notebook_path} with kernel {run.kernel_name!r} in {run.duration_s:.2f} s; "
        f"executed notebook: {run.output_path}"
    )
    rows = [[name, _notebook_value_text(value)] for name, value in run.results.items()]
    print(format_table(["Output", "Value"], rows) if rows else "The notebook yielded no results.")
    return 0


def _say_point(row: SweepRow) -> None:
    """One line per parameter set, as soon as it is memoized or its run ends."""
    took = f" in {row.duration_s:.2f} s" if row.status != "memoized" else ""
    error = f": {row.error}" if row.error else ""
    _say(f"  {_parameters_text(row.parameters)}: {row.status}{took}{error}")


def cmd_notebook_sweep(args: SimpleNamespace) -> int:
    from nbflow.notebook.param_sweep import sweep

    grid = _grid_parameters(args.parameters)
    sets = math.prod(len(values) for values in grid.values())
    _say(f"Sweeping {args.notebook}: {sets} parameter set(s), up to {args.max_concurrent} at once")
    with _warnings_as_lines():
        result = sweep(
            args.notebook,
            grid,
            max_concurrent=args.max_concurrent,
            output_dir=args.output_dir,
            kernel_name=args.kernel,
            on_point=_say_point,
        )
    print(result)
    return 0 if result.success else 1


_VALUES_HINT = "values are read as JSON when they parse (3, 1.5, true, [1, 2]), else as text"
_NOTEBOOK = click.argument("notebook", metavar="NB.ipynb")
_KERNEL = click.option("-k", "--kernel", help="Jupyter kernel name (default python3)")


def _add_run(notebooks: click.Group) -> None:
    @notebooks.command("run", help="Run a notebook once, with parameters.")
    @_NOTEBOOK
    @click.option(
        "-p",
        "--parameter",
        "parameters",
        nargs=2,
        multiple=True,
        metavar="KEY VALUE",
        help=f"a parameter (repeatable; wins over -f and -y); {_VALUES_HINT}",
    )
    @click.option(
        "-f",
        "--parameters-file",
        multiple=True,
        metavar="PARAMS.yaml",
        help="parameters from a YAML file (repeatable; later ones win)",
    )
    @click.option(
        "-y",
        "--parameters-yaml",
        multiple=True,
        metavar="YAML",
        help="parameters as a YAML mapping, e.g. '{x: 1, name: a}' (repeatable; over -f)",
    )
    @click.option(
        "-o",
        "--output",
        metavar="OUT.ipynb",
        help="the executed notebook (default: in notebooks/runs under $NBFLOW_HOME or ./.nbflow)",
    )
    @_KERNEL
    @click.option(
        "--cwd",
        type=click.Path(exists=True, file_okay=False),
        help="the folder the kernel starts in (default: the notebook's folder)",
    )
    @click.option(
        "--execution-timeout",
        type=click.FloatRange(min=0, min_open=True),
        metavar="SECONDS",
        help="seconds each cell may run before the run fails (default: no limit)",
    )
    @click.option(
        "--help-notebook",
        is_flag=True,
        help="list the notebook's parameters (names, types, defaults, comments) and exit",
    )
    def run(**values: Any) -> int:
        return invoke(cmd_notebook_run, **values)


def add_notebook_commands(root: click.Group) -> None:
    """Register ``nbflow notebook run|sweep``."""

    @root.group("notebook", cls=CommandGroup, help=HELPS["notebook"])
    def notebooks() -> None:
        pass

    _add_run(notebooks)

    @notebooks.command(
        "sweep",
        cls=GridCommand,
        help="Run a notebook for every combination of parameter values, in parallel.\n\n"
        "Give each parameter and the values to try with -p KEY VALUE... (repeatable), "
        f"e.g. -p x 1 2 3; {_VALUES_HINT}.",
    )
    @_NOTEBOOK
    @click.option(
        "--max-concurrent",
        type=PositiveInt(),
        default=2,
        help="notebooks running at once, each in its own process (default 2)",
    )
    @click.option(
        "--output-dir",
        help="where executed notebooks are kept and looked up (default: notebooks/sweeps "
        "under $NBFLOW_HOME or ./.nbflow)",
    )
    @_KERNEL
    @click.pass_context
    def sweep_command(ctx: click.Context, /, **values: Any) -> int:
        return invoke(cmd_notebook_sweep, parameters=GridCommand.grid(ctx), **values)
