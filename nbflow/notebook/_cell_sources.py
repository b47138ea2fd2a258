"""Reading notebook definitions for snapshots: cell sources, the names they read, the
kernel's history of cells, and which values another process can re-create.

Private to :mod:`nbflow.notebook.snapshot`. Sources come from ``linecache`` (where IPython
registers every cell) and from IPython's ``_ih`` list of the cells run so far.
"""

from __future__ import annotations

import ast
import functools
import linecache
import symtable
import sys
import types
from typing import TYPE_CHECKING, Any

from nbflow.definitions.job import JobDefinition

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

SNAPSHOT_MODULE_PREFIX = "nbflow_snapshot_"
MAX_LITERAL_CHARS = 100_000
"""Longest ``repr`` of a literal copied into a snapshot; bigger values belong in files."""
MAIN_NAMES = frozenset({"__main__", "__mp_main__"})
_COMPREHENSIONS = frozenset({"listcomp", "setcomp", "dictcomp", "genexpr"})


# --- sources --------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def parse(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


def references(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """Global names ``text`` reads: (while being defined, only when its functions are called)."""
    try:
        table = symtable.symtable(text, "<nbflow snapshot>", "exec")
    except SyntaxError:
        return frozenset(), frozenset()
    eager: set[str] = set()
    lazy: set[str] = set()
    pending: list[tuple[symtable.SymbolTable, bool]] = [(table, False)]
    while pending:
        scope, deferred = pending.pop()
        at_top = scope.get_type() == "module"
        for symbol in scope.get_symbols():
            if symbol.is_referenced() and (at_top or symbol.is_global()):
                (lazy if deferred else eager).add(symbol.get_name())
        for child in scope.get_children():
            runs_later = child.get_type() == "function" and child.get_name() not in _COMPREHENSIONS
            pending.append((child, deferred or runs_later))
    return frozenset(eager), frozenset(lazy - eager)


def codes(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from codes(const)


def cell_text(filename: str) -> str:
    return "".join(linecache.getlines(filename))


def block(text: str, node: ast.stmt) -> str:
    """The source of a top-level statement, decorators included."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        first = min([d.lineno for d in node.decorator_list] + [node.lineno])
        lines = text.splitlines()[first - 1 : node.end_lineno]
        return "\n".join(lines).rstrip()
    segment = ast.get_source_segment(text, node)
    return (segment or "").rstrip()


def span(node: ast.stmt) -> tuple[int, int]:
    first = node.lineno
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        first = min([d.lineno for d in node.decorator_list] + [first])
    return first, node.end_lineno or node.lineno


def describe_value(value: object) -> str:
    if hasattr(value, "read") and hasattr(value, "close") and hasattr(value, "mode"):
        return f"an open file ({type(value).__module__}.{type(value).__qualname__})"
    return f"a {type(value).__module__}.{type(value).__qualname__} object"


# --- classifying values -----------------------------------------------------------------------


def plain(value: object, depth: int = 0) -> bool:
    if depth > 32:
        return False
    kind = type(value)
    if kind in (int, float, complex, str, bytes, bool, type(None)):
        return True
    if kind in (tuple, list, set):
        return all(plain(v, depth + 1) for v in value)  # type: ignore[attr-defined]
    if kind is dict:
        return all(plain(k, depth + 1) and plain(v, depth + 1) for k, v in value.items())  # type: ignore[attr-defined]
    return False


def literal_text(value: object) -> str | None:
    """``repr(value)`` when it is a plain literal that reads back as the same value."""
    if not plain(value):
        return None
    text = repr(value)
    if len(text) > MAX_LITERAL_CHARS:
        return None
    try:
        again = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return text if type(again) is type(value) and again == value else None


def is_definition(value: object) -> bool:
    """Functions, classes and nbflow objects: re-created by re-running their statement."""
    if isinstance(value, types.FunctionType | type):
        return True
    module = type(value).__module__ or ""
    return module == "nbflow" or module.startswith("nbflow.")


def definition_tree(value: object, depth: int = 0) -> bool:
    if depth > 32:
        return False
    if isinstance(value, dict):
        return all(definition_tree(v, depth + 1) and plain(k) for k, v in value.items())
    if type(value) in (list, tuple, set):
        return all(definition_tree(v, depth + 1) for v in value)  # type: ignore[attr-defined]
    return plain(value) or is_definition(value)


_FUNCTION_PATHS = (
    ("compute_fn",),
    ("op", "compute_fn"),
    ("resource_fn",),
    ("hook_fn",),
    ("logger_fn",),
    ("config_fn",),
    ("compose_fn",),
    ("graph_def", "compose_fn"),
)


def underlying_function(value: object) -> types.FunctionType | None:
    """The decorated function an nbflow definition (or a plain function) was made from."""
    if isinstance(value, types.FunctionType):
        return value
    if isinstance(value, JobDefinition) and value.defined_at is None:
        return None  # made by to_job()/JobDefinition(...): its function is a graph's
    for path in _FUNCTION_PATHS:
        found: Any = value
        for attribute in path:
            found = getattr(found, attribute, None)
        if isinstance(found, types.FunctionType):
            return found
    return None


def public_rank(name: str) -> tuple[bool, int, int, str]:
    parts = name.split(".")
    return (any(p.startswith("_") for p in parts), len(parts), len(name), name)


def from_import(module: str, attribute: str, name: str) -> str:
    alias = "" if attribute == name else f" as {name}"
    return f"from {module} import {attribute}{alias}"


def importable_module(name: str) -> bool:
    return (
        name not in MAIN_NAMES
        and not name.startswith(SNAPSHOT_MODULE_PREFIX)
        and not name.startswith("_nbflow_job_file_")
    )


def module_attribute(module_name: str, attribute: str) -> object:
    module = sys.modules.get(module_name)
    if module is None:
        return None
    try:
        return getattr(module, attribute, None)
    except Exception:  # a lazy module that fails to load the name
        return None


# --- the notebook's history -------------------------------------------------------------------


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call | ast.Starred):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def same_scope(node: ast.AST) -> Iterator[ast.AST]:
    """``node`` and the nodes under it that run in its scope (not in nested functions)."""
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        if current is not node and isinstance(
            current,
            ast.FunctionDef
            | ast.AsyncFunctionDef
            | ast.ClassDef
            | ast.Lambda
            | ast.ListComp
            | ast.SetComp
            | ast.DictComp
            | ast.GeneratorExp,
        ):
            continue
        pending.extend(ast.iter_child_nodes(current))


def binds(statement: ast.stmt) -> set[str]:
    """Names a top-level statement binds in the notebook's namespace."""
    names: set[str] = set()
    for node in same_scope(statement):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if alias.name != "*":
                    names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
    return names


def simple_assignment(statement: ast.stmt) -> bool:
    def plain_target(target: ast.expr) -> bool:
        if isinstance(target, ast.Name):
            return True
        if isinstance(target, ast.Starred):
            return plain_target(target.value)
        if isinstance(target, ast.Tuple | ast.List):
            return all(plain_target(t) for t in target.elts)
        return False

    if isinstance(statement, ast.Assign):
        return all(plain_target(t) for t in statement.targets)
    if isinstance(statement, ast.AnnAssign):
        return statement.value is not None and isinstance(statement.target, ast.Name)
    return False


def changes(statement: ast.stmt, name: str) -> bool:
    """Whether ``statement`` may change the object bound to ``name`` in place."""
    for node in same_scope(statement):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
            targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Attribute | ast.Subscript) and (
                        _root_name(part) == name
                    ):
                        return True
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and _root_name(node.func) == name
        ):
            return True
    return False


