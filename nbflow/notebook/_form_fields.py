"""The widgets of a config form: one per config field, and what each one's value means.

A :class:`Leaf` is one input widget for one config field (a text box, a number box, a
checkbox, a dropdown or a text area) with a parser that turns the widget's value into the
config value — or says it is left out, or what is wrong with it. A :class:`Group` is a
dict of fields (a ``Shape``) shown as a labelled, indented box.

Which widget a field gets:

==================  =======================================================================
``String``          ``Text`` (left empty: left out, unless the field has a default)
``Int`` / ``Float`` ``IntText`` / ``FloatText`` when there is a value to start from (default
                    or given); else a ``Text`` that must be filled in (empty: left out)
``Bool``            ``Checkbox`` (``Noneable(Bool)``: a dropdown with a blank choice)
``Enum``            ``Dropdown`` of the config values (a blank "choose" entry when there is
                    no default)
``Array``           ``Textarea``: one item per line for scalar items, or a JSON list
``Shape``           a nested box of fields
anything else       ``Textarea`` holding JSON (``Any``, ``Permissive``, ``Selector``, ...)
==================  =======================================================================

Labels end in ``*`` for required fields; the field's description and type are the tooltip.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

from nbflow.config.types import (
    Array,
    BoolType,
    Enum,
    FloatType,
    IntType,
    Noneable,
    Shape,
    StringType,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType

    from nbflow.config import ConfigType, Field

Path = tuple[str, ...]

LEFT_OUT: Any = object()
"""What a parser returns for a field the user left empty: the key is not written."""

_SCALARS = (IntType, FloatType, StringType, BoolType, Enum)
_LABEL_WIDTH = "180px"
_INPUT_WIDTH = "360px"


class ParseProblem(ValueError):
    """The widget's text cannot be turned into a value of the field's type."""


@dataclass
class Leaf:
    """One input widget for the config field at ``path``."""

    path: Path
    field: Field
    widget: Any
    parse: Callable[[Any], Any]
    error: Any  # an HTML widget next to the input, showing this field's problems
    row: Any  # what the form shows: the input and its error

    def value(self) -> Any:
        """The config value, ``LEFT_OUT``, or raises :class:`ParseProblem`."""
        return self.parse(self.widget.value)


@dataclass
class Group:
    """A dict of fields (a ``Shape``) at ``path``, shown as an indented box."""

    path: Path
    children: dict[str, Group | Leaf] = field(default_factory=dict)
    box: Any = None

    def leaves(self) -> list[Leaf]:
        found: list[Leaf] = []
        for child in self.children.values():
            found += child.leaves() if isinstance(child, Group) else [child]
        return found


def type_text(config_type: ConfigType) -> str:
    return config_type.type_name


def tooltip(name: str, fld: Field) -> str:
    parts = [f"{name}: {type_text(fld.config_type)}"]
    parts.append("required" if fld.is_required else "optional")
    if fld.has_default_value:
        parts[-1] += f", default {fld.default_value!r}"
    if fld.description:
        parts.append(fld.description)
    return " — ".join(parts)


def label(name: str, fld: Field) -> str:
    return f"{name} *" if fld.is_required else name


def _scalar_text(config_type: ConfigType, text: str, where: str) -> Any:
    """``text`` as a value of a scalar ``config_type`` (one line of an array)."""
    try:
        if isinstance(config_type, IntType):
            return int(text)
        if isinstance(config_type, FloatType):
            return float(text)
    except ValueError:
        raise ParseProblem(
            f"{text!r}{where} is not {'an Int' if isinstance(config_type, IntType) else 'a Float'}"
        ) from None
    if isinstance(config_type, BoolType):
        lowered = text.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise ParseProblem(f"{text!r}{where} is not true or false")
    return text  # String, Enum: validation checks the value


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseProblem(f"not valid JSON ({exc.msg} at line {exc.lineno})") from None


def _array_text(value: Any, inner: ConfigType) -> str:
    if isinstance(value, list | tuple) and isinstance(inner, _SCALARS):
        if all(isinstance(v, str | int | float) and "\n" not in str(v) for v in value):
            return "\n".join(json.dumps(v) if isinstance(v, bool) else str(v) for v in value)
    return json.dumps(value)


def _json_text(value: Any) -> str:
    try:
        return json.dumps(value, indent=1)
    except (TypeError, ValueError):
        return repr(value)


# One flat branch per config type, each a few lines: a dispatch table would only scatter them.
def make_leaf(w: ModuleType, path: Path, fld: Field, start: tuple[bool, Any]) -> Leaf:  # noqa: C901, PLR0915
    """The widget for field ``path[-1]``, showing ``start`` (``(given, value)``) if given,
    else the field's default."""
    name = path[-1]
    given, value = start
    if not given and fld.has_default_value:
        given, value = True, fld.default_value
    config_type = fld.config_type
    noneable = isinstance(config_type, Noneable)
    inner = config_type.inner_type if isinstance(config_type, Noneable) else config_type
    if given and value is None:
        given = False  # None: left out (it resolves to None / the default)
    common = {
        "description": label(name, fld),
        "tooltip": tooltip(name, fld),
        "style": {"description_width": _LABEL_WIDTH},
        "layout": w.Layout(width=_INPUT_WIDTH),
    }
    widget: Any
    parse: Callable[[Any], Any]

    if isinstance(inner, BoolType) and not noneable:
        widget = w.Checkbox(value=bool(value) if given else False, indent=True, **common)

        def parse(v: Any) -> Any:
            return bool(v)

    elif isinstance(inner, BoolType | Enum):
        choices: list[tuple[str, Any]] = (
            [("true", True), ("false", False)]
            if isinstance(inner, BoolType)
            else [(v.config_value, v.config_value) for v in inner.values]
        )
        if isinstance(inner, Enum) and given:
            value = _enum_config_value(inner, value)
        given = given and value in [c[1] for c in choices]  # else: not one of the choices
        if noneable or not given:
            choices = [("— choose —" if not noneable else "(none)", None), *choices]
        widget = w.Dropdown(options=choices, value=value if given else None, **common)

        def parse(v: Any) -> Any:
            return LEFT_OUT if v is None else v

    elif isinstance(inner, IntType | FloatType) and _is_number(value, inner) and not noneable:
        number = w.IntText if isinstance(inner, IntType) else w.FloatText
        widget = number(value=value, **common)

        def parse(v: Any) -> Any:
            return v

    elif isinstance(inner, IntType | FloatType | StringType):
        is_text = isinstance(inner, StringType)
        placeholder = type_text(config_type) + (" (required)" if fld.is_required else "")
        widget = w.Text(value=str(value) if given else "", placeholder=placeholder, **common)
        keep_empty = is_text and fld.has_default_value and not noneable

        def parse(v: Any) -> Any:
            text = str(v)
            if not text.strip() and not keep_empty:
                return LEFT_OUT
            return text if is_text else _scalar_text(inner, text.strip(), "")

    elif isinstance(inner, Array):
        item = inner.inner_type
        per_line = isinstance(item, _SCALARS)
        hint = "one item per line, or a JSON list" if per_line else "a JSON list"
        widget = w.Textarea(
            value=_array_text(value, item) if given else "",
            placeholder=f"{type_text(config_type)}: {hint}",
            rows=3,
            **common,
        )

        def parse(v: Any) -> Any:
            text = str(v).strip()
            if not text:
                return LEFT_OUT
            if text.startswith("[") or not per_line:
                return _json(text)
            return [
                _scalar_text(item, line.strip(), f" (line {i})")
                for i, line in enumerate(text.splitlines(), 1)
                if line.strip()
            ]

    else:  # Any, Permissive, Selector, Noneable(dict) ...: JSON
        widget = w.Textarea(
            value=_json_text(value) if given else "",
            placeholder=f"{type_text(config_type)} as JSON",
            rows=3,
            **common,
        )

        def parse(v: Any) -> Any:
            text = str(v).strip()
            return LEFT_OUT if not text else _json(text)

    error = w.HTML(value="")
    row = w.HBox([widget, error])
    return Leaf(path, fld, widget, parse, error, row)


