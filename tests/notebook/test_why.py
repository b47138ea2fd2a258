"""``nbn.why``, the version table and the DAG with versions name the code that changed.

The job lives in a module file; an edit is made the way a notebook makes it: a new ``def`` of
the helper run in the module's namespace from a "cell" registered in :mod:`linecache`.
"""

from __future__ import annotations

import importlib.util
import linecache
import sys
from itertools import count
from typing import TYPE_CHECKING, Any

import pytest

import nbflow.notebook as nbn
from nbflow import Instance
from nbflow.errors import ResultLookupError

if TYPE_CHECKING:
    from pathlib import Path
    from types import ModuleType

_numbers = count()

JOB = """
from nbflow import SourceHashVersionStrategy, job, op

RATE = 2

def clean(xs):
    return [x for x in xs if x is not None]

@op
def load():
    return [2, None, 1]

@op
def cleaned(xs):
    return clean(xs)

@op
def scaled(xs):
    return [x * RATE for x in xs if x is not None]

@job(version_strategy=SourceHashVersionStrategy())
def flow():
    rows = load()
    cleaned(rows)
    scaled(rows)
"""
NEW_CLEAN = "def clean(xs):\n    return sorted(x for x in xs if x is not None)\n"


def load_job_module(folder: Path) -> ModuleType:
    name = f"nbflow_why_job_{next(_numbers)}"
    path = folder / f"{name}.py"
    path.write_text(JOB)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def run_cell(module: ModuleType, source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``source`` in ``module``'s namespace as a notebook cell would."""
    filename = f"<ipython-input-{next(_numbers)}-why>"
    lines = source.splitlines(True)
    monkeypatch.setitem(linecache.cache, filename, (len(source), None, lines, filename))
    exec(compile(source, filename, "exec"), vars(module))


@pytest.fixture
def edited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Instance]:
    """A job that ran (memoized in memory), then had its helper ``clean`` redefined."""
    module = load_job_module(tmp_path)
    instance = Instance.ephemeral()
    assert module.flow.execute_in_process(instance=instance).success
    run_cell(module, NEW_CLEAN, monkeypatch)
    return module.flow, instance


def test_why_names_the_helper_and_shows_its_diff(edited: tuple[Any, Instance]) -> None:
    job, instance = edited
    answer = nbn.why(job, "cleaned", instance=instance)

    assert answer.status == "to-be-recomputed"
    assert answer.reasons == ("helper 'clean' changed",)
    assert answer.diff.splitlines() == [
        "--- stored helper 'clean'",
        "+++ now helper 'clean'",
        "@@ -1,2 +1,2 @@",
        " def clean(xs):",
        "-    return [x for x in xs if x is not None]",
        "+    return sorted(x for x in xs if x is not None)",
    ]
    text = str(answer)
    assert text.startswith("Step 'cleaned': to-be-recomputed\n  - helper 'clean' changed\n")
    page = answer._repr_html_()
    assert "<li>helper &#x27;clean&#x27; changed</li>" in page
    assert "<span style='color:#2e7d32'>+    return sorted(x for x in xs if x is not None)" in page


def test_why_of_an_untouched_step_says_stored(edited: tuple[Any, Instance]) -> None:
    job, instance = edited
    answer = nbn.why(job, "scaled", instance=instance)
    assert (answer.status, answer.reasons, answer.diff) == ("stored", (), "")
    assert str(answer) == "Step 'scaled': stored"


def test_why_of_an_unknown_step_suggests_names(edited: tuple[Any, Instance]) -> None:
    job, instance = edited
    with pytest.raises(ResultLookupError, match=r"has no step 'cleand'\. Did you mean 'cleaned'"):
        nbn.why(job, "cleand", instance=instance)


def test_version_table_and_graph_carry_the_named_reasons(edited: tuple[Any, Instance]) -> None:
    job, instance = edited
    table = nbn.version_table(job, instance=instance)
    reasons = dict(zip(table["Step Output"], table["Reasons"], strict=True))
    assert reasons == {
        "load.result": "",
        "cleaned.result": "helper 'clean' changed",
        "scaled.result": "",
    }

    view = nbn.graph_view(job, instance=instance, with_versions=True)
    tooltips = {node.key: node.tooltip for node in view.nodes}
    assert "helper 'clean' changed" in tooltips["cleaned"]
    assert "changed" not in tooltips["scaled"]


def test_global_change_shows_values_in_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_job_module(tmp_path)
    instance = Instance.ephemeral()
    module.flow.execute_in_process(instance=instance)
    run_cell(module, "RATE = 5\n", monkeypatch)
    table = nbn.version_table(module.flow, instance=instance)
    reasons = dict(zip(table["Step Output"], table["Reasons"], strict=True))
    assert reasons["scaled.result"] == "global 'RATE' changed (2 → 5)"
    assert nbn.why(module.flow, "scaled", instance=instance).diff == ""  # no source changed


def test_not_tracked_global_is_listed_even_for_stored_outputs(tmp_path: Path) -> None:
    path = tmp_path / f"nbflow_why_conn_{next(_numbers)}.py"
    path.write_text(
        "import sqlite3\n"
        "from nbflow import SourceHashVersionStrategy, job, op\n"
        "conn = sqlite3.connect(':memory:')\n"
        "@op\n"
        "def query():\n"
        "    return conn.execute('select 7').fetchone()[0]\n"
        "@job(version_strategy=SourceHashVersionStrategy())\n"
        "def flow():\n"
        "    query()\n"
    )
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    instance = Instance.ephemeral()
    module.flow.execute_in_process(instance=instance)
    answer = nbn.why(module.flow, "query", instance=instance)
    assert answer.status == "stored"
    assert answer.reasons == ("global 'conn' (sqlite3.Connection) not tracked",)