def describe_statement(statement: ast.stmt) -> str:
    return {
        ast.AugAssign: "an augmented assignment (x += ...)",
        ast.For: "a for loop",
        ast.AsyncFor: "a for loop",
        ast.While: "a while loop",
        ast.With: "a with block",
        ast.AsyncWith: "a with block",
        ast.If: "an if block",
        ast.Try: "a try block",
        ast.Delete: "a del statement",
    }.get(type(statement), f"a {type(statement).__name__} statement")


@functools.lru_cache(maxsize=4096)
def _cell_statements(cell: str) -> tuple[tuple[ast.stmt, frozenset[str]], ...]:
    """The top-level statements of a cell and the names each binds (cached by cell text)."""
    tree = parse(cell)
    if tree is None:
        return ()
    return tuple((statement, frozenset(binds(statement))) for statement in tree.body)


class History:
    """The top-level statements of the cells the kernel has run (IPython's ``_ih``)."""

    def __init__(self, namespace: Mapping[str, Any]) -> None:
        cells = namespace.get("_ih")
        self.statements: list[tuple[str, ast.stmt, frozenset[str]]] = []
        self._last: dict[str, int] = {}
        if not isinstance(cells, list):
            return
        for cell in cells:
            if isinstance(cell, str) and cell.strip():
                for statement, names in _cell_statements(cell):
                    self._last.update(dict.fromkeys(names, len(self.statements)))
                    self.statements.append((cell, statement, names))

    def last_binding(self, name: str) -> tuple[int, str, ast.stmt] | None:
        """(position, cell text, statement) of the statement that last bound ``name``."""
        index = self._last.get(name)
        if index is None:
            return None
        cell, statement, _ = self.statements[index]
        return index, cell, statement

    def changed_after(self, index: int, name: str) -> str | None:
        """The first line of a later statement that may change ``name``'s object in place."""
        for cell, statement, _ in self.statements[index + 1 :]:
            if changes(statement, name):
                return block(cell, statement).splitlines()[0]
        return None
