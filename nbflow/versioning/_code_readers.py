"""Small readers of functions, classes and imports for the code walk (:mod:`.code_walk`)."""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import sys
import types
from typing import TYPE_CHECKING, Any

from nbflow.versioning.code_origin import STDLIB, Origin, module_origin, path_origin
from nbflow.versioning.code_values import qualified_type

if TYPE_CHECKING:
    from nbflow.versioning.code_facts import CodeFacts


def wrapper_chain(fn: object) -> list[object]:
    """``fn`` and what it wraps, outermost first (``functools.wraps`` chains)."""
    if isinstance(fn, staticmethod | classmethod):
        fn = fn.__func__
    if isinstance(fn, types.MethodType):
        fn = fn.__func__
    chain = [fn]
    if not hasattr(fn, "__wrapped__"):
        return chain
    seen = {id(fn)}
    while True:
        try:
            inner = fn.__wrapped__
        except Exception:
            break
        if not callable(inner) or id(inner) in seen:
            break
        if isinstance(inner, types.MethodType):
            inner = inner.__func__
        chain.append(inner)
        seen.add(id(inner))
        fn = inner
    return chain


def module_of(fn: types.FunctionType) -> str | None:
    """The module a function was defined in (its globals', which ``functools.wraps`` keeps)."""
    name = fn.__globals__.get("__name__")
    return name if isinstance(name, str) else None


def defaults(fn: types.FunctionType, facts: CodeFacts) -> list[tuple[str, object]]:
    """(parameter, default value) of every parameter of ``fn`` that has a default."""
    found: list[tuple[str, object]] = []
    defaults = fn.__defaults__
    if defaults:
        positional = facts.positional
        found += zip(positional[len(positional) - len(defaults) :], defaults, strict=True)
    given = fn.__kwdefaults__
    if given:
        found += [(name, given[name]) for name in facts.keyword_only if name in given]
    return found


def resolve_import(target: str, level: int, namespace: dict[str, Any]) -> str | None:
    """The absolute name of an import inside a function, ``None`` if it cannot be known."""
    if level == 0:
        return target
    package = namespace.get("__package__")
    if not isinstance(package, str) or not package:
        return None
    parts = package.split(".")
    if level - 1 >= len(parts):
        return None
    base = ".".join(parts[: len(parts) - (level - 1)])
    return f"{base}.{target}" if target else base


def find_module(name: str) -> types.ModuleType | Origin | None:
    """A module imported only inside a function body that has not run yet.

    A package or the standard library is classified without importing it; user code is
    imported, as the function will do when it runs.
    """
    top = name.partition(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    where = spec.origin if isinstance(spec.origin, str) else None
    if where in (None, "built-in", "frozen"):
        locations = list(spec.submodule_search_locations or [])
        where = locations[0] if locations else None
    if where is None:
        return Origin(STDLIB)
    origin = path_origin(where, top)
    if origin.kind != "user":
        return origin
    try:
        return importlib.import_module(name)
    except Exception:
        return None


def class_origin(cls: type) -> Origin:
    """Where a class comes from (a class of ``builtins`` is standard library)."""
    module = getattr(cls, "__module__", None)
    if not isinstance(module, str):
        return Origin("user")
    if module == "builtins":
        return Origin(STDLIB) if getattr(builtins, cls.__name__, None) is cls else Origin("user")
    return module_origin(module)


PLAIN_TYPES = (
    type(None), bool, int, float, complex, str, bytes, tuple, list, dict, set, frozenset,
)  # fmt: skip


def is_plain_type(cls: type) -> bool:
    """Whether ``cls`` is a built-in data type (no class worth following)."""
    return cls in PLAIN_TYPES or cls is object


def is_enum_class(cls: type) -> bool:
    """Whether ``cls`` is an Enum (its ``_sunder_`` attributes are machinery)."""
    enum = sys.modules.get("enum")
    return enum is not None and issubclass(cls, enum.Enum)


def is_sunder(name: str) -> bool:
    """Whether ``name`` looks like ``_name_``."""
    return len(name) > 2 and name[0] == name[-1] == "_" and name[1] != "_" and name[-2] != "_"


def methods(attr: object) -> list[types.FunctionType]:
    """The functions behind a class attribute: a method (and its wrappers), a property."""
    if isinstance(attr, staticmethod | classmethod):
        attr = attr.__func__
    if isinstance(attr, types.FunctionType):
        return [f for f in wrapper_chain(attr) if isinstance(f, types.FunctionType)]
    if isinstance(attr, property):
        return [f for f in (attr.fget, attr.fset, attr.fdel) if isinstance(f, types.FunctionType)]
    return []


def annotation_text(annotation: object) -> str:
    """A stable text of a type annotation (never one with a memory address)."""
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type):
        return qualified_type(annotation)
    text = repr(annotation)
    return text if " at 0x" not in text else type(annotation).__qualname__
