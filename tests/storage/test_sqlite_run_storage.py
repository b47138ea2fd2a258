"""The SQLite run history: real files under tmp_path, several threads and processes at once."""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import pickle
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from nbflow import EventType, Instance, RunStatus, job, op
from nbflow.errors import StorageError
from nbflow.events import ErrorInfo, Event, StepFailureData, StepOutputData
from nbflow.storage import InMemoryRunStorage, SqliteManifestStore, SqliteRunStorage
from nbflow.storage.event_codec import loads_event
from nbflow.storage.run import Run

REPO = Path(__file__).resolve().parents[2]


def make_run(run_id: str, **changes: object) -> Run:
    fields: dict[str, object] = {
        "run_id": run_id,
        "job_name": "my_job",
        "run_config": {"ops": {"a": {"config": {"n": 1, "pair": (1, 2)}}}},
        "tags": {"team": "data", "nbflow/is_memoized_run": "true"},
        "op_selection": ["a", "b*"],
    }
    fields.update(changes)
    return Run(**fields)  # type: ignore[arg-type]


def make_event(run_id: str, i: int, step_key: str | None = "a") -> Event:
    data = StepOutputData("result", f"{i:064d}", {"i": i}) if i % 2 else None
    return Event(EventType.STEP_OUTPUT, "my_job", step_key, f"event {i}", data, run_id=run_id)


