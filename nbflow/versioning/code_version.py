"""Versions of functions derived from their own source code, and the source readers behind them.

:func:`source_version` is the seeds' *immediate* version: one function's own body, nothing it
calls. :class:`~nbflow.versioning.SourceHashVersionStrategy` uses it only when asked to
(``follow="immediate"``); by default the strategy follows helpers, globals, closures, defaults
and decorators (:mod:`nbflow.versioning.code_walk`), reading each function's source through
the helpers here.

The source is read with :mod:`inspect` (which goes through :mod:`linecache`, where IPython and
Jupyter register every cell, so functions defined in notebook cells work), parsed with
:mod:`ast` and serialised structurally. Hence comments, blank lines, line breaks and other
formatting never change a version, while any change to the code does: statements, names,
docstrings, default values, annotations. Decorator lines of the function itself are excluded
(what a decorator configures, e.g. ``@op(version=...)``, is versioned by the layer that owns it).

Only the function's own body counts here: what it calls is followed by the code walk, not by
:func:`source_version`. The serialisation names AST node classes and skips empty
fields, so it does not depend on ``hash()``, ``id()``, line numbers or ``ast.dump`` defaults.
"""

from __future__ import annotations

import ast
import inspect
import io
import textwrap
import tokenize
import types
import weakref
from typing import TYPE_CHECKING, Any

from nbflow.errors import SourceChangedError, SourceUnavailableError
from nbflow.versioning.hashing import canonical, hash_parts

if TYPE_CHECKING:
    from collections.abc import Callable

_DOMAIN = "nbflow.source.v1"
_LENGTH = 40

# Keyed on the (unwrapped) function object: a re-run notebook cell makes a new function, so
# a stale entry is never hit, and entries vanish with their functions.
_CACHE: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()

# Fields that only record how the source was spelled, not what it does.
_SKIPPED_FIELDS = frozenset({"kind", "type_comment"})

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def source_version(fn: Callable[..., object]) -> str:
    """Return the version of ``fn`` derived from its immediate source code.

    ``functools.wraps`` chains are unwrapped first, and bound methods, ``staticmethod`` and
    ``classmethod`` objects are reduced to their function.

    Args:
        fn: a function (or class) defined in a module, a notebook cell or an IPython session.

    Returns:
        40 lowercase hex characters.

    Raises:
        SourceUnavailableError: no source can be found for ``fn`` (built-ins, C extensions,
            ``exec()`` of a string), or the source on disk no longer matches the loaded code.
    """
    target = _unwrap(fn)
    try:
        cached = _CACHE.get(target)
    except TypeError:  # not weak-referenceable: compute every time
        cached = None
    if cached is not None:
        return cached
    version = hash_parts(_DOMAIN, _normalised_source(target))[:_LENGTH]
    try:
        _CACHE[target] = version
    except TypeError:
        pass
    return version


def _unwrap(fn: object) -> object:
    if isinstance(fn, staticmethod | classmethod):
        fn = fn.__func__
    if callable(fn):
        try:
            fn = inspect.unwrap(fn)
        except ValueError:  # a __wrapped__ cycle; version what we were given
            pass
    if isinstance(fn, types.MethodType):
        fn = fn.__func__
    return fn


