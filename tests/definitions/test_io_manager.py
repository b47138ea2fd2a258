"""Custom IO managers: what they are told when storing and loading, and where values go."""

from __future__ import annotations

from typing import Any

import pytest

from nbflow import (
    EventType,
    InputContext,
    IOManager,
    IOManagerDefinition,
    MemoizableIOManager,
    Out,
    OutputContext,
    io_manager,
    job,
    op,
)
from nbflow.errors import InvalidContextUseError


class RecordingIOManager(IOManager):
    """Keeps values in a dict and records every call."""

    def __init__(self, prefix: str, calls: list[Any]) -> None:
        self.prefix = prefix
        self.calls = calls
        self.values: dict[tuple[str, str], Any] = {}

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        self.calls.append(("handle", context.step_key, context.name, dict(context.metadata), obj))
        self.values[(context.step_key, context.name)] = f"{self.prefix}:{obj}"

    def load_input(self, context: InputContext) -> Any:
        upstream = context.upstream_output
        assert upstream is not None
        self.calls.append(
            ("load", context.step_key, context.name, upstream.step_key, upstream.name)
        )
        return self.values[(upstream.step_key, upstream.name)]


def test_custom_io_manager_stores_outputs_and_loads_inputs() -> None:
    calls: list[Any] = []

    @io_manager(config_schema={"prefix": str})
    def recording_io(init_context):
        return RecordingIOManager(init_context.resource_config["prefix"], calls)

    @op(out=Out(io_manager_key="recording", metadata={"format": "text"}))
    def produce():
        return "value"

    @op
    def consume(text):
        return text.upper()

    @job(resource_defs={"recording": recording_io})
    def stored():
        consume(produce())

    result = stored.execute_in_process(
        run_config={"resources": {"recording": {"config": {"prefix": "p"}}}}
    )

    assert isinstance(recording_io, IOManagerDefinition)
    assert result.output_for_node("consume") == "P:VALUE"
    assert calls == [
        ("handle", "produce", "result", {"format": "text"}, "value"),
        ("load", "consume", "text", "produce", "result"),
    ]
    handled = [e for e in result.all_events if e.event_type is EventType.HANDLED_OUTPUT]
    assert [(e.step_key, e.data.manager_key) for e in handled] == [
        ("produce", "recording"),
        ("consume", "io_manager"),
    ]
    [loaded] = [e for e in result.all_events if e.event_type is EventType.LOADED_INPUT]
    assert loaded.step_key == "consume"
    assert loaded.data.name == "text"
    assert loaded.message == "Loaded input 'text' from produce.result with 'recording'"


def test_custom_default_io_manager_replaces_the_in_memory_one() -> None:
    calls: list[Any] = []

    @io_manager
    def recording_io(_):
        return RecordingIOManager("custom", calls)

    @op
    def produce():
        return 1

    @op
    def consume(x):
        return x

    @job(resource_defs={"io_manager": recording_io})
    def stored():
        consume(produce())

    result = stored.execute_in_process()
    assert result.output_for_node("consume") == "custom:1"
    assert [c[0] for c in calls] == ["handle", "load", "handle"]


def test_output_context_sees_run_id_op_def_and_partition_key() -> None:
    seen: list[OutputContext] = []

    class Spy(IOManager):
        def handle_output(self, context: OutputContext, obj: Any) -> None:
            seen.append(context)

        def load_input(self, context: InputContext) -> Any:
            raise AssertionError("nothing loads")

    @op
    def produce():
        return 1

    @job(resource_defs={"io_manager": io_manager(lambda _: Spy())})
    def spied():
        produce()

    spied.execute_in_process(run_id="spy-run")
    [context] = seen
    assert (context.step_key, context.name, context.run_id) == ("produce", "result", "spy-run")
    assert context.op_def is produce
    assert context.version is None
    assert context.has_partition_key is False
    assert context.get_identifier() == ["spy-run", "produce", "result"]


def test_output_identifier_includes_the_version_when_there_is_one() -> None:
    versioned = OutputContext(step_key="emit", name="result", version="abc123")
    assert versioned.get_output_identifier() == ["emit", "result", "abc123"]
    with pytest.raises(InvalidContextUseError, match=r"has neither a version nor a run id"):
        OutputContext(step_key="emit", name="result").get_identifier()


def test_memoizable_io_manager_requires_has_output() -> None:
    class Incomplete(MemoizableIOManager):
        def handle_output(self, context: OutputContext, obj: Any) -> None:
            return None

        def load_input(self, context: InputContext) -> Any:
            return None

    with pytest.raises(TypeError, match=r"abstract method.*has_output"):
        Incomplete()  # type: ignore[abstract]


def test_io_manager_raising_fails_the_step() -> None:
    class Broken(IOManager):
        def handle_output(self, context: OutputContext, obj: Any) -> None:
            raise OSError("disk full")

        def load_input(self, context: InputContext) -> Any:
            return None

    @op
    def produce():
        return 1

    @job(resource_defs={"io_manager": io_manager(lambda _: Broken())})
    def failing():
        produce()

    result = failing.execute_in_process(raise_on_error=False)
    assert not result.success
    [failure] = result.get_step_failure_events()
    assert failure.data.error.cls_name == "OSError"
    assert failure.data.error.message == "disk full"
