"""``nbflow runs``: the recorded runs of the instance, and one run's steps."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from nbflow.cli.command_error import CommandError
from nbflow.cli.run_details import step_details
from nbflow.cli.run_json import run_record
from nbflow.cli.run_lookup import find_run as find_run
from nbflow.cli.run_lookup import history_file
from nbflow.cli.time_text import format_time, run_duration
from nbflow.events import Event, StepFailureData
from nbflow.execution.engine.step_states import StepRecord, StepState, StepStates
from nbflow.execution.views.run_history import shown_status
from nbflow.execution.views.seconds_text import format_seconds
from nbflow.execution.views.table import format_table
from nbflow.storage.instance import Instance
from nbflow.storage.run import RunStatus
from nbflow.storage.runs_filter import RunsFilter

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import SimpleNamespace

    import click


def _where(instance: Instance) -> str:
    return history_file(instance)


def parse_statuses(texts: Sequence[str]) -> tuple[RunStatus, ...]:
    """The run statuses named in ``--status`` options (any case; commas allowed)."""
    statuses: list[RunStatus] = []
    for text in texts:
        for name in text.split(","):
            try:
                status = RunStatus[name.strip().upper()]
            except KeyError:
                valid = ", ".join(s.value for s in RunStatus)
                raise CommandError(
                    f"--status {name.strip()!r} is not a run status. Valid statuses: {valid} "
                    "(any case; several separated by commas)."
                ) from None
            if status not in statuses:
                statuses.append(status)
    return tuple(statuses)


def cmd_runs_list(args: SimpleNamespace) -> int:
    instance = Instance.get()
    filters = RunsFilter(job_name=args.job, statuses=parse_statuses(args.status))
    runs = instance.get_runs(limit=args.limit + 1, filters=filters)
    shown = runs[: args.limit]
    if args.json:
        for run in shown:
            print(json.dumps(run_record(instance, run)))
        return 0
    if not runs:
        which = _filter_words(args.job, filters.statuses)
        print(f"No{which} runs recorded in {_where(instance)}.")
        return 0
    rows = [
        [r.run_id, r.job_name, shown_status(r), format_time(r.start_time), run_duration(r)]
        for r in shown
    ]
    print(format_table(["Run ID", "Job", "Status", "Started", "Duration"], rows))
    if len(runs) > len(shown):
        print(f"(showing the newest {len(shown)}; --limit N shows more)")
    return 0


def _filter_words(job: str | None, statuses: Sequence[RunStatus]) -> str:
    words = ""
    if statuses:
        words += " " + "/".join(s.value for s in statuses)
    if job is not None:
        words += f" {job!r}"
    return words


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


def cmd_runs_show(args: SimpleNamespace) -> int:
    instance = Instance.get()
    run = find_run(instance, args.run_id)
    events = instance.get_events(run.run_id)
    header = [
        ("Job", run.job_name),
        ("Status", shown_status(run)),
        ("Started", format_time(run.start_time)),
        ("Ended", format_time(run.end_time)),
        ("Duration", run_duration(run)),
    ]
    if run.abandoned:
        header.append(("Abandoned", f"{run.abandoned} (recorded as {run.status.value})"))
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
    details = step_details(events, full_traceback=args.full_traceback)
    if details:
        print()
        print("\n".join(details))
    return 0


def add_run_commands(root: click.Group) -> None:
    """Register ``nbflow runs list|show|report|delete|wipe``."""
    import click

    from nbflow.cli.command_helps import HELPS
    from nbflow.cli.command_tree import CommandGroup
    from nbflow.cli.invocation import invoke
    from nbflow.cli.options import PositiveInt
    from nbflow.cli.report_command import add_report_command
    from nbflow.cli.run_removal import add_removal_commands

    @root.group(
        "runs",
        cls=CommandGroup,
        help=HELPS["runs"],
    )
    def runs() -> None:
        pass

    @runs.command(
        "list", help="The newest runs first (a run whose process died shows as ABANDONED)."
    )
    @click.option(
        "--limit", type=PositiveInt(), default=20, help="how many runs to show (default 20)"
    )
    @click.option("--job", metavar="NAME", help="only the runs of this job")
    @click.option(
        "--status",
        multiple=True,
        metavar="STATUS",
        help="only runs in this status (any case; repeatable, or comma-separated): "
        + ", ".join(s.value for s in RunStatus),
    )
    @click.option(
        "--json",
        is_flag=True,
        help="one JSON object per run and line: id, job, status, start, end, duration, "
        "steps_run, steps_memoized, steps_failed",
    )
    def listing(**values: Any) -> int:
        return invoke(cmd_runs_list, **values)

    @runs.command(
        "show", help="One run: how each step ended, its logs, and the tracebacks of failures."
    )
    @click.argument("run_id", metavar="RUN_ID")
    @click.option(
        "--full-traceback",
        is_flag=True,
        help="show nbflow's frames in tracebacks too (by default only your code's)",
    )
    def show(**values: Any) -> int:
        return invoke(cmd_runs_show, **values)

    add_report_command(runs)
    add_removal_commands(runs)
