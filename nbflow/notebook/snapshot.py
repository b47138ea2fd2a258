"""Snapshots of notebook-defined jobs: the cells' definitions, written as an importable module.

A job defined in Jupyter cells lives in the kernel's ``__main__``, which no other process can
import. :func:`snapshot_job` starts from the notebook name bound to the job and copies, name by
name, every notebook global the definitions read:

- functions, ``@op``/``@asset``/``@resource``/``@graph``/``@job`` definitions and classes: their
  source, decorators included (``inspect`` reads cell sources through ``linecache``), so the
  module re-runs the definitions themselves;
- modules and objects imported from modules: an ``import`` statement;
- plain literals (numbers, strings, lists, dicts, ... of those): ``name = <repr>``, the current
  value;
- other nbflow definitions (``g.to_job(...)``, ``define_asset_job(...)``, a
  ``SourceHashVersionStrategy()``, a dict of resources), lambdas and classes ``inspect`` cannot
  place: the statement of the cells run so far (IPython's ``_ih``) that last assigned them.

Anything else (open files, connections, data frames, arrays) is refused with a
:class:`SnapshotError` naming it and the path by which the job reaches it. Names the notebook
never defined (builtins) are left to the module's own lookup.

The items are ordered by what each needs when it is defined, ties broken by name, then imports
and literals first; the text ends with ``build_job()``, returning the job. The module name is
``nbflow_snapshot_<sha256 of the text, 12 hex>``: the same definitions give the same module,
whatever the order of the cells or the kernel session.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import heapq
import inspect
import os
import sys
import tempfile
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbflow.definitions.graph import GraphDefinition
from nbflow.definitions.job import JobDefinition
from nbflow.definitions.redefinition import origin_job
from nbflow.errors import SnapshotError
from nbflow.notebook import _cell_sources as cs
from nbflow.storage.instance import HOME_ENV_VAR

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

SNAPSHOT_DIR_ENV = "NBFLOW_SNAPSHOT_DIR"
"""Environment variable naming the folder snapshot modules are written to."""
MODULE_PREFIX = cs.SNAPSHOT_MODULE_PREFIX
"""Snapshot modules are named this plus 12 hex characters of the hash of their text."""
BUILD_FUNCTION = "build_job"
"""The reconstructor each snapshot module defines (another name if the notebook uses it)."""
HASH_LENGTH = 12

_IMPORT, _LITERAL, _DEFINITION = 0, 1, 2
_FUTURE_ANNOTATIONS = 0x1000000  # __future__.annotations.compiler_flag (CO_FUTURE_ANNOTATIONS)
_CONTAINERS = (dict, list, set)


@dataclass(frozen=True)
class Snapshot:
    """The module text of a notebook-defined job, and its content-addressed name.

    Attributes:
        job_name: the job's name.
        module_name: ``nbflow_snapshot_<hash>``, derived from ``text``.
        function: the function in the module that returns the job (``build_job``).
        text: the module's source.
        names: the notebook globals copied into it, in module order.
    """

    job_name: str
    module_name: str
    function: str
    text: str
    names: tuple[str, ...]

    @property
    def file_name(self) -> str:
        return f"{self.module_name}.py"


@dataclass
class _Item:
    """One top-level statement (or block) of the module, and the notebook names it binds."""

    names: tuple[str, ...]
    text: str
    rank: int
    eager: frozenset[str] = frozenset()  # names needed while it is being defined
    lazy: frozenset[str] = frozenset()  # names its functions look up when called
    codes: frozenset[types.CodeType] = frozenset()  # code objects it is known to define
    origin: tuple[str, int, int] | None = None  # (cell text, first line, last line)
    future_annotations: bool = False
    runs_body: bool = False  # @graph/@job: the decorator calls the function right away

    @property
    def key(self) -> tuple[int, str]:
        return (self.rank, min(self.names))


# --- collecting -------------------------------------------------------------------------------


@dataclass
class _Collector:
    namespace: Mapping[str, Any]
    job_name: str
    history: cs.History
    items: dict[str, _Item] = field(default_factory=dict)
    wanted_by: dict[str, str | None] = field(default_factory=dict)

    def collect(self, root: str) -> None:
        pending: list[tuple[str, str | None]] = [(root, None)]
        seen: set[str] = set()
        while pending:
            name, parent = pending.pop()
            if name in seen or name in self.items:
                continue
            seen.add(name)
            self.wanted_by.setdefault(name, parent)
            item = self._resolve(name)
            if item is None:
                continue
            for bound in item.names:
                self.items.setdefault(bound, item)
                self.wanted_by.setdefault(bound, parent)
            for needed in sorted(item.eager | item.lazy, reverse=True):
                if needed not in item.names and needed not in self.items:
                    pending.append((needed, item.names[0]))

    def _path(self, name: str) -> str:
        chain: list[str] = []
        parent = self.wanted_by.get(name)
        while parent is not None and parent not in chain and len(chain) < 6:
            chain.append(parent)
            parent = self.wanted_by.get(parent)
        return f" (used by {' <- '.join(repr(c) for c in chain)})" if chain else ""

    def _resolve(self, name: str) -> _Item | None:
        if name not in self.namespace or name in ("__builtins__", "__name__"):
            return None  # a builtin or an unknown name: looked up the same way in the module
        value = self.namespace[name]
        if name == "get_ipython":
            return _Item((name,), "from IPython import get_ipython", _IMPORT)
        if isinstance(value, types.ModuleType):
            return self._module_item(name, value)
        text = cs.literal_text(value)
        if text is not None:
            return _Item((name,), f"{name} = {text}", _LITERAL)
        item = self._source_item(name, value)
        if item is not None:
            return item
        text = self._import_text(name, value)
        if text is not None:
            return _Item((name,), text, _IMPORT)
        return self._history_item(name, value)

    def _module_item(self, name: str, module: types.ModuleType) -> _Item:
        real = module.__name__
        if not cs.importable_module(real):
            what = f"the module {real!r}, which no other process can import"
            raise SnapshotError.unsupported(self.job_name, name, what, self._path(name))
        text = f"import {real}" if real == name else f"import {real} as {name}"
        return _Item((name,), text, _IMPORT)

    def _definition(
        self,
        names: tuple[str, ...],
        text: str,
        origin: tuple[str, int, int] | None,
        value: object,
        **extra: Any,
    ) -> _Item:
        eager, lazy = cs.references(text)
        composed = isinstance(value, JobDefinition | GraphDefinition)
        return _Item(
            names,
            text,
            _DEFINITION,
            eager=eager,
            lazy=lazy,
            origin=origin,
            runs_body=composed,
            **extra,
        )

    def _source_item(self, name: str, value: object) -> _Item | None:
        """Functions, classes and decorated definitions defined in the notebook, by source."""
        if isinstance(value, type):
            return self._class_item(name, value)
        fn = cs.underlying_function(value)
        if fn is None or fn.__globals__ is not self.namespace:
            return None
        if fn.__name__ != name or fn.__qualname__ != name:
            return None  # made under another name (x = op(f)) or nested: see the history
        try:
            lines, first = inspect.getsourcelines(fn)
        except (OSError, TypeError):
            return None
        text = "".join(lines).rstrip()
        tree = cs.parse(text)
        if tree is None or len(tree.body) != 1:
            return None
        node = tree.body[0]
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name != name:
            return None
        if fn is not value and not node.decorator_list:
            return None  # f = op(f) after def f: the history has both statements
        origin = (cs.cell_text(fn.__code__.co_filename), first, first + len(lines) - 1)
        return self._definition(
            (name,),
            text,
            origin,
            value,
            codes=frozenset(cs.codes(fn.__code__)),
            future_annotations=bool(fn.__code__.co_flags & _FUTURE_ANNOTATIONS),
        )

    def _class_item(self, name: str, cls: type) -> _Item | None:
        if cls.__module__ != self.namespace.get("__name__") or cls.__qualname__ != name:
            return None
        codes: set[types.CodeType] = set()
        functions = []
        for member in vars(cls).values():
            if isinstance(member, staticmethod | classmethod):
                member = member.__func__
            elif isinstance(member, property):
                member = member.fget
            if isinstance(member, types.FunctionType):
                functions.append(member)
                codes.update(cs.codes(member.__code__))
        for fn in functions:  # a class has no code position of its own (before 3.13)
            text = cs.cell_text(fn.__code__.co_filename)
            tree = cs.parse(text) if text else None
            for node in tree.body if tree else ():
                start, end = cs.span(node)
                if (
                    isinstance(node, ast.ClassDef)
                    and node.name == name
                    and start <= fn.__code__.co_firstlineno <= end
                ):
                    return self._definition(
                        (name,),
                        cs.block(text, node),
                        (text, start, end),
                        cls,
                        codes=frozenset(codes),
                    )
        return None  # no method placed it: see the history

    def _import_text(self, name: str, value: object) -> str | None:
        """An import statement binding ``value`` to ``name``, if a loaded module has it."""
        module = getattr(value, "__module__", None)
        qualname = getattr(value, "__qualname__", None)
        if (
            isinstance(value, types.FunctionType | types.BuiltinFunctionType | type)
            and isinstance(module, str)
            and isinstance(qualname, str)
            and qualname.isidentifier()
            and cs.importable_module(module)
        ):
            parts = module.split(".")
            for end in range(1, len(parts) + 1):
                candidate = ".".join(parts[:end])
                if cs.module_attribute(candidate, qualname) is value:
                    return cs.from_import(candidate, qualname, name)
        found = self.history.last_binding(name)
        if found is not None and isinstance(found[2], ast.ImportFrom) and not found[2].level:
            statement = found[2]
            for alias in statement.names:
                if (alias.asname or alias.name) == name and statement.module:
                    if cs.module_attribute(statement.module, alias.name) is value:
                        return cs.from_import(statement.module, alias.name, name)
        modules = sorted(
            (m for m in list(sys.modules) if cs.importable_module(m)), key=cs.public_rank
        )
        for candidate in modules:
            try:
                holder = vars(sys.modules[candidate])
            except (KeyError, TypeError):
                continue
            if holder.get(name) is value:
                return cs.from_import(candidate, name, name)
        return None

    def _history_item(self, name: str, value: object) -> _Item:
        """The statement of the notebook that last bound ``name`` (definitions only)."""
        path = self._path(name)
        if not cs.definition_tree(value):
            raise SnapshotError.unsupported(self.job_name, name, cs.describe_value(value), path)
        found = self.history.last_binding(name)
        if found is None:
            why = (
                "no cell run in this kernel assigns it"
                if self.history.statements
                else "this is not an IPython/Jupyter session, so there are no cells to read"
            )
            raise SnapshotError.no_source(self.job_name, name, path, why)
        index, cell, statement = found
        start, end = cs.span(statement)
        origin = (cell, start, end)
        text = cs.block(cell, statement)
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            return self._definition((name,), text, origin, value)
        if not cs.simple_assignment(statement):
            why = f"it was last set by {cs.describe_statement(statement)}"
            raise SnapshotError.no_source(self.job_name, name, path, why)
        bound = tuple(sorted(cs.binds(statement)))
        for other in bound:  # a, b = ...: the statement must still define b as it is now
            other_found = self.history.last_binding(other)
            if other != name and other_found is not None and other_found[0] != index:
                why = f"it is assigned together with {other!r}, which a later cell sets again"
                raise SnapshotError.no_source(self.job_name, name, path, why)
        item = self._definition(bound, text, origin, value)
        if name in item.eager:
            why = f"it is computed from its own previous value: {text.splitlines()[0]!r}"
            raise SnapshotError.no_source(self.job_name, name, path, why)
        if isinstance(value, _CONTAINERS):
            changed = self.history.changed_after(index, name)
            if changed is not None:
                why = f"it was changed after it was assigned, by {changed!r}"
                raise SnapshotError.no_source(self.job_name, name, path, why)
        return item

    # --- checks and output ----------------------------------------------------------------

    def check_current(self, job_def: JobDefinition) -> None:
        """Refuse a job built from functions its cells no longer define."""
        items = {id(item): item for item in self.items.values()}.values()
        known = frozenset().union(*(item.codes for item in items))
        origins = [item.origin for item in items if item.origin is not None]
        for part, fn in _user_functions(job_def):
            if getattr(fn, "__globals__", None) is not self.namespace or fn.__code__ in known:
                continue
            lines = cs.cell_text(fn.__code__.co_filename).splitlines()
            line = fn.__code__.co_firstlineno
            if not any(
                lines and lines == o[0].splitlines() and o[1] <= line <= o[2] for o in origins
            ):
                raise SnapshotError.stale(self.job_name, part)

    def render(self, root: str) -> tuple[str, str, tuple[str, ...]]:
        """(module text, reconstructor name, names in module order)."""
        unique = list({id(item): item for item in self.items.values()}.values())
        ordered = _order(unique)
        function = BUILD_FUNCTION
        while function in self.items:
            function = f"_{function}"
        out = [
            f'"""nbflow snapshot of notebook job {self.job_name!r}.',
            "",
            "Written by nbflow.notebook.reconstructable from the definitions in the notebook's",
            "cells that the job uses. Step processes import it to rebuild the job. Its name is",
            'a hash of this text: do not edit it."""',
        ]
        if any(item.future_annotations for item in unique):
            out += ["", "from __future__ import annotations"]
        imports = _import_lines([item.text for item in ordered if item.rank == _IMPORT])
        literals = [item.text for item in ordered if item.rank == _LITERAL]
        for group in (imports, literals):
            out += ["", *group] if group else []
        for item in ordered:
            if item.rank == _DEFINITION:
                out += ["", "", item.text]
        out += ["", "", f"def {function}():", f"    return {root}", ""]
        names = tuple(n for item in ordered for n in item.names if n in self.items)
        return "\n".join(out), function, names


