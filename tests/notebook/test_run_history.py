"""``nbn.runs()`` (recent runs as a DataFrame) and ``nbn.show_run`` (one run, inline)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import mp_jobs
import pytest

import nbflow.notebook as nbn
from nbflow import Event, EventType, Instance, job, op
from nbflow.errors import RunNotFoundError
from nbflow.events import LogMessageData

if TYPE_CHECKING:
    from pathlib import Path


@op
def start_value() -> int:
    return 2


@op
def fail_on(value: int) -> int:
    raise RuntimeError(f"refusing {value}")


@job
def half_broken() -> None:
    fail_on(start_value())


def test_runs_lists_recent_runs_with_step_counts(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    broken = half_broken.execute_in_process(instance=instance, raise_on_error=False)
    first = mp_jobs.memo_job.execute_in_process(instance=instance)
    cached = mp_jobs.memo_job.execute_in_process(instance=instance)
    frame = nbn.runs(instance=instance)
    assert list(frame.columns) == [
        "run_id",
        "job",
        "status",
        "start",
        "duration_s",
        "steps_run",
        "steps_memoized",
        "steps_failed",
    ]
    assert frame["run_id"].tolist() == [cached.run_id, first.run_id, broken.run_id]
    assert frame[["steps_run", "steps_memoized", "steps_failed"]].values.tolist() == [
        [0, 3, 0],
        [3, 0, 0],
        [2, 0, 1],
    ]
    assert frame["status"].tolist() == ["SUCCESS", "SUCCESS", "FAILURE"]
    assert str(frame["start"].dtype).startswith("datetime64")
    assert (frame["duration_s"] >= 0).all()
    only = nbn.runs(limit=5, job="half_broken", instance=instance)
    assert only["run_id"].tolist() == [broken.run_id]
    assert len(nbn.runs(limit=1, instance=instance)) == 1


def test_runs_reads_the_default_instance_from_nbflow_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NBFLOW_HOME", str(tmp_path / "home"))
    result = half_broken.execute_in_process(instance=Instance.get(), raise_on_error=False)
    assert nbn.runs()["run_id"].tolist() == [result.run_id]
    assert "fail_on" in nbn.show_run(result.run_id[:8])._repr_html_()


def test_show_run_html_names_the_steps_logs_and_traceback(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    result = half_broken.execute_in_process(instance=instance, raise_on_error=False)
    instance.store_events(
        [
            Event(
                EventType.LOG_MESSAGE,
                "half_broken",
                "start_value",
                "picked two",
                LogMessageData(logging.INFO),
                run_id=result.run_id,
            )
        ]
    )
    shown = nbn.show_run(result.run_id, instance=instance)
    html = shown._repr_html_()
    assert html.startswith('<div class="nbflow-run-report">')
    for step in ("start_value", "fail_on"):
        assert f'data-step="{step}"' in html
    assert "<svg" in html and "RuntimeError: refusing 2" in html and "picked two" in html
    assert "fail_on  failed" in repr(shown)
    saved = shown.save(tmp_path / "run.html")
    assert "refusing 2" in saved.read_text(encoding="utf-8")
    with pytest.raises(RunNotFoundError, match="No run with id 'missing'"):
        nbn.show_run("missing", instance=instance)
