"""The run history from the command line: filters, JSON lines, deleting runs, logs and
tracebacks in ``runs show``, quiet broken pipes, and the line that says where runs are kept.

Every command runs in a subprocess, like a user's, with ``NBFLOW_HOME`` set to a temporary
folder (or unset where the test is about the default folder).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from nbflow import Instance, RunStatus
from nbflow.events import CapturedOutputData, Event, EventType, LogMessageData
from nbflow.storage.run import Run

JOBS = """
from nbflow import SourceHashVersionStrategy, job, op, versioned_filesystem_io_manager


@op
def one():
    return 1


def check(x):
    raise RuntimeError(f"kaboom {x}")


@op
def boom(x):
    check(x)


@job
def fine():
    one()


@job
def broken():
    boom(one())


@job(
    version_strategy=SourceHashVersionStrategy(),
    resource_defs={"io_manager": versioned_filesystem_io_manager},
)
def cached():
    one()
"""

STATUSES = "NOT_STARTED, STARTED, SUCCESS, FAILURE, CANCELED"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "jobs.py").write_text(textwrap.dedent(JOBS))
    return tmp_path / "home"


def _env(home: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NBFLOW_HOME"}
    if home is not None:
        env["NBFLOW_HOME"] = os.fspath(home)
    return env


def nbflow(
    home: Path | None, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nbflow", *args],
        cwd=cwd if cwd is not None else home.parent if home is not None else None,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )


def where_line(home: Path) -> str:
    return f"nbflow: runs recorded in {home} (from $NBFLOW_HOME)"


def execute(home: Path, job: str) -> str:
    done = nbflow(home, "job", "execute", "-f", "jobs.py", "-j", job)
    assert "Traceback" not in done.stderr, done.stderr
    return done.stdout.splitlines()[0].split()[1]


def table_ids(stdout: str) -> list[str]:
    lines = [line for line in stdout.splitlines() if line.startswith("|")]
    return [line.strip("|").split("|")[0].strip() for line in lines[2:]]


def assert_one_line_error(done: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def add_runs(home: Path, *runs: tuple[str, str, RunStatus]) -> Instance:
    instance = Instance.local(home)
    for run_id, job_name, status in runs:
        run = Run(run_id=run_id, job_name=job_name)
        instance.add_run(run)
        if status is not RunStatus.NOT_STARTED:
            instance.update_run(run.with_status(status, time.time()))
    return instance


def age_runs(home: Path, seconds: float, *run_ids: str) -> None:
    """Make runs look recorded ``seconds`` ago (as if written on an earlier day)."""
    with sqlite3.connect(home / "runs.db") as conn:
        for run_id in run_ids:
            conn.execute(
                "UPDATE runs SET created_at = created_at - ? WHERE run_id = ?", (seconds, run_id)
            )
    conn.close()


# --- runs list: filters and JSON -----------------------------------------------------------


def test_runs_list_filters_by_job_and_status_in_any_case(home: Path) -> None:
    add_runs(
        home,
        ("a-ok", "etl", RunStatus.SUCCESS),
        ("b-bad", "etl", RunStatus.FAILURE),
        ("c-bad", "report", RunStatus.FAILURE),
        ("d-stop", "report", RunStatus.CANCELED),
    )

    assert table_ids(nbflow(home, "runs", "list", "--job", "etl").stdout) == ["b-bad", "a-ok"]
    failed = nbflow(home, "runs", "list", "--status", "failure")
    assert failed.returncode == 0, failed.stderr
    assert table_ids(failed.stdout) == ["c-bad", "b-bad"]
    both = nbflow(home, "runs", "list", "--status", "Failure", "--job", "report")
    assert table_ids(both.stdout) == ["c-bad"]
    several = nbflow(home, "runs", "list", "--status", "canceled,SUCCESS", "--limit", "1")
    assert table_ids(several.stdout) == ["d-stop"]
    assert "--limit N shows more" in several.stdout
    repeated = nbflow(home, "runs", "list", "--status", "canceled", "--status", "success")
    assert table_ids(repeated.stdout) == ["d-stop", "a-ok"]

    none = nbflow(home, "runs", "list", "--job", "nope", "--status", "started")
    assert none.returncode == 0, none.stderr
    assert none.stdout.startswith("No STARTED 'nope' runs recorded in")


def test_an_unknown_status_is_a_one_line_error_listing_the_valid_ones(home: Path) -> None:
    add_runs(home, ("a", "etl", RunStatus.SUCCESS))
    done = nbflow(home, "runs", "list", "--status", "failed")
    assert_one_line_error(done, "'failed' is not a run status", f"Valid statuses: {STATUSES}")
    assert done.stdout == ""


def test_runs_list_json_is_one_object_per_run_with_step_counts(home: Path) -> None:
    broken = execute(home, "broken")
    first = execute(home, "cached")
    second = execute(home, "cached")

    done = nbflow(home, "runs", "list", "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [where_line(home)]
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["id"] for r in records] == [second, first, broken]
    by_id = {r["id"]: r for r in records}
    assert set(by_id[broken]) == {
        "id", "job", "status", "start", "end", "duration",
        "steps_run", "steps_memoized", "steps_failed",
    }  # fmt: skip
    assert (by_id[broken]["job"], by_id[broken]["status"]) == ("broken", "FAILURE")
    steps = {k: (r["steps_run"], r["steps_memoized"], r["steps_failed"]) for k, r in by_id.items()}
    assert steps == {broken: (2, 0, 1), first: (1, 0, 0), second: (0, 1, 0)}
    for record in records:
        assert record["start"] <= record["end"]
        assert record["start"].endswith("+00:00")
        assert 0 <= record["duration"] < 60

    filtered = nbflow(home, "runs", "list", "--json", "--job", "cached", "--limit", "1")
    assert [json.loads(line)["id"] for line in filtered.stdout.splitlines()] == [second]
    assert nbflow(home, "runs", "list", "--json", "--status", "started").stdout == ""


# --- runs delete / wipe -------------------------------------------------------------------


def test_runs_delete_forgets_the_run_and_its_events_not_its_outputs(home: Path) -> None:
    kept = execute(home, "cached")
    run_id = execute(home, "broken")
    instance = Instance.local(home)
    assert instance.get_events(run_id)

    done = nbflow(home, "runs", "delete", run_id[:8])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"Deleted run {run_id} of job 'broken' (FAILURE) and its events; "
        "its stored outputs are kept."
    )
    assert instance.get_run(run_id) is None
    assert instance.get_events(run_id) == []
    assert [r.run_id for r in instance.get_runs()] == [kept]
    assert list((home / "storage").glob("one.result@*"))  # the stored output is kept

    again = nbflow(home, "runs", "delete", run_id)
    assert_one_line_error(again, f"No run with id {run_id!r}")


def test_a_started_run_is_deleted_only_with_force(home: Path) -> None:
    instance = add_runs(home, ("live-1", "etl", RunStatus.STARTED))

    refused = nbflow(home, "runs", "delete", "live")
    assert_one_line_error(refused, "live-1", "still STARTED", "--force")
    assert instance.get_run("live-1") is not None

    forced = nbflow(home, "runs", "delete", "live", "--force")
    assert forced.returncode == 0, forced.stderr
    assert instance.get_run("live-1") is None


def test_runs_wipe_deletes_runs_older_than_the_duration(home: Path) -> None:
    instance = add_runs(
        home,
        ("old-1", "etl", RunStatus.SUCCESS),
        ("old-2", "etl", RunStatus.FAILURE),
        ("old-live", "etl", RunStatus.STARTED),
        ("new-1", "etl", RunStatus.SUCCESS),
    )
    age_runs(home, 8 * 86400, "old-1", "old-2", "old-live")
    age_runs(home, 6 * 86400, "new-1")

    done = nbflow(home, "runs", "wipe", "--older-than", "7d")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Deleted 2 runs recorded before ")
    assert "(older than 7d)" in lines[0]
    assert lines[1].startswith("Kept 1 run still STARTED (old-live)")
    assert [r.run_id for r in instance.get_runs()] == ["new-1", "old-live"]

    forced = nbflow(home, "runs", "wipe", "--older-than", "6d12h", "--force")
    assert forced.stdout.startswith("Deleted 1 run recorded before ")
    assert [r.run_id for r in instance.get_runs()] == ["new-1"]

    everything = nbflow(home, "runs", "wipe", "--older-than", "0s")
    assert everything.stdout.startswith("Deleted 1 run recorded before ")
    assert instance.get_runs() == []


@pytest.mark.parametrize("duration", ["7", "seven days", "7x", "-3d", ""])
def test_a_bad_wipe_duration_is_a_one_line_error(home: Path, duration: str) -> None:
    instance = add_runs(home, ("a", "etl", RunStatus.SUCCESS))
    done = nbflow(home, "runs", "wipe", f"--older-than={duration}")
    assert_one_line_error(done, "--older-than", "is not a duration", "e.g. 30m, 12h, 7d")
    assert len(instance.get_runs()) == 1


# --- runs show: logs and tracebacks -------------------------------------------------------


def test_runs_show_prints_step_logs_output_and_the_user_traceback(home: Path) -> None:
    run_id = execute(home, "broken")
    instance = Instance.local(home)
    log = Event(
        EventType.LOG_MESSAGE,
        "broken",
        step_key="one",
        message="loaded 3 rows\nsecond line",
        data=LogMessageData(logging.WARNING, "nbflow"),
        run_id=run_id,
    )
    run_log = Event(
        EventType.LOG_MESSAGE,
        "broken",
        message="resources ready",
        data=LogMessageData(logging.INFO),
        run_id=run_id,
    )
    printed = Event(
        EventType.LOGS_CAPTURED,
        "broken",
        step_key="boom",
        data=CapturedOutputData(stdout="about to fail\n", dropped_chars=12),
        run_id=run_id,
    )
    instance.store_events([run_log, log, printed])

    done = nbflow(home, "runs", "show", run_id)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    details = out[out.index("\nRun\n") + 1 :].splitlines()
    assert details[0:2] == ["Run", details[1]]
    assert details[1].endswith("INFO    resources ready")
    assert details[2] == "Step one (succeeded)"
    assert details[3].endswith(" WARNING loaded 3 rows")
    assert details[4] == "      second line"
    assert details[5:8] == ["Step boom (failed)", "  stdout:", "    about to fail"]
    assert details[8] == "  (12 characters of output left out)"
    traceback = "\n".join(details[9:])
    assert traceback.startswith("  Traceback (most recent call last):")
    assert 'jobs.py", line 16, in boom' in traceback
    assert 'jobs.py", line 11, in check' in traceback
    assert 'raise RuntimeError(f"kaboom {x}")' in traceback
    assert "RuntimeError: kaboom 1" in traceback
    assert "nbflow/execution" not in traceback
    assert details[-1].startswith("  (") and "--full-traceback shows them" in details[-1]

    full = nbflow(home, "runs", "show", run_id[:8], "--full-traceback")
    assert "nbflow/execution" in full.stdout
    assert "--full-traceback shows them" not in full.stdout
    assert 'jobs.py", line 11, in check' in full.stdout


# --- broken pipes -------------------------------------------------------------------------


@pytest.mark.parametrize("json_lines", [False, True])
def test_runs_list_into_head_ends_quietly(home: Path, json_lines: bool) -> None:
    instance = Instance.local(home)
    instance.store_events([])  # nothing; the runs below make the output far beyond a pipe
    for n in range(3000):
        instance.add_run(Run(run_id=f"run-{n:05d}", job_name="etl"))
    flag = " --json" if json_lines else ""
    command = f"set -o pipefail; {sys.executable} -m nbflow runs list --limit 5000{flag} | head -1"

    done = subprocess.run(
        ["bash", "-c", command],
        cwd=home.parent,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert len(done.stdout.splitlines()) == 1
    assert ("run-02999" in done.stdout) if json_lines else done.stdout.startswith("| Run ID")


# --- where the history lives --------------------------------------------------------------


def test_every_command_says_on_stderr_where_runs_are_recorded(home: Path) -> None:
    execute(home, "fine")
    for args in (
        ("runs", "list"),
        ("job", "execute", "-f", "jobs.py", "-j", "fine"),
        ("job", "list_versions", "-f", "jobs.py", "-j", "cached"),
    ):
        done = nbflow(home, *args)
        assert done.returncode == 0, done.stderr
        assert done.stderr.splitlines() == [where_line(home)], args
        assert "nbflow: runs recorded" not in done.stdout


def test_without_nbflow_home_the_line_names_the_working_folder(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    done = nbflow(None, "runs", "list", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"nbflow: runs recorded in {folder / '.nbflow'} (.nbflow of the working directory; "
        "set $NBFLOW_HOME to use one folder everywhere)"
    ]


def test_the_repr_of_instance_get_names_its_folder_and_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NBFLOW_HOME", os.fspath(tmp_path / "shared"))
    assert repr(Instance.get()) == (
        f"<Instance {tmp_path / 'shared'} (persistent, from $NBFLOW_HOME)>"
    )
    monkeypatch.delenv("NBFLOW_HOME")
    monkeypatch.chdir(tmp_path)
    assert repr(Instance.get()) == (
        f"<Instance {tmp_path / '.nbflow'} (persistent, .nbflow of the working directory; "
        "set $NBFLOW_HOME to use one folder everywhere)>"
    )
    assert repr(Instance.ephemeral()) == "<Instance ephemeral>"
