"""The ``nbflow`` command line: thin wrappers that load a job and call the public API."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import json
import sys
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbflow.config.merge import deep_merge
from nbflow.definitions.job import JobDefinition
from nbflow.errors import NbflowError, NbflowWarning, did_you_mean
from nbflow.events import Event, StepFailureData
from nbflow.execution.engine.step_states import StepRecord, StepState, StepStates
from nbflow.execution.views.list_versions import (
    format_version_diffs,
    format_version_table,
    list_versions,
)
from nbflow.execution.views.memo_plan import plan_run
from nbflow.execution.views.table import format_table
from nbflow.storage.instance import HOME_ENV_VAR, Instance

if TYPE_CHECKING:
    from nbflow.storage.run import Run


class CommandError(Exception):
    """A problem with what was asked on the command line; printed without a traceback."""


def _load_module(file: str | None, module: str | None) -> Any:
    if file:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}. Fix: pass the path of a Python file.")
        sys.path.insert(0, str(path.parent.resolve()))
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = mod
        loader = spec.loader
        _run_user_code(lambda: loader.exec_module(mod), file)
        return mod
    assert module is not None
    sys.path.insert(0, str(Path.cwd()))
    try:
        return _run_user_code(lambda: importlib.import_module(module), module)
    except ModuleNotFoundError as exc:
        raise CommandError(f"Cannot import module {module!r}: {exc}.") from None


def _run_user_code(load: Any, where: str) -> Any:
    """Import user code; a failure there becomes one line naming the file and the error."""
    try:
        return load()
    except (ModuleNotFoundError, NbflowError):
        raise
    except SyntaxError as exc:
        raise CommandError(f"{where} has a syntax error at line {exc.lineno}: {exc.msg}.") from None
    except Exception as exc:
        raise CommandError(
            f"Loading {where} failed: {type(exc).__name__}: {exc}. Fix the error in that file."
        ) from None


def load_job(file: str | None, module: str | None, job_name: str | None) -> JobDefinition:
    """Find the job to run in a file or module: the one named, or the only one there."""
    mod = _load_module(file, module)
    jobs = {v.name: v for v in vars(mod).values() if isinstance(v, JobDefinition)}
    where = file or module
    if job_name is not None:
        if job_name not in jobs:
            raise CommandError(
                f"No job named {job_name!r} in {where}.{did_you_mean(job_name, jobs)} "
                f"Jobs there: {sorted(jobs) or 'none'}."
            )
        return jobs[job_name]
    if len(jobs) != 1:
        raise CommandError(
            f"{where} has {len(jobs) or 'no'} jobs{': ' + ', '.join(sorted(jobs)) if jobs else ''}."
            " Fix: name one with -j JOB."
        )
    return next(iter(jobs.values()))


def load_run_config(paths: Sequence[str]) -> dict[str, Any]:
    """Merge YAML run-config files, later files winning."""
    import yaml

    config: dict[str, Any] = {}
    for path in paths:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise CommandError(f"Cannot read config file {path}: {exc.strerror}.") from None
        try:
            loaded = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise CommandError(f"Config file {path} is not valid YAML: {exc}") from None
        if not isinstance(loaded, Mapping):
            raise CommandError(f"Config file {path} must hold a mapping at the top level.")
        config = deep_merge(config, loaded)
    return config


def _parse_tags(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    try:
        tags = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f'--tags must be a JSON object, e.g. \'{{"a": "1"}}\': {exc}') from None
    if not isinstance(tags, dict):
        raise CommandError('--tags must be a JSON object, e.g. \'{"a": "1"}\'.')
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in tags.items()}


def cmd_job_execute(args: argparse.Namespace) -> int:
    job_def = load_job(args.file, args.module, args.job)
    result = job_def.execute_in_process(
        run_config=load_run_config(args.config),
        tags=_parse_tags(args.tags),
        raise_on_error=False,
        instance=Instance.get(),
    )
    rows = [
        [
            s.step_key,
            s.status,
            "" if s.duration_ms is None else f"{s.duration_ms:.1f} ms",
            s.detail,
        ]
        for s in result.step_summaries()
    ]
    print(
        f"Run {result.run_id} of job {job_def.name!r}: {'success' if result.success else 'FAILURE'}"
    )
    print(format_table(["Step", "Status", "Duration", "Detail"], rows))
    return 0 if result.success else 1


def cmd_job_list_versions(args: argparse.Namespace) -> int:
    job_def = load_job(args.file, args.module, args.job)
    rows = list_versions(
        job_def, run_config=load_run_config(args.config), instance=Instance.get(), diffs=args.diff
    )
    print(format_version_table(rows, with_reasons=args.reasons))
    if args.diff:
        diffs = format_version_diffs(rows)
        print("\n" + (diffs or "No code changes since the stored outputs."))
    return 0


def cmd_job_plan(args: argparse.Namespace) -> int:
    job_def = load_job(args.file, args.module, args.job)
    plan = plan_run(
        job_def,
        run_config=load_run_config(args.config),
        instance=Instance.get(),
        tags=_parse_tags(args.tags),
    )
    print(f"Memo plan of job {job_def.name!r}")
    print(plan)
    return 0


# --- nbflow runs ------------------------------------------------------------------------------


def _format_time(at: float | None) -> str:
    return "" if at is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def _format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _run_duration(run: Run) -> str:
    if run.start_time is None or run.end_time is None:
        return ""
    return _format_seconds(max(run.end_time - run.start_time, 0.0))


def _where(instance: Instance) -> str:
    return f"{instance.root / 'runs.db'} (set {HOME_ENV_VAR} to read another instance)"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def cmd_runs_list(args: argparse.Namespace) -> int:
    instance = Instance.get()
    runs = instance.get_runs(limit=args.limit + 1)
    if not runs:
        print(f"No runs recorded in {_where(instance)}.")
        return 0
    shown = runs[: args.limit]
    rows = [
        [r.run_id, r.job_name, r.status.value, _format_time(r.start_time), _run_duration(r)]
        for r in shown
    ]
    print(format_table(["Run ID", "Job", "Status", "Started", "Duration"], rows))
    if len(runs) > len(shown):
        print(f"(showing the newest {len(shown)}; --limit N shows more)")
    return 0


def find_run(instance: Instance, run_id: str) -> Run:
    """The run with id ``run_id``, or the only one whose id starts with it."""
    if not run_id.strip():
        raise CommandError("The run id is empty. Fix: pass a run id from `nbflow runs list`.")
    run = instance.get_run(run_id)
    if run is not None:
        return run
    matches = instance.get_runs_with_id_prefix(run_id, limit=6)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise CommandError(
            f"No run with id {run_id!r} (or an id starting with it) in {_where(instance)}. "
            "Fix: copy an id from `nbflow runs list`."
        )
    ids = ", ".join(r.run_id for r in matches[:5]) + (", ..." if len(matches) > 5 else "")
    raise CommandError(
        f"Run id prefix {run_id!r} matches {'more than 5' if len(matches) > 5 else len(matches)}"
        f" runs ({ids}). Fix: give more characters of the run id."
    )


def step_rows(events: Sequence[Event], run_finished: bool) -> list[list[str]]:
    """Step key, status, duration and detail of every step seen in ``events``, in order."""
    return [_step_row(record, run_finished) for record in StepStates(events).seen()]


def _step_row(record: StepRecord, run_finished: bool) -> list[str]:
    key, state, retried = record.step_key, record.state, record.attempts_note
    if state is StepState.SUCCEEDED:
        duration = record.compute_ms
        shown = _format_seconds(duration / 1000) if duration is not None else _elapsed(record)
        return [key, "succeeded", shown, retried]
    if state is StepState.FAILED:
        detail = f"{record.failure} ({retried})" if retried else record.failure
        return [key, "failed", _elapsed(record), detail]
    if state is StepState.UP_FOR_RETRY:
        return [key, "up for retry", _elapsed(record), record.message]
    if state is StepState.MEMOIZED:
        versions = ", ".join(f"{o}@{v[:8]}" for o, v in record.stored_versions.items())
        return [key, "memoized", "", versions]
    if state is StepState.SKIPPED:
        return [key, "skipped", "", record.skip_reason]
    return [key, "not finished" if run_finished else "running", "", ""]


def _elapsed(record: StepRecord) -> str:
    elapsed = record.elapsed_ms
    return "" if elapsed is None else _format_seconds(elapsed / 1000)


def cmd_runs_show(args: argparse.Namespace) -> int:
    instance = Instance.get()
    run = find_run(instance, args.run_id)
    events = instance.get_events(run.run_id)
    header = [
        ("Job", run.job_name),
        ("Status", run.status.value),
        ("Started", _format_time(run.start_time)),
        ("Ended", _format_time(run.end_time)),
        ("Duration", _run_duration(run)),
    ]
    if run.tags:
        header.append(("Tags", ", ".join(f"{k}={v}" for k, v in sorted(run.tags.items()))))
    if run.op_selection:
        header.append(("Op selection", ", ".join(run.op_selection)))
    print(f"Run {run.run_id}")
    for label, value in header:
        print(f"  {label + ':':<14}{value}")
    rows = step_rows(events, run.is_finished)
    print()
    print(format_table(["Step", "Status", "Duration", "Detail"], rows) if rows else "No steps ran.")
    for event in events:
        if event.step_key is None and isinstance(event.data, StepFailureData):
            print(f"Run error: {event.data.error}")
    return 0


# --- notebooks (nbflow.notebook is imported only when these commands run) ---------------------


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Show warnings as ``warning: ...`` lines on stderr, without a source line."""

    def show(message: Any, category: Any, *_: Any, **__: Any) -> None:
        print(f"warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("always", NbflowWarning)
        warnings.showwarning = show
        yield


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

    with _warnings_as_lines():
        run = run_notebook(
            args.notebook,
            _single_parameters(args.parameters),
            output_path=args.output,
            kernel_name=args.kernel,
        )
    print(
        f"Ran {run.notebook_path} with kernel {run.kernel_name!r} in {run.duration_s:.2f} s; "
        f"executed notebook: {run.output_path}"
    )
    rows = [[name, _notebook_value_text(value)] for name, value in run.results.items()]
    print(format_table(["Output", "Value"], rows) if rows else "The notebook yielded no results.")
    return 0


def cmd_notebook_sweep(args: argparse.Namespace) -> int:
    from nbflow.notebook.param_sweep import sweep

    with _warnings_as_lines():
        result = sweep(
            args.notebook,
            _grid_parameters(args.parameters),
            max_concurrent=args.max_concurrent,
            output_dir=args.output_dir,
            kernel_name=args.kernel,
        )
    print(result)
    return 0 if result.success else 1


def _notebook_commands(groups: Any) -> None:
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
        type=_positive_int,
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


def _target_args(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("-f", "--python-file", dest="file", help="Python file defining the job")
    where.add_argument("-m", "--module-name", dest="module", help="module defining the job")
    parser.add_argument("-j", "--job", help="job name (needed when several are defined)")
    parser.add_argument(
        "-c", "--config", action="append", default=[], help="run-config YAML (repeatable)"
    )
    parser.add_argument("--mode", help=argparse.SUPPRESS)  # accepted for legacy command lines


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nbflow", description="Run and inspect nbflow jobs.")
    groups = parser.add_subparsers(dest="group", required=True)
    job_parser = groups.add_parser("job", aliases=["pipeline"], help="run and inspect jobs")
    job_cmds = job_parser.add_subparsers(dest="command", required=True)
    execute = job_cmds.add_parser("execute", help="run a job in this process")
    _target_args(execute)
    execute.add_argument("--tags", help="run tags as a JSON object")
    execute.set_defaults(handler=cmd_job_execute)
    versions = job_cmds.add_parser(
        "list_versions", help="show each step output's version and whether it is stored"
    )
    _target_args(versions)
    versions.add_argument("--reasons", action="store_true", help="add why outputs must rerun")
    versions.add_argument(
        "--diff",
        action="store_true",
        help="print under the table a diff of the code that changed since the stored outputs",
    )
    versions.set_defaults(handler=cmd_job_list_versions)
    plan = job_cmds.add_parser(
        "plan",
        help="show which steps a memoized run would run and why, and the time it would save "
        f"(times from the runs recorded in ${HOME_ENV_VAR}, else ./.nbflow)",
    )
    _target_args(plan)
    plan.add_argument("--tags", help="run tags as a JSON object")
    plan.set_defaults(handler=cmd_job_plan)

    runs_parser = groups.add_parser(
        "runs", help=f"inspect the recorded runs (in ${HOME_ENV_VAR}, else ./.nbflow)"
    )
    runs_cmds = runs_parser.add_subparsers(dest="command", required=True)
    listing = runs_cmds.add_parser("list", help="the newest runs first")
    listing.add_argument(
        "--limit", type=_positive_int, default=20, help="how many runs to show (default 20)"
    )
    listing.set_defaults(handler=cmd_runs_list)
    show = runs_cmds.add_parser("show", help="one run and how each of its steps ended")
    show.add_argument("run_id", metavar="RUN_ID", help="a run id, or a unique prefix of one")
    show.set_defaults(handler=cmd_runs_show)
    _notebook_commands(groups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nbflow`` console script."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except (CommandError, NbflowError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
