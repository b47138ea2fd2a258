"""Notebook runs fail safely: executed notebooks stay in their folder, odd parameter names are
refused before any kernel starts, and odd values arrive intact."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import nbflow.notebook.papermill as nb_papermill
from nbflow import In, Permissive, job, op
from nbflow.cli import main
from nbflow.errors import NbflowError, NotebookParameterError, UnsafeStorageKeyError
from nbflow.notebook import define_notebook_op, run_notebook, sweep
from nbflow.notebook.notebook_op import _output_path, _Settings
from nbflow.notebook.parameters import bad_parameter_names, parameter_name_problem

from .conftest import NOTEBOOKS

FULL_WIDTH_NONE = "\uff2e\uff4f\uff4e\uff45"  # NFKC-normalises to the keyword None
BAD_NAMES = ["__builtins__", FULL_WIDTH_NONE, "print", "class", "1x", "a-b", "\uff58", "__name__"]


@pytest.fixture
def kernel_starts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every kernel manager nbflow builds (one per kernel it starts) is recorded here."""
    built: list[str] = []
    real = nb_papermill.kernel_manager_class

    def recording(log: Any, sockets_dir: str) -> Any:
        built.append(sockets_dir)
        return real(log, sockets_dir)

    monkeypatch.setattr(nb_papermill, "kernel_manager_class", recording)
    return built


def _notebooks_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.ipynb") if p.parent != folder]


# --- executed notebooks stay inside their folder ---------------------------------------------


@pytest.mark.parametrize(
    ("run_id", "step_key"),
    [
        ("../../../x", "scale"),
        ("..", "scale"),
        ("a/b", "scale"),
        ("ok\0", "scale"),
        ("/abs/run", "scale"),
        ("run", "../up"),
        ("run", "a/b"),
        ("", "scale"),
    ],
)
def test_unsafe_run_ids_and_step_keys_are_refused(
    tmp_path: Path, run_id: str, step_key: str
) -> None:
    settings = _Settings(str(NOTEBOOKS / "scale.ipynb"), None, str(tmp_path / "out"), ())
    context = SimpleNamespace(run_id=run_id, step_key=step_key, retry_number=0)
    with pytest.raises(UnsafeStorageKeyError, match="unsafe parts"):
        _output_path(settings, context)  # type: ignore[arg-type]


def test_safe_parts_join_under_the_folder(tmp_path: Path) -> None:
    settings = _Settings(str(NOTEBOOKS / "scale.ipynb"), None, str(tmp_path / "out"), ())
    context = SimpleNamespace(run_id="r-1", step_key="outer.inner", retry_number=1)
    path = _output_path(settings, context)  # type: ignore[arg-type]
    assert path == tmp_path / "out" / "r-1" / "outer.inner.attempt2.ipynb"


def test_a_run_id_that_climbs_out_writes_nothing_and_starts_no_kernel(
    tmp_path: Path, kernel_starts: list[str]
) -> None:
    nested = tmp_path / "a" / "b" / "c"
    scale = define_notebook_op(
        NOTEBOOKS / "scale.ipynb",
        ins={"x": In(int)},
        config_schema={"factor": int},
        output_notebook_dir=nested / "executed",
    )

    @op
    def emit() -> int:
        return 5

    @job
    def climb() -> None:
        scale(x=emit())

    with pytest.raises(NbflowError) as caught:
        climb.execute_in_process(
            run_config={"ops": {"scale": {"config": {"factor": 3}}}}, run_id="../../../x"
        )
    # Refused by the notebook op's safe join, or earlier by the run's own checks.
    assert isinstance(caught.value, UnsafeStorageKeyError) or "run_id" in str(caught.value)
    assert kernel_starts == []
    assert not list(tmp_path.rglob("*.ipynb"))


# --- parameter names -------------------------------------------------------------------------