def _import_lines(statements: list[str]) -> list[str]:
    """``import a`` lines first, then one ``from m import x, y`` line per module, sorted."""
    plain: set[str] = set()
    by_module: dict[str, set[str]] = {}
    for statement in statements:
        node = ast.parse(statement).body[0]
        if isinstance(node, ast.ImportFrom) and node.module:
            names = by_module.setdefault(node.module, set())
            names.update(
                a.name if a.asname is None else f"{a.name} as {a.asname}" for a in node.names
            )
        else:
            plain.add(statement)
    lines = sorted(plain)
    lines += [f"from {m} import {', '.join(sorted(n))}" for m, n in sorted(by_module.items())]
    return lines


def _needed_first(item: _Item, provider: Mapping[str, _Item]) -> set[str]:
    """Names that must be defined before ``item`` runs: what it reads and, since it may call
    the functions it reads (a factory, a @job body), what those read when called."""
    names = set(item.eager | item.lazy) if item.runs_body else set(item.eager)
    pending = list(names)
    while pending:
        found = provider.get(pending.pop())
        if found is None or found is item:
            continue
        for name in found.lazy - names:
            names.add(name)
            pending.append(name)
    return names


def _order(items: list[_Item]) -> list[_Item]:
    """Dependency order (what a statement needs while it runs comes first), ties by name."""
    provider = {name: item for item in items for name in item.names}
    needs: dict[int, set[int]] = {}
    users: dict[int, list[_Item]] = {id(item): [] for item in items}
    for item in items:
        deps = {
            id(provider[n])
            for n in _needed_first(item, provider)
            if n in provider and provider[n] is not item
        }
        needs[id(item)] = deps
        for dep in deps:
            users[dep].append(item)
    ready = [(item.key, id(item), item) for item in items if not needs[id(item)]]
    heapq.heapify(ready)
    ordered: list[_Item] = []
    left = {id(item): item for item in items}
    while left:
        if not ready:  # a cycle (not valid Python at top level): break it by name
            stuck = min(left.values(), key=lambda i: i.key)
            needs[id(stuck)].clear()
            ready.append((stuck.key, id(stuck), stuck))
        _, ident, item = heapq.heappop(ready)
        if ident not in left:
            continue
        del left[ident]
        ordered.append(item)
        for user in users[ident]:
            pending = needs[id(user)]
            pending.discard(ident)
            if not pending and id(user) in left:
                heapq.heappush(ready, (user.key, id(user), user))
    return ordered


