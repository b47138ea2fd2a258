"""The live view's log panel: each step's last 20 log events (kept by the step-state fold),
level shown, and what step processes printed."""

from __future__ import annotations

import logging
import time
from typing import Any

from nbflow import job, multiprocess_executor, op
from nbflow.events import Event, EventType, LogMessageData
from nbflow.execution.engine.step_states import LOG_TAIL, StepState, StepStates
from nbflow.notebook import live
from nbflow.notebook.step_logs import step_logs_html


def _event(kind: EventType, message: str, at: float, data: Any = None) -> Event:
    return Event(
        event_type=kind,
        run_id="r",
        job_name="j",
        message=message,
        timestamp=at,
        step_key="s",
        data=data,
    )


def test_the_fold_keeps_a_steps_last_log_lines_and_counts_them_all() -> None:
    states = StepStates([_event(EventType.STEP_START, "start", 1.0)])
    for n in range(LOG_TAIL + 5):
        states.add(_event(EventType.LOG_MESSAGE, f"line {n}", 2.0 + n, LogMessageData(20)))
    record = states["s"]
    assert record.state is StepState.RUNNING and record.message == "start"  # unchanged
    assert record.log_count == LOG_TAIL + 5
    assert [e.message for e in record.logs] == [f"line {n}" for n in range(5, LOG_TAIL + 5)]
    html = step_logs_html(states.seen(), started=1.0)
    assert f"last {LOG_TAIL} of {LOG_TAIL + 5}" in html
    assert "</b> line 4<" not in html and "</b> line 5<" in html and "</b> line 24<" in html
    assert "+6.00s" in html  # line 5, 5 s after the run started


@op
def printing(context: Any) -> int:
    context.log.info("loading rows")
    context.log.warning("3 rows were empty")
    print("printed by the step process")
    time.sleep(0.2)
    return 1


@job(executor_def=multiprocess_executor)
def printing_job() -> None:
    printing()


def test_step_process_runs_show_log_levels_and_printed_text() -> None:
    running = live.start(printing_job, executor="job", display_view=False)
    result = running.wait(timeout=120)
    assert result.success
    html = running.view.bundle()["text/html"]
    panel = html[html.index('class="nbflow-logs"') :]
    assert 'data-step="printing"' in panel
    level = logging.getLevelName(logging.WARNING)
    assert f'<b style="color:#b45309">{level}</b> 3 rows were empty' in panel
    assert ">INFO</b> loading rows" in panel
    assert panel.index("loading rows") < panel.index("3 rows were empty")
    assert "printed by the step process" in panel
