"""The code walk: an op's body and everything it reaches in user code, as a :class:`CodeRecord`.

Starting from an op's (or resource's) function, the walk follows, transitively:

- decorators: ``functools.wraps`` chains are unwrapped; the innermost function is the body,
  each wrapper's code counts as ``decorator '<name>'``;
- the global names the code (nested functions, lambdas and comprehensions included) reads,
  the names it imports inside its body, its closure cells and its default values. What a name
  holds decides what counts:

  - a function or class of user code (:mod:`nbflow.versioning.code_origin`): a ``helper`` or
    ``class``, followed in turn (a class by its methods, class-level plain data and bases);
  - a user module: the attributes the code reads of it (``utils.clean`` follows ``clean``);
  - anything from an installed package: ``package '<distribution>'`` by its version;
  - anything from the standard library or builtins: nothing;
  - plain data (:mod:`nbflow.versioning.code_values`): its fingerprint, shown in reasons;
  - anything else: its type's name only, listed as not tracked;
  - a global or closure variable the code modifies: ``state``, by type only.

Cycles (mutual recursion, a class whose methods use the class) end where a node was already
reached. One :class:`CodeWalk` serves one computation of versions: every function, class,
module and global is read once however many ops reach it. What never changes for a code object
(its body digest and the names it uses) is cached across walks (:mod:`~.code_facts`); a walk
only looks up current values.
"""

from __future__ import annotations

import functools
import sys
import types
import weakref
from dataclasses import dataclass, field
from typing import Any

from nbflow.errors import SourceChangedError, SourceUnavailableError
from nbflow.versioning._code_readers import (
    annotation_text,
    class_origin,
    defaults,
    find_module,
    is_enum_class,
    is_plain_type,
    is_sunder,
    methods,
    module_of,
    resolve_import,
    wrapper_chain,
)
from nbflow.versioning.code_facts import CodeFacts, facts_for, forget_when_gone, is_generated
from nbflow.versioning.code_origin import (
    PACKAGE,
    Origin,
    code_origin,
    module_origin,
)
from nbflow.versioning.code_record import (
    CLASS,
    CLOSURE,
    DECORATOR,
    DEFAULT,
    GLOBAL,
    HELPER,
    STATE,
    CodeRecord,
    CodeRef,
)
from nbflow.versioning.code_record import PACKAGE as PACKAGE_REF
from nbflow.versioning.code_values import (
    plain_digest,
    qualified_type,
    shown,
    stdlib_value_digest,
)
from nbflow.versioning.code_version import read_source
from nbflow.versioning.hashing import hash_parts

_LENGTH = 40
_CLASS_DOMAIN = "nbflow.code.class.v1"
_UNTRACKED_DOMAIN = "nbflow.code.untracked.v1"
_NOTHING: frozenset[int] = frozenset()


@dataclass(slots=True, eq=False)
class _Node:
    """Something reachable from an op; labels are made per op (names relative to its module).

    ``role`` names it in labels (helper, class, global, closure, default, decorator, package);
    ``kind`` is what the record says (the same, or ``state``); ``ident`` tells two nodes apart
    that would get the same label.
    """

    role: str
    kind: str
    ident: tuple[Any, ...]
    module: str | None
    name: str
    digest: str
    owner: _Node | None = None
    shown: str | None = None
    source: str | None = None
    tracked: bool = True
    children: list[_Node] = field(default_factory=list)


