"""``nbflow job``: run a job, list its versions, show its memo plan."""

from __future__ import annotations

import sys
import uuid
from typing import TYPE_CHECKING, Any

from nbflow.cli.interrupt import INTERRUPTED_EXIT_CODE
from nbflow.cli.loading import load_job, load_run_config, parse_tags, target_args
from nbflow.cli.progress import JSON, LINES, QUIET, open_display
from nbflow.execution.engine.step_states import StepState, StepStates
from nbflow.execution.views.list_versions import (
    format_version_diffs,
    format_version_table,
    list_versions,
)
from nbflow.execution.views.memo_plan import plan_run
from nbflow.execution.views.table import format_table
from nbflow.execution.views.user_traceback import user_traceback
from nbflow.storage.instance import HOME_ENV_VAR, Instance

if TYPE_CHECKING:
    import argparse

    from nbflow.execution.engine.result import ExecuteInProcessResult


def _print_failures(result: ExecuteInProcessResult, *, full: bool) -> None:
    """Print the traceback of each failed step (the user's frames unless ``full``)."""
    for record in StepStates(result.all_events).seen():
        if record.state is StepState.FAILED and record.error is not None:
            print(f"\nStep {record.step_key!r} failed: {record.error}")
            text = record.error.traceback
            print(
                text.rstrip("\n") if full else user_traceback(text, "--full-traceback shows them")
            )


def _print_summary(result: ExecuteInProcessResult, job_name: str) -> None:
    rows = [
        [
            s.step_key,
            s.status,
            "" if s.duration_ms is None else f"{s.duration_ms:.1f} ms",
            s.detail,
        ]
        for s in result.step_summaries()
    ]
    print(f"Run {result.run_id} of job {job_name!r}: {'success' if result.success else 'FAILURE'}")
    print(format_table(["Step", "Status", "Duration", "Detail"], rows))


def cmd_job_execute(args: argparse.Namespace) -> int:
    job_def = load_job(args.file, args.module, args.job)
    run_config = load_run_config(args.config)
    tags = parse_tags(args.tags)
    instance = Instance.get()
    run_id = str(uuid.uuid4())
    display = open_display(args.output_mode, job_def)
    instance.add_event_listener(run_id, display)
    try:
        with display:
            result = job_def.execute_in_process(
                run_config=run_config,
                tags=tags,
                raise_on_error=False,
                instance=instance,
                run_id=run_id,
            )
    except KeyboardInterrupt:
        print(
            f"Run {run_id} of job {job_def.name!r} canceled (Ctrl-C); recorded as CANCELED.",
            file=sys.stderr,
        )
        return INTERRUPTED_EXIT_CODE
    finally:
        instance.remove_event_listener(run_id, display)
    if args.output_mode != JSON:
        _print_summary(result, job_def.name)
        if not result.success:
            _print_failures(result, full=args.full_traceback)
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
        tags=parse_tags(args.tags),
    )
    print(f"Memo plan of job {job_def.name!r}")
    print(plan)
    return 0


def add_job_commands(groups: Any) -> None:
    """Register ``nbflow job execute|list_versions|plan`` (``pipeline`` is an alias)."""
    job_parser = groups.add_parser("job", aliases=["pipeline"], help="run and inspect jobs")
    job_cmds = job_parser.add_subparsers(dest="command", required=True)
    execute = job_cmds.add_parser("execute", help="run a job in this process")
    target_args(execute)
    execute.add_argument("--tags", help="run tags as a JSON object")
    shown = execute.add_mutually_exclusive_group()
    shown.add_argument(
        "-q",
        "--quiet",
        dest="output_mode",
        action="store_const",
        const=QUIET,
        help="print only the final summary and errors, not each step as it goes",
    )
    shown.add_argument(
        "--json",
        dest="output_mode",
        action="store_const",
        const=JSON,
        help="print each event of the run as one JSON object per line, and nothing else",
    )
    execute.add_argument(
        "--full-traceback",
        action="store_true",
        help="print failed steps' whole tracebacks, nbflow's own frames included",
    )
    execute.set_defaults(handler=cmd_job_execute, output_mode=LINES)
    versions = job_cmds.add_parser(
        "list_versions", help="show each step output's version and whether it is stored"
    )
    target_args(versions)
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
    target_args(plan)
    plan.add_argument("--tags", help="run tags as a JSON object")
    plan.set_defaults(handler=cmd_job_plan)
