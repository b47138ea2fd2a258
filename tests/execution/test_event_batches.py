"""How a run stores its events: they are held and stored in groups, each event within
``HOLD_SECONDS`` of being emitted (by the run's thread between steps, by the flusher thread
while an op runs), in order; a reader in the same process (an op, a hook, a listener) sees
every event emitted so far, and another reader sees a long op's start while it runs."""

from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from nbflow import (
    Event,
    EventType,
    HookContext,
    In,
    Instance,
    SourceHashVersionStrategy,
    execute_job,
    job,
    list_versions,
    multiprocess_executor,
    op,
    success_hook,
)
from nbflow.execution.engine import event_batch
from nbflow.storage.instance import InMemoryRunStorage
from nbflow.storage.memory import clear_memoized_values
from nbflow.storage.sqlite import SqliteRunStorage

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

mp_jobs: Any = importlib.import_module("mp_jobs")


class CountingStorage(InMemoryRunStorage):
    """In-memory run storage that counts the writes of events (one per transaction)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def store_event(self, event: Event) -> None:
        self.writes += 1
        super().store_event(event)

    def store_events(self, events: Iterable[Event]) -> None:
        self.writes += 1
        for event in events:
            super().store_event(event)


@pytest.fixture(autouse=True)
def fresh_memo() -> Iterator[None]:
    clear_memoized_values()
    yield
    clear_memoized_values()


def chain_of(n: int, seen: list[list[EventType]] | None = None, memoized: bool = False) -> Any:
    """A job of ``n`` chained ops; with ``seen``, each op records the event types of its run
    stored when it starts."""

    def body(context: Any, x: int = 0) -> int:
        if seen is not None:
            stored = context.instance.get_events(context.run_id)
            seen.append([e.event_type for e in stored if e.step_key == context.op_def.name])
        return x + 1

    first = op(name="step_0")(lambda context: body(context))
    ops = [first]
    for i in range(1, n):
        ops.append(op(name=f"step_{i}", ins={"x": In()})(body))

    @job(version_strategy=SourceHashVersionStrategy() if memoized else None)
    def chain() -> None:
        value = ops[0]()
        for one in ops[1:]:
            value = one(value)

    return chain


def test_a_chain_of_quick_steps_stores_its_events_in_a_few_writes_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_batch, "HOLD_SECONDS", 60.0)  # no batch falls due in the run
    storage = CountingStorage()
    instance = Instance(storage, root=tmp_path / "home")  # values in files, passed in memory

    result = chain_of(30, memoized=True).execute_in_process(instance=instance)

    assert result.success
    assert instance.get_events(result.run_id) == result.all_events  # all of them, in order
    run_events = 4  # RUN_START, resources, RUN_SUCCESS: stored as they come
    assert len(result.all_events) > 6 * 30
    assert storage.writes <= run_events + 1


def test_a_batch_falls_due_between_steps_and_is_stored_then(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_batch, "HOLD_SECONDS", 0.0)  # every batch is due at once
    storage = CountingStorage()
    instance = Instance(storage, root=tmp_path / "home")

    result = chain_of(30, memoized=True).execute_in_process(instance=instance)

    assert result.success
    assert instance.get_events(result.run_id) == result.all_events
    assert storage.writes >= 30  # at least once per step, before its op


def test_another_reader_sees_a_long_op_start_while_it_runs(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    # what another process reads: the same file, not this instance (which stores first)
    other = SqliteRunStorage(tmp_path / "home" / "runs.db")
    seen_while_running: list[bool] = []

    @op
    def slow(context: Any) -> int:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            events = other.get_events(context.run_id)
            if any(e.event_type is EventType.STEP_START and e.step_key == "slow" for e in events):
                seen_while_running.append(True)
                break
            time.sleep(0.01)
        return 1

    @job
    def waiting() -> None:
        slow()

    assert waiting.execute_in_process(instance=instance).success
    assert seen_while_running == [True]


def test_an_input_loaded_by_an_io_manager_is_loaded_after_the_step_start_is_stored() -> None:
    storage = CountingStorage()
    instance = Instance(storage)  # in memory: each input is loaded through the IO manager

    result = chain_of(30).execute_in_process(instance=instance)

    assert result.success
    assert instance.get_events(result.run_id) == result.all_events
    assert storage.writes <= 2 * 30 + 5  # before the load, before the op


def test_a_step_start_is_stored_before_its_op_runs(tmp_path: Path) -> None:
    seen: list[list[EventType]] = []
    instance = Instance.local(tmp_path / "home")

    assert chain_of(3, seen).execute_in_process(instance=instance).success

    first_step = [EventType.STEP_START]
    later_steps = [EventType.STEP_START, EventType.LOADED_INPUT, EventType.STEP_INPUT]
    assert seen == [first_step, later_steps, later_steps]


def test_a_step_is_stored_whole_before_the_next_op_runs(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    stored_before: list[set[EventType]] = []

    @op
    def make() -> int:
        return 1

    @op
    def use(context: Any, x: int) -> int:
        events = context.instance.get_events(context.run_id)
        stored_before.append({e.event_type for e in events if e.step_key == "make"})
        return x

    @job
    def pair() -> None:
        use(make())

    assert pair.execute_in_process(instance=instance).success
    assert {EventType.STEP_OUTPUT, EventType.HANDLED_OUTPUT, EventType.STEP_SUCCESS} <= (
        stored_before[0]
    )


def test_what_an_op_logs_is_stored_while_it_runs(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    found: list[str] = []

    @op
    def chatty(context: Any) -> int:
        context.log.info("halfway there")
        events = context.instance.get_events(context.run_id)
        found.extend(e.message for e in events if e.event_type is EventType.LOG_MESSAGE)
        return 1

    @job
    def talking() -> None:
        chatty()

    assert talking.execute_in_process(instance=instance).success
    assert any("halfway there" in message for message in found)


def test_a_listener_hears_a_step_start_before_its_op_runs() -> None:
    instance = Instance.ephemeral()
    heard: list[EventType] = []
    instance.add_event_listener("watched", lambda event: heard.append(event.event_type))
    at_start: list[list[EventType]] = []

    @op
    def look() -> int:
        at_start.append(list(heard))
        return 1

    @job
    def looking() -> None:
        look()

    assert looking.execute_in_process(instance=instance, run_id="watched").success
    assert at_start[0][-1] is EventType.STEP_START


def test_a_hook_sees_its_step_stored(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    found: list[set[EventType]] = []

    @success_hook
    def after(context: HookContext) -> None:
        events = instance.get_events(context.run_id)
        found.append({e.event_type for e in events if e.step_key == context.step_key})

    @op
    def one() -> int:
        return 1

    @job(hooks={after})
    def hooked() -> None:
        one()

    assert hooked.execute_in_process(instance=instance).success
    assert EventType.STEP_SUCCESS in found[0]


def test_a_failing_run_stores_every_event_it_emitted(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")

    @op
    def ok() -> int:
        return 1

    @op
    def broken(x: int) -> int:
        raise ValueError("no")

    @job
    def failing() -> None:
        broken(ok())

    result = failing.execute_in_process(instance=instance, raise_on_error=False)

    assert not result.success
    assert instance.get_events(result.run_id) == result.all_events
    assert result.all_events[-1].event_type is EventType.RUN_FAILURE


# --- version manifests go with the events ---------------------------------------------------


def test_manifests_of_a_memoized_run_are_in_the_run_history(tmp_path: Path) -> None:
    @op
    def source() -> int:
        return 2

    @op
    def double(x: int) -> int:
        return x * 2

    @job(version_strategy=SourceHashVersionStrategy())
    def doubling() -> None:
        double(source())

    instance = Instance.local(tmp_path / "home")
    result = doubling.execute_in_process(instance=instance)

    versions = {r.step_output: r.version for r in list_versions(doubling, instance=instance)}
    again = Instance.local(tmp_path / "home")  # as another process would read it
    for step in ("source", "double"):
        manifest = again.manifests.latest_manifest(step, "result")
        assert manifest is not None and manifest["version"] == versions[f"{step}.result"]
    assert instance.get_events(result.run_id) == result.all_events


def test_step_processes_send_their_manifests_to_the_run(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    memo_job = mp_jobs.memo_job_on(multiprocess_executor)

    result = execute_job(memo_job, instance=instance)
    again = execute_job(memo_job, instance=instance)

    assert result.success and again.success
    skipped = [e for e in again.all_events if e.event_type is EventType.STEP_SKIPPED]
    assert len(skipped) == 3  # every step memoized by the next run
    for row in list_versions(memo_job, instance=instance):
        step, _, name = row.step_output.partition(".")
        manifest = instance.manifests.latest_manifest(step, name)
        assert row.status == "stored"
        assert manifest is not None and manifest["version"] == row.version