class CodeWalk:
    """Records of ops' code, memoized for one computation of versions.

    Examples:
        >>> def double(x):
        ...     return 2 * x
        >>> CodeWalk().record(double).refs
        ()
    """

    def __init__(self) -> None:
        self._records: dict[int, tuple[object, CodeRecord]] = {}
        self._functions: dict[int, list[_Node]] = {}
        self._classes: dict[int, _Node | None] = {}
        self._globals: dict[tuple[str | None, str, str], list[_Node]] = {}
        self._modules: dict[tuple[int, frozenset[str]], list[_Node]] = {}
        self._packages: dict[str, _Node] = {}
        self._expanding: set[int] = set()
        self._stats: dict[str, tuple[int, int] | None] = {}
        self._made: dict[tuple[int, str | None], tuple[_Node, CodeRef]] = {}
        self._keep: list[object] = []  # objects whose ids key the memos stay alive

    def record(self, fn: object) -> CodeRecord:
        """Return the code record (and so the version) of an op's or resource's function.

        Raises:
            SourceUnavailableError: the function itself has no source.
            SourceChangedError: a source file of user code it reaches changed after import.
        """
        memo = self._records.get(id(fn))
        if memo is not None and memo[0] is fn:
            return memo[1]
        chain = wrapper_chain(fn)
        body = chain[-1]
        decorators: list[_Node] = []
        if len(chain) > 1:
            skip = frozenset(id(f) for f in chain)
            for wrapper in chain[:-1]:
                decorators += self._decorator(wrapper, None, skip)
        module: str | None
        if isinstance(body, types.FunctionType):
            facts = facts_for(body, self._stats)
            digest, source = facts.digest, facts.source
            children = self._children(body, facts, None, _NOTHING)
            module, name = module_of(body), body.__qualname__
        elif isinstance(body, type):
            node = self._class(body)
            if node is None or node.source is None:
                read_source(body)  # raises: a class without source in user code
                raise AssertionError("unreachable")
            digest, source, children = node.digest, node.source, node.children
            module, name = body.__module__, body.__qualname__
        else:
            read_source(body)  # raises SourceUnavailableError naming it
            raise AssertionError("unreachable")
        refs = _flatten([*decorators, *children] if decorators else children, module, self._made)
        record = _reuse(fn, name, digest, source, refs)
        self._records[id(fn)] = (fn, record)
        return record

    # --- what a value is ------------------------------------------------------------------

    def _value(
        self,
        value: object,
        module: str | None,
        name: str,
        role: str,
        owner: _Node | None,
        attributes: frozenset[str],
    ) -> list[_Node]:
        if isinstance(value, staticmethod | classmethod | types.MethodType):
            value = value.__func__
        if isinstance(value, types.ModuleType):
            return self._module(value, attributes)
        if isinstance(value, types.FunctionType):
            return self._function(value)
        if isinstance(value, type):
            node = self._class(value)
            return [] if node is None else [node]
        if isinstance(value, functools.partial):
            nodes = self._value(value.func, module, name, role, owner, attributes)
            data = self._data((value.args, value.keywords), module, name, role, owner)
            return [*nodes, data]
        wrapped = getattr(value, "__wrapped__", None) if callable(value) else None
        if isinstance(wrapped, types.FunctionType):  # e.g. functools.lru_cache
            return [*self._function(wrapped), *self._of_type(type(value), [])]
        if isinstance(value, types.BuiltinFunctionType):
            holder = getattr(value, "__self__", None)
            where = getattr(value, "__module__", None) or (
                holder.__name__ if isinstance(holder, types.ModuleType) else None
            )
            return self._origin_nodes(module_origin(where)) if isinstance(where, str) else []
        data = self._data(value, module, name, role, owner)
        kind = [] if is_plain_type(type(value)) else self._of_type(type(value), [])
        if not data.tracked and callable(value) and kind and kind[0].role == PACKAGE_REF:
            return kind  # a package's callable (a numpy ufunc, a jitted function): its version
        return [data, *kind]

    def _data(
        self, value: object, module: str | None, name: str, role: str, owner: _Node | None
    ) -> _Node:
        digest = plain_digest(value)
        if digest is None:
            digest = stdlib_value_digest(value)
        ident = (role, module, name, id(owner))
        if digest is not None:
            return _Node(role, role, ident, module, name, digest, owner, shown(value))
        type_name = qualified_type(type(value), module)
        untracked = hash_parts(_UNTRACKED_DOMAIN, type_name)[:_LENGTH]
        return _Node(role, role, ident, module, name, untracked, owner, type_name, tracked=False)

    def _of_type(self, cls: type, default: list[_Node]) -> list[_Node]:
        """The class of an object that is not plain data, when it is user code or a package."""
        if is_plain_type(cls):
            return default
        node = self._class(cls)
        return default if node is None else [node]

    def _origin_nodes(self, origin: Origin) -> list[_Node]:
        if origin.kind == PACKAGE:
            return [self._package(origin)]
        return []

    # --- functions, decorators, classes, modules --------------------------------------------

    def _function(self, fn: types.FunctionType) -> list[_Node]:
        """A helper, under the decorators that wrap it."""
        memo = self._functions.get(id(fn))
        if memo is not None:
            return memo
        chain = [f for f in wrapper_chain(fn) if isinstance(f, types.FunctionType)]
        body = chain[-1]
        origin = code_origin(body.__code__.co_filename, module_of(body))
        if origin.kind != "user":
            nodes = self._origin_nodes(origin)
            self._functions[id(fn)] = nodes
            self._keep.append(fn)
            return nodes
        node = _Node(HELPER, HELPER, ("fn", id(body)), module_of(body), body.__qualname__, "")
        nodes = [node]
        self._functions[id(fn)] = nodes
        self._keep.append(fn)
        try:
            facts = facts_for(body, self._stats)
        except SourceChangedError:
            raise
        except SourceUnavailableError:
            node.digest = hash_parts(_UNTRACKED_DOMAIN, "no source", body.__qualname__)[:_LENGTH]
            node.tracked, node.shown = False, "function without source"
            return nodes
        node.digest, node.source = facts.digest, facts.source
        skip = frozenset(id(f) for f in chain)
        node.children = self._children(body, facts, node, _NOTHING)
        for wrapper in chain[:-1]:
            node.children += self._decorator(wrapper, node, skip)
        return nodes

    def _decorator(self, wrapper: object, owner: _Node | None, skip: frozenset[int]) -> list[_Node]:
        if not isinstance(wrapper, types.FunctionType):
            return self._of_type(type(wrapper), [])
        origin = code_origin(wrapper.__code__.co_filename, module_of(wrapper))
        if origin.kind != "user":
            return self._origin_nodes(origin)
        qualname = wrapper.__code__.co_qualname
        name = qualname.split(".<locals>", 1)[0]
        node = _Node(DECORATOR, DECORATOR, ("dec", id(wrapper)), module_of(wrapper), name, "")
        node.owner = owner
        facts = facts_for(wrapper, self._stats)
        node.digest, node.source = facts.digest, facts.source
        node.children = self._children(wrapper, facts, node, skip)
        return [node]

    def _children(
        self,
        fn: types.FunctionType,
        facts: CodeFacts,
        owner: _Node | None,
        skip: frozenset[int],
    ) -> list[_Node]:
        """What one function reaches directly: globals, state, imports, closure, defaults."""
        namespace = fn.__globals__
        module = namespace.get("__name__") if isinstance(namespace.get("__name__"), str) else None
        attributes = facts.attributes
        nodes: list[_Node] = []
        for name in facts.globals_read:
            if name in namespace:
                nodes += self._global(namespace, module, name, attributes)
        for name in sorted(facts.modified):
            if name in namespace and name not in facts.freevars:
                nodes.append(self._state(namespace[name], module, name, GLOBAL, None))
        for target, level, fromlist in facts.imports:
            nodes += self._import(target, level, fromlist, namespace, attributes)
        for name, cell in zip(facts.freevars, fn.__closure__ or (), strict=False):
            if name == "__class__":
                continue
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if id(value) in skip:
                continue
            if name in facts.modified:
                nodes.append(self._state(value, module, name, CLOSURE, owner))
            else:
                nodes += self._value(value, module, name, CLOSURE, owner, attributes)
        for name, value in defaults(fn, facts):
            nodes += self._value(value, module, name, DEFAULT, owner, attributes)
        return nodes

    def _global(
        self, namespace: dict[str, Any], module: str | None, name: str, attributes: frozenset[str]
    ) -> list[_Node]:
        value = namespace[name]
        if isinstance(value, types.ModuleType):
            return self._module(value, attributes)
        key = (module, name, GLOBAL)
        memo = self._globals.get(key)
        if memo is None:
            memo = self._value(value, module, name, GLOBAL, None, attributes)
            self._globals[key] = memo
        return memo

    def _state(
        self, value: object, module: str | None, name: str, role: str, owner: _Node | None
    ) -> _Node:
        type_name = qualified_type(type(value), module)
        digest = hash_parts(_UNTRACKED_DOMAIN, "state", type_name)[:_LENGTH]
        ident = (role, module, name, id(owner))
        return _Node(role, STATE, ident, module, name, digest, owner, type_name)

    def _import(
        self,
        target: str,
        level: int,
        fromlist: tuple[str, ...],
        namespace: dict[str, Any],
        attributes: frozenset[str],
    ) -> list[_Node]:
        full = resolve_import(target, level, namespace)
        if full is None:
            return []
        imported = sys.modules.get(full)
        if imported is None:
            found = find_module(full)
            if found is None:
                return []
            if not isinstance(found, types.ModuleType):
                return self._origin_nodes(found)
            imported = found
        origin = module_origin(imported.__name__)
        if origin.kind != "user":
            return self._origin_nodes(origin)
        if not fromlist:
            top = sys.modules.get(full.partition(".")[0], imported)
            return self._module(top, attributes | frozenset(full.split(".")[1:]))
        nodes: list[_Node] = []
        for name in fromlist:
            if name != "*" and hasattr(imported, name):
                nodes += self._global(vars(imported), imported.__name__, name, attributes)
        return nodes

    def _module(self, module: types.ModuleType, attributes: frozenset[str]) -> list[_Node]:
        origin = module_origin(module.__name__)
        if origin.kind != "user":
            return self._origin_nodes(origin)
        key = (id(module), attributes)
        memo = self._modules.get(key)
        if memo is not None:
            return memo
        if id(module) in self._expanding:
            return []
        self._expanding.add(id(module))
        try:
            namespace = vars(module)
            nodes: list[_Node] = []
            for name in sorted(attributes):
                if name in namespace:
                    nodes += self._global(namespace, module.__name__, name, attributes)
        finally:
            self._expanding.discard(id(module))
        self._modules[key] = nodes
        self._keep.append(module)
        return nodes

    def _package(self, origin: Origin) -> _Node:
        name = origin.distribution or "unknown"
        node = self._packages.get(name)
        if node is None:
            version = origin.version
            digest = hash_parts("nbflow.code.package.v1", name, version or "")[:_LENGTH]
            node = _Node(
                PACKAGE_REF, PACKAGE_REF, ("pkg", name), None, name, digest,
                shown=version or "version unknown", tracked=version is not None,
            )  # fmt: skip
            self._packages[name] = node
        return node

    # One pass over a class's namespace, a branch per kind of attribute, then its bases.
    def _class(self, cls: type) -> _Node | None:  # noqa: C901
        if id(cls) in self._classes:
            return self._classes[id(cls)]
        self._keep.append(cls)
        origin = class_origin(cls)
        if origin.kind != "user":
            found = self._package(origin) if origin.kind == PACKAGE else None
            self._classes[id(cls)] = found
            return found
        node = _Node(CLASS, CLASS, ("cls", id(cls)), cls.__module__, cls.__qualname__, "")
        self._classes[id(cls)] = node
        parts: list[str] = []
        sources: list[str] = []
        is_enum = is_enum_class(cls)
        for name, attr in sorted(vars(cls).items()):
            if is_enum and is_sunder(name):
                continue
            functions = methods(attr)
            if functions:
                for fn in functions:
                    self._method(fn, name, node, parts, sources)
            elif isinstance(attr, type):
                if attr.__qualname__.startswith(cls.__qualname__ + "."):
                    nested = self._class(attr)
                    if nested is not None:
                        node.children.append(nested)
            elif not (name.startswith("__") and name.endswith("__")):
                digest = plain_digest(attr)
                if digest is not None:
                    parts += (name, digest)
                    sources.append(f"{name} = {shown(attr)}")
        annotations = vars(cls).get("__annotations__")
        if isinstance(annotations, dict):
            for key in sorted(annotations):
                parts += ("annotation", str(key), annotation_text(annotations[key]))
        for base in cls.__bases__:
            if base is not object:
                parts += ("base", qualified_type(base, cls.__module__))
                base_node = self._class(base)
                if base_node is not None:
                    node.children.append(base_node)
        node.digest = hash_parts(_CLASS_DOMAIN, *parts)[:_LENGTH]
        node.source = "\n".join(sources) if sources else None
        return node

    def _method(
        self, fn: types.FunctionType, name: str, owner: _Node, parts: list[str], sources: list[str]
    ) -> None:
        if is_generated(fn):
            return  # e.g. a dataclass __init__: made from the fields, which count
        if code_origin(fn.__code__.co_filename, module_of(fn)).kind != "user":
            return
        try:
            facts = facts_for(fn, self._stats)
        except SourceChangedError:
            raise
        except SourceUnavailableError:
            parts += (name, "no source")
            return
        parts += (name, facts.digest)
        sources.append(facts.source)
        owner.children += self._children(fn, facts, owner, _NOTHING)