# One short block per kind of user function a job holds (ops, hooks, resources, loggers...).
def _user_functions(job_def: JobDefinition) -> Iterator[tuple[str, types.FunctionType]]:  # noqa: C901
    """(what, function) for every user function the job runs."""

    def function(value: object, *path: str) -> types.FunctionType | None:
        for attribute in path:
            value = getattr(value, attribute, None)
        return value if isinstance(value, types.FunctionType) else None

    for handle, node in job_def.graph_def.iter_ops():
        fn = function(node.definition, "compute_fn")
        if fn is not None:
            yield f"op {handle!r}", fn
        for hook in node.hook_defs:
            fn = function(hook, "hook_fn")
            if fn is not None:
                yield f"hook {hook.name!r}", fn
    for key, resource in job_def.resource_defs.items():
        fn = function(resource, "resource_fn")
        if fn is not None:
            yield f"resource {key!r}", fn
    for hook in job_def.hook_defs:
        fn = function(hook, "hook_fn")
        if fn is not None:
            yield f"hook {hook.name!r}", fn
    for key, logger in job_def.logger_defs.items():
        fn = function(logger, "logger_fn")
        if fn is not None:
            yield f"logger {key!r}", fn
    fn = function(job_def.config, "config_fn")
    if fn is not None:
        yield "config mapping", fn


