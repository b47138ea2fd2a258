"""``nbflow runs list`` / ``nbflow runs show`` and ``nbflow job execute`` recording its runs.

Every command runs in a subprocess, like a user's, with ``NBFLOW_HOME`` set to ``tmp_path``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nbflow import Instance, RunStatus
from nbflow.storage.run import Run

JOBS = """
from nbflow import SourceHashVersionStrategy, job, op, versioned_filesystem_io_manager


@op
def one():
    return 1


@op
def boom(x):
    raise RuntimeError(f"kaboom {x}")


@op
def after(x):
    return x


@job
def fine():
    one()


@job
def broken():
    after(boom(one()))


@job(
    version_strategy=SourceHashVersionStrategy(),
    resource_defs={"io_manager": versioned_filesystem_io_manager},
)
def cached():
    after(one())
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "jobs.py").write_text(textwrap.dedent(JOBS))
    return tmp_path / "home"


def nbflow(cwd: Path, *args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NBFLOW_HOME"}
    if home is not None:
        env["NBFLOW_HOME"] = os.fspath(home)
    return subprocess.run(
        [sys.executable, "-m", "nbflow", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def execute(home: Path, job: str) -> str:
    done = nbflow(home.parent, "job", "execute", "-f", "jobs.py", "-j", job, home=home)
    assert "Traceback" not in done.stderr, done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith("Run "), done.stdout + done.stderr
    return first.split()[1]


def table(stdout: str) -> list[list[str]]:
    """Cells of the rows of the printed table (header and rule left out)."""
    lines = [line for line in stdout.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines[2:]]


def header(stdout: str) -> dict[str, str]:
    fields = {}
    for line in stdout.splitlines()[1:]:
        if not line.startswith("  "):
            break
        label, _, value = line.strip().partition(":")
        fields[label] = value.strip()
    return fields


def assert_one_line_error(done: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_executed_runs_are_listed_newest_first(home: Path) -> None:
    first = execute(home, "fine")
    second = execute(home, "broken")

    done = nbflow(home.parent, "runs", "list", home=home)
    assert done.returncode == 0, done.stderr
    head = done.stdout.splitlines()[0]
    assert [c.strip() for c in head.strip("|").split("|")] == [
        "Run ID",
        "Job",
        "Status",
        "Started",
        "Duration",
    ]
    rows = table(done.stdout)
    assert [row[:3] for row in rows] == [[second, "broken", "FAILURE"], [first, "fine", "SUCCESS"]]
    for row in rows:
        assert len(row[3]) == len("2024-01-01 12:00:00")
        assert row[4].endswith(("ms", "s"))

    limited = nbflow(home.parent, "runs", "list", "--limit", "1", home=home)
    assert limited.returncode == 0, limited.stderr
    assert [row[0] for row in table(limited.stdout)] == [second]
    assert "--limit N shows more" in limited.stdout


def test_runs_list_of_an_empty_home_says_so_and_creates_nothing(home: Path) -> None:
    done = nbflow(home.parent, "runs", "list", home=home)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"No runs recorded in {home / 'runs.db'}")
    assert not home.exists()


def test_runs_show_lists_steps_with_status_duration_and_failures(home: Path) -> None:
    run_id = execute(home, "broken")

    done = nbflow(home.parent, "runs", "show", run_id[:8], home=home)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"Run {run_id}"
    fields = header(done.stdout)
    assert fields["Job"] == "broken"
    assert fields["Status"] == "FAILURE"
    assert fields["Started"] and fields["Ended"] and fields["Duration"]
    steps = {row[0]: row[1:] for row in table(done.stdout)}
    assert list(steps) == ["one", "boom", "after"]
    assert steps["one"][0] == "succeeded"
    assert steps["one"][1].endswith("ms")
    assert steps["boom"][0] == "failed"
    assert steps["boom"][2] == "RuntimeError: kaboom 1"
    assert steps["after"][0] == "skipped"
    assert "boom" in steps["after"][2]


def test_runs_show_marks_memoized_steps(home: Path) -> None:
    first = execute(home, "cached")
    second = execute(home, "cached")

    shown = nbflow(home.parent, "runs", "show", first, home=home)
    assert {row[0]: row[1] for row in table(shown.stdout)} == {
        "one": "succeeded",
        "after": "succeeded",
    }
    shown = nbflow(home.parent, "runs", "show", second, home=home)
    assert shown.returncode == 0, shown.stderr
    steps = {row[0]: row[1:] for row in table(shown.stdout)}
    assert {key: cells[0] for key, cells in steps.items()} == {
        "one": "memoized",
        "after": "memoized",
    }
    assert steps["one"][2].startswith("result@")
    assert list((home / "storage").glob("one.result@*"))  # outputs under <home>/storage


def test_runs_show_accepts_the_full_id_and_tags(home: Path) -> None:
    instance = Instance.local(home)
    run = Run(run_id="abc-full", job_name="manual", tags={"team": "data"}, op_selection=["x"])
    instance.add_run(run.with_status(RunStatus.STARTED, 1_700_000_000.0))

    done = nbflow(home.parent, "runs", "show", "abc-full", home=home)
    assert done.returncode == 0, done.stderr
    fields = header(done.stdout)
    assert fields["Status"] == "STARTED"
    assert fields["Tags"] == "team=data"
    assert fields["Op selection"] == "x"
    assert fields["Duration"] == ""
    assert "No steps ran." in done.stdout


def test_unknown_and_ambiguous_run_ids_are_one_line_errors(home: Path) -> None:
    instance = Instance.local(home)
    for run_id in ("aaa-1", "aaa-2", "bbb-1"):
        instance.add_run(Run(run_id=run_id, job_name="manual"))

    done = nbflow(home.parent, "runs", "show", "zzz", home=home)
    assert_one_line_error(done, "No run with id 'zzz'", os.fspath(home / "runs.db"), "Fix:")

    done = nbflow(home.parent, "runs", "show", "aaa", home=home)
    line = assert_one_line_error(done, "'aaa' matches 2 runs", "Fix: give more characters")
    assert "aaa-1" in line and "aaa-2" in line

    done = nbflow(home.parent, "runs", "show", "bbb", home=home)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Run bbb-1")

    done = nbflow(home.parent, "runs", "show", "", home=home)
    assert_one_line_error(done, "run id is empty")


def test_bad_limit_is_a_usage_error(home: Path) -> None:
    done = nbflow(home.parent, "runs", "list", "--limit", "0", home=home)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "at least 1" in done.stderr


def test_a_corrupt_history_is_a_one_line_error_and_stays_untouched(home: Path) -> None:
    home.mkdir()
    db = home / "runs.db"
    db.write_bytes(b"garbage, not SQLite\n" * 100)
    before = db.read_bytes()
    for args in (
        ("runs", "list"),
        ("runs", "show", "x"),
        ("job", "execute", "-f", "jobs.py", "-j", "fine"),
    ):
        done = nbflow(home.parent, *args, home=home)
        assert_one_line_error(
            done, os.fspath(db), "not a readable SQLite database", "Fix: move it aside"
        )
    assert db.read_bytes() == before
    assert sorted(p.name for p in home.iterdir()) == ["runs.db"]


def test_without_nbflow_home_the_history_is_dot_nbflow_in_the_working_folder(
    tmp_path: Path,
) -> None:
    (tmp_path / "jobs.py").write_text(textwrap.dedent(JOBS))
    done = nbflow(tmp_path, "job", "execute", "-f", "jobs.py", "-j", "fine")
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.split()[1]
    assert (tmp_path / ".nbflow" / "runs.db").is_file()

    listed = nbflow(tmp_path, "runs", "list")
    assert [row[:3] for row in table(listed.stdout)] == [[run_id, "fine", "SUCCESS"]]
