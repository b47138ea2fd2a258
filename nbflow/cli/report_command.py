"""``nbflow runs report RUN_ID -o run.html``: a recorded run as a self-contained HTML page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbflow.execution.views.run_report import RunReport
from nbflow.storage.instance import Instance

if TYPE_CHECKING:
    import argparse


def cmd_runs_report(args: argparse.Namespace) -> int:
    report = RunReport.of_run(Instance.get(), args.run_id)
    path = args.output or f"run-{report.run.run_id[:8]}.html"
    written = report.write(path)
    print(f"Wrote the report of run {report.run.run_id} ({report.run.job_name}) to {written}")
    return 0


def add_report_command(runs_cmds: Any) -> None:
    """Register ``nbflow runs report`` in the ``runs`` command group."""
    report = runs_cmds.add_parser(
        "report",
        help="write one run as an HTML page (DAG, timeline, steps, logs, tracebacks); "
        "it opens offline",
    )
    report.add_argument("run_id", metavar="RUN_ID", help="a run id, or a unique prefix of one")
    report.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        default=None,
        help="the file to write (default: run-<id>.html in the current folder)",
    )
    report.set_defaults(handler=cmd_runs_report)
