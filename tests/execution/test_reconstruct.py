"""reconstructable / build_reconstructable_job: the seed examples run in other processes, and
every job that cannot be rebuilt is refused with the fix."""

from __future__ import annotations

import importlib
import json
import os
import pickle
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest

from nbflow import (
    EventType,
    ReconstructableJob,
    build_reconstructable_job,
    execute_job,
    graph,
    job,
    op,
    reconstructable,
)
from nbflow.errors import ReconstructionError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
recon_seed: Any = importlib.import_module("recon_seed")
process_check: Any = importlib.import_module("process_check")


@pytest.fixture(autouse=True)
def no_process_left_behind() -> Any:
    yield
    assert process_check.leftover_processes() == []


def _ran_elsewhere(result: Any) -> bool:
    return result.output_for_node("where") != os.getpid()


def test_reconstructable_job_points_at_its_module() -> None:
    pointer = reconstructable(recon_seed.foo_job)
    assert pointer == ReconstructableJob(
        attribute="foo_job", module_name="recon_seed", working_directory=str(FIXTURES)
    )
    assert pickle.loads(pickle.dumps(pointer)) == pointer
    assert pointer.get_definition() is recon_seed.foo_job


def test_seed_reconstructable_job_runs_in_other_processes() -> None:
    result = execute_job(reconstructable(recon_seed.foo_job))
    assert result.output_for_node("add_one") == 2
    assert _ran_elsewhere(result)


def test_seed_reconstructable_function_returning_to_job() -> None:
    result = execute_job(reconstructable(recon_seed.make_bar_job))
    assert result.job_def.name == "bar_job"
    assert result.output_for_node("add_one") == 2
    assert _ran_elsewhere(result)


def test_seed_build_reconstructable_job_with_args_and_kwargs() -> None:
    pointer = recon_seed.reconstructable_foo_job
    assert pointer.args == (41,) and pointer.kwargs == {"label": "answer"}
    result = execute_job(pointer)
    assert result.job_def.name == "factory_answer"
    assert result.output_for_node("labelled") == "answer:42"
    assert _ran_elsewhere(result)
    steps = {e.step_key for e in result.filter_events(EventType.STEP_SUCCESS)}
    assert steps == {"first", "add_one", "labelled", "where"}


def test_a_to_job_value_must_be_wrapped_in_a_function() -> None:
    with pytest.raises(ReconstructionError) as info:
        reconstructable(recon_seed.bar_job_value)
    message = str(info.value)
    assert "came from GraphDefinition.to_job()" in message
    assert "def define_bar_job_value():" in message
    assert "reconstructable(define_bar_job_value)" in message


def test_a_lambda_is_refused() -> None:
    with pytest.raises(ReconstructionError, match="it is a lambda"):
        reconstructable(lambda: recon_seed.foo_job)


def test_a_nested_function_is_refused() -> None:
    def define_nested() -> Any:
        return recon_seed.foo_job

    with pytest.raises(ReconstructionError, match=r"defined inside a function \(.*<locals>"):
        reconstructable(define_nested)


def test_a_nested_job_is_refused_with_the_alternative() -> None:
    @job
    def nested_job() -> None:
        recon_seed.return_one()

    with pytest.raises(ReconstructionError, match="build_reconstructable_job"):
        reconstructable(nested_job)


def test_a_method_is_refused() -> None:
    with pytest.raises(ReconstructionError, match=r"defined in a class \(JobFactory.make_job\)"):
        reconstructable(recon_seed.JobFactory.make_job)


def test_a_job_defined_interactively_points_to_the_notebook_helper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    @op
    def cell_op() -> int:
        return 1

    @graph
    def cell_graph() -> None:
        cell_op()

    cell_job = cell_graph.to_job(name="cell_job")
    cell_job.defined_at = ("__main__", "cell_job")
    repl_main = types.ModuleType("__main__")  # a REPL's or kernel's __main__: no file
    repl_main.cell_job = cell_job  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "__main__", repl_main)
    with pytest.raises(ReconstructionError) as info:
        reconstructable(cell_job)
    assert "defined interactively" in str(info.value)
    assert "nbflow.notebook.reconstructable(job)" in str(info.value)


