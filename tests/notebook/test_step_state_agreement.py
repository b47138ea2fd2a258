"""Retried steps read the same everywhere: result summaries, ``nbflow runs show``, graph
views, ``result_frame`` and the live view all come from one fold of the run's events."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbflow.notebook as nbn
from nbflow import EventType, Instance, RetryPolicy, job, op
from nbflow.cli import step_rows
from nbflow.execution.engine.result import ExecuteInProcessResult
from nbflow.execution.engine.step_states import StepState, StepStates
from nbflow.execution.views.graph_view import FAILED, RUNNING, SUCCEEDED, graph_view
from nbflow.notebook.live import LiveView

ATTEMPTS: dict[str, int] = {}


@op(retry_policy=RetryPolicy(max_retries=2))
def flaky() -> int:
    """Fails on its first attempt only."""
    ATTEMPTS["flaky"] = ATTEMPTS.get("flaky", 0) + 1
    if ATTEMPTS["flaky"] == 1:
        raise RuntimeError("first attempt fails")
    return 1


@op(retry_policy=RetryPolicy(max_retries=2))
def doomed() -> int:
    """Fails on every attempt: three in all."""
    raise RuntimeError("always fails")


@op
def after(x: int) -> int:
    return x + 1


@job
def retrying() -> None:
    after(flaky())
    doomed()


def run(instance: Instance | None = None) -> ExecuteInProcessResult:
    ATTEMPTS.clear()
    return retrying.execute_in_process(instance=instance, raise_on_error=False)


def table(stdout: str) -> dict[str, list[str]]:
    lines = [line for line in stdout.splitlines() if line.startswith("|")]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines[2:]]
    return {row[0]: row[1:] for row in rows}


def runs_show(home: Path, run_id: str) -> dict[str, list[str]]:
    env = {**os.environ, "NBFLOW_HOME": os.fspath(home)}
    done = subprocess.run(
        [sys.executable, "-m", "nbflow", "runs", "show", run_id],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return table(done.stdout)


EXPECTED = {
    "flaky": ("succeeded", "2 attempts"),
    "after": ("succeeded", ""),
    "doomed": ("failed", "RuntimeError: always fails (3 attempts)"),
}


def test_a_retried_step_and_one_out_of_retries_read_the_same_everywhere(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = run(Instance.local(home))

    summaries = {s.step_key: (s.status, s.detail) for s in result.step_summaries()}
    shown = {key: (cells[0], cells[2]) for key, cells in runs_show(home, result.run_id).items()}
    frame = nbn.result_frame(result)
    framed = dict(zip(frame["step"], zip(frame["status"], frame["note"], strict=True), strict=True))
    nodes = {n.key: n for n in graph_view(result).nodes}

    assert summaries == EXPECTED
    assert shown == EXPECTED
    assert framed == EXPECTED
    assert {key: n.status for key, n in nodes.items()} == {
        "flaky": SUCCEEDED,
        "after": SUCCEEDED,
        "doomed": FAILED,
    }
    assert "succeeded in " in nodes["flaky"].tooltip
    assert nodes["flaky"].tooltip.endswith("(2 attempts)")
    assert "(3 attempts): RuntimeError: always fails" in nodes["doomed"].tooltip
    attempts = {s.step_key: s.attempts for s in result.step_summaries()}
    assert attempts == {"flaky": 2, "after": 1, "doomed": 3}


def test_the_fold_follows_a_retry_step_by_step() -> None:
    result = run()
    events = [e for e in result.all_events if e.step_key == "flaky"]
    states = StepStates()
    seen: list[tuple[StepState, int]] = []
    for event in events:
        states.add(event)
        seen.append((states.state("flaky"), states["flaky"].attempts))

    kinds = [e.event_type for e in events]
    assert seen[kinds.index(EventType.STEP_START)] == (StepState.RUNNING, 1)
    assert seen[kinds.index(EventType.STEP_UP_FOR_RETRY)] == (StepState.UP_FOR_RETRY, 1)
    assert seen[kinds.index(EventType.STEP_RESTARTED)] == (StepState.RUNNING, 2)
    assert seen[-1] == (StepState.SUCCEEDED, 2)
    assert states["flaky"].retries == 1


def test_a_retry_under_way_reads_the_same_in_runs_show_and_the_graph() -> None:
    result = run()
    events = result.all_events
    restarted = next(i for i, e in enumerate(events) if e.event_type is EventType.STEP_RESTARTED)
    up_for_retry = next(
        i for i, e in enumerate(events) if e.event_type is EventType.STEP_UP_FOR_RETRY
    )
    view = graph_view(result.plan)

    waiting = events[: up_for_retry + 1]
    rows = {row[0]: row[1:] for row in step_rows(waiting, run_finished=False)}
    node = {n.key: n for n in view.with_events(waiting).nodes}["flaky"]
    assert rows["flaky"][0] == "up for retry"
    assert "(attempt 2)" in rows["flaky"][2]
    assert node.status == RUNNING and node.tooltip.endswith("up for retry (attempt 2)")

    again = events[: restarted + 1]  # the second attempt runs
    rows = {row[0]: row[1:] for row in step_rows(again, run_finished=False)}
    node = {n.key: n for n in view.with_events(again).nodes}["flaky"]
    assert rows["flaky"][0] == "running"
    assert node.status == RUNNING and node.tooltip.endswith("running (attempt 2)")


def test_the_live_view_fed_one_event_at_a_time_ends_as_the_results_graph() -> None:
    result = run()
    live = LiveView(graph_view(result.plan))
    for event in result.all_events:
        live.on_event(event)
        live.progress()  # folded one event at a time, as a slow redraw loop would

    shown: dict[str, Any] = {n.key: (n.status, n.tooltip) for n in live.current().nodes}
    assert shown == {n.key: (n.status, n.tooltip) for n in graph_view(result).nodes}
