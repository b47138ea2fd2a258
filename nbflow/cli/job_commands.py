"""``nbflow job``: run a job, list the jobs of a file, list a job's versions, show its memo
plan, write its config skeleton."""

from __future__ import annotations

import sys
import uuid
from typing import TYPE_CHECKING, Any

import click

from nbflow.cli.command_helps import HELPS
from nbflow.cli.command_tree import CommandGroup
from nbflow.cli.interrupt import INTERRUPTED_EXIT_CODE
from nbflow.cli.invocation import invoke
from nbflow.cli.job_listing import cmd_job_list
from nbflow.cli.job_pointer import EXECUTOR_NAMES, job_pointer
from nbflow.cli.loading import load_job, load_job_attribute, load_run_config, parse_tags
from nbflow.cli.options import check_where, job_options, where_options
from nbflow.cli.progress import JSON, LINES, QUIET, open_display
from nbflow.cli.scaffold_config import cmd_job_scaffold_config
from nbflow.execution.engine.step_states import StepState, StepStates
from nbflow.execution.execute_job import execute_job
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
    from collections.abc import Sequence
    from types import SimpleNamespace

    from nbflow.definitions.job import JobDefinition
    from nbflow.execution.engine.result import ExecuteInProcessResult


def print_failures(result: ExecuteInProcessResult, *, full: bool) -> None:
    """Print the traceback of each failed step (the user's frames unless ``full``)."""
    for record in StepStates(result.all_events).seen():
        if record.state is StepState.FAILED and record.error is not None:
            print(f"\nStep {record.step_key!r} failed: {record.error}")
            text = record.error.traceback
            print(
                text.rstrip("\n") if full else user_traceback(text, "--full-traceback shows them")
            )


def print_summary(result: ExecuteInProcessResult, job_name: str) -> None:
    """The run's outcome line and a table of its steps."""
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


def parse_op_selection(texts: Sequence[str]) -> list[str] | None:
    """The op selection queries of ``--op-selection`` options (commas allowed), or ``None``."""
    queries = [q.strip() for text in texts for q in text.split(",") if q.strip()]
    return queries or None


def _run(
    args: SimpleNamespace, job_def: JobDefinition, attribute: str, instance: Instance, run_id: str
) -> Any:
    """Run the job: in this process for the in-process executor, else with ``execute_job``
    and the job's executor (or ``--executor``), steps rebuilding it from the same file."""
    run_config = load_run_config(args.config, args.config_json)
    tags = parse_tags(args.tags)
    op_selection = parse_op_selection(args.op_selection)
    executor = args.executor or job_def.executor_def.name
    if executor == "in_process":
        return job_def.execute_in_process(
            run_config=run_config,
            tags=tags,
            raise_on_error=False,
            instance=instance,
            run_id=run_id,
            op_selection=op_selection,
            partition_key=args.partition,
        )
    return execute_job(
        job_pointer(args.file, args.module, attribute, args.executor),
        instance=instance,
        run_config=run_config,
        tags=tags,
        raise_on_error=False,
        op_selection=op_selection,
        partition_key=args.partition,
        run_id=run_id,
    )


def cmd_job_execute(args: SimpleNamespace) -> int:
    check_where(args.file, args.module)
    attribute, job_def = load_job_attribute(args.file, args.module, args.job)
    instance = Instance.get()
    run_id = str(uuid.uuid4())
    display = open_display(args.output_mode, job_def)
    instance.add_event_listener(run_id, display)
    try:
        with display:
            result = _run(args, job_def, attribute, instance, run_id)
    except KeyboardInterrupt:
        print(
            f"Run {run_id} of job {job_def.name!r} canceled (Ctrl-C); recorded as CANCELED.",
            file=sys.stderr,
        )
        return INTERRUPTED_EXIT_CODE
    finally:
        instance.remove_event_listener(run_id, display)
    if args.output_mode != JSON:
        print_summary(result, job_def.name)
        if not result.success:
            print_failures(result, full=args.full_traceback)
    return 0 if result.success else 1


