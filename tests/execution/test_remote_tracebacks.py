"""A step that fails in another process reports the user's file, line and source text.

Jobs defined in scripts and notebook cells travel by value (cloudpickle). cloudpickle 3.1
renames such code ``<dynamic-code>``; nbflow sends the code whole with its source lines, so
the traceback still ends on the user's line, with every cloudpickle version it allows.
"""

from __future__ import annotations

import linecache
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from nbflow import execute_job, job, multiprocess_executor, op
from nbflow.dask import dask_executor
from nbflow.execution.executors import by_value

HERE = Path(__file__).resolve()


@op
def explode() -> None:
    raise ValueError("boom in a child")


RAISE_LINE = explode.compute_fn.__code__.co_firstlineno + 2  # type: ignore[attr-defined]


def _remote_traceback(exc: BaseException) -> str:
    return "\n".join(getattr(exc, "__notes__", []))


def _last_frame(traceback_text: str) -> list[str]:
    """The last ``File ...`` line of a traceback and the source line under it."""
    lines = traceback_text.splitlines()
    at = max(i for i, line in enumerate(lines) if line.lstrip().startswith("File "))
    return [lines[at].strip(), lines[at + 1].strip()]


def test_a_step_process_traceback_ends_on_the_users_line() -> None:
    @job(executor_def=multiprocess_executor)
    def exploding() -> None:
        explode()

    with pytest.raises(ValueError, match="boom in a child") as info:
        execute_job(exploding)
    notes = _remote_traceback(info.value)
    assert "Raised in the process of step 'explode'" in notes
    assert _last_frame(notes) == [
        f'File "{HERE}", line {RAISE_LINE}, in explode',
        'raise ValueError("boom in a child")',
    ]
    assert "<dynamic-code>" not in notes


def test_a_dask_worker_traceback_ends_on_the_users_line() -> None:
    @job(executor_def=dask_executor)
    def exploding_on_dask() -> None:
        explode()

    config = {"execution": {"config": {"n_workers": 1, "processes": True}}}
    with pytest.raises(ValueError, match="boom in a child") as info:
        execute_job(exploding_on_dask, run_config=config)
    assert _last_frame(_remote_traceback(info.value)) == [
        f'File "{HERE}", line {RAISE_LINE}, in explode',
        'raise ValueError("boom in a child")',
    ]


def test_in_process_the_traceback_ends_on_the_users_line() -> None:
    @job
    def exploding_here() -> None:
        explode()

    with pytest.raises(ValueError, match="boom in a child") as info:
        exploding_here.execute_in_process()
    last = info.traceback[-1]
    assert (Path(str(last.path)), last.lineno + 1) == (HERE, RAISE_LINE)


def _cell_function(source: str, filename: str) -> Any:
    """A function as IPython makes one: its file exists only in this process's linecache."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": "not_an_importable_module"}
    exec(compile(source, filename, "exec"), namespace)
    return namespace["explode_in_cell"]


def test_source_lines_travel_with_code_whose_file_does_not_exist(tmp_path: Path) -> None:
    filename = str(tmp_path / "ipykernel_1234" / "4021876153.py")  # never created
    source = textwrap.dedent(
        """\
        def explode_in_cell():
            total = 1 + 1
            raise KeyError(f"cell key {total}")
        """
    )
    cell_op = op(name="explode_in_cell")(_cell_function(source, filename))

    @job(executor_def=multiprocess_executor)
    def from_a_cell() -> None:
        cell_op()

    with pytest.raises(KeyError, match="cell key 2") as info:
        execute_job(from_a_cell)
    assert _last_frame(_remote_traceback(info.value)) == [
        f'File "{filename}", line 3, in explode_in_cell',
        'raise KeyError(f"cell key {total}")',
    ]
    assert not os.path.exists(filename)


def test_code_sent_by_value_keeps_its_file_and_runs() -> None:
    import pickle

    def add(a: int, b: int) -> int:
        return a + b

    rebuilt = pickle.loads(by_value.dumps(add))
    assert rebuilt(2, 3) == 5
    assert rebuilt.__code__.co_filename == str(HERE)
    assert rebuilt.__code__.co_firstlineno == add.__code__.co_firstlineno


LOWEST_CLOUDPICKLE = "3.0.0"  # keep equal to the lower bound in pyproject.toml

_SCRIPT = """
import sys
from nbflow import execute_job, job, multiprocess_executor, op
import cloudpickle

@op
def explode():
    raise ValueError("boom in a script")

@job(executor_def=multiprocess_executor)
def exploding():
    explode()

if __name__ == "__main__":
    assert cloudpickle.__version__ == sys.argv[1], cloudpickle.__version__
    try:
        execute_job(exploding)
    except ValueError as exc:
        print("\\n".join(exc.__notes__))
"""


def test_the_lowest_allowed_cloudpickle_keeps_tracebacks_too(tmp_path: Path) -> None:
    pyproject = (HERE.parents[2] / "pyproject.toml").read_text()
    assert f'"cloudpickle>={LOWEST_CLOUDPICKLE}"' in pyproject
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--target", str(target), f"cloudpickle=={LOWEST_CLOUDPICKLE}"],
        check=True,
    )  # fmt: skip
    script = tmp_path / "script_job.py"
    script.write_text(_SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), *sys.path])}
    done = subprocess.run(
        [sys.executable, str(script), LOWEST_CLOUDPICKLE],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _last_frame(done.stdout) == [
        f'File "{script}", line 8, in explode',
        'raise ValueError("boom in a script")',
    ]
