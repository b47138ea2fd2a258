"""Run records stay consistent: unique run ids, user text stored losslessly, a failing event
store never hides the user's error, dead owners detected, a deleted history reopened.

Real SQLite files throughout.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from nbflow import (
    AssetMaterialization,
    EventType,
    Instance,
    Output,
    RunStatus,
    asset,
    execute_job,
    job,
    materialize,
    op,
)
from nbflow.errors import NbflowError, RunIdInUseError, StorageError
from nbflow.events import Event, StepFailureData
from nbflow.storage import heartbeat as heartbeat_module
from nbflow.storage.heartbeat import beating
from nbflow.storage.run import Run
from nbflow.storage.run_owner import STALE_AFTER_SECONDS, this_host
from nbflow.storage.run_storage import InMemoryRunStorage
from nbflow.storage.sqlite import SqliteRunStorage

BAD = "bad\udcff name"
"""What ``os.listdir`` gives for a file name that is not UTF-8."""

calls: list[str] = []


@op
def count_call() -> int:
    calls.append("ran")
    return 1


@job
def counting() -> None:
    count_call()


@op
def list_odd_folder(context: Any) -> Any:
    context.log.info(f"found {BAD}")
    yield AssetMaterialization(asset_key="files", metadata={BAD: BAD, "names": [BAD]})
    yield Output(BAD)


@op
def read_odd_file(name: str) -> None:
    raise OSError(f"cannot read {name}")


@job
def odd_names() -> None:
    read_odd_file(list_odd_folder())


# --- run ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persistent", [True, False], ids=["sqlite", "memory"])
def test_a_repeated_run_id_is_refused_before_running(tmp_path: Path, persistent: bool) -> None:
    instance = Instance.local(tmp_path) if persistent else Instance.ephemeral()
    calls.clear()
    counting.execute_in_process(instance=instance, run_id="once")
    before = (instance.get_run("once"), instance.get_events("once"))
    with pytest.raises(RunIdInUseError, match=r"Run id 'once' is already used .*Fix:") as info:
        counting.execute_in_process(instance=instance, run_id="once")
    assert isinstance(info.value, NbflowError)
    with pytest.raises(RunIdInUseError):
        execute_job(counting, instance=instance, run_id="once")
    assert calls == ["ran"]
    assert (instance.get_run("once"), instance.get_events("once")) == before


def test_materialize_refuses_a_repeated_run_id(tmp_path: Path) -> None:
    @asset
    def numbers() -> list[int]:
        calls.append("numbers")
        return [1]

    calls.clear()
    instance = Instance.local(tmp_path)
    materialize([numbers], instance=instance, run_id="assets-1")
    with pytest.raises(RunIdInUseError):
        materialize([numbers], instance=instance, run_id="assets-1")
    assert calls == ["numbers"]
    assert len(instance.get_runs()) == 1


# --- user text -------------------------------------------------------------------------------


def test_surrogates_in_messages_and_metadata_round_trip_through_sqlite(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path)
    result = odd_names.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    run = Instance.local(tmp_path).get_run(result.run_id)
    assert run is not None and run.status is RunStatus.FAILURE
    stored = Instance.local(tmp_path).get_events(result.run_id)
    assert [e.event_type for e in stored] == [e.event_type for e in result.all_events]
    assert any(e.message.endswith(f"found {BAD}") for e in stored)
    (materialized,) = [e for e in stored if e.event_type is EventType.ASSET_MATERIALIZATION]
    assert materialized.data.metadata[BAD] == BAD
    assert materialized.data.metadata["names"] == [BAD]
    (failure,) = [e for e in stored if e.event_type is EventType.STEP_FAILURE]
    assert isinstance(failure.data, StepFailureData)
    assert failure.data.error.message.endswith(f"cannot read {BAD}")


def test_surrogates_in_every_text_field_round_trip(tmp_path: Path) -> None:
    storage = SqliteRunStorage(tmp_path / "runs.db")
    run = Run(BAD.replace("\udcff", ""), BAD, run_config={BAD: BAD}, tags={BAD: BAD})
    storage.add_run(run)
    event = Event(EventType.ENGINE_EVENT, BAD, BAD, BAD, {BAD: (BAD,)}, 1.0, 1, run.run_id)
    storage.store_event(event)
    assert SqliteRunStorage(tmp_path / "runs.db").get_run(run.run_id) == run
    assert SqliteRunStorage(tmp_path / "runs.db").get_events(run.run_id) == [event]


class _FailingEventStore(InMemoryRunStorage):
    """Cannot store a STEP_FAILURE event, as a full disk or a broken file would."""

    def store_event(self, event: Event) -> None:
        if event.event_type is EventType.STEP_FAILURE:
            raise StorageError("disk full")
        super().store_event(event)


@op
def user_bug() -> None:
    raise ZeroDivisionError("the user's own error")


@job
def buggy() -> None:
    user_bug()


def test_a_failure_to_record_an_event_never_hides_the_users_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    instance = Instance(_FailingEventStore())
    with pytest.raises(ZeroDivisionError, match="the user's own error"):
        buggy.execute_in_process(instance=instance, run_id="r")
    run = instance.get_run("r")
    assert run is not None and run.status is RunStatus.FAILURE and run.end_time is not None
    assert instance.get_events("r")[-1].event_type is EventType.RUN_FAILURE
    # the step's events are held and stored together (one transaction), so they fail together
    assert "Could not record the STEP_START, STEP_FAILURE events of run r (disk full)" in (
        caplog.text
    )
    result = buggy.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success


# --- owners and abandoned runs -----------------------------------------------------------------


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    return int(done.stdout)


def started(run_id: str, **owner: Any) -> Run:
    return Run(run_id, "etl", status=RunStatus.STARTED, start_time=time.time(), **owner)


def test_started_runs_of_dead_owners_are_ended_on_open(tmp_path: Path) -> None:
    now = time.time()
    host = this_host()
    runs = [
        started("dead-here", owner_pid=dead_pid(), owner_host=host, heartbeat_time=now),
        started("alive-here", owner_pid=os.getpid(), owner_host=host, heartbeat_time=now),
        started("quiet-elsewhere", owner_pid=1, owner_host="far-away", heartbeat_time=now - 600),
        started("beating-elsewhere", owner_pid=1, owner_host="far-away", heartbeat_time=now),
        started("no-owner"),
    ]
    storage = SqliteRunStorage(tmp_path / "runs.db")
    for run in runs:
        storage.add_run(run)
    instance = Instance.local(tmp_path)
    status = {run.run_id: run.status for run in instance.get_runs()}
    assert status == {
        "dead-here": RunStatus.FAILURE,
        "alive-here": RunStatus.STARTED,
        "quiet-elsewhere": RunStatus.FAILURE,
        "beating-elsewhere": RunStatus.STARTED,
        "no-owner": RunStatus.STARTED,
    }
    quiet = instance.get_run("quiet-elsewhere")
    assert quiet is not None and "host far-away" in (quiet.abandoned or "")
    assert f"more than {STALE_AFTER_SECONDS:.0f} s ago" in (quiet.abandoned or "")
    (event,) = instance.get_events("dead-here")
    assert event.event_type is EventType.RUN_FAILURE and "abandoned" in event.message
    Instance.local(tmp_path)  # opening again ends nothing twice
    assert len(instance.get_events("dead-here")) == 1


def test_the_heartbeat_moves_while_a_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(heartbeat_module, "HEARTBEAT_SECONDS", 0.05)
    storage = SqliteRunStorage(tmp_path / "runs.db")
    storage.add_run(started("r", owner_pid=os.getpid(), owner_host="here", heartbeat_time=1.0))
    with beating(storage, "r"):
        heartbeat_module._HEART.wake.set()
        deadline = time.monotonic() + 10
        while (storage.get_run("r") or started("r")).heartbeat_time == 1.0:
            assert time.monotonic() < deadline, "no heartbeat"
            time.sleep(0.02)
    storage.update_run(started("r", owner_pid=os.getpid(), owner_host="here", heartbeat_time=2.0))
    beat = (storage.get_run("r") or started("r")).heartbeat_time
    assert beat is not None and beat > time.time() - 10  # an older copy never moves it back


class _SlowBeats(InMemoryRunStorage):
    """Keeps heartbeats; each stamp waits until released, and notes when it ended."""

    keeps_heartbeat = True

    def __init__(self) -> None:
        super().__init__()
        self.stamping = threading.Event()
        self.release = threading.Event()
        self.stamped_at: list[float] = []

    def heartbeat(self, run_ids: Any, at: float) -> None:
        self.stamping.set()
        assert self.release.wait(10)
        self.stamped_at.append(time.monotonic())


def test_no_heartbeat_touches_a_run_storage_after_its_run_ended() -> None:
    storage = _SlowBeats()
    ended_at: list[float] = []

    def run_that_ends_mid_beat() -> None:
        with beating(storage, "r"):
            heartbeat_module._HEART.wake.set()
            assert storage.stamping.wait(10)  # a beat is stamping this storage now
        ended_at.append(time.monotonic())

    runner = threading.Thread(target=run_that_ends_mid_beat)
    runner.start()
    assert storage.stamping.wait(10)
    time.sleep(0.1)  # the run tries to end meanwhile
    storage.release.set()
    runner.join(10)

    assert storage.stamped_at and ended_at
    assert storage.stamped_at[0] <= ended_at[0]  # the run ended only after the beat wrote


def test_an_older_history_gets_the_owner_columns_and_keeps_its_runs(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE runs (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE, job_name TEXT "
        "NOT NULL, status TEXT NOT NULL, tags TEXT NOT NULL, run_config TEXT NOT NULL, "
        "op_selection TEXT, start_time REAL, end_time REAL, created_at REAL NOT NULL)"
    )
    conn.execute(
        "INSERT INTO runs (run_id, job_name, status, tags, run_config, created_at) "
        "VALUES ('old', 'etl', 'STARTED', '{}', '{}', 1.0)"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    instance = Instance.local(tmp_path)
    (run,) = instance.get_runs()
    assert (run.run_id, run.status, run.owner_pid, run.abandoned) == (
        "old", RunStatus.STARTED, None, None
    )  # fmt: skip
    counting.execute_in_process(instance=instance, run_id="new")
    new = instance.get_run("new")
    assert new is not None and new.owner_pid == os.getpid() and new.owner_host == this_host()


# --- the file under a long-lived process -------------------------------------------------------


def test_a_deleted_instance_folder_is_recreated_by_the_next_run(tmp_path: Path) -> None:
    home = tmp_path / "home"
    instance = Instance.local(home)
    counting.execute_in_process(instance=instance, run_id="before")
    shutil.rmtree(home)
    counting.execute_in_process(instance=instance, run_id="after")
    assert [r.run_id for r in instance.get_runs()] == ["after"]
    fresh = sqlite3.connect(home / "runs.db")  # a file another process can read
    try:
        assert fresh.execute("SELECT run_id, status FROM runs").fetchall() == [("after", "SUCCESS")]
    finally:
        fresh.close()


def test_a_replaced_history_file_is_reopened(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path)
    counting.execute_in_process(instance=instance, run_id="one")
    for name in ("runs.db", "runs.db-wal", "runs.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    other_db = tmp_path / "elsewhere" / "runs.db"
    write_other = (
        "import sys; from nbflow.storage.run import Run; "
        "from nbflow.storage.sqlite import SqliteRunStorage; "
        "SqliteRunStorage(sys.argv[1]).add_run(Run('theirs', 'etl'))"
    )
    subprocess.run([sys.executable, "-c", write_other, os.fspath(other_db)], check=True)
    shutil.copy(other_db, tmp_path / "runs.db")  # its process ended: the file holds it all
    counting.execute_in_process(instance=instance, run_id="two")
    assert {r.run_id for r in Instance.local(tmp_path).get_runs()} == {"theirs", "two"}


def test_a_deleted_wal_file_is_noticed_and_nothing_is_lost(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path)
    counting.execute_in_process(instance=instance, run_id="one")
    (tmp_path / "runs.db-wal").unlink()
    counting.execute_in_process(instance=instance, run_id="two")
    counting.execute_in_process(instance=instance, run_id="three")
    reader = subprocess.run(
        [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
         "print(sorted(r[0] for r in c.execute('SELECT run_id FROM runs')))",
         os.fspath(tmp_path / "runs.db")],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert reader.stdout.strip() == "['one', 'three', 'two']"
    assert instance.get_run("three") is not None


def test_a_run_checks_its_history_file_once_not_per_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbflow.storage import sqlite as sqlite_module

    @op
    def first() -> int:
        return 1

    @op
    def second(x: int) -> int:
        return x + 1

    @job
    def thirty_steps() -> None:
        value = first()
        for _ in range(29):
            value = second(value)

    instance = Instance.local(tmp_path)
    thirty_steps.execute_in_process(instance=instance, run_id="warm")  # the file exists
    stats: list[str] = []
    real_file_id = sqlite_module._file_id
    monkeypatch.setattr(
        sqlite_module, "_file_id", lambda path: stats.append(path) or real_file_id(path)
    )
    thirty_steps.execute_in_process(instance=instance, run_id="counted")
    # before: two stat calls (the file and its -wal) per write: 30 steps, a write each
    assert len(stats) <= 20, stats
    (tmp_path / "runs.db-wal").unlink()  # and between runs a change is still noticed
    thirty_steps.execute_in_process(instance=instance, run_id="after")
    assert {r.run_id for r in Instance.local(tmp_path).get_runs()} >= {"counted", "after"}