def cmd_job_list_versions(args: SimpleNamespace) -> int:
    check_where(args.file, args.module)
    job_def = load_job(args.file, args.module, args.job)
    rows = list_versions(
        job_def,
        run_config=load_run_config(args.config, args.config_json),
        instance=Instance.get(),
        diffs=args.diff,
    )
    print(format_version_table(rows, with_reasons=args.reasons))
    if args.diff:
        diffs = format_version_diffs(rows)
        print("\n" + (diffs or "No code changes since the stored outputs."))
    return 0


def cmd_job_plan(args: SimpleNamespace) -> int:
    check_where(args.file, args.module)
    job_def = load_job(args.file, args.module, args.job)
    plan = plan_run(
        job_def,
        run_config=load_run_config(args.config, args.config_json),
        instance=Instance.get(),
        tags=parse_tags(args.tags),
    )
    print(f"Memo plan of job {job_def.name!r}")
    print(plan)
    return 0


_TAGS = click.option("--tags", metavar="JSON", help="run tags as a JSON object")


def _add_execute(jobs: click.Group) -> None:
    @jobs.command("execute", help="Run a job with its own executor (or --executor).")
    @job_options()
    @_TAGS
    @click.option(
        "--op-selection",
        multiple=True,
        metavar="QUERIES",
        help="run only these ops: names or queries such as 'op+', '*op', 'a,b' (repeatable)",
    )
    @click.option(
        "--executor",
        type=click.Choice(EXECUTOR_NAMES),
        help="run the steps with this executor instead of the job's own (its default)",
    )
    @click.option("--partition", metavar="KEY", help="the partition to run, for a partitioned job")
    @click.option(
        "-q",
        "--quiet",
        "output_mode",
        flag_value=QUIET,
        help="print only the final summary and errors, not each step as it goes",
    )
    @click.option(
        "--json",
        "output_mode",
        flag_value=JSON,
        help="print each event of the run as one JSON object per line, and nothing else",
    )
    @click.option(
        "--full-traceback",
        is_flag=True,
        help="print failed steps' whole tracebacks, nbflow's own frames included",
    )
    def execute(**values: Any) -> int:
        values["output_mode"] = values["output_mode"] or LINES
        return invoke(cmd_job_execute, **values)


def add_job_commands(root: click.Group) -> None:
    """Register ``nbflow job execute|list|list_versions|plan|scaffold-config`` (``pipeline``
    is an alias of ``job``)."""

    @root.group(
        "job",
        cls=CommandGroup,
        aliases={"list-versions": "list_versions"},
        help=HELPS["job"],
    )
    def jobs() -> None:
        pass

    _add_execute(jobs)

    @jobs.command("list", help="List the jobs a file or module defines.")
    @where_options("jobs")
    def listing(**values: Any) -> int:
        return invoke(cmd_job_list, records_runs=False, **values)

    @jobs.command("list_versions", help="Show each step output's version and whether it is stored.")
    @job_options()
    @click.option("--reasons", is_flag=True, help="add why outputs must rerun")
    @click.option(
        "--diff",
        is_flag=True,
        help="print under the table a diff of the code that changed since the stored outputs",
    )
    def versions(**values: Any) -> int:
        return invoke(cmd_job_list_versions, **values)

    @jobs.command(
        "plan",
        help="Show which steps a memoized run would run and why, and the time it would save "
        f"(times from the runs recorded in ${HOME_ENV_VAR}, else ./.nbflow).",
    )
    @job_options()
    @_TAGS
    def plan(**values: Any) -> int:
        return invoke(cmd_job_plan, **values)

    @jobs.command(
        "scaffold-config",
        help="Print a YAML run config of the job: defaults filled in, required fields marked.",
    )
    @job_options(with_config=False)
    def scaffold(**values: Any) -> int:
        return invoke(cmd_job_scaffold_config, records_runs=False, **values)
