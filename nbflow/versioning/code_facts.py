"""What a function's code says, read once per code object: its body digest and the names it uses.

:func:`facts_for` reads a function's source (through :mod:`linecache`, so notebook cells work),
digests its AST with decorators and default values left out (defaults are versioned by value
by the code walk), and scans its bytecode, nested code objects included (inner functions,
lambdas, comprehensions), for:

- the global names it reads (``LOAD_GLOBAL``, ``LOAD_NAME``);
- the global and closure names it *modifies*: assigned (``global x; x = …``), stored into
  (``x[k] = …``, ``x.a = …``) or used through a method that changes or only consumes it
  (``x.append(…)``, ``log.info(…)``). Those are state, not inputs: their value changes as the
  code runs, so it cannot be part of a version;
- the attribute names it reads (to follow ``module.helper`` into user modules);
- the modules it imports inside its body.

Facts are cached per code object (by identity; entries go with their code objects). A source
file is checked with one ``stat`` per walk: when it changed after the module was imported and
the code on disk no longer compiles to the code that is loaded, the version would describe
code that does not run, so :class:`~nbflow.errors.SourceUnavailableError` asks for a reload.
"""

from __future__ import annotations
import __future__

import ast
import dis
import linecache
import os
import re
import sys
import textwrap
import types
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbflow.errors import SourceChangedError
from nbflow.versioning.code_version import (
    ast_text,
    parse_definition,
    read_source,
    token_text,
    unavailable,
)
from nbflow.versioning.hashing import hash_parts

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

_DOMAIN = "nbflow.code.body.v1"
_LENGTH = 40
MAX_SOURCE_CHARS = 20_000
"""Longer sources are cut in records (the digest still covers all of it)."""

_GLOBAL_LOADS = frozenset({"LOAD_GLOBAL", "LOAD_NAME"})
_DEREF_LOADS = frozenset({"LOAD_DEREF", "LOAD_CLASSDEREF"})
_GLOBAL_STORES = frozenset({"STORE_GLOBAL", "DELETE_GLOBAL"})
_DEREF_STORES = frozenset({"STORE_DEREF", "DELETE_DEREF"})
_SIMPLE_LOADS = frozenset({"LOAD_CONST", "LOAD_FAST", "LOAD_GLOBAL", "LOAD_DEREF", "LOAD_NAME"})
_ATTRIBUTE_LOADS = frozenset({"LOAD_ATTR", "LOAD_METHOD"})

# Methods that change their object or only consume what they are given: a name used this way
# is state (a call log, a cache, a logger), not an input of the result.
SINK_METHODS = frozenset(
    {
        "add", "append", "appendleft", "clear", "debug", "discard", "error", "exception",
        "critical", "extend", "extendleft", "flush", "info", "insert", "log", "put",
        "put_nowait", "remove", "send", "update", "warn", "warning", "write", "writelines",
    }
)  # fmt: skip

_FUTURE_FLAGS = 0
for _feature in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _feature).compiler_flag
_MANGLED = re.compile(r"_[A-Za-z0-9]\w*__\w")


@dataclass(frozen=True, slots=True)
class CodeFacts:
    """The static facts of one function's code.

    Attributes:
        digest: 40 hex characters of the AST of the body (decorators and defaults excluded).
        source: the source text (dedented, cut at :data:`MAX_SOURCE_CHARS`), for diffs.
        globals_read: global names the code loads, sorted.
        modified: global and closure names the code modifies (state).
        attributes: attribute names the code reads.
        imports: ``(module, level, fromlist)`` of each import inside the code, in order.
        stamp: ``(path, mtime_ns, size)`` of the source file when it was read, ``None`` for
            sources known only to :mod:`linecache` (notebook cells).
        positional: the names of the positional parameters (defaults fill the last ones).
        keyword_only: the names of the keyword-only parameters.
        freevars: the closure variables, in the order of ``__closure__``.
    """

    digest: str
    source: str
    globals_read: tuple[str, ...]
    modified: frozenset[str]
    attributes: frozenset[str]
    imports: tuple[tuple[str, int, tuple[str, ...]], ...]
    stamp: tuple[str, int, int] | None
    positional: tuple[str, ...]
    keyword_only: tuple[str, ...]
    freevars: tuple[str, ...]


_CACHE: dict[int, tuple[weakref.ref[types.CodeType], CodeFacts]] = {}


