"""Types read from an op function's annotations: the classes its inputs and outputs must be.

As in Dagster, ``def double(x: int) -> int`` types input ``x`` and the output; an explicit
``In(python_type)``/``Out(python_type)`` wins. Annotations are read once, when the op is
defined, into ``python_type`` (a class or a tuple of classes) and ``type_label`` (how messages
name it), so the check of each value at run time stays one ``isinstance`` call.

What ``isinstance`` cannot check is not checked: ``Any``, ``object``, TypeVars, ``Literal``,
``Callable``, ``Nothing``, protocols that are not runtime-checkable, and names that do not
resolve (imported only under ``TYPE_CHECKING``, forward references). Parameterized generics
are checked by their origin (``list[int]`` → ``list``); a union by its members, unless one of
them cannot be checked; ``float`` also accepts ``int`` and ``complex`` both (PEP 484).
"""

from __future__ import annotations

import collections.abc
import inspect
import types
import typing
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from nbflow.definitions.specs import In, Nothing, Out, Output

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

# The classes a value may be an instance of, and how messages name them ("int | None").
Check = tuple[tuple[type, ...], str]

_Spec = TypeVar("_Spec", In, Out)
_NONE_TYPE = type(None)
_EMPTY = inspect.Parameter.empty
_UNRESOLVED = object()
_NEVER_CHECKED: tuple[object, ...] = (object, Nothing, collections.abc.Callable)
_NUMERIC_TOWER: dict[type, tuple[type, ...]] = {float: (float, int), complex: (complex, float, int)}


def typed_ins(
    fn: Callable[..., Any], params: Sequence[inspect.Parameter], ins: Mapping[str, In]
) -> dict[str, In]:
    """``ins`` with ``python_type`` read from each parameter's annotation where none is declared.

    A parameter whose default is ``None`` also accepts ``None`` (``x: int = None``).
    """
    typed = dict(ins)
    for param in params:
        spec = typed.get(param.name)
        if spec is None or spec.python_type is not None or param.annotation is _EMPTY:
            continue
        check = _check_for(_evaluate(fn, param.annotation))
        if check is None:
            continue
        classes, name = check
        if param.default is None and _NONE_TYPE not in classes:
            classes = (*classes, _NONE_TYPE)
        source = f"{param.name}: {_source(param.annotation)}"
        typed[param.name] = _with_type(spec, classes, name, source)
    return typed


def typed_outs(
    fn: Callable[..., Any], returns: Any, outs: Mapping[str, Out], is_generator: bool
) -> dict[str, Out]:
    """``outs`` with ``python_type`` read from the return annotation where none is declared.

    ``-> T`` types a single output; ``-> tuple[A, B]`` types several outputs in order. Nothing is
    read for generator ops (they yield ``Output``\\ s) or from ``-> None``.
    """
    typed = dict(outs)
    if is_generator or returns is _EMPTY or not outs:
        return typed
    annotation = _evaluate(fn, returns)
    if annotation is None or annotation is _NONE_TYPE:
        return typed
    items: tuple[Any, ...] = (annotation,)
    if len(outs) > 1:
        items = typing.get_args(annotation)
        shaped = typing.get_origin(annotation) is tuple and Ellipsis not in items
        if not shaped or len(items) != len(outs):
            return typed
    source = f"-> {_source(returns)}"
    for (name, spec), item in zip(outs.items(), items, strict=True):
        if not isinstance(spec, Out) or spec.python_type is not None:
            continue
        check = _check_for(item)
        if check is not None:
            typed[name] = _with_type(spec, *check, source)
    return typed


def _check_for(annotation: Any) -> Check | None:
    """The classes a value annotated ``annotation`` must be an instance of, or None (no check)."""
    if annotation is None or annotation is _NONE_TYPE:
        return (_NONE_TYPE,), "None"
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        members = [_check_for(arg) for arg in typing.get_args(annotation)]
        if any(m is None for m in members):
            return None
        checks = [m for m in members if m is not None]
        classes = tuple(dict.fromkeys(c for m in checks for c in m[0]))
        return classes, " | ".join(m[1] for m in checks)
    if origin is typing.Annotated:
        return _check_for(typing.get_args(annotation)[0])
    if isinstance(annotation, typing.NewType):
        return _check_for(annotation.__supertype__)
    cls = annotation if origin is None else origin
    if not isinstance(cls, type) or cls in _NEVER_CHECKED:
        return None
    try:
        if issubclass(cls, Output):  # the value is wrapped; its own type is not declared
            return None
        isinstance(None, cls)  # Any, TypedDicts and plain protocols refuse instance checks
    except TypeError:
        return None
    return _NUMERIC_TOWER.get(cls, (cls,)), cls.__qualname__


def _evaluate(fn: Callable[..., Any], annotation: Any) -> Any:
    """The annotation's value (a string is evaluated in the function's module), or a marker."""
    if not isinstance(annotation, str):
        return annotation
    try:
        namespace = getattr(inspect.unwrap(fn), "__globals__", {})
        return eval(annotation, namespace)
    except Exception:  # an unresolvable annotation means "no check", never a definition error
        return _UNRESOLVED


def _source(raw: Any) -> str:
    """How the annotation reads in the source: the string itself, or the type formatted."""
    if isinstance(raw, str):
        return raw
    return raw.__qualname__ if isinstance(raw, type) else inspect.formatannotation(raw)


def _with_type(spec: _Spec, classes: tuple[type, ...], name: str, source: str) -> _Spec:
    python_type = classes[0] if len(classes) == 1 else classes
    label = f"{name} (from the annotation `{source}`)"
    return replace(spec, python_type=python_type, type_label=label)
