"""JSON (de)serialization of events and their typed payloads, for persistent run storage.

Payloads are the dataclasses of :mod:`nbflow.events` and the user events of
:mod:`nbflow.definitions.user_events`. Each is written as a JSON object tagged with its type
name under :data:`TAG` and its fields, listed explicitly in :data:`PAYLOAD_FIELDS`, so the
stored form does not change silently when a class grows a field.

Values inside payloads (metadata, versions, run config) are JSON where possible; tuples, sets,
bytes and mappings with non-string keys are tagged so they come back as they went in. Anything
else degrades to its ``repr`` string: encoding never fails, and decoding never fails either (an
unreadable payload comes back as its stored text).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from nbflow.definitions.asset_key import AssetKey
from nbflow.definitions.user_events import AssetMaterialization, AssetObservation, ExpectationResult
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

TAG = "__nbflow__"
"""Key that marks a JSON object as an encoded Python value rather than a plain mapping."""

PAYLOAD_FIELDS: dict[type, tuple[str, ...]] = {
    ErrorInfo: ("cls_name", "message", "traceback"),
    StepFailureData: ("error", "user_failure", "user_failure_data"),
    UserFailureData: ("description", "metadata", "label"),
    StepSkippedData: ("reason", "versions", "detail"),
    StepOutputData: ("output_name", "version", "metadata", "value_fingerprint"),
    StepInputData: ("input_name", "source"),
    IOManagerData: ("name", "manager_key", "metadata"),
    RetryData: ("attempt", "seconds_to_wait", "error"),
    HookData: ("hook_name", "error"),
    StepDurationData: ("duration_ms",),
    ResourceInitData: ("resource_keys", "init_ms"),
    LogMessageData: ("level", "logger_name"),
    CapturedOutputData: ("stdout", "stderr", "dropped_chars"),
    AssetMaterialization: ("asset_key", "description", "metadata", "partition"),
    AssetObservation: ("asset_key", "description", "metadata", "partition"),
    ExpectationResult: ("success", "label", "description", "metadata"),
}
"""Every payload type the codec knows, with the constructor arguments it stores."""

_BY_NAME: dict[str, type] = {cls.__name__: cls for cls in PAYLOAD_FIELDS}

_MAX_DEPTH = 64


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception:
        return f"<unrepresentable {type(value).__qualname__}>"


def encode_value(value: Any, _depth: int = 0) -> Any:
    """``value`` as JSON-compatible data (see the module docstring); never raises."""
    encoder = _ENCODERS.get(type(value))
    if encoder is not None:
        return encoder(value, _depth)
    return _encode_other(value, _depth)


def _as_is(value: Any, _depth: int) -> Any:
    return value


def _encode_float(value: float, _depth: int) -> Any:
    number = float(value)
    return number if math.isfinite(number) else {TAG: "float", "value": repr(number)}


def _encode_payload(value: Any, depth: int) -> Any:
    if depth >= _MAX_DEPTH:
        return _safe_repr(value)
    encoded = {TAG: type(value).__name__}
    depth += 1
    for name in PAYLOAD_FIELDS[type(value)]:
        item = getattr(value, name)
        encoded[name] = item if type(item) in _PLAIN else encode_value(item, depth)
    return encoded


def _encode_asset_key(value: AssetKey, _depth: int) -> Any:
    return {TAG: "AssetKey", "path": list(value.path)}


def _encode_list(value: list[Any], depth: int) -> Any:
    if depth >= _MAX_DEPTH:
        return _safe_repr(value)
    depth += 1
    return [item if type(item) in _PLAIN else encode_value(item, depth) for item in value]


def _encode_tuple(value: tuple[Any, ...], depth: int) -> Any:
    if depth >= _MAX_DEPTH:
        return _safe_repr(value)
    return {TAG: "tuple", "items": [encode_value(item, depth + 1) for item in value]}


def _encode_set(value: set[Any] | frozenset[Any], depth: int) -> Any:
    if depth >= _MAX_DEPTH:
        return _safe_repr(value)
    items = [encode_value(item, depth + 1) for item in value]
    return {TAG: "frozenset" if isinstance(value, frozenset) else "set", "items": items}


def _encode_bytes(value: bytes, _depth: int) -> Any:
    return {TAG: "bytes", "base64": base64.b64encode(value).decode("ascii")}


def _encode_mapping(value: Mapping[Any, Any], depth: int) -> Any:
    if depth >= _MAX_DEPTH:
        return _safe_repr(value)
    depth += 1
    if TAG not in value:
        plain: dict[str, Any] = {}
        for k, v in value.items():
            if type(k) is not str:
                break
            plain[k] = v if type(v) in _PLAIN else encode_value(v, depth)
        else:
            return plain
    pairs = [[encode_value(k, depth), encode_value(v, depth)] for k, v in value.items()]
    return {TAG: "dict", "items": pairs}


def _encode_other(value: Any, depth: int) -> Any:
    """Subclasses of the built-in types, other mappings, and (as ``repr``) everything else."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _encode_float(value, depth)
    if isinstance(value, Mapping):
        return _encode_mapping(value, depth)
    if isinstance(value, list):
        return _encode_list(value, depth)
    if isinstance(value, set | frozenset):
        return _encode_set(value, depth)
    if isinstance(value, bytes):
        return _encode_bytes(value, depth)
    return _safe_repr(value)


_PLAIN = frozenset((type(None), bool, str, int))
"""Types encoded as they are: the containers above keep them without a call."""