def facts_for(fn: types.FunctionType, stats: dict[str, tuple[int, int] | None]) -> CodeFacts:
    """Return the facts of ``fn``'s code, from the cache unless its source file changed.

    Args:
        fn: a Python function.
        stats: ``stat`` results of source files already checked in this walk (filled here).

    Raises:
        SourceUnavailableError: there is no source, or the source file changed after the
            module was imported and no longer matches the loaded code.
    """
    code = fn.__code__
    entry = _CACHE.get(id(code))
    if entry is not None and entry[0]() is code:
        facts = entry[1]
        if facts.stamp is None or _stat(facts.stamp[0], stats) == facts.stamp[1:]:
            return facts
    facts = _read(fn, stats)
    key = id(code)
    _CACHE[key] = (weakref.ref(code, forget_when_gone(_CACHE, key)), facts)
    return facts


def forget_when_gone(cache: dict[int, Any], key: int) -> Callable[[object], None]:
    """A weakref callback that drops ``key`` from ``cache`` when its object goes."""

    def forget(_: object) -> None:
        cache.pop(key, None)

    return forget


def is_generated(fn: types.FunctionType) -> bool:
    """Whether ``fn`` was made by ``exec`` of a generated string (e.g. a dataclass ``__init__``)."""
    filename = fn.__code__.co_filename
    return filename.startswith("<") and filename not in linecache.cache


def _stat(path: str, stats: dict[str, tuple[int, int] | None]) -> tuple[int, int] | None:
    if path not in stats:
        try:
            found = os.stat(path)
            stats[path] = (found.st_mtime_ns, found.st_size)
        except OSError:
            stats[path] = None
    return stats[path]


