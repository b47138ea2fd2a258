"""``nbflow job plan``: run in a subprocess like a user would, on a job file and config files.

The instance is ``$NBFLOW_HOME`` in ``tmp_path``; the job's filesystem IO manager keeps its
outputs in that instance's storage folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nbflow import Instance
from nbflow.events import EventType
from nbflow.execution.views.seconds_text import format_seconds

JOB_FILE = Path(__file__).resolve().parent / "fixtures" / "plan_jobs.py"
HEADER = ["Step", "Plan", "Expected", "Reasons"]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "n1.yaml").write_text("ops:\n  slow:\n    config:\n      n: 1\n")
    (tmp_path / "n2.yaml").write_text("ops:\n  slow:\n    config:\n      n: 2\n")
    return tmp_path / "home"


def nbflow(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nbflow", *args],
        cwd=home.parent,
        env={**os.environ, "NBFLOW_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def plan(home: Path, *args: str) -> tuple[dict[str, list[str]], list[str]]:
    """The printed table's rows by step, and the lines after the table."""
    done = nbflow(home, "job", "plan", "-f", str(JOB_FILE), "-j", "sleepy", *args)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Memo plan of job 'sleepy'"
    table = [line for line in lines if line.startswith("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in table]
    assert cells[0] == HEADER
    rest = [line for line in lines[1:] if not line.startswith("|")]
    return {row[0]: row[1:] for row in cells[2:]}, rest


def test_without_history_every_step_runs_in_an_unknown_time(home: Path) -> None:
    rows, totals = plan(home, "-c", "n1.yaml")

    assert rows == {
        step: ["run", "unknown", "never run"] for step in ("slow", "quick", "side", "total")
    }
    assert totals[0] == "Expected run time: unknown (4 steps to run)"
    assert totals[1] == "Time saved: 0 s (0 steps memoized)"
    assert totals[2] == "Times: unknown, no earlier run of job 'sleepy' recorded."


def test_after_a_run_the_plan_shows_its_times_and_the_time_saved(home: Path) -> None:
    done = nbflow(home, "job", "execute", "-f", str(JOB_FILE), "-j", "sleepy", "-c", "n1.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    instance = Instance.local(home)
    (run,) = instance.get_runs()
    took = {
        e.step_key: e.data.duration_ms / 1000
        for e in instance.get_events(run.run_id)
        if e.event_type is EventType.STEP_SUCCESS and e.step_key is not None
    }

    rows, totals = plan(home, "-c", "n2.yaml")

    assert rows == {
        "slow": ["run", format_seconds(took["slow"]), "config key 'n' changed"],
        "quick": ["run", format_seconds(took["quick"]), "upstream 'slow.result' changed"],
        "side": ["memoized", format_seconds(took["side"]), ""],
        "total": ["run", format_seconds(took["total"]), "upstream 'quick.result' changed"],
    }
    expected = format_seconds(took["slow"] + took["quick"] + took["total"])
    assert totals[0] == f"Expected run time: {expected} (3 steps to run)"
    assert totals[1] == f"Time saved: {format_seconds(took['side'])} (1 step memoized)"
    assert "read from 1 earlier run of job 'sleepy'" in totals[2]


def test_a_job_that_is_not_memoized_is_an_error_with_the_fix(home: Path) -> None:
    done = nbflow(home, "job", "plan", "-f", str(JOB_FILE), "-j", "unmemoized")

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("error: Job 'unmemoized' does not run memoized")
    assert "Fix: give the job a version strategy" in done.stderr


def test_run_tags_can_turn_memoization_off(home: Path) -> None:
    done = nbflow(
        home,
        *("job", "plan", "-f", str(JOB_FILE), "-j", "sleepy"),
        *("--tags", '{"nbflow/is_memoized_run": "false"}'),
    )

    assert done.returncode == 2
    assert "its tags set nbflow/is_memoized_run='false'" in done.stderr
