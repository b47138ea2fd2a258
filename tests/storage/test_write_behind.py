"""Small values written behind the run by the value writer process: a manifest only after its
value is durable and published, readers wait for a file being written, a run ends after its
writes, a failed write fails the run and is never taken for a stored value, pickling errors
still fail the step that produced the value, and no value is lost when the writer process is
killed, cannot start, or the run's process forks."""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from nbflow import EventType, In, InputContext, Instance, OutputContext, job, op
from nbflow.errors import ValueWriteError
from nbflow.storage import value_writer, write_behind
from nbflow.storage.fs import FilesystemIOManager, InstanceFilesIOManager
from nbflow.storage.sqlite import SqliteManifestStore
from nbflow.storage.write_behind import Spool, writing_behind

if TYPE_CHECKING:
    from collections.abc import Iterator


def out_ctx(step_key: str = "step", version: str = "v1") -> OutputContext:
    return OutputContext(step_key=step_key, name="result", version=version)


class Gate:
    """Holds every write behind the run until opened: the writer process is stopped."""

    def __init__(self) -> None:
        writer = value_writer.writer()
        writer.start()
        assert writer.pid is not None
        self.pid = writer.pid
        self.opened = False
        os.kill(self.pid, signal.SIGSTOP)

    def open(self) -> None:
        self.opened = True
        os.kill(self.pid, signal.SIGCONT)

    def open_later(self) -> None:
        threading.Timer(0.05, self.open).start()


@pytest.fixture
def gate() -> Iterator[Gate]:
    held = Gate()
    try:
        yield held
    finally:
        with contextlib.suppress(ProcessLookupError):  # killed by the test
            os.kill(held.pid, signal.SIGCONT)


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

        gate.open()
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
        gate.open_later()
        assert manager.has_output(context)  # waited for the file instead of missing it
        assert gate.opened
        assert manager.load_input(upstream) == [1, 2, 3]


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
        gate.open_later()
        reader.join(10)

    assert found == ["value"]


def test_leaving_writes_behind_waits_for_every_write(tmp_path: Path, gate: Gate) -> None:
    manager, manifests = flat_store(tmp_path)
    contexts = [out_ctx(f"s{k}") for k in range(5)]

    gate.open_later()
    with writing_behind():
        for k, context in enumerate(contexts):
            manager.handle_output(context, k)
            manager.record_manifest(context.step_key, "result", {"version": "v1"})

    assert all(manager.path_for(c).exists() for c in contexts)
    assert all(manifests.latest_manifest(c.step_key, "result") for c in contexts)


