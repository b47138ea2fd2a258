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

from nbflow.cli.command_error import CommandError
from nbflow.cli.loading import positive_int
from nbflow.errors import NbflowError, NbflowWarning
from nbflow.execution.views.table import format_table

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator, Mapping, Sequence

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


def cmd_notebook_run(args: argparse.Namespace) -> int:
    from nbflow.notebook.runner import run_notebook

    parameters = _single_parameters(args.parameters)
    _say(
        f"Running {args.notebook}" + (f" with {_parameters_text(parameters)}" if parameters else "")
    )
    started = time.perf_counter()
    try:
        with _warnings_as_lines():
            run = run_notebook(
                args.notebook, parameters, output_path=args.output, kernel_name=args.kernel
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


def cmd_notebook_sweep(args: argparse.Namespace) -> int:
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


def add_notebook_commands(groups: Any) -> None:
    """Register ``nbflow notebook run|sweep``."""
    notebook_parser = groups.add_parser("notebook", help="run parameterized notebooks")
    cmds = notebook_parser.add_subparsers(dest="command", required=True)
    values_hint = "values are read as JSON when they parse (3, 1.5, true, [1, 2]), else as text"

    run = cmds.add_parser("run", help="run a notebook once, with parameters")
    run.add_argument("notebook", metavar="NB.ipynb", help="the notebook to run")
    run.add_argument(
        "-p",
        "--parameter",
        dest="parameters",
        nargs=2,
        action="append",
        default=[],
        metavar=("KEY", "VALUE"),
        help=f"a parameter (repeatable); {values_hint}",
    )
    run.add_argument(
        "-o",
        "--output",
        metavar="OUT.ipynb",
        help="the executed notebook (default: in notebooks/runs under $NBFLOW_HOME or ./.nbflow)",
    )
    run.add_argument("-k", "--kernel", help="Jupyter kernel name (default python3)")
    run.set_defaults(handler=cmd_notebook_run)

    grid = cmds.add_parser(
        "sweep", help="run a notebook for every combination of parameter values, in parallel"
    )
    grid.add_argument("notebook", metavar="NB.ipynb", help="the notebook to run")
    grid.add_argument(
        "-p",
        "--parameter",
        dest="parameters",
        nargs="+",
        action="append",
        default=[],
        metavar="KEY|VALUE",
        help=f"a parameter and the values to try, e.g. -p x 1 2 3 (repeatable); {values_hint}",
    )
    grid.add_argument(
        "--max-concurrent",
        type=positive_int,
        default=2,
        help="notebooks running at once, each in its own process (default 2)",
    )
    grid.add_argument(
        "--output-dir",
        help="where executed notebooks are kept and looked up (default: notebooks/sweeps "
        "under $NBFLOW_HOME or ./.nbflow)",
    )
    grid.add_argument("-k", "--kernel", help="Jupyter kernel name (default python3)")
    grid.set_defaults(handler=cmd_notebook_sweep)
