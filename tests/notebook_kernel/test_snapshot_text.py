"""Snapshot modules of notebook-defined jobs, built from cells run the way IPython runs them.

Each cell is compiled under its own filename registered in ``linecache`` and executed in one
namespace named ``__main__`` whose ``_ih`` lists the cells run so far, as in a kernel. The real
kernel tests (``test_kernel_jobs.py``) prove the same end to end; these pin the module text,
the ordering and every refusal quickly.
"""

from __future__ import annotations

import importlib.util
import linecache
import os
import sys
import tempfile
import textwrap
import types
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import nbflow.notebook as nbn
from nbflow import execute_job, multiprocess_executor
from nbflow.execution.executors.reconstruct import interactive_job_pointer
from nbflow.notebook.reconstruct import snapshot_pointer
from nbflow.notebook.snapshot import SnapshotError, snapshot_job, write_snapshot

if TYPE_CHECKING:
    from collections.abc import Callable

    from nbflow import JobDefinition

_cells = count(1)

Notebook = dict[str, Any]


@pytest.fixture
def notebook(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Notebook]:
    """``notebook(cell, cell, ...)``: run cells like a kernel; returns their namespace."""

    def run(*cells: str) -> Notebook:
        namespace: Notebook = {"__name__": "__main__", "_ih": [""]}
        for cell in cells:
            source = textwrap.dedent(cell).strip() + "\n"
            filename = f"/tmp/ipykernel_test/{next(_cells)}.py"
            lines = source.splitlines(True)
            monkeypatch.setitem(linecache.cache, filename, (len(source), None, lines, filename))
            namespace["_ih"].append(source)
            exec(compile(source, filename, "exec", dont_inherit=True), namespace)
        return namespace

    return run


def load(text: str) -> types.ModuleType:
    """Run a snapshot's text as a fresh module file (what a step process does on import)."""
    folder = Path(tempfile.mkdtemp(prefix="nbflow-snapshot-test-"))
    path = folder / "snapshot_under_test.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(f"snapshot_{next(_cells)}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


IMPORTS = """
import math
from nbflow import In, job, op
FACTOR = 3
"""
BASE = """
@op
def base():
    return math.floor(2.5)
"""
SCALED = """
def helper(x):
    return x * FACTOR

@op(ins={"x": In(int)})
def scaled(x):
    return helper(x)
"""
FLOW = """
@job
def flow():
    scaled(base())
"""

EXPECTED = '''"""nbflow snapshot of notebook job 'flow'.

Written by nbflow.notebook.reconstructable from the definitions in the notebook's
cells that the job uses. Step processes import it to rebuild the job. Its name is
a hash of this text: do not edit it."""

import math
from nbflow import In, job, op

FACTOR = 3


@op
def base():
    return math.floor(2.5)


def helper(x):
    return x * FACTOR


@op(ins={"x": In(int)})
def scaled(x):
    return helper(x)


@job
def flow():
    scaled(base())


def build_job():
    return flow
'''


def test_the_module_holds_the_definitions_the_job_uses_in_dependency_order(
    notebook: Callable[..., Notebook],
) -> None:
    cells = notebook(IMPORTS, BASE, SCALED, FLOW, "unused = open  # not used by the job")
    snapshot = snapshot_job(cells["flow"])
    assert snapshot.text == EXPECTED
    assert snapshot.function == "build_job"
    assert snapshot.module_name.startswith("nbflow_snapshot_") and len(snapshot.module_name) == 28
    names = ("In", "job", "math", "op", "FACTOR", "base", "helper", "scaled", "flow")
    assert snapshot.names == names
    rebuilt = load(snapshot.text).build_job()
    assert rebuilt.execute_in_process().output_for_node("scaled") == 6


def test_the_module_name_depends_on_the_definitions_only(
    notebook: Callable[..., Notebook],
) -> None:
    first = snapshot_job(notebook(IMPORTS, BASE, SCALED, FLOW)["flow"])
    again = snapshot_job(notebook(IMPORTS, BASE, SCALED, FLOW)["flow"])
    reordered = snapshot_job(notebook(IMPORTS, SCALED, BASE, "x = 1", FLOW)["flow"])
    edited = snapshot_job(notebook(IMPORTS, BASE.replace("2.5", "3.5"), SCALED, FLOW)["flow"])
    assert first.module_name == again.module_name == reordered.module_name
    assert edited.module_name != first.module_name