@pytest.mark.parametrize("value", [b"x" * 5000, "array"])
def test_a_large_value_is_written_by_its_step_and_published_behind(
    tmp_path: Path, gate: Gate, value: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    np = pytest.importorskip("numpy")
    value = np.arange(2000.0) if value == "array" else value  # .npy: its own format
    monkeypatch.setattr(write_behind, "SPOOL_LIMIT", 1000)
    monkeypatch.setattr(Spool.__init__, "__defaults__", (1000, None))
    manager, manifests = flat_store(tmp_path)
    context = out_ctx()
    temporaries = tmp_path / "store" / ".tmp"

    with writing_behind() as writes:
        manager.handle_output(context, value)
        # written whole by this thread (never copied to the writer process), not yet
        # flushed to disk nor published: the writer process is held
        (written,) = temporaries.iterdir()
        assert written.stat().st_size > 5000
        assert not manager.path_for(context).exists()
        manager.record_manifest("step", "result", {"version": "v1"})
        writes.collect()
        assert manifests.latest_manifest("step", "result") is None  # not before its value

        gate.open()
        writes.collect(wait=True)
        assert manager.path_for(context).exists()
        assert manifests.latest_manifest("step", "result") is not None
    assert list(temporaries.iterdir()) == []
    loaded = manager.load_input(InputContext(name="x", step_key="d", upstream_output=context))
    assert bytes(loaded) == bytes(value)


def test_an_unpicklable_value_fails_on_the_calling_thread_and_writes_nothing(
    tmp_path: Path, gate: Gate
) -> None:
    manager = FilesystemIOManager(tmp_path)

    with writing_behind(), pytest.raises((pickle.PicklingError, TypeError, AttributeError)):
        manager.handle_output(out_ctx(), lambda: None)

    assert not manager.has_output(out_ctx())
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


# --- runs ------------------------------------------------------------------------------------


def chain_job(calls: list[str], wait_for: Path | None = None) -> Any:
    @op(version="1")
    def first() -> int:
        calls.append("first")
        return 1

    @op(version="1", ins={"x": In()})
    def second(x: int) -> int:
        calls.append("second")
        if wait_for is not None:  # the write of first's value has ended when the next op starts
            write_behind.wait_for_write(wait_for)
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


def block(path: Path) -> Path:
    """Make writing ``path`` fail, as a real write would: a folder is in its place."""
    (path / "in-the-way").mkdir(parents=True)
    return path


@pytest.fixture
def blocked_first(tmp_path: Path) -> Path:
    """The path of ``first``'s value in the instance at ``tmp_path / "home"``, blocked."""
    probe = Instance.local(tmp_path / "probe")
    assert chain_job([]).execute_in_process(instance=probe).success
    (name,) = (p.name for p in Path(probe.storage_dir).glob("first.result@*"))
    return block(Path(Instance.local(tmp_path / "home").storage_dir) / name)


def test_a_run_ends_with_every_value_stored_and_its_manifest(tmp_path: Path, gate: Gate) -> None:
    calls: list[str] = []
    instance = Instance.local(tmp_path)
    gate.open_later()

    assert chain_job(calls).execute_in_process(instance=instance).success

    assert gate.opened
    assert len([p for p in Path(instance.storage_dir).glob("*.result@*") if p.is_file()]) == 4
    for step in ("first", "second", "third", "fourth"):
        assert instance.manifests.latest_manifest(step, "result") is not None
    calls.clear()
    assert chain_job(calls).execute_in_process(instance=Instance.local(tmp_path)).success
    assert calls == []  # all memoized


def test_a_failed_write_fails_the_run_and_the_steps_after_it_are_skipped(
    tmp_path: Path, blocked_first: Path
) -> None:
    calls: list[str] = []
    instance = Instance.local(tmp_path / "home")

    with pytest.raises(ValueWriteError, match=r"first\.result.*Is a directory"):
        chain_job(calls, blocked_first).execute_in_process(instance=instance)

    run = instance.get_runs()[0]
    assert not run.is_success
    events = instance.get_events(run.run_id)
    engine = [e for e in events if e.event_type is EventType.ENGINE_EVENT]
    assert any("Could not store the value of first.result" in e.message for e in engine)
    # the write failed while second ran: noticed at the next batch of events (as second
    # ends, or as third starts, by how soon the reply is read); nothing runs after
    assert calls in (["first", "second"], ["first", "second", "third"])
    skipped = {e.step_key: e.data.reason for e in events if e.event_type is EventType.STEP_SKIPPED}
    not_run = {"third", "fourth"} - set(calls)
    assert skipped == dict.fromkeys(not_run, "a value could not be stored")
    assert instance.manifests.latest_manifest("first", "result") is None
    assert not [p for p in Path(instance.storage_dir).glob("first.*") if p.is_file()]


def test_a_failed_write_is_reported_without_raising_when_asked(
    tmp_path: Path, blocked_first: Path
) -> None:
    calls: list[str] = []
    instance = Instance.local(tmp_path / "home")

    result = chain_job(calls).execute_in_process(instance=instance, raise_on_error=False)

    assert not result.success
    assert any(
        "Could not store the value of first.result" in e.message
        for e in result.all_events
        if e.event_type is EventType.ENGINE_EVENT
    )
    shutil.rmtree(blocked_first)  # the way is clear again
    calls.clear()
    assert chain_job(calls).execute_in_process(instance=Instance.local(tmp_path / "home")).success
    # never stored: computed again; its value is unchanged, so what was stored after it holds
    assert calls[0] == "first"
    assert "second" not in calls


def test_a_failed_write_is_logged_when_the_run_ends_with_another_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    manager, _ = flat_store(tmp_path)
    block(manager.path_for(out_ctx()))

    with caplog.at_level(logging.ERROR, logger="nbflow"), pytest.raises(KeyError):
        with writing_behind():
            manager.handle_output(out_ctx(), 1)
            raise KeyError("the run's own error")

    assert "Could not store the value of step.result" in caplog.text


@pytest.fixture
def small_spool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Values over 1,000 bytes count as large: written by their step, published behind."""
    monkeypatch.setattr(write_behind, "SPOOL_LIMIT", 1000)
    monkeypatch.setattr(Spool.__init__, "__defaults__", (1000, None))


@pytest.mark.parametrize("value", [1, b"x" * 5000], ids=["small", "large"])
def test_a_manifest_handed_over_after_its_write_failed_is_dropped(
    tmp_path: Path, value: Any, small_spool: None
) -> None:
    manager, manifests = flat_store(tmp_path)
    block(manager.path_for(out_ctx()))

    with pytest.raises(ValueWriteError, match="Is a directory"), writing_behind() as writes:
        manager.handle_output(out_ctx(), value)
        writes.collect(wait=True)  # the failure is known before the manifest comes
        manager.record_manifest("step", "result", {"version": "v1"})
        error = writes.error()
        assert error is not None
        raise error

    assert manifests.latest_manifest("step", "result") is None
    assert not manager.has_output(out_ctx())
    assert list((tmp_path / "store" / ".tmp").iterdir()) == []  # no temporary file left


# --- the writer process ----------------------------------------------------------------------


def test_the_values_pending_when_the_writer_process_is_killed_are_stored(
    tmp_path: Path, gate: Gate, caplog: pytest.LogCaptureFixture, small_spool: None
) -> None:
    manager, manifests = flat_store(tmp_path)
    contexts = [out_ctx(f"s{k}") for k in range(6)]
    values = [k if k % 2 else bytes([k]) * 5000 for k in range(6)]  # small and large ones

    with caplog.at_level(logging.WARNING, logger="nbflow"), writing_behind():
        for context, value in zip(contexts, values, strict=True):
            manager.handle_output(context, value)
            manager.record_manifest(context.step_key, "result", {"version": "v1"})
        os.kill(gate.pid, signal.SIGKILL)

    assert "The value writer process ended" in caplog.text
    upstream = [InputContext(name="x", step_key="d", upstream_output=c) for c in contexts]
    assert [manager.load_input(c) for c in upstream] == values
    assert all(manifests.latest_manifest(c.step_key, "result") for c in contexts)
    with writing_behind():  # the next write starts another writer process
        manager.handle_output(out_ctx("after"), "after")
    assert value_writer.writer().pid not in (None, gate.pid)


@pytest.mark.parametrize("program", ["missing", "failing", "another program"])
def test_values_are_stored_when_the_writer_process_cannot_run(
    tmp_path: Path,
    program: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    executable = tmp_path / "python"
    if program != "missing":  # what sys.executable is in a program that embeds Python
        executable.write_text(
            "#!/bin/sh\n" + ("exit 3" if program == "failing" else "exec sleep 60")
        )
        executable.chmod(0o755)
    monkeypatch.setattr(value_writer, "START_SECONDS", 0.5)
    monkeypatch.setattr(value_writer, "_WRITER", value_writer.ValueWriter())
    monkeypatch.setattr(sys, "executable", str(executable))
    calls: list[str] = []

    with caplog.at_level(logging.WARNING, logger="nbflow"):
        assert chain_job(calls).execute_in_process(instance=Instance.local(tmp_path)).success

    assert "value writer process is not available here" in caplog.text
    assert value_writer.writer().unavailable
    calls.clear()
    assert chain_job(calls).execute_in_process(instance=Instance.local(tmp_path)).success
    assert calls == []  # every value was stored


def test_ctrl_c_in_a_terminal_leaves_the_writer_process_running(tmp_path: Path, gate: Gate) -> None:
    manager, _ = flat_store(tmp_path)
    os.kill(gate.pid, signal.SIGINT)  # a terminal sends it to the whole process group
    gate.open()

    with writing_behind():
        manager.handle_output(out_ctx(), "value")

    assert value_writer.writer().pid == gate.pid  # the run's process decides when it ends
    assert manager.has_output(out_ctx())


def test_a_process_forked_during_a_run_starts_its_own_writer(tmp_path: Path) -> None:
    manager, _ = flat_store(tmp_path)
    with writing_behind():
        manager.handle_output(out_ctx("parent"), "parent")
        parent_writer = value_writer.writer().pid
        child = os.fork()
        if child == 0:  # pragma: no cover - measured in the child, which exits at once
            try:
                with writing_behind():
                    manager.handle_output(out_ctx("child"), "child")
                ok = value_writer.writer().pid not in (None, parent_writer)
            finally:
                os._exit(0 if ok else 1)
        _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    upstream = InputContext(name="x", step_key="d", upstream_output=out_ctx("child"))
    assert manager.load_input(upstream) == "child"


@pytest.mark.parametrize("sent_first", [0, 10])
def test_a_send_interrupted_by_ctrl_c_loses_no_value_and_garbles_no_other(
    tmp_path: Path, sent_first: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(value_writer, "SEND_EVERY", 1)
    writer = value_writer.ValueWriter()
    writer.start()
    first_pid = writer.pid
    real_write = os.write
    calls: list[int] = []

    def interrupted(fd: int, data: Any) -> int:
        calls.append(fd)
        if len(calls) == 1 and sent_first:  # a part of the request goes out
            return real_write(fd, bytes(data[:sent_first]))
        raise KeyboardInterrupt

    def pending(name: str, value: bytes) -> value_writer.PendingWrite:
        path = tmp_path / name
        return value_writer.PendingWrite(path, str(path), value, tmp_path, name)

    first = pending("first", b"first value")
    monkeypatch.setattr(os, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        writer.submit(first)
    monkeypatch.setattr(os, "write", real_write)
    second = pending("second", b"second value")
    writer.submit(second)
    writer.wait(first)
    writer.wait(second)

    assert first.error is None and second.error is None
    assert (tmp_path / "first").read_bytes() == b"first value"
    assert (tmp_path / "second").read_bytes() == b"second value"
    # a request sent in part ends its process (its stream would be garbled); one not sent
    # at all is sent with the next
    assert (writer.pid == first_pid) is (sent_first == 0)
    writer.close()
