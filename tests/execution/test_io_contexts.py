"""IO contexts: the store, the memo check and the loads describe an output alike.

An IO manager that keys its storage by the ``Out``'s metadata must find, on the memo check,
what it stored; a result must load a memoized value through an IO manager that is open; and
every context of one output carries the same metadata, run id and version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from nbflow import (
    MEMOIZED_RUN_TAG,
    EventType,
    In,
    InputContext,
    MemoizableIOManager,
    Out,
    OutputContext,
    io_manager,
    job,
    list_versions,
    op,
)
from nbflow.storage import clear_memoized_values

if TYPE_CHECKING:
    from collections.abc import Iterator

MEMOIZED = {MEMOIZED_RUN_TAG: "true"}


@pytest.fixture(autouse=True)
def fresh_memo() -> Iterator[None]:
    clear_memoized_values()
    yield
    clear_memoized_values()


def memoized_steps(result: Any) -> list[str]:
    return [
        str(e.step_key)
        for e in result.all_events
        if e.event_type is EventType.STEP_SKIPPED and e.data.memoized
    ]


class TableIOManager(MemoizableIOManager):
    """Files each output under the table its ``Out`` metadata names, by version."""

    def __init__(self, tables: dict[tuple[str, str], Any]) -> None:
        self.tables = tables

    @staticmethod
    def _key(context: OutputContext) -> tuple[str, str]:
        assert context.version is not None
        return (context.metadata["table"], context.version)

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        assert context.run_id, "a stored output belongs to a run"
        self.tables[self._key(context)] = obj

    def load_input(self, context: InputContext) -> Any:
        upstream = context.upstream_output
        assert upstream is not None and upstream.run_id, "a load belongs to a run"
        return self.tables[self._key(upstream)]

    def has_output(self, context: OutputContext) -> bool:
        return self._key(context) in self.tables


def test_an_io_manager_keyed_by_output_metadata_gets_memoized_hits() -> None:
    tables: dict[tuple[str, str], Any] = {}
    ran: list[str] = []

    @io_manager
    def table_io_manager(_init: Any) -> TableIOManager:
        return TableIOManager(tables)

    @op(version="1", out=Out(metadata={"table": "numbers"}))
    def numbers() -> list[int]:
        ran.append("numbers")
        return [1, 2, 3]

    @op(version="1", out=Out(metadata={"table": "total"}))
    def total(xs: list[int]) -> int:
        ran.append("total")
        return sum(xs)

    @job(resource_defs={"io_manager": table_io_manager}, tags=MEMOIZED)
    def summing() -> None:
        total(numbers())

    first = summing.execute_in_process()
    assert ran == ["numbers", "total"]
    assert {table for table, _ in tables} == {"numbers", "total"}
    ran.clear()

    second = summing.execute_in_process()

    assert ran == []
    assert memoized_steps(second) == ["numbers", "total"]
    assert second.output_for_node("total") == first.output_for_node("total") == 6
    rows = list_versions(summing)
    assert [(r.step_output, r.status) for r in rows] == [
        ("numbers.result", "stored"),
        ("total.result", "stored"),
    ]


class ConnectionIOManager(MemoizableIOManager):
    """Talks to storage through a connection that the resource's teardown closes."""

    def __init__(self, store: dict[tuple[str, str], Any]) -> None:
        self.store = store
        self.closed = False

    def _open(self) -> dict[tuple[str, str], Any]:
        if self.closed:
            raise RuntimeError("connection closed")
        return self.store

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        assert context.version is not None
        self._open()[(context.step_key, context.version)] = obj

    def load_input(self, context: InputContext) -> Any:
        upstream = context.upstream_output
        assert upstream is not None and upstream.version is not None
        return self._open()[(upstream.step_key, upstream.version)]

    def has_output(self, context: OutputContext) -> bool:
        assert context.version is not None
        return (context.step_key, context.version) in self._open()


def test_a_memoized_output_loads_through_an_open_generator_io_manager() -> None:
    store: dict[tuple[str, str], Any] = {}
    managers: list[ConnectionIOManager] = []

    @io_manager
    def connection_io_manager(_init: Any) -> Iterator[ConnectionIOManager]:
        manager = ConnectionIOManager(store)
        managers.append(manager)
        yield manager
        manager.closed = True

    @op(version="1")
    def step() -> str:
        return "stored value"

    @job(resource_defs={"io_manager": connection_io_manager}, tags=MEMOIZED)
    def connected() -> None:
        step()

    connected.execute_in_process()
    result = connected.execute_in_process()

    assert memoized_steps(result) == ["step"]
    assert result.output_for_node("step") == "stored value"
    assert all(manager.closed for manager in managers), "every connection is closed again"


def test_store_memo_check_and_loads_see_the_same_output_context() -> None:
    seen: list[tuple[str, OutputContext]] = []
    inputs: list[tuple[str, str, dict[str, Any]]] = []
    store: dict[tuple[str, str], Any] = {}

    class RecordingIOManager(MemoizableIOManager):
        def handle_output(self, context: OutputContext, obj: Any) -> None:
            seen.append(("store", context))
            assert context.version is not None
            store[(context.step_key, context.version)] = obj

        def load_input(self, context: InputContext) -> Any:
            upstream = context.upstream_output
            assert upstream is not None and upstream.version is not None
            seen.append(("load", upstream))
            if context.step_key == "count":
                inputs.append((context.step_key, context.name, context.metadata))
            return store[(upstream.step_key, upstream.version)]

        def has_output(self, context: OutputContext) -> bool:
            seen.append(("check", context))
            assert context.version is not None
            return (context.step_key, context.version) in store

    @io_manager
    def recording_io_manager(_init: Any) -> RecordingIOManager:
        return RecordingIOManager()

    @op(version="1", out=Out(metadata={"table": "words", "schema": "raw"}))
    def words() -> list[str]:
        return ["a", "b"]

    @op(version="1", ins={"xs": In(metadata={"column": "word"})})
    def count(xs: list[str]) -> int:
        return len(xs)

    @job(resource_defs={"io_manager": recording_io_manager}, tags=MEMOIZED)
    def counting() -> None:
        count(words())

    first = counting.execute_in_process()
    second = counting.execute_in_process()
    assert memoized_steps(second) == ["words", "count"]
    assert second.output_for_node("words") == ["a", "b"]

    def described(context: OutputContext) -> tuple[Any, ...]:
        return (
            context.step_key,
            context.name,
            context.run_id,
            context.version,
            context.metadata,
            context.op_def,
            context.asset_key,
            context.partition_key,
        )

    of_words = [(kind, described(c)) for kind, c in seen if c.step_key == "words"]
    assert [kind for kind, _ in of_words] == ["check", "store", "load", "check", "load"]
    in_first = [d for _, d in of_words[:3]]
    in_second = [d for _, d in of_words[3:]]
    assert in_first == [in_first[0]] * 3
    version = in_first[0][3]
    metadata = {"table": "words", "schema": "raw"}
    assert in_first[0] == ("words", "result", first.run_id, version, metadata, words, None, None)
    assert (
        in_second == [("words", "result", second.run_id, version, metadata, words, None, None)] * 2
    )
    assert all(c.log is not None for _, c in seen), "every context carries its step's log"
    assert inputs == [("count", "xs", {"column": "word"})], "a load sees the In's metadata"