# --- labels and the flat list of references ---------------------------------------------------


def _flatten(
    roots: list[_Node],
    module: str | None,
    made: dict[tuple[int, str | None], tuple[_Node, CodeRef]],
) -> tuple[CodeRef, ...]:
    """Every node reachable from ``roots``, once, as references labelled relative to ``module``.

    A name that is state anywhere in the op's reach is state everywhere: its value changes as
    the code runs. Two different objects that would share a label are told apart by ``(2)``.
    ``made`` keeps the references already made in this walk (most ops share most of them),
    with their nodes: a node made for one op only may be freed and its id reused.
    """
    refs: dict[str, tuple[_Node, CodeRef]] = {}
    seen: set[int] = set()
    stack = roots[::-1]
    while stack:
        node = stack.pop()
        key = id(node)
        if key in seen:
            continue
        seen.add(key)
        entry = made.get((key, module))
        if entry is not None and entry[0] is node:
            ref = entry[1]
        else:
            ref = _ref(node, _label(node, module))
            made[(key, module)] = (node, ref)
        found = refs.get(ref.label)
        if found is not None:
            if found[0].ident == node.ident:
                if node.kind == STATE and found[0].kind != STATE:
                    refs[ref.label] = (node, ref)
                continue
            number = 2
            while f"{ref.label} ({number})" in refs:
                number += 1
            ref = _ref(node, f"{ref.label} ({number})")
        refs[ref.label] = (node, ref)
        if node.children:
            stack += node.children[::-1]
    return tuple(ref for _, ref in refs.values())