_ENCODERS: dict[type, Callable[[Any, int], Any]] = {
    type(None): _as_is,
    bool: _as_is,
    str: _as_is,
    int: _as_is,
    float: _encode_float,
    list: _encode_list,
    tuple: _encode_tuple,
    set: _encode_set,
    frozenset: _encode_set,
    bytes: _encode_bytes,
    dict: _encode_mapping,
    AssetKey: _encode_asset_key,
    **dict.fromkeys(PAYLOAD_FIELDS, _encode_payload),
}


def decode_value(data: Any) -> Any:
    """The value :func:`encode_value` encoded; unknown tags come back as plain mappings."""
    kind = type(data)
    if kind is list:
        return [decode_value(item) for item in data]
    if kind is not dict:
        return data
    tag = data.get(TAG)
    if tag is None:
        return {k: decode_value(v) for k, v in data.items()}
    try:
        return _decode_tagged(tag, data)
    except Exception:
        # Written by another nbflow version or damaged: keep what is there, readable.
        return {k: decode_value(v) if k != TAG else v for k, v in data.items()}


def _decode_tagged(tag: Any, data: dict[str, Any]) -> Any:
    cls = _BY_NAME.get(tag)
    if cls is not None:
        kwargs = {name: decode_value(data[name]) for name in PAYLOAD_FIELDS[cls] if name in data}
        return cls(**kwargs)
    if tag == "AssetKey":
        return AssetKey(data["path"])
    if tag == "tuple":
        return tuple(decode_value(item) for item in data["items"])
    if tag == "set":
        return {decode_value(item) for item in data["items"]}
    if tag == "frozenset":
        return frozenset(decode_value(item) for item in data["items"])
    if tag == "bytes":
        return base64.b64decode(data["base64"])
    if tag == "float":
        return float(data["value"])
    if tag == "dict":
        return {decode_value(k): decode_value(v) for k, v in data["items"]}
    raise ValueError(f"unknown tag {tag!r}")


def _compact_json(ensure_ascii: bool) -> Callable[[Any], str]:
    """Compact JSON text of data :func:`encode_value` made, as ``json.dumps`` writes it.

    That data is built afresh and never contains itself, so the C encoder is made once,
    without the check for cycles ``json.dumps`` builds it with on every call (half its time
    for an event's payload). Without the C encoder, ``json``'s own ``encode``.
    """
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=ensure_ascii)
    make = getattr(json.encoder, "c_make_encoder", None)
    strings = (
        json.encoder.encode_basestring_ascii if ensure_ascii else json.encoder.encode_basestring
    )
    try:  # the arguments JSONEncoder.iterencode gives it, without the markers of cycles
        once = make(None, encoder.default, strings, None, ":", ",", False, False, True)  # type: ignore[misc]
    except TypeError:  # no C encoder, or another signature
        return encoder.encode

    def encode(data: Any) -> str:
        return "".join(once(data, 0))

    return encode


_JSON = _compact_json(ensure_ascii=False)
_JSON_ASCII = _compact_json(ensure_ascii=True)


def dumps(value: Any) -> str:
    """``value`` encoded as compact JSON text, always valid UTF-8.

    Strings with lone surrogates (``os.listdir`` of a file name that is not UTF-8 gives
    ``"bad\\udcff"``) cannot be stored as UTF-8 text; such values are written with JSON's
    ``\\uXXXX`` escapes instead, which :func:`loads` turns back into the same surrogates.
    """
    return _utf8_json(encode_value(value))


def _utf8_json(data: Any) -> str:
    text = _JSON(data)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return _JSON_ASCII(data)
    return text


def loads(text: str) -> Any:
    """The value of :func:`dumps` text; text that is not JSON comes back as itself."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    return decode_value(data)


def dumps_payload(data: Any) -> str | None:
    """An event payload as JSON text (``None`` stays ``None``)."""
    return None if data is None else dumps(data)


def loads_payload(text: str | None) -> Any:
    """The payload stored by :func:`dumps_payload`."""
    return None if text is None else loads(text)


def event_type_from_name(name: str) -> tuple[EventType, bool]:
    """The event type stored as ``name`` (its member name or value), and whether it is known."""
    member = EventType.__members__.get(name)
    if member is not None:
        return member, True
    try:
        return EventType(name), True
    except ValueError:
        return EventType.ENGINE_EVENT, False


def event_to_dict(event: Event) -> dict[str, Any]:
    """Every field of ``event`` as JSON-compatible data."""
    return {
        "event_type": event.event_type.name,
        "job_name": event.job_name,
        "step_key": event.step_key,
        "message": event.message,
        "data": None if event.data is None else encode_value(event.data),
        "timestamp": event.timestamp,
        "pid": event.pid,
        "run_id": event.run_id,
    }


def event_from_dict(data: Mapping[str, Any]) -> Event:
    """The event :func:`event_to_dict` described.

    An event type this nbflow does not know becomes ``ENGINE_EVENT``, with the stored type
    name at the front of its message.
    """
    event_type, known = event_type_from_name(str(data["event_type"]))
    message = str(data.get("message", ""))
    if not known:
        message = f"[{data['event_type']}] {message}".rstrip()
    payload = data.get("data")
    return Event(
        event_type=event_type,
        job_name=str(data.get("job_name", "")),
        step_key=data.get("step_key"),
        message=message,
        data=None if payload is None else decode_value(payload),
        timestamp=float(data.get("timestamp", 0.0)),
        pid=int(data.get("pid", 0)),
        run_id=str(data.get("run_id", "")),
    )


def dumps_event(event: Event) -> str:
    """``event`` as one line of JSON (valid UTF-8, see :func:`dumps`)."""
    return _utf8_json(event_to_dict(event))


def loads_event(text: str) -> Event:
    """The event of a :func:`dumps_event` line."""
    return event_from_dict(json.loads(text))