def _read(fn: types.FunctionType, stats: dict[str, tuple[int, int] | None]) -> CodeFacts:
    code = fn.__code__
    filename = code.co_filename
    stamp: tuple[str, int, int] | None = None
    if not filename.startswith("<") and os.path.isfile(filename):
        stats.pop(filename, None)
        now = _stat(filename, stats)
        if now is not None:
            stamp = (filename, *now)
    source = read_source(fn)
    found = parse_definition(fn, source)
    if stamp is not None and not _matches_loaded(code, source):
        raise unavailable(
            fn,
            f"its file {filename!r} changed after the module was imported, so the code on "
            "disk is not the code that would run",
            SourceChangedError,
        )
    if found is None:
        text = "tokens:" + token_text(source)
    else:
        if isinstance(found, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.decorator_list = []
        if isinstance(found, ast.FunctionDef | ast.AsyncFunctionDef):
            found.args.defaults = []
            found.args.kw_defaults = []
        text = "ast:" + ast_text(found)
    reads, modified, attributes, imports = _scan(code)
    dedented = textwrap.dedent(source)
    if len(dedented) > MAX_SOURCE_CHARS:
        dedented = dedented[:MAX_SOURCE_CHARS] + "\n# … (cut)\n"
    return CodeFacts(
        digest=hash_parts(_DOMAIN, text)[:_LENGTH],
        source=dedented,
        globals_read=tuple(sorted(reads)),
        modified=frozenset(modified),
        attributes=frozenset(attributes),
        imports=tuple(imports),
        stamp=stamp,
        positional=code.co_varnames[: code.co_argcount],
        keyword_only=code.co_varnames[code.co_argcount : code.co_argcount + code.co_kwonlyargcount],
        freevars=code.co_freevars,
    )


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _scan(
    code: types.CodeType,
) -> tuple[set[str], set[str], set[str], list[tuple[str, int, tuple[str, ...]]]]:
    free = frozenset(code.co_freevars)
    reads: set[str] = set()
    modified: set[str] = set()
    attributes: set[str] = set()
    imports: list[tuple[str, int, tuple[str, ...]]] = []
    for each in _codes(code):
        ins = list(dis.get_instructions(each))
        for index, instr in enumerate(ins):
            op = instr.opname
            name = instr.argval if isinstance(instr.argval, str) else ""
            if op in _GLOBAL_LOADS:
                (modified if _modifies(ins, index) else reads).add(name)
            elif op in _DEREF_LOADS:
                if name in free and _modifies(ins, index):
                    modified.add(name)
            elif op in _GLOBAL_STORES or (op in _DEREF_STORES and name in free):
                modified.add(name)
            elif op in _ATTRIBUTE_LOADS or op == "IMPORT_FROM":
                attributes.add(name)
            elif op == "IMPORT_NAME" and index >= 2:
                level, fromlist = ins[index - 2].argval, ins[index - 1].argval
                names = tuple(str(n) for n in fromlist) if isinstance(fromlist, tuple) else ()
                imports.append((name, level if isinstance(level, int) else 0, names))
    # A global both read and modified is state.
    reads -= modified
    return reads, modified, attributes, imports


def _modifies(ins: list[dis.Instruction], index: int) -> bool:
    """Whether the name loaded at ``ins[index]`` is used there to change (or feed) it."""
    after = [i.opname for i in ins[index + 1 : index + 6]]
    if not after:
        return False
    if after[0] in _ATTRIBUTE_LOADS and ins[index + 1].argval in SINK_METHODS:
        return True
    if after[0] == "STORE_ATTR":
        return True
    if after[0] in _SIMPLE_LOADS and len(after) > 1:
        if after[1] in ("STORE_SUBSCR", "DELETE_SUBSCR"):
            return True
        if after[1:4] == ["COPY", "COPY", "BINARY_SUBSCR"]:  # x[k] += ...
            return True
    return False


def _matches_loaded(code: types.CodeType, source: str) -> bool:
    """Whether ``source`` compiles to ``code`` (bytecode, names, constants; not positions).

    Closures, lambdas and methods with mangled names compile differently on their own, and
    pytest rewrites the asserts of test modules as it imports them, so these are not compared
    (the name check of :func:`parse_definition` still applies).
    """
    if code.co_freevars or code.co_name == "<lambda>" or _rewritten(code):
        return True
    if any(_MANGLED.match(name) for name in code.co_names + code.co_varnames):
        return True
    flags = code.co_flags & _FUTURE_FLAGS
    compiled = None
    for text in (textwrap.dedent(source), "if 1:\n" + source):
        try:
            compiled = compile(
                text, code.co_filename, "exec", flags=flags, dont_inherit=True,
                optimize=sys.flags.optimize,
            )  # fmt: skip
            break
        except SyntaxError:
            continue
    if compiled is None:
        return True  # cannot tell; the digest still follows the text
    for candidate in _codes(compiled):
        if candidate.co_name == code.co_name and candidate is not compiled:
            return _same_code(candidate, code)
    return False


def _rewritten(code: types.CodeType) -> bool:
    """Whether an import hook (pytest's assert rewriting) changed ``code`` after compiling."""
    return any(
        name.startswith("@py") for each in _codes(code) for name in each.co_varnames + each.co_names
    )


def _same_code(a: types.CodeType, b: types.CodeType) -> bool:
    if (a.co_names, a.co_varnames, a.co_freevars) != (b.co_names, b.co_varnames, b.co_freevars):
        return False
    if _instructions(a) != _instructions(b) or len(a.co_consts) != len(b.co_consts):
        return False
    for x, y in zip(a.co_consts, b.co_consts, strict=True):
        if isinstance(x, types.CodeType) and isinstance(y, types.CodeType):
            if not _same_code(x, y):
                return False
        elif type(x) is not type(y) or repr(x) != repr(y):
            return False
    return True


_JUMPS = frozenset(dis.hasjrel + dis.hasjabs)


def _instructions(code: types.CodeType) -> list[tuple[str, object]]:
    """The instructions with what a module's other statements may change left out.

    Compiled within its module, ``mod.f()`` on an imported module uses ``LOAD_ATTR`` where
    the function compiled alone uses ``LOAD_METHOD`` (a different size, so jump offsets move):
    both read as an attribute load, and jumps name the index of their target.
    """
    found = list(dis.get_instructions(code))
    index = {instr.offset: number for number, instr in enumerate(found)}
    out: list[tuple[str, object]] = []
    for instr in found:
        name = "LOAD_ATTR" if instr.opname == "LOAD_METHOD" else instr.opname
        if instr.opcode in _JUMPS:
            out.append((name, index.get(instr.argval) if isinstance(instr.argval, int) else None))
        elif isinstance(instr.argval, types.CodeType):
            out.append((name, None))
        else:
            out.append((name, instr.argrepr.removeprefix("NULL + ").removesuffix(" + NULL")))
    return out