def test_jobs_built_by_statements_come_from_the_cells_run(
    notebook: Callable[..., Notebook],
) -> None:
    cells = notebook(
        """
        from nbflow import (
            ResourceDefinition, SourceHashVersionStrategy, asset, define_asset_job, graph, op,
        )
        """,
        """
        @op(required_resource_keys={"offset"})
        def shifted(context):
            return context.resources.offset + 1

        @graph
        def shift():
            shifted()
        """,
        "strategy = SourceHashVersionStrategy()",
        'resources = {"offset": ResourceDefinition(lambda _: 41)}',
        'shift_job = shift.to_job(name="shift_job", resource_defs=resources, '
        "version_strategy=strategy)",
        """
        @asset
        def raw():
            return 2

        @asset
        def cooked(raw):
            return raw * 10
        """,
        'assets_job = define_asset_job("assets_job", [raw, cooked])',
    )
    shift_snapshot = snapshot_job(cells["shift_job"])
    assert 'resources = {"offset": ResourceDefinition(lambda _: 41)}' in shift_snapshot.text
    rebuilt = load(shift_snapshot.text).build_job()
    assert rebuilt.name == "shift_job" and rebuilt.version_strategy is not None
    assert rebuilt.execute_in_process().output_for_node("shifted") == 42
    assets = load(snapshot_job(cells["assets_job"]).text).build_job()
    assert assets.execute_in_process().output_for_node("cooked") == 20


def test_factories_lambdas_and_classes_defined_in_cells_are_copied(
    notebook: Callable[..., Notebook],
) -> None:
    cells = notebook(
        "from nbflow import job, op",
        """
        def make_adder(n):
            @op(name=f"add_{n}")
            def add(x):
                return twice(x) + n
            return add
        """,
        "twice = lambda x: x * 2",
        "add_one = make_adder(1)",
        """
        class Start:
            value = 5

            def get(self):
                return self.value
        """,
        """
        @op
        def start():
            return Start().get()

        @job
        def adding():
            add_one(start())
        """,
    )
    snapshot = snapshot_job(cells["adding"])
    assert "add_one = make_adder(1)" in snapshot.text
    assert "twice = lambda x: x * 2" in snapshot.text
    assert "class Start:" in snapshot.text
    assert load(snapshot.text).build_job().execute_in_process().output_for_node("add_1") == 11


def test_a_global_that_cannot_be_recreated_is_named_with_the_way_it_is_used(
    notebook: Callable[..., Notebook], tmp_path: Path
) -> None:
    data = tmp_path / "data.txt"
    data.write_text("hello")
    cells = notebook(
        "from nbflow import job, op",
        f"handle = open({str(data)!r})",
        """
        def read_all():
            return handle.read()

        @op
        def read_it():
            return read_all()

        @job
        def reading():
            read_it()
        """,
    )
    with pytest.raises(SnapshotError) as info:
        snapshot_job(cells["reading"])
    message = str(info.value)
    assert "'handle'" in message and "an open file" in message
    assert "used by 'read_all' <- 'read_it' <- 'reading'" in message
    assert "make it a resource" in message
    cells["handle"].close()


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ('limits = {"a": 1.0}\nlimits = {**limits, "b": float("nan")}', "own previous value"),
        ("limits = {}\nfor k in 'ab':\n    limits[k] = float('nan')", "changed after"),
        ("for limits in [{'a': float('nan')}]:\n    pass", "a for loop"),
        ('limits, spare = {"a": float("nan")}, 1\nspare = 2', "together with 'spare'"),
    ],
)
def test_values_the_cells_do_not_define_in_one_statement_are_refused(
    notebook: Callable[..., Notebook], setup: str, expected: str
) -> None:
    cells = notebook(
        "from nbflow import job, op",
        setup,
        """
        @op
        def limited():
            return len(limits)

        @job
        def limiting():
            limited()
        """,
    )
    with pytest.raises(SnapshotError, match=expected):
        snapshot_job(cells["limiting"])


def test_a_job_built_before_its_op_was_redefined_is_refused(
    notebook: Callable[..., Notebook],
) -> None:
    cells = notebook(
        "from nbflow import job, op",
        "@op\ndef value():\n    return 1",
        "@job\ndef old():\n    value()",
        "@op\ndef value():\n    return 2",
    )
    with pytest.raises(SnapshotError, match=r"its op 'value' comes from an earlier run"):
        snapshot_job(cells["old"])


def test_a_job_bound_to_no_name_is_refused(notebook: Callable[..., Notebook]) -> None:
    cells = notebook("from nbflow import graph, op", "@op\ndef one():\n    return 1")
    cells["_ih"].append("")
    exec("@graph\ndef g():\n    one()\n", cells)
    with pytest.raises(SnapshotError, match="no name in the notebook refers to it"):
        snapshot_job(cells["g"].to_job())


