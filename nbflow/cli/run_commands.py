"""``nbflow runs``: the recorded runs of the instance, and one run's steps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbflow.cli.command_error import CommandError
from nbflow.cli.loading import positive_int
from nbflow.cli.report_command import add_report_command
from nbflow.cli.time_text import format_seconds, format_time, run_duration
from nbflow.events import Event, StepFailureData
from nbflow.execution.engine.step_states import StepRecord, StepState, StepStates
from nbflow.execution.views.table import format_table
from nbflow.storage.instance import HOME_ENV_VAR, Instance

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from nbflow.storage.run import Run


def _where(instance: Instance) -> str:
    return f"{instance.root / 'runs.db'} (set {HOME_ENV_VAR} to read another instance)"


def cmd_runs_list(args: argparse.Namespace) -> int:
    instance = Instance.get()
    runs = instance.get_runs(limit=args.limit + 1)
    if not runs:
        print(f"No runs recorded in {_where(instance)}.")
        return 0
    shown = runs[: args.limit]
    rows = [
        [r.run_id, r.job_name, r.status.value, format_time(r.start_time), run_duration(r)]
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
        shown = format_seconds(duration / 1000) if duration is not None else _elapsed(record)
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
    return "" if elapsed is None else format_seconds(elapsed / 1000)


def cmd_runs_show(args: argparse.Namespace) -> int:
    instance = Instance.get()
    run = find_run(instance, args.run_id)
    events = instance.get_events(run.run_id)
    header = [
        ("Job", run.job_name),
        ("Status", run.status.value),
        ("Started", format_time(run.start_time)),
        ("Ended", format_time(run.end_time)),
        ("Duration", run_duration(run)),
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


def add_run_commands(groups: Any) -> None:
    """Register ``nbflow runs list|show``."""
    runs_parser = groups.add_parser(
        "runs", help=f"inspect the recorded runs (in ${HOME_ENV_VAR}, else ./.nbflow)"
    )
    runs_cmds = runs_parser.add_subparsers(dest="command", required=True)
    listing = runs_cmds.add_parser("list", help="the newest runs first")
    listing.add_argument(
        "--limit", type=positive_int, default=20, help="how many runs to show (default 20)"
    )
    listing.set_defaults(handler=cmd_runs_list)
    show = runs_cmds.add_parser("show", help="one run and how each of its steps ended")
    show.add_argument("run_id", metavar="RUN_ID", help="a run id, or a unique prefix of one")
    show.set_defaults(handler=cmd_runs_show)
    add_report_command(runs_cmds)
