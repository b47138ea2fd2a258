"""``nbflow runs report RUN_ID -o run.html``: a recorded run as a self-contained HTML page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from nbflow.cli.invocation import invoke
from nbflow.execution.views.run_report import RunReport
from nbflow.storage.instance import Instance

if TYPE_CHECKING:
    from types import SimpleNamespace


def cmd_runs_report(args: SimpleNamespace) -> int:
    report = RunReport.of_run(Instance.get(), args.run_id)
    path = args.output or f"run-{report.run.run_id[:8]}.html"
    written = report.write(path)
    print(f"Wrote the report of run {report.run.run_id} ({report.run.job_name}) to {written}")
    return 0


def add_report_command(runs: click.Group) -> None:
    """Register ``nbflow runs report`` in the ``runs`` command group."""

    @runs.command(
        "report",
        help="Write one run as an HTML page (DAG, timeline, steps, logs, tracebacks); "
        "it opens offline.",
    )
    @click.argument("run_id", metavar="RUN_ID")
    @click.option(
        "-o",
        "--output",
        metavar="PATH",
        default=None,
        help="the file to write (default: run-<id>.html in the current folder)",
    )
    def report(**values: Any) -> int:
        return invoke(cmd_runs_report, **values)