@pytest.mark.parametrize(
    ("args", "kwargs", "named"),
    [
        ((1, {1, 2}), None, r"reconstructable_args\[1\] is set \{1, 2\}"),
        ((), {"when": object()}, r"reconstructable_kwargs\['when'\] is object"),
        ((float("nan"),), None, r"reconstructable_args\[0\] is float nan"),
    ],
    ids=["set-arg", "object-kwarg", "nan-arg"],
)
def test_reconstructor_arguments_must_be_json(args: Any, kwargs: Any, named: str) -> None:
    with pytest.raises(ReconstructionError, match=named) as info:
        build_reconstructable_job("recon_seed", "reconstruct_job", args, kwargs)
    assert "not JSON-serializable" in str(info.value)


def test_a_missing_reconstructor_is_named() -> None:
    pointer = build_reconstructable_job("recon_seed", "no_such_function")
    with pytest.raises(ReconstructionError, match="'no_such_function' is not defined in"):
        pointer.get_definition()


def test_a_reconstructor_must_return_a_job() -> None:
    pointer = build_reconstructable_job("recon_seed", "not_a_job")
    with pytest.raises(ReconstructionError, match="returned str, expected a JobDefinition"):
        pointer.get_definition()


def test_an_unimportable_module_is_named() -> None:
    pointer = build_reconstructable_job("no_such_module_for_nbflow", "make")
    with pytest.raises(ReconstructionError, match="importing it raised ModuleNotFoundError"):
        execute_job(pointer)


_SCRIPT = """
import json, os
from nbflow import execute_job, job, op, reconstructable

@op
def where() -> int:
    return os.getpid()

@job
def script_job():
    where()

{call}
"""

_GUARDED = """
if __name__ == "__main__":
    pointer = reconstructable(script_job)
    result = execute_job(pointer)
    print(json.dumps({"file": pointer.file_path, "pid": result.output_for_node("where"),
                      "parent": os.getpid()}))
"""

_UNGUARDED = """
result = execute_job(reconstructable(script_job), raise_on_error=False)
print(json.dumps([e.message for e in result.filter_events(result.all_events[0].event_type.STEP_FAILURE)]))
"""


def _run_script(folder: Path, call: str) -> str:
    script = folder / "script_job.py"
    script.write_text(textwrap.dedent(_SCRIPT).replace("{call}", textwrap.dedent(call)))
    done = subprocess.run(
        [sys.executable, str(script)], cwd=folder, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_guarded_script_job_is_rebuilt_from_its_file(tmp_path: Path) -> None:
    report = json.loads(_run_script(tmp_path, _GUARDED))
    assert report["file"] == str(tmp_path / "script_job.py")
    assert report["pid"] != report["parent"]


def test_an_unguarded_script_cannot_run_itself_again_in_a_step_process(tmp_path: Path) -> None:
    output = _run_script(tmp_path, _UNGUARDED).splitlines()
    assert len(output) == 1  # the nested run was refused, not started
    (failure,) = json.loads(output[0])
    assert "execute_job() was called while a job was being rebuilt by importing" in failure
    assert 'if __name__ == "__main__":' in failure


def test_a_function_that_needs_arguments_is_refused_before_any_run() -> None:
    with pytest.raises(ReconstructionError) as info:
        reconstructable(recon_seed.make_job_for)
    message = str(info.value)
    assert "'make_job_for', which needs arguments (label)" in message
    assert "build_reconstructable_job" in message


def test_a_function_that_returns_no_job_is_refused_before_any_run() -> None:
    with pytest.raises(ReconstructionError) as info:
        reconstructable(recon_seed.make_the_graph)
    message = str(info.value)
    assert "returned GraphDefinition; expected it to return a JobDefinition" in message
    assert "Fix: return graph.to_job()." in message
