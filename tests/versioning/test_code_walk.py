"""The code walk: what an op's transitive code version covers, and what it leaves out.

Each test writes a small module file, imports it, edits a copy and imports that under another
name; labels are relative to the op's module, so versions of the two copies compare directly.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import time
from typing import TYPE_CHECKING

import pytest

from nbflow.errors import SourceChangedError, SourceUnavailableError
from nbflow.versioning import (
    CodeRecord,
    CodeWalk,
    VersionParts,
    source_version,
)
from nbflow.versioning import code_origin as origin_module
from nbflow.versioning.code_walk import code_record

from .code_modules import labels, load_module, versions

if TYPE_CHECKING:
    from pathlib import Path

OPS = ["op_clean", "op_scale", "op_plain"]

BASE = """
RATE = 2

def base(x):
    return x + 1

def clean(xs):
    return [base(x) for x in xs if x is not None]

def op_clean(xs):
    return clean(xs)

def op_scale(x):
    return x * RATE

def op_plain(x):
    return x - 1
"""


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {name for name in before if before[name] != after[name]}


class TestWhatCounts:
    def test_helper_edit_changes_exactly_the_ops_that_reach_it(self, tmp_path: Path) -> None:
        before = versions(load_module(tmp_path, BASE), OPS)
        edited = BASE.replace("return x + 1", "return x + 2")  # base, reached through clean
        after = versions(load_module(tmp_path, edited), OPS)
        assert changed(before, after) == {"op_clean"}

    def test_formatting_and_comments_of_a_helper_do_not_count(self, tmp_path: Path) -> None:
        before = versions(load_module(tmp_path, BASE), OPS)
        reformatted = BASE.replace("return x + 1", "# one more\n    return (x\n        + 1)")
        assert versions(load_module(tmp_path, reformatted), OPS) == before

    def test_global_edit_changes_exactly_the_ops_that_read_it(self, tmp_path: Path) -> None:
        before = versions(load_module(tmp_path, BASE), OPS)
        after = versions(load_module(tmp_path, BASE.replace("RATE = 2", "RATE = 3")), OPS)
        assert changed(before, after) == {"op_scale"}

    def test_global_read_in_a_comprehension_or_lambda_counts(self, tmp_path: Path) -> None:
        source = """
        RATE = 2
        def op_comprehension(xs):
            return [x * RATE for x in xs]
        def op_lambda(xs):
            return list(map(lambda x: x * RATE, xs))
        """
        names = ["op_comprehension", "op_lambda"]
        before = versions(load_module(tmp_path, source), names)
        after = versions(load_module(tmp_path, source.replace("RATE = 2", "RATE = 5")), names)
        assert changed(before, after) == set(names)

    def test_closure_value_of_a_job_factory_counts(self, tmp_path: Path) -> None:
        module = load_module(
            tmp_path,
            """
            def make(factor):
                def scale(x):
                    return x * factor
                return scale
            """,
        )
        two, again, five = module.make(2), module.make(2), module.make(5)
        assert code_record(two).version == code_record(again).version
        assert code_record(two).version != code_record(five).version
        (ref,) = code_record(five).refs
        assert (ref.label, ref.kind, ref.shown) == ("closure 'factor'", "closure", "5")

    def test_default_value_counts_by_value(self, tmp_path: Path) -> None:
        source = """
        N = 3
        def op_n(x, n=N):
            return x * n
        def op_k(x, *, k=10):
            return x + k
        """
        before = versions(load_module(tmp_path, source), ["op_n", "op_k"])
        after_n = versions(
            load_module(tmp_path, source.replace("N = 3", "N = 4")), ["op_n", "op_k"]
        )
        assert changed(before, after_n) == {"op_n"}
        after_k = versions(load_module(tmp_path, source.replace("k=10", "k=11")), ["op_n", "op_k"])
        assert changed(before, after_k) == {"op_k"}
        assert labels(load_module(tmp_path, source).op_k) == ["default 'k'"]

    def test_decorator_wrapper_code_and_its_settings_count(self, tmp_path: Path) -> None:
        source = """
        import functools
        def retry(times):
            def decorate(fn):
                @functools.wraps(fn)
                def wrapper(*args):
                    for _ in range(times):
                        return fn(*args)
                return wrapper
            return decorate
        @retry(3)
        def op_retried(x):
            return x + 1
        """
        module = load_module(tmp_path, source)
        before = versions(module, ["op_retried"])
        assert labels(module.op_retried) == [
            "decorator 'retry'",
            "closure 'times' of decorator 'retry'",
        ]
        settings = versions(load_module(tmp_path, source.replace("@retry(3)", "@retry(4)")),
                            ["op_retried"])  # fmt: skip
        wrapper = versions(
            load_module(tmp_path, source.replace("return fn(*args)", "return fn(*args) or 0")),
            ["op_retried"],
        )
        assert settings != before
        assert wrapper != before
        # The op's own body is the innermost function, as in the immediate version.
        assert code_record(module.op_retried).function == "op_retried"

    def test_class_counts_by_methods_and_class_level_data(self, tmp_path: Path) -> None:
        source = """
        class Cleaner:
            LIMIT = 3
            def run(self, xs):
                return sorted(xs)[: self.LIMIT]
        def op_uses_class(xs):
            return Cleaner().run(xs)
        def op_other(xs):
            return xs
        """
        names = ["op_uses_class", "op_other"]
        before = versions(load_module(tmp_path, source), names)
        method = source.replace("sorted(xs)", "sorted(xs, reverse=True)")
        data = source.replace("LIMIT = 3", "LIMIT = 4")
        assert changed(before, versions(load_module(tmp_path, method), names)) == {"op_uses_class"}
        assert changed(before, versions(load_module(tmp_path, data), names)) == {"op_uses_class"}
        assert labels(load_module(tmp_path, source).op_uses_class) == ["class 'Cleaner'"]

    def test_user_module_attribute_access_is_followed(self, tmp_path: Path) -> None:
        helpers = load_module(tmp_path, "def clean(x):\n    return x + 1\n", "code_walk_helpers_a")
        ops = load_module(
            tmp_path,
            """
            import code_walk_helpers_a as helpers
            def op_attr(x):
                return helpers.clean(x)
            """,
        )
        assert labels(ops.op_attr) == ["helper 'code_walk_helpers_a.clean'"]
        before = code_record(ops.op_attr).version
        (tmp_path / "code_walk_helpers_a.py").write_text("def clean(x):\n    return x + 2\n")
        helpers.clean = load_module(tmp_path, "def clean(x):\n    return x + 2\n").clean
        assert code_record(ops.op_attr).version != before

    def test_mutual_recursion_is_walked_once(self, tmp_path: Path) -> None:
        source = """
        def even(n):
            return n == 0 or odd(n - 1)
        def odd(n):
            return n != 0 and even(n - 1)
        def op_parity(n):
            return even(n)
        """
        module = load_module(tmp_path, source)
        assert labels(module.op_parity) == ["helper 'even'", "helper 'odd'"]
        before = versions(module, ["op_parity"])
        after = versions(load_module(tmp_path, source.replace("n != 0", "n > 0")), ["op_parity"])
        assert before != after

    def test_standard_library_is_ignored_and_packages_count_by_version(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        source = """
        import json, math
        import yaml
        def op_std(x):
            return json.dumps(math.sqrt(x))
        def op_yaml(x):
            return yaml.safe_dump(x)
        """
        module = load_module(tmp_path, source)
        assert labels(module.op_std) == []
        record = code_record(module.op_yaml)
        (ref,) = record.refs
        assert (ref.label, ref.kind) == ("package 'PyYAML'", "package")
        assert ref.shown == importlib.metadata.version("PyYAML")

        real_version = importlib.metadata.version
        monkeypatch.setattr(
            importlib.metadata,
            "version",
            lambda name: "99.0" if name == "PyYAML" else real_version(name),
        )
        origin_module.package_origin.cache_clear()
        try:
            upgraded = code_record(module.op_yaml)
        finally:
            origin_module.package_origin.cache_clear()
        assert upgraded.version != record.version
        assert code_record(module.op_std).version == code_record(module.op_std).version

    def test_nbflow_itself_counts_by_its_version(self, tmp_path: Path) -> None:
        module = load_module(
            tmp_path,
            """
            from nbflow import Output
            def op_output(x):
                return Output(x)
            """,
        )
        import nbflow

        (ref,) = code_record(module.op_output).refs
        assert (ref.label, ref.shown) == ("package 'nbflow'", nbflow.__version__)


class TestNotTracked:
    SOURCE = """
    import sqlite3
    conn = sqlite3.connect(":memory:")
    def op_query(x):
        return conn.execute("select ?", (x,)).fetchone()
    """

    def test_global_that_is_not_plain_data_is_listed_by_type_and_stable(
        self, tmp_path: Path
    ) -> None:
        first = code_record(load_module(tmp_path, self.SOURCE).op_query)
        second = code_record(load_module(tmp_path, self.SOURCE).op_query)
        (ref,) = first.untracked()
        assert (ref.label, ref.shown, ref.tracked) == (
            "global 'conn'",
            "sqlite3.Connection",
            False,
        )
        assert first.version == second.version  # two different connections, one version

    def test_state_the_code_modifies_counts_by_type_only(self, tmp_path: Path) -> None:
        source = """
        import logging
        CALLS = []
        logger = logging.getLogger("x")
        def op_logged(x):
            CALLS.append(x)
            logger.info("ran")
            return x
        """
        module = load_module(tmp_path, source)
        before = code_record(module.op_logged)
        module.CALLS.extend([1, 2, 3])
        after = code_record(module.op_logged)
        assert before.version == after.version
        assert {ref.kind for ref in after.refs} == {"state"}
        assert after.untracked() == ()


class TestSourceOnDisk:
    def test_module_file_edited_after_import_is_a_clear_error(self, tmp_path: Path) -> None:
        module = load_module(tmp_path, BASE, "code_walk_edited")
        path = tmp_path / "code_walk_edited.py"
        path.write_text(BASE.replace("return x + 1", "return x + 9"))
        later = time.time() + 5
        os.utime(path, (later, later))
        with pytest.raises(SourceChangedError, match=r"changed after the module was imported") as e:
            code_record(module.op_clean)
        assert "importlib.reload" in str(e.value)

    def test_edit_noticed_even_after_the_facts_were_cached(self, tmp_path: Path) -> None:
        module = load_module(tmp_path, BASE, "code_walk_cached")
        code_record(module.op_clean)  # facts cached
        path = tmp_path / "code_walk_cached.py"
        path.write_text(BASE.replace("return x + 1", "return x + 9"))
        later = time.time() + 5
        os.utime(path, (later, later))
        with pytest.raises(SourceChangedError):
            CodeWalk().record(module.op_clean)

    def test_touched_but_unchanged_file_is_fine(self, tmp_path: Path) -> None:
        module = load_module(tmp_path, BASE, "code_walk_touched")
        before = code_record(module.op_clean).version
        later = time.time() + 5
        os.utime(tmp_path / "code_walk_touched.py", (later, later))
        assert code_record(module.op_clean).version == before

    def test_helper_without_source_is_not_tracked_but_the_op_needs_source(
        self, tmp_path: Path
    ) -> None:
        module = load_module(tmp_path, "def op_fn(x):\n    return helper(x)\n")
        exec("def helper(x):\n    return x\n", vars(module))  # made from a string: no source
        (ref,) = code_record(module.op_fn).untracked()
        assert (ref.label, ref.shown) == ("helper 'helper'", "function without source")
        with pytest.raises(SourceUnavailableError, match="no source code can be found"):
            code_record(module.helper)


class TestRecords:
    def test_a_shared_walk_gives_each_op_its_own_record(self, tmp_path: Path) -> None:
        # Nodes made for one op only (defaults, state) are freed after it; their ids must
        # never bring a stale reference into the next op's record.
        ops = 300
        source = "CALLS = []\nRATE = 2\n" + "".join(
            f"def op_{i}(x, n={i}):\n    CALLS.append(x)\n    return x * RATE + n\n"
            for i in range(ops)
        )
        module = load_module(tmp_path, source)
        functions = [getattr(module, f"op_{i}") for i in range(ops)]
        walk = CodeWalk()
        shared = [walk.record(fn) for fn in functions]
        assert shared == [CodeWalk().record(fn) for fn in functions]
        assert {tuple(ref.label for ref in record.refs) for record in shared} == {
            ("global 'RATE'", "default 'n'", "global 'CALLS'")
        }

    def test_immediate_version_is_unchanged(self, tmp_path: Path) -> None:
        module = load_module(tmp_path, BASE)
        edited = load_module(tmp_path, BASE.replace("return x + 1", "return x + 2"))
        assert source_version(module.op_clean) == source_version(edited.op_clean)

    def test_record_round_trips_through_json(self, tmp_path: Path) -> None:
        record = code_record(load_module(tmp_path, BASE).op_clean)
        again = CodeRecord.from_json(json.loads(json.dumps(record.to_json())))
        assert again == record
        assert again.version == record.version
        assert [ref.source for ref in again.refs] == [ref.source for ref in record.refs]

    def test_version_parts_carry_the_record_outside_the_version(self, tmp_path: Path) -> None:
        record = code_record(load_module(tmp_path, BASE).op_clean)
        plain = VersionParts.build(op_version=record.version, output_name="result")
        with_code = VersionParts.build(op_version=record.version, output_name="result", code=record)
        assert with_code.version == plain.version
        manifest = json.loads(json.dumps(with_code.to_manifest()))
        assert VersionParts.from_manifest(manifest).code == record
        assert "code" not in plain.to_manifest()
        assert VersionParts.from_manifest(plain.to_manifest()).code is None  # old manifests
        manifest["code"] = {"format": "nbflow.code.v1", "refs": "garbage"}
        assert VersionParts.from_manifest(manifest).code is None  # explains only: ignored


def op_with_an_assert(x: int) -> int:
    # pytest rewrites the asserts of this module when importing it: the loaded code is not
    # what its source compiles to, yet the file did not change.
    assert x > 0, "positive"
    return x


def test_code_rewritten_by_pytest_is_not_mistaken_for_an_edited_file() -> None:
    assert code_record(op_with_an_assert).function == "op_with_an_assert"
