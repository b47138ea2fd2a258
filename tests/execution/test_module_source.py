"""Modules made from source text in memory: what a worker does with a notebook job's snapshot."""

from __future__ import annotations

import pickle
import sys
import traceback
import types
import uuid
from typing import TYPE_CHECKING

import pytest

from nbflow import execute_job
from nbflow.errors import ReconstructionError
from nbflow.execution.executors.module_source import ModuleSource
from nbflow.execution.executors.reconstruct import (
    ReconstructableJob,
    build_reconstructable_job,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

FAILING = """\
import math


def helper(x):
    return math.sqrt(x)


def fail(x):
    y = helper(x)
    raise ValueError(f"bad value {y}")
"""

COUNTED = """\
import nbflow_test_counter as counter

counter.runs.append(__name__)
VALUE = {value}
"""

JOB = """\
from nbflow import job, op


@op
def number():
    return 20


@op
def doubled(x):
    return x * 2


@job
def build_job():
    doubled(number())
"""


@pytest.fixture
def name() -> Iterator[str]:
    """A fresh module name, removed from sys.modules afterwards."""
    module_name = f"nbflow_test_source_{uuid.uuid4().hex[:12]}"
    yield module_name
    sys.modules.pop(module_name, None)


@pytest.fixture
def counter(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("nbflow_test_counter")
    module.runs = []  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "nbflow_test_counter", module)
    return module


def test_a_traceback_shows_the_lines_of_the_source(name: str) -> None:
    module = ModuleSource.of(name, FAILING).install()
    with pytest.raises(ValueError, match=r"bad value 3\.0") as caught:
        module.fail(9)
    last = traceback.extract_tb(caught.value.__traceback__)[-1]
    assert (last.name, last.lineno) == ("fail", 10)
    assert last.line == 'raise ValueError(f"bad value {y}")'
    assert last.filename == ModuleSource.of(name, FAILING).filename
    shown = "".join(traceback.format_exception(caught.value))
    assert f'File "{last.filename}", line 10, in fail\n    raise ValueError' in shown


def test_the_same_source_runs_once_per_process(name: str, counter: types.ModuleType) -> None:
    source = ModuleSource.of(name, COUNTED.format(value=1))
    first = source.install()
    again = pickle.loads(pickle.dumps(source)).install()  # as a second request brings it
    assert again is first and sys.modules[name] is first
    assert counter.runs == [name]


def test_a_different_source_under_the_same_name_is_a_new_module(
    name: str, counter: types.ModuleType
) -> None:
    one = ModuleSource.of(name, COUNTED.format(value=1))
    two = ModuleSource.of(name, COUNTED.format(value=2))
    assert one.sha256 != two.sha256
    first = one.install()
    second = two.install()
    assert second is not first and second.VALUE == 2 and first.VALUE == 1
    assert sys.modules[name] is second
    assert one.install().VALUE == 1  # back to the first text: run again
    assert counter.runs == [name, name, name]


def test_a_source_that_raises_leaves_no_module(name: str) -> None:
    with pytest.raises(ZeroDivisionError):
        ModuleSource.of(name, "X = 1 / 0\n").install()
    assert name not in sys.modules


def test_a_pointer_with_its_source_rebuilds_the_job_without_any_file(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "not-there"
    monkeypatch.setattr(sys, "path", list(sys.path))
    without = ReconstructableJob("build_job", module_name=name, working_directory=str(missing))
    with pytest.raises(ReconstructionError, match="ModuleNotFoundError"):
        without.get_definition()
    sys.path.remove(str(missing))
    pointer = build_reconstructable_job(
        name,
        "build_job",
        reconstructor_working_directory=str(missing),
        module_source=ModuleSource.of(name, JOB),
    )
    arrived = pickle.loads(pickle.dumps(pointer))  # as it reaches a worker
    assert arrived.get_definition().name == "build_job"
    assert str(missing) not in sys.path
    assert execute_job(arrived).output_for_node("doubled") == 40


def test_a_source_failing_on_arrival_is_a_reconstruction_error(name: str) -> None:
    pointer = ReconstructableJob(
        "build_job",
        module_name=name,
        module_source=ModuleSource.of(name, "import nbflow_no_such_library\n"),
    )
    with pytest.raises(ReconstructionError, match="nbflow_no_such_library") as caught:
        pointer.get_definition()
    assert "same libraries and versions" in str(caught.value)


def test_a_source_of_another_module_is_refused(name: str) -> None:
    with pytest.raises(ReconstructionError, match="was given the source of module 'other'"):
        ReconstructableJob(
            "build_job", module_name=name, module_source=ModuleSource.of("other", JOB)
        )
