"""Inside a run, a run history stores event batches on its writer thread: the run does not
wait for SQLite, yet every later read or write of this process sees them, in order; an
error is reported, never raised into the run; a forked child never waits for its parent's
batch. Real SQLite files."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import threading
from pathlib import Path

import pytest

from nbflow import EventType, Instance
from nbflow.events import Event
from nbflow.storage import sqlite as sqlite_module
from nbflow.storage.run import Run
from nbflow.storage.sqlite import SqliteRunStorage

HANG_SECONDS = 20.0


def _event(run_id: str, n: int) -> Event:
    return Event(EventType.ENGINE_EVENT, "etl", None, f"event {n}", None, float(n), 1, run_id)


def _events_in_file(path: Path) -> int:
    """The events in the file, read by a connection of its own (which waits for nothing)."""
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def held_writes(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Writes made on the writer thread wait until the returned event is set."""
    release = threading.Event()
    real = sqlite_module._Database._write_now

    def write_now(self, action, fn):  # type: ignore[no-untyped-def]
        if threading.current_thread().name == "nbflow-history-writer":
            assert release.wait(HANG_SECONDS)
        return real(self, action, fn)

    monkeypatch.setattr(sqlite_module._Database, "_write_now", write_now)
    return release


def test_a_batch_stored_soon_does_not_wait_for_sqlite_and_reads_see_it(
    tmp_path: Path, held_writes: threading.Event
) -> None:
    storage = SqliteRunStorage(tmp_path / "runs.db")
    storage.add_run(Run("r", "etl"))
    failures: list[Exception] = []
    with storage.joining_writes():
        storage.store_events_soon([_event("r", 1), _event("r", 2)], failures.append)
        assert _events_in_file(tmp_path / "runs.db") == 0  # returned before they were written
        threading.Timer(0.2, held_writes.set).start()
        storage.store_events_soon([_event("r", 3)], failures.append)  # waits for the first
        events = storage.get_events("r")  # waits for the second
    assert [e.message for e in events] == ["event 1", "event 2", "event 3"]
    assert failures == []


def test_outside_a_run_a_batch_is_stored_before_returning(
    tmp_path: Path, held_writes: threading.Event
) -> None:
    storage = SqliteRunStorage(tmp_path / "runs.db")
    storage.add_run(Run("r", "etl"))
    storage.store_events_soon([_event("r", 1)], lambda exc: None)  # the writer is held: not used
    assert [e.message for e in storage.get_events("r")] == ["event 1"]


def test_a_batch_that_cannot_be_stored_is_logged_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    instance = Instance.local(tmp_path)
    instance.add_run(Run("r", "etl"))
    monkeypatch.setattr(sqlite_module, "_INSERT_EVENT", "INSERT INTO no_such_table VALUES (?)")
    with caplog.at_level(logging.ERROR, logger="nbflow"), instance.joining_writes():
        instance.record_events([_event("r", 1)])  # no error raised here
        instance.record_event(_event("r", 2))
        assert instance.get_events("r") == []  # waits for both
    assert "Could not record the ENGINE_EVENT event of run r" in caplog.text
    assert caplog.text.count("Could not record") == 2


def test_a_forked_child_never_waits_for_its_parents_batch(
    tmp_path: Path, held_writes: threading.Event
) -> None:
    storage = SqliteRunStorage(tmp_path / "runs.db")
    storage.add_run(Run("r", "etl"))
    with storage.joining_writes():
        storage.store_events_soon([_event("r", 1)], lambda exc: None)  # held in the parent
        pid = os.fork()
        if pid == 0:  # the child: its own write must not wait for the parent's batch
            code = 1
            signal.alarm(int(HANG_SECONDS))  # a child that waits is ended, not left hanging
            try:
                storage.add_run(Run("child", "etl"))
                code = 0
            finally:
                os._exit(code)
        held_writes.set()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert {r.run_id for r in storage.get_runs()} == {"r", "child"}
    assert [e.message for e in storage.get_events("r")] == ["event 1"]