def test_snapshots_are_written_once_atomically_and_repaired(
    notebook: Callable[..., Notebook], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NBFLOW_SNAPSHOT_DIR", str(tmp_path / "snaps"))
    snapshot = snapshot_job(notebook(IMPORTS, BASE, SCALED, FLOW)["flow"])
    path = write_snapshot(snapshot)
    assert path == tmp_path / "snaps" / f"{snapshot.module_name}.py"
    assert path.read_text() == snapshot.text
    written = path.stat().st_mtime_ns
    assert write_snapshot(snapshot) == path and path.stat().st_mtime_ns == written
    path.write_text("broken")
    write_snapshot(snapshot)
    assert path.read_text() == snapshot.text
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary left


def test_step_processes_rebuild_the_job_from_the_written_module(
    notebook: Callable[..., Notebook], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))  # execute_job(pointer) imports it here too
    cells = notebook(
        "import os\nfrom nbflow import job, op, multiprocess_executor",
        "@op\ndef where():\n    return (__name__, os.getpid())",
        "@job(executor_def=multiprocess_executor)\ndef located():\n    where()",
    )
    pointer = nbn.reconstructable(cells["located"], directory=tmp_path)
    assert pointer.attribute == "build_job" and pointer.working_directory == str(tmp_path)
    assert (tmp_path / f"{pointer.module_name}.py").is_file()
    module_name, pid = execute_job(pointer).output_for_node("where")
    assert module_name == pointer.module_name and pid != os.getpid()
    monkeypatch.delitem(sys.modules, pointer.module_name)


def test_the_fallback_says_why_once(
    notebook: Callable[..., Notebook], capsys: pytest.CaptureFixture[str]
) -> None:
    cells = notebook(
        "import threading\nfrom nbflow import job, op",
        "lock = threading.Lock()",
        "@op\ndef guarded():\n    with lock:\n        return 1",
        "@job\ndef guarding():\n    guarded()",
    )
    job_def: JobDefinition = cells["guarding"]
    assert snapshot_pointer(job_def) is None
    assert snapshot_pointer(job_def) is None
    note = capsys.readouterr().err.splitlines()
    assert len(note) == 1
    assert note[0].startswith("nbflow: job 'guarding' goes to step processes by value")
    assert "'lock'" in note[0]


def test_jobs_from_modules_are_not_snapshotted() -> None:
    from tests.fixtures import mp_jobs

    job_def = next(v for v in vars(mp_jobs).values() if hasattr(v, "graph_def"))
    assert interactive_job_pointer(job_def) is None  # not in an IPython session
    pointer = nbn.reconstructable(job_def)
    assert pointer.module_name == "tests.fixtures.mp_jobs"
    assert multiprocess_executor is not None


def test_re_running_an_op_cell_unchanged_keeps_the_job_current(
    notebook: Callable[..., Notebook],
) -> None:
    op_cell = "@op\ndef value():\n    return 1"
    cells = notebook(
        "from nbflow import job, op", op_cell, "@job\ndef kept():\n    value()", op_cell
    )
    assert "return 1" in snapshot_job(cells["kept"]).text


def test_cells_with_postponed_annotations_keep_them(notebook: Callable[..., Notebook]) -> None:
    cells = notebook(
        "from __future__ import annotations\nfrom nbflow import job, op\n\n"
        "@op\ndef typed() -> Later:\n    return 1",
        "@job\ndef annotated():\n    typed()",
    )
    text = snapshot_job(cells["annotated"]).text
    assert "\nfrom __future__ import annotations\n" in text
    assert load(text).build_job().execute_in_process().output_for_node("typed") == 1


def test_execute_job_asks_the_notebook_layer_in_an_ipython_session(
    notebook: Callable[..., Notebook], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NBFLOW_SNAPSHOT_DIR", str(tmp_path))
    cells = notebook(IMPORTS, BASE, SCALED, FLOW)
    script = types.ModuleType("__main__")
    script.__file__ = str(tmp_path / "script.py")
    monkeypatch.setitem(sys.modules, "__main__", script)
    assert interactive_job_pointer(cells["flow"]) is None  # a script's __main__ is a file
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    monkeypatch.setitem(sys.modules, "IPython", types.ModuleType("IPython"))
    pointer = interactive_job_pointer(cells["flow"])
    assert pointer is not None
    assert pointer.module_name == snapshot_job(cells["flow"]).module_name
    assert pointer.working_directory == str(tmp_path)