def run_python(
    code: str, env: dict[str, str] | None = None, *, measured: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter; ``measured=False`` keeps the coverage tracer out
    of it (the tracer stores its data with sqlite3, which would load it in every process)."""
    base = {k: v for k, v in os.environ.items() if measured or k != "COVERAGE_PROCESS_CONFIG"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**base, **(env or {})},
    )


def drop_connections() -> None:
    """Forget this process's connections, so the next storage object opens the file anew."""
    gc.collect()


# --- runs ----------------------------------------------------------------------------------


def test_runs_round_trip_with_config_tags_selection_and_times(tmp_path: Path) -> None:
    storage = SqliteRunStorage(tmp_path / "runs.db")
    run = make_run("r1")
    storage.add_run(run)
    assert storage.get_run("r1") == run

    started = run.with_status(RunStatus.STARTED, 1_700_000_000.25)
    storage.update_run(started)
    finished = started.with_status(RunStatus.FAILURE, 1_700_000_003.5)
    storage.update_run(finished)

    back = storage.get_run("r1")
    assert back == finished
    assert back is not None
    assert back.status is RunStatus.FAILURE
    assert (back.start_time, back.end_time) == (1_700_000_000.25, 1_700_000_003.5)
    assert back.run_config["ops"]["a"]["config"]["pair"] == (1, 2)
    assert back.op_selection == ["a", "b*"]
    assert storage.get_run("missing") is None


def test_runs_are_listed_newest_first_with_a_limit(tmp_path: Path) -> None:
    storage = SqliteRunStorage(tmp_path / "runs.db")
    for run_id in ("first", "second", "third"):
        storage.add_run(make_run(run_id, op_selection=None))
    storage.update_run(make_run("first", status=RunStatus.SUCCESS, op_selection=None))

    assert [r.run_id for r in storage.get_runs()] == ["third", "second", "first"]
    assert [r.run_id for r in storage.get_runs(limit=2)] == ["third", "second"]
    assert storage.get_runs(limit=0) == []
    assert storage.get_run("first").op_selection is None  # type: ignore[union-attr]


def test_runs_are_found_by_a_prefix_of_their_id(tmp_path: Path) -> None:
    storage = SqliteRunStorage(tmp_path / "runs.db")
    for run_id in ("abc-1", "abc-2", "abd-1", "x%_"):
        storage.add_run(make_run(run_id))
    assert [r.run_id for r in storage.get_runs_with_id_prefix("abc")] == ["abc-2", "abc-1"]
    assert [r.run_id for r in storage.get_runs_with_id_prefix("ab", limit=1)] == ["abd-1"]
    assert [r.run_id for r in storage.get_runs_with_id_prefix("x%")] == ["x%_"]
    assert storage.get_runs_with_id_prefix("x_") == []
    assert storage.get_runs_with_id_prefix("zzz") == []

    memory = InMemoryRunStorage()
    for run_id in ("abc-1", "abc-2", "abd-1"):
        memory.add_run(make_run(run_id))
    assert [r.run_id for r in memory.get_runs_with_id_prefix("abc")] == ["abc-2", "abc-1"]


def test_runs_and_events_survive_a_reopen_in_another_process(tmp_path: Path) -> None:
    storage = SqliteRunStorage(tmp_path / "runs.db")
    run = make_run("kept", status=RunStatus.SUCCESS, start_time=1.0, end_time=2.0)
    storage.add_run(run)
    events = [make_event("kept", i) for i in range(20)]
    storage.store_events(events)
    del storage
    drop_connections()

    again = SqliteRunStorage(tmp_path / "runs.db")
    assert again.get_run("kept") == run
    assert again.get_events("kept") == events

    done = run_python(
        f"""
        from nbflow.storage import SqliteRunStorage
        from nbflow.storage.event_codec import dumps_event
        storage = SqliteRunStorage({os.fspath(tmp_path / "runs.db")!r})
        print(storage.get_run("kept").status.value)
        for event in storage.get_events("kept"):
            print(dumps_event(event))
        """
    )
    assert done.returncode == 0, done.stderr
    status, *lines = done.stdout.splitlines()
    assert status == "SUCCESS"
    assert [loads_event(line) for line in lines] == events


# --- events --------------------------------------------------------------------------------


def test_events_come_back_in_order_one_by_one_and_batched(tmp_path: Path) -> None:
    storage = SqliteRunStorage(tmp_path / "runs.db")
    first = [make_event("r", i) for i in range(10)]
    batch = [make_event("r", i) for i in range(10, 250)]
    for event in first:
        storage.store_event(event)
    storage.store_events(batch)
    storage.store_events([])
    storage.store_event(make_event("other", 0, step_key=None))

    assert storage.get_events("r") == first + batch
    assert [e.step_key for e in storage.get_events("other")] == [None]
    assert storage.get_events("missing") == []


def test_failure_payloads_and_run_events_are_stored_whole(tmp_path: Path) -> None:
    storage = SqliteRunStorage(tmp_path / "runs.db")
    error = ErrorInfo("ValueError", "bad value", "Traceback ...\nValueError: bad value\n")
    events = [
        Event(EventType.RUN_START, "j", None, "Started", None, 10.0, 1, "r"),
        Event(EventType.STEP_FAILURE, "j", "a.b", "Failed", StepFailureData(error), 11.0, 2, "r"),
        Event(EventType.RUN_FAILURE, "j", None, "Failed", None, 12.0, 1, "r"),
    ]
    storage.store_events(events)
    back = storage.get_events("r")
    assert back == events
    assert back[1].data.error.traceback.endswith("bad value\n")
    assert back[0].event_type is EventType.PIPELINE_START


def test_reading_a_history_that_does_not_exist_creates_nothing(tmp_path: Path) -> None:
    storage = SqliteRunStorage(tmp_path / "home" / "runs.db")
    assert storage.get_runs() == []
    assert storage.get_run("x") is None
    assert storage.get_events("x") == []
    assert storage.get_runs_with_id_prefix("x") == []
    assert storage.manifests.latest_manifest("a", "result") is None
    assert not (tmp_path / "home").exists()

    storage.add_run(make_run("x"))
    assert (tmp_path / "home" / "runs.db").is_file()


def test_the_file_uses_wal_and_the_nbflow_schema(tmp_path: Path) -> None:
    SqliteRunStorage(tmp_path / "runs.db").add_run(make_run("x"))
    conn = sqlite3.connect(tmp_path / "runs.db")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA user_version").fetchone() == (1,)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"runs", "events", "manifests"} <= tables
        row = conn.execute("SELECT job_name, status, tags FROM runs").fetchone()
        assert row[:2] == ("my_job", "NOT_STARTED")
        assert json.loads(row[2]) == {"team": "data", "nbflow/is_memoized_run": "true"}
    finally:
        conn.close()


# --- concurrency ---------------------------------------------------------------------------

WRITER = """
import os, sys, time
from pathlib import Path
from nbflow.events import Event, EventType, StepOutputData
from nbflow.storage import SqliteRunStorage
from nbflow.storage.run import Run, RunStatus

db, name, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
storage = SqliteRunStorage(db)
storage.get_runs()  # opened
run = Run(run_id=name, job_name="writers")
(go.parent / f"ready-{name}").touch()
while not go.exists():
    time.sleep(0.001)
storage.add_run(run)
storage.update_run(run.with_status(RunStatus.STARTED, time.time()))

def event(i):
    data = StepOutputData("result", None, {"i": i}) if i % 3 == 0 else None
    return Event(EventType.STEP_OUTPUT, "writers", f"step_{i % 7}", str(i), data, run_id=name)

half = count // 2
for i in range(half):
    storage.store_event(event(i))
for start in range(half, count, 50):
    storage.store_events([event(i) for i in range(start, min(start + 50, count))])
storage.update_run(run.with_status(RunStatus.SUCCESS, time.time()))
print("done", name)
"""


def test_four_writer_processes_never_hit_database_is_locked(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    go = tmp_path / "go"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    count = 2_000
    names = [f"writer-{n}" for n in range(4)]
    writers = [
        subprocess.Popen(
            [sys.executable, str(script), str(db), name, str(count), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for name in names
    ]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready-{name}").exists() for name in names):
        assert all(w.poll() is None for w in writers), [w.communicate() for w in writers]
        assert time.monotonic() < deadline, "writers did not start"
        time.sleep(0.01)
    go.touch()  # all start writing together
    outputs = [w.communicate(timeout=180) for w in writers]
    for writer, (out, err) in zip(writers, outputs, strict=True):
        assert "locked" not in err.lower(), err
        assert writer.returncode == 0, err
        assert out.startswith("done"), out + err

    storage = SqliteRunStorage(db)
    assert {r.run_id for r in storage.get_runs()} == set(names)
    for name in names:
        assert storage.get_run(name).status is RunStatus.SUCCESS  # type: ignore[union-attr]
        events = storage.get_events(name)
        assert [int(e.message) for e in events] == list(range(count))
        assert all(
            e.data == StepOutputData("result", None, {"i": int(e.message)}) for e in events[::3]
        )


def test_threads_share_one_storage_safely(tmp_path: Path) -> None:
    storage = SqliteRunStorage(tmp_path / "runs.db")
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(300):
                storage.store_event(make_event(f"t{n}", i))
                if i % 50 == 0:
                    storage.get_events(f"t{n}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for n in range(8):
        assert [e.message for e in storage.get_events(f"t{n}")] == [
            f"event {i}" for i in range(300)
        ]


def _store_in_child(storage: SqliteRunStorage) -> None:
    storage.store_events([make_event("child", i) for i in range(100)])
    storage.add_run(make_run("child"))


def test_a_forked_child_opens_its_own_connection(tmp_path: Path) -> None:
    storage = SqliteRunStorage(tmp_path / "runs.db")
    storage.store_event(make_event("parent", 0))  # the parent's connection is open
    child = multiprocessing.get_context("fork").Process(target=_store_in_child, args=(storage,))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    storage.store_event(make_event("parent", 1))
    assert [e.message for e in storage.get_events("parent")] == ["event 0", "event 1"]
    assert len(storage.get_events("child")) == 100
    assert storage.get_run("child") == make_run("child")


def test_storage_and_manifests_pickle_by_path(tmp_path: Path) -> None:
    storage = SqliteRunStorage(tmp_path / "runs.db")
    storage.add_run(make_run("p"))
    copy = pickle.loads(pickle.dumps(storage))
    assert isinstance(copy, SqliteRunStorage)
    assert copy.path == storage.path
    assert copy.get_run("p") == make_run("p")
    manifests = pickle.loads(pickle.dumps(storage.manifests))
    assert isinstance(manifests, SqliteManifestStore)
    assert manifests.path == storage.path


# --- manifests -----------------------------------------------------------------------------


def test_manifests_keep_the_latest_per_step_output_and_persist(tmp_path: Path) -> None:
    store = SqliteManifestStore(tmp_path / "runs.db")
    assert store.latest_manifest("a", "result") is None
    v1 = {"version": "v1", "config": {"n": 1}, "inputs": {}}
    v2 = {"version": "v2", "config": {"n": 2}, "inputs": {}}
    store.record_manifest("a", "result", v1)
    store.record_manifest("a", "result", v2)
    store.record_manifest("b", "result", {"version": "vb"})
    assert store.latest_manifest("a", "result") == v2
    store.record_manifest("a", "result", v1)  # back to an older version
    assert store.latest_manifest("a", "result") == v1
    assert store.latest_manifest("a", "other") is None
    del store
    drop_connections()
    assert SqliteManifestStore(tmp_path / "runs.db").latest_manifest("a", "result") == v1
    assert Instance.local(tmp_path).manifests.latest_manifest("b", "result") == {"version": "vb"}


def committed_manifests(path: Path) -> list[str]:
    """The manifest versions another connection (another process) sees in ``path``."""
    with sqlite3.connect(path) as other:
        return [row[0] for row in other.execute("SELECT version FROM manifests ORDER BY id")]


def test_manifests_recorded_while_joining_are_written_with_the_next_events(
    tmp_path: Path,
) -> None:
    storage = SqliteRunStorage(tmp_path / "runs.db")
    storage.add_run(make_run("r"))
    store = storage.manifests

    with storage.joining_writes():
        store.record_manifest("a", "result", {"version": "v1"})
        assert committed_manifests(storage.path) == []  # waits for the events
        storage.store_events([make_event("r", 1), make_event("r", 2)])
        assert committed_manifests(storage.path) == ["v1"]
        store.record_manifest("a", "result", {"version": "v2"})
        assert store.latest_manifest("a", "result") == {"version": "v2"}  # reads see it
        store.record_manifest("b", "result", {"version": "vb"})
    assert committed_manifests(storage.path) == ["v1", "v2", "vb"]  # the rest at the end
    assert [e.message for e in storage.get_events("r")] == ["event 1", "event 2"]

    store.record_manifest("c", "result", {"version": "vc"})  # not joining: written at once
    assert committed_manifests(storage.path)[-1] == "vc"


# --- instances -----------------------------------------------------------------------------


@op
def emit():
    return 1


@op
def double(x):
    return x * 2


@op
def broken(x):
    raise RuntimeError(f"broken at {x}")


@job
def doubling():
    double(emit())


@job
def failing():
    broken(emit())


def test_local_and_get_instances_are_persistent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = Instance.local(tmp_path / "inst")
    assert local.is_persistent
    assert local.root == tmp_path / "inst"
    assert local.storage_dir == os.fspath(tmp_path / "inst" / "storage")
    assert isinstance(local.run_storage, SqliteRunStorage)
    assert local.run_storage.path == tmp_path / "inst" / "runs.db"
    assert isinstance(local.manifests, SqliteManifestStore)
    assert repr(local) == f"<Instance {tmp_path / 'inst'}>"

    monkeypatch.setenv("NBFLOW_HOME", os.fspath(tmp_path / "home"))
    assert Instance.get().root == tmp_path / "home"

    monkeypatch.delenv("NBFLOW_HOME")
    monkeypatch.chdir(tmp_path)
    default = Instance.get()
    assert default.root == tmp_path / ".nbflow"
    assert not (tmp_path / ".nbflow").exists()  # created on first use
    doubling.execute_in_process(instance=default)
    assert (tmp_path / ".nbflow" / "runs.db").is_file()
    assert len(Instance.get().get_runs()) == 1


def test_an_instance_folder_that_is_a_file_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("NBFLOW_HOME", os.fspath(tmp_path / "file"))
    with pytest.raises(StorageError, match=r"it is a file, expected a folder\. Fix"):
        Instance.get()


def test_execute_in_process_records_the_run_and_every_event(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path)
    result = doubling.execute_in_process(instance=instance, tags={"k": "v"})

    assert instance.get_run(result.run_id) == result.run
    assert instance.get_events(result.run_id) == result.all_events

    done = run_python(
        f"""
        from nbflow import Instance
        from nbflow.storage.event_codec import dumps_event
        instance = Instance.local({os.fspath(tmp_path)!r})
        run = instance.get_runs()[0]
        print(run.run_id, run.status.value, run.tags["k"])
        for event in instance.get_events(run.run_id):
            print(dumps_event(event))
        """
    )
    assert done.returncode == 0, done.stderr
    header, *lines = done.stdout.splitlines()
    assert header == f"{result.run_id} SUCCESS v"
    assert [loads_event(line) for line in lines] == result.all_events
    types = [loads_event(line).event_type for line in lines]
    assert types[0] is EventType.RUN_START and types[-1] is EventType.RUN_SUCCESS
    assert types.count(EventType.STEP_SUCCESS) == 2


def test_failed_runs_are_recorded_with_their_error(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path)
    result = failing.execute_in_process(instance=instance, raise_on_error=False, run_id="bad")
    assert not result.success
    fresh = Instance.local(tmp_path)
    run = fresh.get_run("bad")
    assert run is not None and run.status is RunStatus.FAILURE
    failure = next(e for e in fresh.get_events("bad") if e.event_type is EventType.STEP_FAILURE)
    assert failure.step_key == "broken"
    assert str(failure.data.error) == "RuntimeError: broken at 1"
    assert "Traceback" in failure.data.error.traceback


def test_runs_of_several_jobs_stay_apart(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path)
    doubling.execute_in_process(instance=instance, run_id="one")
    doubling.execute_in_process(instance=instance, run_id="two", op_selection=["emit"])
    assert [r.run_id for r in Instance.local(tmp_path).get_runs()] == ["two", "one"]
    assert instance.get_run("two").op_selection == ["emit"]  # type: ignore[union-attr]
    assert {e.run_id for e in instance.get_events("one")} == {"one"}


# --- damaged files -------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_corrupt_file_is_a_clear_error_and_is_left_untouched(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    db.write_bytes(b"definitely not an SQLite database\n" * 200)
    before = snapshot(tmp_path)
    instance = Instance.local(tmp_path)

    attempts = [
        instance.get_runs,
        lambda: instance.get_run("x"),
        lambda: instance.get_events("x"),
        lambda: instance.add_run(make_run("x")),
        lambda: instance.handle_event(make_event("x", 0)),
        lambda: instance.manifests.latest_manifest("a", "result"),
        lambda: doubling.execute_in_process(instance=instance),
    ]
    for attempt in attempts:
        with pytest.raises(StorageError) as info:
            attempt()
        message = str(info.value)
        assert os.fspath(db) in message
        assert "not a readable SQLite database" in message
        assert "Fix: move it aside" in message
    assert snapshot(tmp_path) == before


def test_a_history_from_a_newer_nbflow_is_refused_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    with pytest.raises(StorageError, match=r"schema version 99.*newer nbflow.*Fix: upgrade"):
        SqliteRunStorage(db).get_runs()
    assert db.read_bytes() == before


def test_a_foreign_sqlite_file_is_refused_and_its_data_kept(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE runs (name TEXT)")
    conn.execute("INSERT INTO runs VALUES ('precious')")
    conn.commit()
    conn.close()
    with pytest.raises(
        StorageError, match=r"not an nbflow run history: it holds the tables \[.runs.\]"
    ):
        SqliteRunStorage(db).add_run(make_run("x"))
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT name FROM runs").fetchall() == [("precious",)]
    finally:
        conn.close()


def test_a_folder_where_the_file_should_be_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "runs.db").mkdir()
    with pytest.raises(StorageError, match=r"runs\.db is a folder, expected an SQLite file"):
        Instance.local(tmp_path).get_runs()


def test_import_nbflow_does_not_load_sqlite3() -> None:
    done = run_python(
        """
        import sys
        import nbflow, nbflow.storage
        from nbflow import Instance
        instance = Instance.ephemeral()
        assert "sqlite3" not in sys.modules, "sqlite3 loaded too early"
        Instance.local("/nonexistent/never/created")
        assert "sqlite3" in sys.modules
        """,
        measured=False,
    )
    assert done.returncode == 0, done.stderr
