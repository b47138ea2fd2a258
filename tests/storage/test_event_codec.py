"""Events and every payload type survive a trip through JSON; unknown values degrade, never fail."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from nbflow import AssetKey, AssetMaterialization, AssetObservation, ExpectationResult
from nbflow.events import (
    CapturedOutputData,
    ErrorInfo,
    Event,
    EventType,
    HookData,
    IOManagerData,
    LogMessageData,
    ResourceInitData,
    RetryData,
    StepDurationData,
    StepFailureData,
    StepInputData,
    StepOutputData,
    StepSkippedData,
    UserFailureData,
)
from nbflow.storage import event_codec
from nbflow.storage.event_codec import (
    PAYLOAD_FIELDS,
    decode_value,
    dumps,
    dumps_event,
    encode_value,
    loads,
    loads_event,
    loads_payload,
)

ERROR = ErrorInfo("RuntimeError", "boom", 'Traceback (most recent call last):\n  File "x"\n')

PAYLOADS = [
    ERROR,
    StepFailureData(ERROR),
    StepFailureData(ERROR, user_failure=False),
    StepFailureData(ERROR, user_failure_data=UserFailureData("too few rows", {"rows": 3})),
    UserFailureData(),
    StepSkippedData("memoized", {"result": "ab" * 32, "other": "cd" * 32}),
    StepSkippedData("upstream 'a' did not produce its output"),
    StepOutputData("result"),
    StepOutputData("result", "f" * 64, {"rows": 3, "ratio": 0.25, "ok": True, "none": None}),
    StepInputData("x", "a.result"),
    IOManagerData("result", "io_manager", {"path": "/tmp/x", "size": 12}),
    RetryData(2, 0.5),
    RetryData(3, 1.25, ERROR),
    HookData("notify"),
    HookData("notify", ERROR),
    StepDurationData(12.5),
    ResourceInitData(("db", "io_manager"), {"db": 1.25, "io_manager": 0.01}),
    LogMessageData(20),
    LogMessageData(40, "nbflow.custom"),
    CapturedOutputData("printed\n", "warned\n", 1024),
    AssetMaterialization("orders"),
    AssetMaterialization(
        AssetKey(["warehouse", "orders"]),
        description="written",
        metadata={"rows": 10, "columns": ["a", "b"]},
        partition="2024-01-01",
    ),
    AssetObservation(["lake", "raw"], metadata={"seen": 1}),
    ExpectationResult(True),
    ExpectationResult(False, "non_empty", "rows > 0", {"rows": 0}),
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: type(p).__name__)
def test_every_payload_type_round_trips(payload: object) -> None:
    text = dumps(payload)
    json.loads(text)  # plain JSON
    back = loads(text)
    assert type(back) is type(payload)
    assert back == payload


def test_every_payload_type_is_covered_by_the_tests_and_lists_all_its_fields() -> None:
    assert {type(p) for p in PAYLOADS} == set(PAYLOAD_FIELDS)
    for cls, names in PAYLOAD_FIELDS.items():
        assert names == tuple(f.name for f in dataclasses.fields(cls)), cls


@pytest.mark.parametrize("payload", [*PAYLOADS, None], ids=lambda p: type(p).__name__)
def test_events_round_trip_with_every_field(payload: object) -> None:
    event = Event(
        EventType.STEP_OUTPUT,
        "my_job",
        "outer.inner",
        "Yielded output 'result'",
        payload,
        timestamp=1_700_000_000.123456,
        pid=4242,
        run_id="run-1",
    )
    back = loads_event(dumps_event(event))
    assert back == event
    assert back.timestamp == event.timestamp


def test_event_type_aliases_come_back_as_the_same_member() -> None:
    event = Event(EventType.PIPELINE_START, "j", run_id="r")
    back = loads_event(dumps_event(event))
    assert back.event_type is EventType.RUN_START is EventType.PIPELINE_START


def test_unknown_event_type_becomes_an_engine_event_that_names_it() -> None:
    data = json.loads(dumps_event(Event(EventType.STEP_START, "j", "a", "hello", run_id="r")))
    data["event_type"] = "STEP_TELEPORTED"
    back = event_codec.event_from_dict(data)
    assert back.event_type is EventType.ENGINE_EVENT
    assert back.message == "[STEP_TELEPORTED] hello"


@pytest.mark.parametrize(
    "value",
    [
        (1, "two", 3.0),
        {1: "int key", (2, 3): "tuple key"},
        {"__nbflow__": "a user key that looks like the tag"},
        {"a", "b"},
        frozenset({1, 2}),
        b"\x00\xffbytes",
        [1, [2, [3, (4,)]]],
        {"nested": {"deep": [{"x": (1, 2)}]}},
        "unicode: ünïcødé ✓",
        2**80,
    ],
    ids=repr,
)
def test_metadata_values_keep_their_python_types(value: object) -> None:
    back = loads(dumps(StepOutputData("result", None, {"v": value})))
    assert back.metadata["v"] == value
    assert type(back.metadata["v"]) is type(value)


def test_non_finite_floats_round_trip_and_the_text_stays_strict_json() -> None:
    text = dumps({"inf": math.inf, "ninf": -math.inf, "nan": math.nan})
    json.loads(text, parse_constant=lambda name: pytest.fail(f"non-standard JSON {name}"))
    back = loads(text)
    assert back["inf"] == math.inf and back["ninf"] == -math.inf and math.isnan(back["nan"])


class Opaque:
    def __repr__(self) -> str:
        return "<Opaque thing>"


class Unreprable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


def test_unknown_payloads_degrade_to_their_repr_string() -> None:
    assert loads_payload(event_codec.dumps_payload(Opaque())) == "<Opaque thing>"
    metadata = loads(dumps(StepOutputData("r", None, {"obj": Opaque(), "bad": Unreprable()})))
    assert metadata.metadata == {"obj": "<Opaque thing>", "bad": "<unrepresentable Unreprable>"}


def test_self_referencing_values_do_not_recurse_forever() -> None:
    loop: list[object] = []
    loop.append(loop)
    back = loads(dumps({"loop": loop}))
    assert isinstance(back["loop"], list)
    assert "[...]" in json.dumps(back)


def test_subclasses_of_builtin_types_are_stored_as_the_builtin() -> None:
    class Label(str):
        pass

    class Count(int):
        pass

    back = loads(dumps({"label": Label("x"), "count": Count(3), "flag": True}))
    assert back == {"label": "x", "count": 3, "flag": True}
    assert type(back["label"]) is str and type(back["count"]) is int


def test_damaged_or_foreign_text_never_raises() -> None:
    assert loads("not json {") == "not json {"
    assert loads_payload(None) is None
    # A payload of a type this nbflow does not know (written by a newer one) stays readable.
    future = loads('{"__nbflow__": "StepTeleportData", "where": "mars"}')
    assert future == {"__nbflow__": "StepTeleportData", "where": "mars"}
    # A known type with a field it does not take any more.
    odd = loads('{"__nbflow__": "HookData", "hook_name": "h", "colour": "red"}')
    assert odd == HookData("h")
    broken = loads('{"__nbflow__": "StepDurationData"}')
    assert broken == {"__nbflow__": "StepDurationData"}


def test_encode_value_output_is_json_and_decode_value_inverts_it() -> None:
    value = {"t": (1, 2), "k": AssetKey(["a", "b"]), "e": ERROR}
    encoded = encode_value(value)
    assert json.loads(json.dumps(encoded)) == encoded
    assert decode_value(encoded) == value


@pytest.mark.parametrize(
    "value",
    [
        {"t": (1, 2), "k": AssetKey(["a", "b"]), "e": ERROR, "f": [1.5, -0.0, 1e300]},
        {"text": 'naïve ☃ \n "quoted" \\ </script>', 2: {3: None}},
        ["a", True, None, {"nested": [{"deep": "x" * 300}]}],
        float("inf"),
        "plain",
    ],
    ids=["payloads", "unicode", "nested", "infinity", "string"],
)
def test_dumps_writes_the_text_json_dumps_writes(value: object) -> None:
    encoded = encode_value(value)
    expected = json.dumps(encoded, separators=(",", ":"), ensure_ascii=False)
    assert event_codec.dumps(value) == expected
    surrogate = {"name": "bad\udcff", "rest": encoded}
    escaped = json.dumps(encode_value(surrogate), separators=(",", ":"), ensure_ascii=True)
    assert event_codec.dumps(surrogate) == escaped
