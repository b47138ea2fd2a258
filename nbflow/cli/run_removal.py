"""``nbflow runs delete`` and ``nbflow runs wipe``: forget recorded runs (outputs stay)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import click

from nbflow.cli.command_error import CommandError
from nbflow.cli.duration_text import parse_duration
from nbflow.cli.invocation import invoke
from nbflow.cli.run_lookup import find_run
from nbflow.cli.time_text import format_time
from nbflow.storage.instance import Instance
from nbflow.storage.run import RunStatus
from nbflow.storage.runs_filter import RunsFilter

if TYPE_CHECKING:
    from types import SimpleNamespace


def cmd_runs_delete(args: SimpleNamespace) -> int:
    instance = Instance.get()
    run = find_run(instance, args.run_id)
    if run.status is RunStatus.STARTED and not args.force:
        raise CommandError(
            f"Run {run.run_id} of job {run.job_name!r} is still STARTED: deleting it would "
            "leave a running job writing events of no run. Fix: wait for it to end, or pass "
            "--force if its process is gone."
        )
    instance.delete_run(run.run_id)
    print(
        f"Deleted run {run.run_id} of job {run.job_name!r} ({run.status.value}) and its "
        "events; its stored outputs are kept."
    )
    return 0


def cmd_runs_wipe(args: SimpleNamespace) -> int:
    seconds = parse_duration(args.older_than, "--older-than")
    cutoff = time.time() - seconds
    instance = Instance.get()
    runs = instance.get_runs(filters=RunsFilter(created_before=cutoff))
    running = [run for run in runs if run.status is RunStatus.STARTED and not args.force]
    kept = {run.run_id for run in running}
    deleted = sum(instance.delete_run(run.run_id) for run in runs if run.run_id not in kept)
    s = "" if deleted == 1 else "s"
    print(
        f"Deleted {deleted} run{s} recorded before {format_time(cutoff)} (older than "
        f"{args.older_than.strip()}) and their events; stored outputs are kept."
    )
    if running:
        ids = ", ".join(run.run_id for run in running[:5]) + (", ..." if len(running) > 5 else "")
        print(
            f"Kept {len(running)} run{'' if len(running) == 1 else 's'} still STARTED ({ids}). "
            "Pass --force to delete them too if their processes are gone."
        )
    return 0


def add_removal_commands(runs: click.Group) -> None:
    """Register ``nbflow runs delete|wipe`` under ``nbflow runs``."""

    @runs.command("delete", help="Forget one run and its events (its stored outputs stay).")
    @click.argument("run_id", metavar="RUN_ID")
    @click.option("--force", is_flag=True, help="delete it even if it is still marked STARTED")
    def delete(**values: Any) -> int:
        return invoke(cmd_runs_delete, **values)

    @runs.command(
        "wipe", help="Forget the runs recorded before a time (their stored outputs stay)."
    )
    @click.option(
        "--older-than",
        required=True,
        metavar="DURATION",
        help="delete runs recorded longer ago than this, e.g. 30m, 12h, 7d, 2w, 1d12h",
    )
    @click.option("--force", is_flag=True, help="delete runs still marked STARTED too")
    def wipe(**values: Any) -> int:
        return invoke(cmd_runs_wipe, **values)
