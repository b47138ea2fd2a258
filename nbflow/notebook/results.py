"""Values a notebook hands back: ``yield_result`` inside it, ``read_results`` after it ran.

``yield_result(value, output_name)`` displays one output with two representations:

- ``application/vnd.nbflow.result+json``: ``{"nbflow": 1, "output_name": ..., "encoding": ...}``
  plus ``"value"`` (the value itself) when ``encoding`` is ``"json"``, or ``"type"`` and
  ``"data"`` (base64 of a cloudpickle) when it is ``"pickle"``. JSON is used for exact
  ``None``/``bool``/``int``/finite ``float``/``str`` and lists and str-keyed dicts of those;
  everything else (tuples, sets, DataFrames, your own classes) is pickled so that it comes
  back equal and of the same type. Pickles of large values make the notebook large.
- ``text/plain``: the value's ``repr``, which is all Jupyter shows, so a notebook run by
  hand simply displays the value.

``read_results`` reads those outputs back with nbformat; when a name is yielded twice, the
last one wins. Reading unpickles data stored in the notebook: only read notebooks you trust.
"""

from __future__ import annotations

import base64
import math
import os
import pickle
import reprlib
from typing import TYPE_CHECKING, Any

from nbflow.errors import InvalidNotebookError
from nbflow.notebook.parameters import is_parameter_name

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

RESULT_MIME = "application/vnd.nbflow.result+json"
"""MIME type of the display outputs ``yield_result`` emits."""

PAYLOAD_FORMAT = 1
_JSON_INT_BITS = 14_000
"""Ints this long or longer (over ~4,200 digits) are pickled, not written as JSON digits."""
_TEXT = reprlib.Repr()
_TEXT.maxstring = _TEXT.maxother = 200


def yield_result(value: Any, output_name: str = "result") -> None:
    """Hand ``value`` back to nbflow as output ``output_name`` of this notebook.

    Call it in a notebook cell. In a run by nbflow (a notebook op, ``run_notebook``, a
    sweep) the value becomes the output; run by hand, the cell just shows the value.

    Args:
        value: any picklable value.
        output_name: the op output (or results key) it becomes; an identifier.

    Raises:
        ValueError: ``output_name`` is not an identifier.
    """
    if not is_parameter_name(output_name):
        raise ValueError(
            f"yield_result got output_name={output_name!r}; expected an identifier such as "
            "'result' or 'summary'."
        )
    bundle = {RESULT_MIME: encode_result(value, output_name), "text/plain": _plain_text(value)}
    shell = _running_shell()
    if shell is None:
        print(bundle["text/plain"])
        return
    from IPython.display import display

    display(bundle, raw=True)  # type: ignore[no-untyped-call]


def _plain_text(value: Any) -> str:
    """A short repr; a value whose repr fails (an int over 4,300 digits) is named by type."""
    try:
        return _TEXT.repr(value)
    except Exception:
        return f"<{type(value).__qualname__} object>"


def _running_shell() -> Any:
    """The running IPython shell, or None (plain Python, or IPython not installed)."""
    try:
        from IPython.core.interactiveshell import InteractiveShell
    except ImportError:
        return None
    return InteractiveShell.instance() if InteractiveShell.initialized() else None


def _is_json(value: Any) -> bool:
    kind = type(value)
    if value is None or kind is bool:
        return True
    if kind is int:  # JSON writes ints as digits, which Python limits to 4,300 by default
        return bool(value.bit_length() < _JSON_INT_BITS)
    if kind is str:  # lone surrogates (undecodable file names) cannot go into a UTF-8 file
        return value.isascii() or not _has_surrogates(value)
    if kind is float:
        return math.isfinite(value)
    if kind is list:
        return all(_is_json(v) for v in value)
    if kind is dict:
        return all(type(k) is str and _is_json(v) for k, v in value.items())
    return False


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def encode_result(value: Any, output_name: str = "result") -> dict[str, Any]:
    """The JSON payload ``yield_result`` displays for ``value``."""
    head: dict[str, Any] = {"nbflow": PAYLOAD_FORMAT, "output_name": output_name}
    try:
        plain = _is_json(value)
    except RecursionError:
        plain = False
    if plain:
        return {**head, "encoding": "json", "value": value}
    import cloudpickle

    kind = type(value)
    return {
        **head,
        "encoding": "pickle",
        "type": f"{kind.__module__}.{kind.__qualname__}",
        "data": base64.b64encode(cloudpickle.dumps(value)).decode("ascii"),
    }


def decode_result(payload: Mapping[str, Any]) -> Any:
    """The value a payload of :func:`encode_result` stands for.

    Raises:
        ValueError: the payload is not one nbflow wrote.
    """
    encoding = payload.get("encoding")
    if encoding == "json":
        return payload.get("value")
    if encoding == "pickle":
        return pickle.loads(base64.b64decode(payload["data"]))
    raise ValueError(f"unknown nbflow result encoding {encoding!r}")


def result_payloads(cells: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Every nbflow result payload in the outputs of ``cells``, in notebook order."""
    found: list[Mapping[str, Any]] = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs") or ():
            data = output.get("data") if hasattr(output, "get") else None
            payload = data.get(RESULT_MIME) if data else None
            if isinstance(payload, dict) and "output_name" in payload:
                found.append(payload)
    return found


def results_from_notebook(notebook: Any, where: str = "notebook") -> dict[str, Any]:
    """``{output_name: value}`` for an executed notebook node (or its JSON document)."""
    values: dict[str, Any] = {}
    for payload in result_payloads(notebook["cells"]):
        try:
            values[str(payload["output_name"])] = decode_result(payload)
        except Exception as exc:
            raise InvalidNotebookError.build(
                where,
                f"result {payload.get('output_name')!r} cannot be decoded "
                f"({type(exc).__name__}: {exc}); a pickled value needs its classes importable "
                "here",
            ) from exc
    return values


def read_results(executed_notebook: str | os.PathLike[str] | Any) -> dict[str, Any]:
    """The values an executed notebook yielded with ``yield_result``: ``{output_name: value}``.

    Args:
        executed_notebook: the path of an executed notebook, or an ``nbformat`` node.

    Returns:
        One entry per output name (the last value when a name was yielded twice); empty
        when the notebook yielded nothing.

    Raises:
        NotebookNotFoundError: no file at the path.
        InvalidNotebookError: not a notebook, or a value cannot be unpickled here.
    """
    if not isinstance(executed_notebook, str | os.PathLike):
        return results_from_notebook(executed_notebook)
    from nbflow.notebook.code_version import read_notebook_json, resolve_notebook

    path = resolve_notebook(executed_notebook)
    return results_from_notebook(read_notebook_json(path), str(path))
