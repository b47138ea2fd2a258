"""The HTML run report: every step, an inline SVG DAG and timeline, logs, tracebacks, offline.

Runs are real (in-process and multiprocess, recorded in a SQLite instance); log messages are
stored through the instance's public API (``store_events``), as the engine stores them.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from typing import TYPE_CHECKING

import mp_jobs
import pytest

from nbflow import Event, EventType, Instance, execute_job, job, op
from nbflow.errors import RunHistoryError, RunNotFoundError
from nbflow.events import CapturedOutputData, LogMessageData
from nbflow.execution.views.run_history import recent_runs
from nbflow.execution.views.run_report import RunReport
from nbflow.execution.views.run_timeline import build_timeline

if TYPE_CHECKING:
    from pathlib import Path


@op
def load_numbers() -> list[int]:
    return [1, 2, 3]


@op
def total(numbers: list[int]) -> int:
    return sum(numbers)


@op
def explode(numbers: list[int]) -> int:
    raise ValueError(f"cannot explode {len(numbers)} numbers")


@op
def after_explode(value: int) -> int:
    return value


@job
def report_job() -> None:
    numbers = load_numbers()
    total(numbers)
    after_explode(explode(numbers))


def _log(instance: Instance, run_id: str, step: str, text: str, level: int) -> None:
    instance.store_events(
        [
            Event(
                EventType.LOG_MESSAGE,
                "report_job",
                step,
                text,
                LogMessageData(level, "nbflow"),
                run_id=run_id,
            ),
            Event(
                EventType.LOGS_CAPTURED,
                "report_job",
                step,
                "captured",
                CapturedOutputData(stdout=f"printed by {step}\n", dropped_chars=12),
                run_id=run_id,
            ),
        ]
    )


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Instance, str]:
    instance = Instance.local(tmp_path / "home")
    result = report_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    _log(instance, result.run_id, "total", "summing <three> numbers", logging.INFO)
    _log(instance, result.run_id, "explode", "about to fail", logging.WARNING)
    return instance, result.run_id


class _Refs(HTMLParser):
    """Every attribute value and every <script>/<link> tag of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.values += [v for k, v in attrs if v is not None and k != "xmlns"]


def assert_self_contained(html: str) -> None:
    refs = _Refs()
    refs.feed(html)
    assert "script" not in refs.tags and "link" not in refs.tags and "img" not in refs.tags
    external = [v for v in refs.values if re.search(r"(https?:)?//", v)]
    assert external == []
    assert not re.search(r"url\((?!#)|@import", html)  # only url(#id) of the page itself
    without_namespaces = html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert not re.search(r"https?://", without_namespaces)


def test_report_of_a_recorded_run_has_every_part(recorded: tuple[Instance, str]) -> None:
    instance, run_id = recorded
    html = RunReport.of_run(instance, run_id).to_html()
    assert html.startswith("<!DOCTYPE html>")
    for step in ("load_numbers", "total", "explode", "after_explode"):
        assert f'data-step="{step}"' in html  # a row of the step table
        assert f"node-{step}" in html  # a node of the DAG
    assert html.count("<svg") == 2  # the DAG and the timeline, inline
    assert 'class="nbflow-dag' in html and 'class="nbflow-timeline"' in html
    # the traceback of the failed step, with the user's line
    assert "ValueError: cannot explode 3 numbers" in html
    assert "Traceback (most recent call last)" in html
    assert "raise ValueError(f&quot;cannot explode {len(numbers)} numbers&quot;)" in html
    # logs per step, escaped, with their level; captured output with its note
    assert "summing &lt;three&gt; numbers" in html
    assert "<b>WARNING</b>" in html and "about to fail" in html
    assert "printed by total" in html and "12 characters left out" in html
    # edges rebuilt from the inputs the steps loaded
    assert "load_numbers.result → numbers" in html
    assert_self_contained(html)


def test_result_to_html_writes_the_same_page(tmp_path: Path) -> None:
    result = report_job.execute_in_process(raise_on_error=False)
    target = tmp_path / "deep" / "run.html"
    html = result.to_html(target)
    assert target.read_text(encoding="utf-8") == html
    assert "after_explode" in html and "skipped" in html  # the plan's step that never ran
    assert "ValueError: cannot explode 3 numbers" in html
    assert_self_contained(html)


def test_report_of_a_multiprocess_run_puts_steps_in_their_process_rows(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    result = execute_job(
        mp_jobs.sleepers(2, 0.3),
        run_config=mp_jobs.recorder_config(tmp_path, max_concurrent=2),
        instance=instance,
    )
    timeline = build_timeline(instance.get_events(result.run_id))
    bars = {bar.step_key: bar for bar in timeline.bars}
    assert set(bars) == {"sleep_0", "sleep_1"}
    assert bars["sleep_0"].pid != bars["sleep_1"].pid
    assert {b.pid for b in bars.values()} == {result.output_for_node(s) for s in bars}
    assert all(b.launched is not None and b.launched <= b.start for b in bars.values())
    html = result.to_html()
    for bar in bars.values():
        assert f'data-pid="{bar.pid}"' in html and f"process {bar.pid}" in html


def test_cli_runs_report_writes_the_file(recorded: tuple[Instance, str], tmp_path: Path) -> None:
    instance, run_id = recorded
    target = tmp_path / "x.html"
    env = {**os.environ, "NBFLOW_HOME": str(instance.root)}
    done = subprocess.run(
        [sys.executable, "-m", "nbflow", "runs", "report", run_id[:10], "-o", str(target)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert str(target) in done.stdout
    html = target.read_text(encoding="utf-8")
    assert "explode" in html and "summing &lt;three&gt; numbers" in html
    missing = subprocess.run(
        [sys.executable, "-m", "nbflow", "runs", "report", "no-such-run", "-o", str(target)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert missing.returncode != 0
    assert "No run with id 'no-such-run'" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_recent_runs_count_run_memoized_and_failed_steps(recorded: tuple[Instance, str]) -> None:
    instance, failed_id = recorded
    ok = mp_jobs.memo_job.execute_in_process(instance=instance)
    again = mp_jobs.memo_job.execute_in_process(instance=instance)
    rows = recent_runs(instance)
    assert [r.run_id for r in rows] == [again.run_id, ok.run_id, failed_id]
    counts = [(r.job, r.status, r.steps_run, r.steps_memoized, r.steps_failed) for r in rows]
    assert counts == [
        ("memo_job", "SUCCESS", 0, 3, 0),
        ("memo_job", "SUCCESS", 3, 0, 0),
        ("report_job", "FAILURE", 3, 0, 1),
    ]
    assert [r.run_id for r in recent_runs(instance, limit=1, job=report_job)] == [failed_id]
    assert recent_runs(instance, limit=1) == rows[:1]


def test_bad_arguments_get_clear_errors(recorded: tuple[Instance, str], tmp_path: Path) -> None:
    instance, run_id = recorded
    with pytest.raises(RunHistoryError, match="limit=0 cannot be used: expected a positive int"):
        recent_runs(instance, limit=0)
    with pytest.raises(RunHistoryError, match="job=3 cannot be used"):
        recent_runs(instance, job=3)  # type: ignore[arg-type]
    with pytest.raises(RunNotFoundError, match="No run with id 'nope'"):
        RunReport.of_run(instance, "nope")
    with pytest.raises(RunHistoryError, match="not a folder"):
        RunReport.of_run(instance, run_id).write(tmp_path)
