"""Notebook parameters as data: the injected cell's source, declared names, command-line values.

Parameters reach a notebook as an injected code cell, but values are never rendered as code
someone else wrote. nbflow builds the cell itself instead of using papermill's translator
(which renders strings safely, but neither checks names nor escapes the text of types it does
not know, such as tuples, sets or dict keys that are not strings):

- a name must be a plain Python identifier: unchanged by the NFKC normalisation Python
  applies to names (``None`` in full-width letters would read as ``None``), not a keyword,
  not a builtin (a parameter ``print`` would hide the function) and not a dunder name
  (``__builtins__``), else the run is refused before any kernel starts;
- a value made only of exact ``None``, ``bool``, ``int``, ``float``, ``str``, ``bytes``,
  ``list``, ``tuple`` and ``dict`` is written as a literal, every leaf by its built-in
  ``repr`` (a string holding quotes, newlines or Python code stays one string literal);
- any other value (a DataFrame, a set, an instance of a user class, a subclass of ``str``
  whose ``repr`` could say anything) is cloudpickled and written as a base64 string that the
  cell unpickles, so it arrives as an equal object. Like any pickle this is only for values
  you trust, which op inputs and your own parameters are.
"""

from __future__ import annotations

import ast
import base64
import builtins
import json
import keyword
import math
import re
import unicodedata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

INJECTED_COMMENT = "# Parameters injected by nbflow (values are data, never code)"
"""First line of the cell nbflow injects."""

_PICKLED = "__import__('pickle').loads(__import__('base64').b64decode({payload!r}))"
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)")


def is_parameter_name(name: object) -> bool:
    """Whether ``name`` can be a notebook variable: an identifier that is not a keyword."""
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)


def parameter_name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a notebook parameter, or None when it can.

    Examples:
        >>> parameter_name_problem("alpha") is None, parameter_name_problem("print")
        (True, 'a builtin (the parameter would hide it)')
    """
    if not isinstance(name, str):
        return f"a {type(name).__name__}, not a string"
    if not name.isidentifier():
        return "not an identifier"
    normal = unicodedata.normalize("NFKC", name)
    if normal != name:
        return f"Python reads it as {normal!r} (NFKC normalisation)"
    if keyword.iskeyword(name):
        return "a keyword"
    if name.startswith("__") and name.endswith("__"):
        return "a dunder name, reserved for Python"
    if hasattr(builtins, name):
        return "a builtin (the parameter would hide it)"
    return None


def bad_parameter_names(names: Iterable[object]) -> list[str]:
    """The names in ``names`` that cannot be notebook parameters, in order, each with why.

    Examples:
        >>> bad_parameter_names(["alpha", "class", "__builtins__"])
        ["'class' (a keyword)", "'__builtins__' (a dunder name, reserved for Python)"]
    """
    found = []
    for name in names:
        problem = parameter_name_problem(name)
        if problem is not None:
            found.append(f"{name!r} ({problem})")
    return found


def render_value(value: Any) -> str:
    """Python source that evaluates to ``value`` without running anything ``value`` holds.

    Args:
        value: any picklable value.

    Returns:
        A literal for plain data (see the module docstring), else an expression that
        unpickles a base64 payload.

    Examples:
        >>> print(render_value({"n": [1, 2.5, None], "s": 'x"; import os'}))
        {'n': [1, 2.5, None], 's': 'x"; import os'}
    """
    literal = _literal(value, set())
    if literal is not None:
        return literal
    import cloudpickle

    payload = base64.b64encode(cloudpickle.dumps(value)).decode("ascii")
    return _PICKLED.format(payload=payload)


# One early return per literal type, then the containers: a flat list of cases.
def _literal(value: Any, seen: set[int]) -> str | None:  # noqa: C901
    kind = type(value)
    if value is None or kind is bool:
        return repr(value)
    if kind is int:
        try:
            return int.__repr__(value)
        except ValueError:  # more digits than int→str allows
            return None
    if kind is float:
        return float.__repr__(value) if math.isfinite(value) else None
    if kind is str:
        return str.__repr__(value)
    if kind is bytes:
        return bytes.__repr__(value)
    if kind not in (list, tuple, dict) or id(value) in seen:
        return None
    seen.add(id(value))
    try:
        pairs = value.items() if kind is dict else ((None, v) for v in value)
        parts: list[str] = []
        for key, item in pairs:
            text = _literal(item, seen)
            if kind is dict:
                key_text = _literal(key, seen)
                text = None if key_text is None or text is None else f"{key_text}: {text}"
            if text is None:
                return None
            parts.append(text)
    finally:
        seen.discard(id(value))
    body = ", ".join(parts)
    if kind is dict:
        return "{" + body + "}"
    if kind is tuple:
        return "(" + body + ("," if len(parts) == 1 else "") + ")"
    return "[" + body + "]"


def render_parameters(parameters: Mapping[str, Any]) -> str:
    """The source of the injected parameters cell: one assignment per parameter.

    Raises:
        ValueError: a name is not a Python identifier (callers check names first and raise
            :class:`~nbflow.errors.NotebookParameterError` with the notebook's name).
        UnrenderableValueError: a value is neither plain data nor picklable.
    """
    bad = bad_parameter_names(parameters)
    if bad:
        raise ValueError(f"not Python identifiers: {bad}")
    lines = [INJECTED_COMMENT]
    for name, value in parameters.items():
        try:
            lines.append(f"{name} = {render_value(value)}")
        except Exception as exc:
            raise UnrenderableValueError(name, exc) from exc
    return "\n".join(lines) + "\n"


class UnrenderableValueError(ValueError):
    """A parameter value is neither plain data nor picklable."""

    def __init__(self, name: str, cause: BaseException) -> None:
        super().__init__(f"parameter {name!r}: {type(cause).__name__}: {cause}")
        self.name = name
        self.cause = cause


def declared_parameters(source: str) -> list[str]:
    """Names a parameters cell assigns at its top level, in order.

    Cells with IPython syntax (``%magic``) that ``ast`` cannot parse are read line by line.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        found = [m.group(1) for m in map(_ASSIGNMENT.match, source.splitlines()) if m]
        return list(dict.fromkeys(found))
    names: list[str] = []
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        for target in targets:
            elements = target.elts if isinstance(target, ast.Tuple | ast.List) else [target]
            names.extend(e.id for e in elements if isinstance(e, ast.Name))
    return list(dict.fromkeys(names))


def parse_parameter_value(text: str) -> Any:
    """A command-line value: JSON when it parses (``3`` → 3, ``[1,2]`` → list), else the text.

    Examples:
        >>> parse_parameter_value("3"), parse_parameter_value("a"), parse_parameter_value('"3"')
        (3, 'a', '3')
    """
    try:
        return json.loads(text)
    except ValueError:
        return text


def json_safe(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as notebook metadata can hold them: plain data as is, others described.

    Text a UTF-8 file cannot hold (lone surrogates, as ``os.listdir`` and ``sys.argv`` give
    for undecodable bytes) is kept as its ASCII-escaped JSON under ``nbflow/escaped_json``,
    so writing the executed notebook never fails on it.
    """
    safe: dict[str, Any] = {}
    for name, value in parameters.items():
        try:
            text = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            safe[name] = {"nbflow/pickled": f"{type(value).__module__}.{type(value).__qualname__}"}
            continue
        plain = json.loads(text)
        try:
            json.dumps(plain, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            safe[name] = {"nbflow/escaped_json": text}
        else:
            safe[name] = plain
    return safe
