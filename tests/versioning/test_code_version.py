"""source_version: what changes a function's version, notebook cells, and missing source."""

from __future__ import annotations

import functools
import linecache
import os
import re
import subprocess
import sys
import textwrap
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from nbflow.errors import SourceUnavailableError
from nbflow.versioning import source_version

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parents[2]
_cell_numbers = count(1)


@pytest.fixture
def define(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """Define a function from source the way IPython does: compiled under a cell filename
    whose text is registered in linecache."""

    def _define(source: str, name: str = "f", filename: str | None = None) -> Any:
        source = textwrap.dedent(source)
        filename = filename or f"<ipython-input-{next(_cell_numbers)}-abc123>"
        monkeypatch.setitem(
            linecache.cache, filename, (len(source), None, source.splitlines(True), filename)
        )
        namespace: dict[str, Any] = {"__name__": "nbflow_test_cell"}
        exec(compile(source, filename, "exec"), namespace)
        return namespace[name]

    yield _define


BASE = '''
def f(x, y=1):
    """Add."""
    total = x + y
    return total
'''


def test_version_format(define: Callable[..., Any]) -> None:
    version = source_version(define(BASE))
    assert len(version) == 40
    assert set(version) <= set("0123456789abcdef")


def test_same_source_in_another_cell_gives_same_version(define: Callable[..., Any]) -> None:
    assert source_version(define(BASE)) == source_version(define(BASE))


@pytest.mark.parametrize(
    "variant",
    [
        '''
        # a comment above
        def f(x, y=1):  # trailing comment
            """Add."""

            total = x + y   # spaced differently


            return total
        ''',
        '''
        def f(x,
              y=1):
            """Add."""
            total = (x +
                     y)
            return total
        ''',
        """
        def f(x, y = 1):
            \'\'\'Add.\'\'\'
            total = x+y
            return (total)
        """,
    ],
    ids=["comments-blank-lines", "line-breaks", "quotes-spacing-parens"],
)
def test_formatting_does_not_change_version(define: Callable[..., Any], variant: str) -> None:
    assert source_version(define(variant)) == source_version(define(BASE))


@pytest.mark.parametrize(
    "variant",
    [
        BASE.replace("x + y", "x - y"),
        BASE.replace('"""Add."""', '"""Add two numbers."""'),
        BASE.replace("y=1", "y=2"),
        BASE.replace("def f(x, y=1)", "def f(x: int, y=1)"),
        BASE.replace("total = x + y\n", "total = x + y\n    print(total)\n"),
        BASE.replace("def f(", "async def f("),
    ],
    ids=["operator", "docstring", "default", "annotation", "statement", "async"],
)
def test_code_changes_change_version(define: Callable[..., Any], variant: str) -> None:
    assert source_version(define(variant)) != source_version(define(BASE))


def test_decorators_are_excluded(define: Callable[..., Any]) -> None:
    decorated = '''
    def passthrough(*args, **kwargs):
        return lambda fn: fn

    @passthrough(version="1", tags={"a": "b"})
    def f(x, y=1):
        """Add."""
        total = x + y
        return total
    '''
    redecorated = decorated.replace('version="1"', 'version="2"')
    assert source_version(define(decorated)) == source_version(define(BASE))
    assert source_version(define(redecorated)) == source_version(define(BASE))


def test_nested_decorators_inside_the_body_count(define: Callable[..., Any]) -> None:
    template = """
    def f():
        @functools.lru_cache(maxsize={size})
        def inner():
            return 1
        return inner
    """
    assert source_version(define(template.format(size=1))) != source_version(
        define(template.format(size=2))
    )


def test_functools_wraps_chain_is_unwrapped(define: Callable[..., Any]) -> None:
    inner = define(BASE)

    @functools.wraps(inner)
    def wrapper(*args: Any) -> Any:
        return inner(*args)

    @functools.wraps(wrapper)
    def outer(*args: Any) -> Any:
        return wrapper(*args)

    assert source_version(outer) == source_version(inner)


def test_methods_and_static_methods(define: Callable[..., Any]) -> None:
    cls = define(
        """
        class Holder:
            def method(self, x):
                return x + 1

            @staticmethod
            def static(x):
                return x + 1
        """,
        name="Holder",
    )
    bound = cls().method
    assert source_version(bound) == source_version(cls.method)
    assert source_version(cls.__dict__["static"]) == source_version(cls.static)
    assert source_version(cls.method) != source_version(cls.static)


def test_indented_source_with_multiline_string(define: Callable[..., Any]) -> None:
    cls = define(
        '''
        class Holder:
            def method(self):
                return """
        text at column zero
        """
        ''',
        name="Holder",
    )
    assert len(source_version(cls.method)) == 40


def test_lambda_in_the_middle_of_an_expression(define: Callable[..., Any]) -> None:
    source = "ops = dict(double=lambda x: x * 2,  # comment\n           other=1)\n"
    changed = "ops = dict(double=lambda x: x * 3,\n           other=1)\n"
    first = define(source, name="ops")["double"]
    assert source_version(first) == source_version(define(source, name="ops")["double"])
    assert source_version(first) != source_version(define(changed, name="ops")["double"])


def test_functions_in_module_files() -> None:
    assert source_version(textwrap.dedent) == source_version(textwrap.dedent)
    assert source_version(textwrap.dedent) != source_version(textwrap.indent)


def test_no_source_raises_with_fix(define: Callable[..., Any]) -> None:
    namespace: dict[str, Any] = {}
    exec(compile("def lost():\n    return 1\n", "<nbflow-no-source>", "exec"), namespace)
    with pytest.raises(SourceUnavailableError) as info:
        source_version(namespace["lost"])
    assert str(info.value).startswith("Cannot version 'lost' from its source: no source code")
    assert "version=" in str(info.value)


@pytest.mark.parametrize(
    "fn",
    [len, sys.getsizeof, functools.partial(print, 1)],
    ids=["builtin", "c-function", "partial"],
)
def test_builtins_and_partials_raise(fn: Callable[..., Any]) -> None:
    fix = 'Fix: give the op or resource an explicit version= (e.g. @op(version="1")'
    with pytest.raises(SourceUnavailableError, match=re.escape(fix)):
        source_version(fn)


def test_source_that_no_longer_matches_the_code_raises(
    define: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    fn = define(BASE, filename="<ipython-input-99-edited>")
    edited = "\ndef g(x):\n    return x\n"
    monkeypatch.setitem(
        linecache.cache,
        "<ipython-input-99-edited>",
        (len(edited), None, edited.splitlines(True), "<ipython-input-99-edited>"),
    )
    with pytest.raises(SourceUnavailableError, match="defines 'g' instead"):
        source_version(fn)


def test_version_is_cached_per_function_object(define: Callable[..., Any]) -> None:
    fn = define(BASE, filename="<ipython-input-98-cached>")
    first = source_version(fn)
    linecache.cache.pop("<ipython-input-98-cached>")
    assert source_version(fn) == first  # no second lookup of the source


def test_real_ipython_cell_keeps_its_version_across_reruns() -> None:
    import IPython  # noqa: F401  (the test runs a real IPython shell in a subprocess)

    code = textwrap.dedent(
        """
        from IPython.core.interactiveshell import InteractiveShell
        from nbflow.versioning import source_version
        shell = InteractiveShell.instance()
        cell = "def emit_tree():\\n    # a tree\\n    return 'oak'\\n"
        versions = []
        for _ in range(2):
            shell.run_cell(cell, store_history=True).raise_error()
            versions.append(source_version(shell.user_ns["emit_tree"]))
        shell.run_cell(cell.replace("# a tree", "")).raise_error()
        versions.append(source_version(shell.user_ns["emit_tree"]))
        shell.run_cell(cell.replace("oak", "elm")).raise_error()
        versions.append(source_version(shell.user_ns["emit_tree"]))
        print(versions)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    versions = eval(out.stdout.strip().splitlines()[-1])
    assert versions[0] == versions[1] == versions[2] != versions[3]
