"""The live progress line ``nbflow job execute`` draws on a terminal (with ``rich``): steps
done out of the plan's, the step running and the time so far, redrawn in place under the
step lines. Imported only when stdout is a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from nbflow.cli.progress import SHOWN_EVENTS, Display, LineDisplay
from nbflow.errors import NbflowError
from nbflow.events import Event, EventType
from nbflow.execution.engine.plan import build_plan
from nbflow.execution.engine.step_states import StepState

if TYPE_CHECKING:
    from types import TracebackType

    from nbflow.definitions.job import JobDefinition


def _planned_steps(job_def: JobDefinition) -> int | None:
    try:
        return len(build_plan(job_def, None, job_def.op_selection).steps)
    except NbflowError:  # the run reports it
        return None


class LiveDisplay(LineDisplay):
    """Step lines printed above a progress line that is redrawn in place."""

    def __init__(self, out: TextIO, job_def: JobDefinition) -> None:
        super().__init__(out)
        self._job_name = job_def.name
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(file=out),
            transient=True,
        )
        self._task = self._progress.add_task(f"job {job_def.name!r}", total=_planned_steps(job_def))

    def __enter__(self) -> Display:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def __call__(self, event: Event) -> None:
        super().__call__(event)
        kind = event.event_type
        if event.step_key is None or kind is EventType.LOG_MESSAGE or kind not in SHOWN_EVENTS:
            return
        records = list(self.states)
        done = sum(r.state.is_final for r in records)
        running = [r.step_key for r in records if r.state is StepState.RUNNING]
        total = self._progress.tasks[0].total
        grown = None if total is None else max(total, len(records))
        now = f": {', '.join(running)}" if running else ""
        self._progress.update(
            self._task, completed=done, total=grown, description=f"job {self._job_name!r}{now}"
        )

    def write(self, line: str) -> None:
        self._progress.console.print(line, markup=False, highlight=False, soft_wrap=True)
