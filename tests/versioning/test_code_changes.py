"""Reasons that name what changed in the code, and diffs of the changed source (wording pinned)."""

from __future__ import annotations

import importlib.metadata
from typing import TYPE_CHECKING, Any

import pytest

from nbflow.versioning import VersionParts, code_diff, explain
from nbflow.versioning import code_origin as origin_module
from nbflow.versioning.code_walk import code_record

from .code_modules import load_module

if TYPE_CHECKING:
    from pathlib import Path

BASE = """
import functools
RATE = 2

def retry(times):
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args):
            for _ in range(times):
                return fn(*args)
        return wrapper
    return decorate

def clean(xs):
    return [x for x in xs if x is not None]

@retry(1)
def op(xs, n=3):
    return [x * RATE for x in clean(xs)][:n]
"""


def parts_of(fn: Any) -> VersionParts:
    record = code_record(fn)
    return VersionParts.build(op_version=record.version, output_name="result", code=record)


def reasons(tmp_path: Path, before: str, after: str, name: str = "op") -> list[str]:
    old = parts_of(getattr(load_module(tmp_path, before), name))
    new = parts_of(getattr(load_module(tmp_path, after), name))
    return explain(old, new)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("return [x * RATE", "return [RATE * x", ["op body changed"]),
        ("if x is not None]", "if x]", ["helper 'clean' changed"]),
        ("RATE = 2", "RATE = 3", ["global 'RATE' changed (2 → 3)"]),
        ("n=3", "n=4", ["default 'n' changed"]),
        ("return fn(*args)\n", "return fn(*args) or []\n", ["decorator 'retry' changed"]),
        ("@retry(1)", "@retry(2)", ["closure 'times' of decorator 'retry' changed (1 → 2)"]),
        (
            "for x in clean(xs)]",
            "for x in tidy(xs)]\ndef tidy(xs):\n    return xs",
            ["op body changed", "helper 'tidy' added", "helper 'clean' removed"],
        ),
    ],
    ids=["body", "helper", "global", "default", "decorator", "decorator-setting", "added"],
)
def test_reasons_name_the_change(tmp_path: Path, old: str, new: str, expected: list[str]) -> None:
    assert old in BASE
    assert reasons(tmp_path, BASE, BASE.replace(old, new)) == expected


def test_closure_change_shows_both_values(tmp_path: Path) -> None:
    module = load_module(
        tmp_path,
        """
        def make(factor):
            def scale(x):
                return x * factor
            return scale
        """,
    )
    assert explain(parts_of(module.make(2)), parts_of(module.make(5))) == [
        "closure 'factor' changed (2 → 5)"
    ]


def test_package_change_shows_both_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_module(tmp_path, "import yaml\ndef op(x):\n    return yaml.safe_dump(x)\n")
    before = parts_of(module.op)
    real_version = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata, "version", lambda n: "99.0" if n == "PyYAML" else real_version(n)
    )
    origin_module.package_origin.cache_clear()
    try:
        after = parts_of(module.op)
    finally:
        origin_module.package_origin.cache_clear()
    assert explain(before, after) == [f"package 'PyYAML' changed ({real_version('PyYAML')} → 99.0)"]


def test_without_records_the_reason_is_the_op_version(tmp_path: Path) -> None:
    module = load_module(tmp_path, BASE)
    edited = load_module(tmp_path, BASE.replace("RATE = 2", "RATE = 3"))
    old = parts_of(module.op)
    new = VersionParts.build(op_version=code_record(edited.op).version, output_name="result")
    assert explain(old, new) == [
        f"code changed (op version {old.op_version[:6]} → {new.op_version[:6]})"
    ]


def test_not_tracked_is_listed_with_every_explanation(tmp_path: Path) -> None:
    module = load_module(
        tmp_path,
        """
        import sqlite3
        conn = sqlite3.connect(":memory:")
        def op(x):
            return conn.execute("select ?", (x,)).fetchone()
        """,
    )
    parts = parts_of(module.op)
    note = "global 'conn' (sqlite3.Connection) not tracked"
    assert explain(None, parts) == ["never run", note]
    assert explain(parts, parts) == [note]


def test_diff_shows_the_changed_helper_and_body(tmp_path: Path) -> None:
    old = code_record(load_module(tmp_path, BASE).op)
    edited = BASE.replace("if x is not None]", "if x]").replace("[:n]", "[: n + 1]")
    new = code_record(load_module(tmp_path, edited).op)
    diff = code_diff(old, new)
    assert "--- stored op 'op'\n+++ now op 'op'" in diff
    assert "-    return [x * RATE for x in clean(xs)][:n]" in diff
    assert "+    return [x * RATE for x in clean(xs)][: n + 1]" in diff
    assert "--- stored helper 'clean'\n+++ now helper 'clean'" in diff
    assert "+    return [x for x in xs if x]" in diff
    assert "decorator" not in diff  # unchanged: not shown
    assert code_diff(old, old) == ""
    assert code_diff(None, new) == ""
