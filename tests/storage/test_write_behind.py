"""Small values written behind the run: a manifest only after its value is durable and
published, readers wait for a file being written, a run ends after its writes, a failed write
fails the run and is never taken for a stored value, and pickling errors still fail the step
that produced the value."""

from __future__ import annotations

import logging
import pickle
import threading
from pathlib import Path
from typing import Any

import pytest

from nbflow import EventType, In, InputContext, Instance, OutputContext, job, op
from nbflow.errors import ValueWriteError
from nbflow.storage import write_behind
from nbflow.storage.fs import FilesystemIOManager, InstanceFilesIOManager
from nbflow.storage.sqlite import SqliteManifestStore
from nbflow.storage.write_behind import Spool, writing_behind


def out_ctx(step_key: str = "step", version: str = "v1") -> OutputContext:
    return OutputContext(step_key=step_key, name="result", version=version)


class Gate:
    """Holds every write behind the run until opened; counts those that finished."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.open = threading.Event()
        self.written: list[Path] = []
        real = write_behind._publish

        def gated(path: Path, data: bytes, temporaries: Path) -> None:
            assert self.open.wait(10)
            real(path, data, temporaries)
            self.written.append(path)

        monkeypatch.setattr(write_behind, "_publish", gated)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Gate:
    return Gate(monkeypatch)


def flat_store(tmp_path: Path) -> tuple[InstanceFilesIOManager, SqliteManifestStore]:
    manifests = SqliteManifestStore(tmp_path / "runs.db")
    return InstanceFilesIOManager(tmp_path / "store", manifests), manifests


# --- the writer and the IO manager ---------------------------------------------------------


def test_a_manifest_is_recorded_only_once_its_value_is_published(
    tmp_path: Path, gate: Gate
) -> None:
    manager, manifests = flat_store(tmp_path)
    context = out_ctx()
    path = manager.path_for(context)

    with writing_behind() as writes:
        manager.handle_output(context, {"a": 1})
        manager.record_manifest("step", "result", {"version": "v1"})
        writes.collect()  # the write is held: nothing to record yet
        assert not path.exists()
        assert manifests.latest_manifest("step", "result") is None

        gate.open.set()
        writes.collect(wait=True)
        assert path.exists()
        manifest = manifests.latest_manifest("step", "result")
        assert manifest is not None and manifest["version"] == "v1"
        assert manifest["stored"]["format"] == "pickle"  # the value's record, as before

    assert manager.load_input(InputContext(name="x", step_key="d", upstream_output=context)) == {
        "a": 1
    }


def test_reading_a_value_being_written_waits_for_it(tmp_path: Path, gate: Gate) -> None:
    manager, _ = flat_store(tmp_path)
    context = out_ctx()
    upstream = InputContext(name="x", step_key="d", upstream_output=context)

    with writing_behind():
        manager.handle_output(context, [1, 2, 3])
        threading.Timer(0.05, gate.open.set).start()
        assert manager.has_output(context)  # waited for the file instead of missing it
        assert manager.load_input(upstream) == [1, 2, 3]

    assert gate.written == [manager.path_for(context)]


def test_a_reader_in_another_thread_waits_for_the_write_too(tmp_path: Path, gate: Gate) -> None:
    # an op's own threads, or a run nested in an op, read what the run wrote behind
    manager, _ = flat_store(tmp_path)
    context = out_ctx()
    upstream = InputContext(name="x", step_key="d", upstream_output=context)
    found: list[Any] = []

    with writing_behind():
        manager.handle_output(context, "value")
        reader = threading.Thread(target=lambda: found.append(manager.load_input(upstream)))
        reader.start()
        threading.Timer(0.05, gate.open.set).start()
        reader.join(10)

    assert found == ["value"]


def test_leaving_writes_behind_waits_for_every_write(tmp_path: Path, gate: Gate) -> None:
    manager, manifests = flat_store(tmp_path)
    contexts = [out_ctx(f"s{k}") for k in range(5)]

    threading.Timer(0.05, gate.open.set).start()
    with writing_behind():
        for k, context in enumerate(contexts):
            manager.handle_output(context, k)
            manager.record_manifest(context.step_key, "result", {"version": "v1"})

    assert all(manager.path_for(c).exists() for c in contexts)
    assert all(manifests.latest_manifest(c.step_key, "result") for c in contexts)


def test_a_large_value_is_written_by_the_calling_thread(
    tmp_path: Path, gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(write_behind, "SPOOL_LIMIT", 1000)
    monkeypatch.setattr(Spool.__init__, "__defaults__", (1000,))
    manager, manifests = flat_store(tmp_path)
    context = out_ctx()

    with writing_behind():
        manager.handle_output(context, b"x" * 5000)
        assert manager.path_for(context).exists()  # published before handle_output returned
        manager.record_manifest("step", "result", {"version": "v1"})
        assert manifests.latest_manifest("step", "result") is not None
    assert gate.written == []  # the writer thread wrote nothing
    assert list((tmp_path / "store" / ".tmp").iterdir()) == []


def test_an_unpicklable_value_fails_on_the_calling_thread_and_writes_nothing(
    tmp_path: Path, gate: Gate
) -> None:
    manager = FilesystemIOManager(tmp_path)

    with writing_behind(), pytest.raises((pickle.PicklingError, TypeError, AttributeError)):
        manager.handle_output(out_ctx(), lambda: None)

    assert gate.written == []
    assert not manager.has_output(out_ctx())
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


# --- runs ------------------------------------------------------------------------------------


def chain_job(calls: list[str], failed: threading.Event | None = None) -> Any:
    @op(version="1")
    def first() -> int:
        calls.append("first")
        return 1

    @op(version="1", ins={"x": In()})
    def second(x: int) -> int:
        calls.append("second")
        if failed is not None:  # the write of first's value has failed when the next op starts
            assert failed.wait(10)
        return x + 1

    @op(version="1", ins={"x": In()})
    def third(x: int) -> int:
        calls.append("third")
        return x + 1

    @op(version="1", ins={"x": In()})
    def fourth(x: int) -> int:
        calls.append("fourth")
        return x + 1

    @job(tags={"nbflow/is_memoized_run": "true"})
    def chain() -> None:
        fourth(third(second(first())))

    return chain


@pytest.fixture
def failing_first(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """The write of ``first``'s value fails on the writer thread (a full disk); the event is
    set once it has."""
    real = write_behind._publish
    failed = threading.Event()

    def failing(path: Path, data: bytes, temporaries: Path) -> None:
        if path.name.startswith("first."):
            failed.set()
            raise OSError(28, "No space left on device")
        real(path, data, temporaries)

    monkeypatch.setattr(write_behind, "_publish", failing)
    return failed


def test_a_run_ends_with_every_value_stored_and_its_manifest(tmp_path: Path, gate: Gate) -> None:
    calls: list[str] = []
    instance = Instance.local(tmp_path)
    threading.Timer(0.05, gate.open.set).start()

    assert chain_job(calls).execute_in_process(instance=instance).success

    assert len(gate.written) == 4
    assert all(path.exists() for path in gate.written)
    for step in ("first", "second", "third", "fourth"):
        assert instance.manifests.latest_manifest(step, "result") is not None
    calls.clear()
    assert chain_job(calls).execute_in_process(instance=Instance.local(tmp_path)).success
    assert calls == []  # all memoized


def test_a_failed_write_fails_the_run_and_the_steps_after_it_are_skipped(
    tmp_path: Path, failing_first: threading.Event
) -> None:
    calls: list[str] = []
    instance = Instance.local(tmp_path)

    with pytest.raises(ValueWriteError, match=r"first\.result.*No space left on device"):
        chain_job(calls, failing_first).execute_in_process(instance=instance)

    run = instance.get_runs()[0]
    assert not run.is_success
    events = instance.get_events(run.run_id)
    engine = [e for e in events if e.event_type is EventType.ENGINE_EVENT]
    assert any("Could not store the value of first.result" in e.message for e in engine)
    # the write failed while second ran: noticed at the next batch of events (as second
    # ends, or as third starts, by how soon the writer thread records it); nothing runs after
    assert calls in (["first", "second"], ["first", "second", "third"])
    skipped = {e.step_key: e.data.reason for e in events if e.event_type is EventType.STEP_SKIPPED}
    not_run = {"third", "fourth"} - set(calls)
    assert skipped == dict.fromkeys(not_run, "a value could not be stored")
    assert instance.manifests.latest_manifest("first", "result") is None
    assert not list(Path(instance.storage_dir).glob("first.*"))


def test_a_failed_write_is_reported_without_raising_when_asked(
    tmp_path: Path, failing_first: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    instance = Instance.local(tmp_path)

    result = chain_job(calls).execute_in_process(instance=instance, raise_on_error=False)

    assert not result.success
    assert any(
        "Could not store the value of first.result" in e.message
        for e in result.all_events
        if e.event_type is EventType.ENGINE_EVENT
    )
    monkeypatch.undo()  # the disk has space again
    calls.clear()
    assert chain_job(calls).execute_in_process(instance=Instance.local(tmp_path)).success
    # never stored: computed again; its value is unchanged, so what was stored after it holds
    assert calls[0] == "first"
    assert "second" not in calls


def test_a_failed_write_is_logged_when_the_run_ends_with_another_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(path: Path, data: bytes, temporaries: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(write_behind, "_publish", failing)
    manager, _ = flat_store(tmp_path)

    with caplog.at_level(logging.ERROR, logger="nbflow"), pytest.raises(KeyError):
        with writing_behind():
            manager.handle_output(out_ctx(), 1)
            raise KeyError("the run's own error")

    assert "Could not store the value of step.result" in caplog.text


def test_a_manifest_handed_over_after_its_write_failed_is_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(path: Path, data: bytes, temporaries: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(write_behind, "_publish", failing)
    manager, manifests = flat_store(tmp_path)

    with pytest.raises(ValueWriteError), writing_behind() as writes:
        manager.handle_output(out_ctx(), 1)
        writes.collect(wait=True)  # the failure is known before the manifest comes
        manager.record_manifest("step", "result", {"version": "v1"})
        error = writes.error()
        assert error is not None
        raise error

    assert manifests.latest_manifest("step", "result") is None
    assert not manager.has_output(out_ctx())