# --- public -----------------------------------------------------------------------------------


def notebook_namespace(job_def: JobDefinition) -> Mapping[str, Any]:
    """The namespace of the cells that defined ``job_def`` (the kernel's ``__main__``)."""
    for _, node in job_def.graph_def.iter_ops():
        fn = getattr(node.definition, "compute_fn", None)
        if isinstance(fn, types.FunctionType) and fn.__module__ in cs.MAIN_NAMES:
            return fn.__globals__
    main = sys.modules.get("__main__")
    return vars(main) if main is not None else {}


def _job_name_in(job_def: JobDefinition, namespace: Mapping[str, Any]) -> str:
    # a job rebuilt with redefined ops is bound under the name of the job it was built from
    origin = origin_job(job_def)
    defined_at = job_def.defined_at
    if defined_at is not None:
        bound_there = namespace.get(defined_at[1])
        if bound_there is job_def or bound_there is origin:
            return defined_at[1]
    bound = sorted(
        name
        for name, value in list(namespace.items())
        if (value is job_def or value is origin) and not name.startswith("_")
    )
    if not bound:
        raise SnapshotError.not_bound(job_def.name)
    return bound[0]


def snapshot_job(job_def: JobDefinition, namespace: Mapping[str, Any] | None = None) -> Snapshot:
    """The module text that rebuilds ``job_def`` from the notebook's definitions.

    Args:
        job_def: a job defined in notebook cells and bound to a name there.
        namespace: the cells' globals; default: those of the job's ops (the kernel's
            ``__main__``).

    Raises:
        SnapshotError: the job is not bound to a name, uses a notebook global that cannot be
            re-created (named, with the definitions that use it), or was built from
            definitions whose cells were re-run differently since.
    """
    if not isinstance(job_def, JobDefinition):
        raise TypeError(
            f"snapshot_job() needs a JobDefinition, got {type(job_def).__name__}. Fix: pass "
            "the job itself (my_job, not my_job())."
        )
    names = namespace if namespace is not None else notebook_namespace(job_def)
    root = _job_name_in(job_def, names)
    collector = _Collector(names, job_def.name, cs.History(names))
    collector.collect(root)
    collector.check_current(job_def)
    text, function, copied = collector.render(root)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_LENGTH]
    module_name = f"{MODULE_PREFIX}{digest}"
    try:
        compile(text, f"{module_name}.py", "exec")
    except SyntaxError as exc:  # a cell's source that does not stand on its own
        raise SnapshotError(
            f"Cannot snapshot job {job_def.name!r}: the module made of its cells does not "
            f"compile (line {exc.lineno}: {exc.msg}).\nFix: define the job's ops in plain "
            "cells (no cell magics), or pass the job to execute_job by value."
        ) from None
    return Snapshot(job_def.name, module_name, function, text, copied)


