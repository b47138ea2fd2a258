"""``show_run(run_id)``: one recorded run in a notebook, as the HTML run report shows it.

The DAG coloured by how each step went, the timeline of steps per process, the step table,
tracebacks and logs (the sections of :class:`~nbflow.execution.views.run_report.RunReport`).
No pandas needed.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from nbflow.execution.views.run_report import RunReport
from nbflow.storage.instance import Instance

if TYPE_CHECKING:
    import os
    from pathlib import Path


class RunDisplay:
    """A recorded run shown inline (``_repr_html_``), with a plain-text account otherwise.

    Attributes:
        report: the :class:`RunReport` drawn.
    """

    def __init__(self, report: RunReport) -> None:
        self.report = report

    def _repr_html_(self) -> str:
        try:
            return self.report.fragment_html()
        except Exception as exc:  # a display must never print a traceback into the cell
            return f"<pre>{escape(repr(self))}\n(could not draw the run: {escape(repr(exc))})</pre>"

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the run's self-contained HTML report to ``path``."""
        return self.report.write(path)

    def __repr__(self) -> str:
        run = self.report.run
        states = self.report.step_states()
        lines = [f"Run {run.run_id} of {run.job_name}: {run.status.value}"]
        lines += [f"  {key}  {states.state(key).value}" for key in self.report.steps()]
        return "\n".join(lines)


def show_run(run_id: str, instance: Instance | None = None) -> RunDisplay:
    """Run ``run_id`` (or the only run whose id starts with it), displayed inline.

    Args:
        run_id: a run id from :func:`nbflow.notebook.runs`, or a unique prefix of one.
        instance: where the run is recorded; the default persistent instance when ``None``.

    Raises:
        RunNotFoundError: no such run (or several start with the prefix).
    """
    found_in = instance if instance is not None else Instance.get()
    return RunDisplay(RunReport.of_run(found_in, run_id))
