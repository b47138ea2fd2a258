"""Messages between a step running elsewhere and the run that waits for it.

A step process (or Dask task) reports what happens as a stream of messages:

- ``("event", Event)``: an event, to be re-emitted by the parent run as it is (a
  ``context.log`` message comes as a LOG_MESSAGE event);
- ``("failure", key, ErrorInfo, exception bytes or None)``: an exception the run records;
- ``("done", ok)``: the step finished (``ok``: it succeeded).

Each message is pickled on its own; what plain pickle cannot carry is sent with cloudpickle,
and an event whose payload neither can carry keeps its message but loses its payload.
"""

from __future__ import annotations

import dataclasses
import pickle
from typing import TYPE_CHECKING, Any

from nbflow.errors import StepProcessError
from nbflow.events import ErrorInfo, Event
from nbflow.execution.executors import by_value

if TYPE_CHECKING:
    from collections.abc import Mapping

Message = tuple[Any, ...]


def _dumps(obj: Any) -> bytes:
    try:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return by_value.dumps(obj)


def encode_event(event: Event) -> bytes:
    try:
        return _dumps(("event", event))
    except Exception as exc:
        note = f" [payload {type(event.data).__name__} could not be sent: {exc}]"
        bare = dataclasses.replace(event, data=None, message=event.message + note)
        return _dumps(("event", bare))


def encode_failure(key: str, exc: BaseException) -> bytes:
    info = ErrorInfo.from_exception(exc)
    blob: bytes | None
    try:
        blob = _dumps(exc)
        pickle.loads(blob)  # what cannot be rebuilt here will not be rebuilt there either
    except Exception:
        blob = None
    return _dumps(("failure", key, info, blob))


def encode_manifest(step_key: str, output_name: str, manifest: Mapping[str, Any]) -> bytes:
    return _dumps(("manifest", step_key, output_name, dict(manifest)))


def encode_done(ok: bool) -> bytes:
    return _dumps(("done", ok))


def decode(data: bytes) -> Message:
    message: Message = pickle.loads(data)
    return message


def rebuild_failure(key: str, info: ErrorInfo, blob: bytes | None, where: str) -> BaseException:
    """The exception a step raised elsewhere, with its remote traceback as a note.

    Falls back to :class:`StepProcessError` when the exception cannot be rebuilt here.
    """
    exc: BaseException | None = None
    if blob is not None:
        try:
            loaded = pickle.loads(blob)
        except Exception:
            loaded = None
        if isinstance(loaded, BaseException):
            exc = loaded
    if exc is None:
        exc = StepProcessError.remote(key, info)
    exc.add_note(f"Raised in {where}:\n{info.traceback}".rstrip())
    return exc