def describe(fn: object) -> str:
    """Return how ``fn`` is named in messages: ``'module.qualname'``."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if not isinstance(name, str):
        return f"a {type(fn).__name__} object"
    module = getattr(fn, "__module__", None)
    return repr(f"{module}.{name}" if isinstance(module, str) else name)


def unavailable(
    fn: object, why: str, kind: type[SourceUnavailableError] = SourceUnavailableError
) -> SourceUnavailableError:
    """Return the error raised when ``fn`` cannot be versioned from its source, saying ``why``."""
    if issubclass(kind, SourceChangedError):
        fix = (
            "Fix: reload the module (importlib.reload(module), or %autoreload in a notebook) "
            "or restart the kernel or process, then run again."
        )
    else:
        fix = (
            'Fix: give the op or resource an explicit version= (e.g. @op(version="1") or '
            '@resource(version="1")), or define the function in a module file or notebook cell.'
        )
    return kind(f"Cannot version {describe(fn)} from its source: {why}.\n{fix}")


def read_source(fn: object) -> str:
    """Return the source text of ``fn`` as :func:`inspect.getsource` finds it.

    Raises:
        SourceUnavailableError: there is none (built-ins, C functions, ``exec()`` of a string).
    """
    target = fn
    if isinstance(fn, types.FunctionType) and hasattr(fn, "__wrapped__"):
        target = fn.__code__  # inspect would read the wrapped function's source instead
    try:
        return inspect.getsource(target)  # type: ignore[arg-type]
    except (OSError, TypeError):
        raise unavailable(
            fn,
            "no source code can be found for it (built-in and C functions, functools.partial "
            "objects and functions made by exec() of a string keep none)",
        ) from None


def parse_definition(fn: object, source: str) -> ast.AST | list[ast.stmt] | None:
    """Return the ``def``/``class`` node of ``fn`` in ``source`` (decorators still attached).

    Returns:
        The definition node; the statements found when the source is not one definition
        (a lambda's line); ``None`` when the source does not parse at all.

    Raises:
        SourceUnavailableError: the source defines another name: the file changed after the
            module was imported.
    """
    tree = _parse(source)
    if tree is None:
        return None
    body = tree.body
    if len(body) == 1 and isinstance(body[0], _DEFINITIONS):
        node = body[0]
        expected = _defined_name(fn)
        if expected is not None and node.name != expected:
            raise unavailable(
                fn,
                f"the source found defines {node.name!r} instead; the file probably changed "
                "after it was imported (reload the module or restart the kernel)",
                SourceChangedError,
            )
        return node
    return body


def _normalised_source(fn: object) -> str:
    source = read_source(fn)
    found = parse_definition(fn, source)
    if found is None:
        return "tokens:" + token_text(source)
    if isinstance(found, _DEFINITIONS):
        found.decorator_list = []
    return "ast:" + ast_text(found)


def _defined_name(fn: object) -> str | None:
    code = getattr(fn, "__code__", None)
    if isinstance(code, types.CodeType):
        return None if code.co_name == "<lambda>" else code.co_name
    if isinstance(fn, type):
        return fn.__name__
    return None


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(textwrap.dedent(source))
    except SyntaxError:
        pass
    try:
        # Indented source whose multi-line strings defeat dedent: nest it under a block.
        block = ast.parse("if 1:\n" + source)
    except SyntaxError:
        return None  # e.g. a lambda in the middle of an expression
    statement = block.body[0]
    assert isinstance(statement, ast.If)
    return ast.Module(body=statement.body, type_ignores=[])


def ast_text(node: object) -> str:
    """Return the structural text of an AST node or list of nodes (no positions, no formatting)."""
    out: list[str] = []
    _dump(node, out)
    return "".join(out)


def _dump(node: object, out: list[str]) -> None:
    if isinstance(node, ast.AST):
        out.append(type(node).__name__)
        out.append("(")
        for name in node._fields:
            if name in _SKIPPED_FIELDS:
                continue
            value = getattr(node, name, None)
            if value is None or (isinstance(value, list) and not value):
                continue  # fields added by newer Pythons are empty in old code
            out.append(name)
            out.append("=")
            _dump(value, out)
            out.append(",")
        out.append(")")
    elif isinstance(node, list):
        out.append("[")
        for item in node:
            _dump(item, out)
            out.append(",")
        out.append("]")
    else:
        out.append(_constant_text(node))


def _constant_text(value: object) -> str:
    if value is Ellipsis:
        return "..."
    if isinstance(value, complex):
        return f"j{value.real!r},{value.imag!r};"
    return canonical(value)


def token_text(source: str) -> str:
    """Return the canonical text of the tokens of ``source`` without comments or layout."""
    ignored = {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
    }
    tokens: list[str] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(textwrap.dedent(source)).readline):
            if token.type not in ignored:
                tokens.append(token.string)
    except (tokenize.TokenError, SyntaxError):
        pass  # unbalanced brackets at the end of a lambda's line: keep what was read
    return canonical(tokens)