def _is_number(value: Any, config_type: IntType | FloatType) -> bool:
    """Whether a number box can start from ``value`` (else the field gets a text box)."""
    if isinstance(value, bool):
        return False
    return (
        isinstance(value, int | float)
        if isinstance(config_type, FloatType)
        else (isinstance(value, int))
    )


def _enum_config_value(enum_type: Enum, value: Any) -> Any:
    """The config string of ``value`` (a config string, or the python value it maps to)."""
    for v in enum_type.values:
        if value == v.config_value or value == v.python_value:
            return v.config_value
    return None


def header(w: ModuleType, text: str, tip: str = "", required: bool = False) -> Any:
    star = ' <span style="color:#dc2626" title="required">*</span>' if required else ""
    return w.HTML(
        value=f'<b title="{escape(tip)}">{escape(text)}</b>{star}',
        layout=w.Layout(margin="6px 0 0 0"),
    )


def is_group(config_type: ConfigType) -> bool:
    return isinstance(config_type, Shape)


def start_value(values: Any, name: str) -> tuple[bool, Any]:
    """``(True, values[name])`` when ``values`` is a dict that has ``name``."""
    if isinstance(values, Mapping) and name in values:
        return True, values[name]
    return False, None


__all__ = ["LEFT_OUT", "Group", "Leaf", "ParseProblem", "make_leaf"]