def _ref(node: _Node, label: str) -> CodeRef:
    return CodeRef(label, node.kind, node.digest, node.shown, node.source, node.tracked)


# The last record of each op function, across walks: when nothing it reaches changed, the
# record (sorted, hashed) is reused as it is. Entries go with their functions.
_LAST: dict[int, tuple[weakref.ref[object], tuple[CodeRef, ...], CodeRecord]] = {}


def _reuse(
    fn: object, name: str, digest: str, source: str | None, refs: tuple[CodeRef, ...]
) -> CodeRecord:
    last = _LAST.get(id(fn))
    if last is not None and last[0]() is fn:
        record = last[2]
        if record.digest == digest and record.function == name and last[1] == refs:
            return record
    record = CodeRecord(function=name, digest=digest, source=source, refs=refs)
    try:
        key = id(fn)
        ref = weakref.ref(fn, forget_when_gone(_LAST, key))
    except TypeError:
        return record
    _LAST[key] = (ref, refs, record)
    return record


def _label(node: _Node, module: str | None) -> str:
    role = node.role
    if role == PACKAGE_REF:
        return f"package {node.name!r}"
    if role in (HELPER, CLASS, GLOBAL) and node.owner is None:
        name = (
            node.name
            if node.module == module or node.module is None
            else (f"{node.module}.{node.name}")
        )
        return f"{role} {name!r}"
    text = f"{role} {node.name!r}"
    if node.owner is not None:
        text += f" of {_label(node.owner, module)}"
    return text


def code_record(fn: object) -> CodeRecord:
    """Return the code record of ``fn`` (its version is ``.version``) in a walk of its own.

    Args:
        fn: an op's or resource's function (or class).

    Returns:
        The record: body digest, every reference reached, and the version.

    Raises:
        SourceUnavailableError: ``fn`` has no source.
        SourceChangedError: a source file of user code it reaches changed after import.

    Examples:
        >>> RATE = 2
        >>> def scale(x):
        ...     return x * RATE
        >>> [ref.label for ref in code_record(scale).refs]
        ["global 'RATE'"]
    """
    return CodeWalk().record(fn)