def snapshot_directory() -> Path:
    """Where snapshot modules are written.

    ``$NBFLOW_SNAPSHOT_DIR``, else ``$NBFLOW_HOME/snapshots``, else
    ``$XDG_CACHE_HOME/nbflow/snapshots`` (``~/.cache/nbflow/snapshots``).
    """
    given = os.environ.get(SNAPSHOT_DIR_ENV, "").strip()
    if given:
        return Path(given).expanduser()
    home = os.environ.get(HOME_ENV_VAR, "").strip()
    if home:
        return Path(home).expanduser() / "snapshots"
    cache = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    return Path(cache) / "nbflow" / "snapshots"


def write_snapshot(snapshot: Snapshot, directory: str | os.PathLike[str] | None = None) -> Path:
    """Write ``snapshot`` as ``<directory>/<module>.py`` (atomically; kept if already there).

    Raises:
        SnapshotError: the folder cannot be created or written.
    """
    folder = Path(directory) if directory is not None else snapshot_directory()
    path = folder / snapshot.file_name
    try:
        if path.is_file() and path.read_text(encoding="utf-8") == snapshot.text:
            return path
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=folder, prefix=f".{snapshot.module_name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(snapshot.text)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as exc:
        raise SnapshotError(
            f"Cannot write the snapshot module of job {snapshot.job_name!r} to {str(folder)!r}: "
            f"{exc.strerror or exc}.\nFix: set {SNAPSHOT_DIR_ENV} to a folder you can write "
            "(on a shared disk if steps run on other machines)."
        ) from None
    return path


__all__ = [
    "BUILD_FUNCTION",
    "MODULE_PREFIX",
    "SNAPSHOT_DIR_ENV",
    "Snapshot",
    "SnapshotError",
    "notebook_namespace",
    "snapshot_directory",
    "snapshot_job",
    "write_snapshot",
]