@pytest.mark.parametrize("name", BAD_NAMES, ids=ascii)
def test_bad_names_are_refused_with_why_and_fix(name: str, kernel_starts: list[str]) -> None:
    assert parameter_name_problem(name) is not None
    with pytest.raises(NotebookParameterError) as caught:
        run_notebook(NOTEBOOKS / "echo.ipynb", {name: 1})
    message = str(caught.value)
    assert repr(name) in message and "Fix: use names such as 'alpha'" in message
    assert kernel_starts == []


def test_each_refused_name_says_why() -> None:
    assert bad_parameter_names(BAD_NAMES[:6]) == [
        "'__builtins__' (a dunder name, reserved for Python)",
        f"'{FULL_WIDTH_NONE}' (Python reads it as 'None' (NFKC normalisation))",
        "'print' (a builtin (the parameter would hide it))",
        "'class' (a keyword)",
        "'1x' (not an identifier)",
        "'a-b' (not an identifier)",
    ]
    assert bad_parameter_names(["alpha", "n_rows", "\u03b1", "match", "_", 5]) == [
        "5 (a int, not a string)"
    ]


def test_a_sweep_refuses_bad_names_before_any_run(tmp_path: Path, kernel_starts: list[str]) -> None:
    with pytest.raises(NotebookParameterError, match=f"'{FULL_WIDTH_NONE}'.*'__builtins__'"):
        sweep(
            NOTEBOOKS / "echo.ipynb",
            {"text": ["a"], FULL_WIDTH_NONE: [1, 2], "__builtins__": [{}]},
            output_dir=tmp_path / "sweeps",
        )
    assert kernel_starts == []
    assert not list((tmp_path / "sweeps").rglob("*.ipynb"))


def test_a_notebook_op_refuses_a_config_key_named_like_a_builtin(
    tmp_path: Path, kernel_starts: list[str]
) -> None:
    echo = define_notebook_op(
        NOTEBOOKS / "echo.ipynb",
        config_schema=Permissive(),
        outs={},
        output_notebook_dir=tmp_path / "executed",
    )

    @job
    def shadow() -> None:
        echo()

    with pytest.raises(NotebookParameterError, match=r"'print' \(a builtin"):
        shadow.execute_in_process(run_config={"ops": {"echo": {"config": {"print": 1}}}})
    assert kernel_starts == []
    assert not list(tmp_path.rglob("*.ipynb"))


@pytest.mark.parametrize(
    "argv",
    [
        ["notebook", "run", "{nb}", "-p", "__builtins__", "{}"],
        ["notebook", "run", "{nb}", "-p", "a-b", "1"],
        ["notebook", "sweep", "{nb}", "-p", "print", "1", "2", "--max-concurrent", "2"],
        ["notebook", "sweep", "{nb}", "-p", FULL_WIDTH_NONE, "1", "--output-dir", "{out}"],
    ],
    ids=ascii,
)
def test_the_cli_refuses_bad_names_in_one_line(
    argv: list[str],
    tmp_path: Path,
    kernel_starts: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    nb = str(NOTEBOOKS / "echo.ipynb")
    args = [a.replace("{nb}", nb).replace("{out}", str(tmp_path / "s")) for a in argv]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "not Python identifiers" in err and "Traceback" not in err
    assert kernel_starts == []
    assert not list(tmp_path.rglob("*.ipynb"))


# --- values ----------------------------------------------------------------------------------


def test_odd_values_arrive_intact(tmp_path: Path) -> None:
    text = "lone \ud800 surrogate, 'quotes' \"both\"\nnew line \r\n\u2028 and \\ backslash"
    other = [math.nan, math.inf, -math.inf, 10**5000, "\udcff", {"k\udcfe": (1,)}]
    output = tmp_path / "odd.ipynb"
    run = run_notebook(NOTEBOOKS / "echo.ipynb", {"text": text, "other": other}, output)
    assert run.results["text"] == text
    back = run.results["other"]
    assert math.isnan(back[0]) and back[1:] == other[1:]
    assert output.is_file()
    assert nb_papermill.nbformat.read(output, as_version=4).metadata["nbflow"]["parameters"][
        "text"
    ] == {"nbflow/escaped_json": __import__("json").dumps(text)}
