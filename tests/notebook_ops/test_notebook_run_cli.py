"""run_notebook and `nbflow notebook run`: injection attempts, warnings and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nbflow.cli import main
from nbflow.errors import KernelNotFoundError, NotebookParameterError, NotebookParameterWarning
from nbflow.notebook import read_results, run_notebook

from .conftest import NOTEBOOKS

INJECTION = '"; import os; os.system("touch PWNED"); "'
HOSTILE = {
    "newlines": "first\nsecond\r\nthird",
    "triple": "'''; open('PWNED', 'w'); '''",
    "backslash_quote": '\\"; open("PWNED", "w"); #',
    "braces": "{__import__('os').system('touch PWNED')}",
    "unicode": "é ☃ 🐍 \u2028",
    "tuple_keyed": {("a", 1): ["x"], "set": {1, 2}},
}


def test_an_injection_attempt_arrives_verbatim_and_runs_nothing(
    notebook_copy: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    notebook = notebook_copy("echo.ipynb")  # the kernel starts in tmp_path, next to it
    output = tmp_path / "out" / "echo.ipynb"

    with pytest.warns(NotebookParameterWarning, match=r"'txet'.*declares: 'text', 'other'"):
        run = run_notebook(
            notebook, {"text": INJECTION, "other": HOSTILE, "txet": 1}, output_path=output
        )

    assert run.results == {"text": INJECTION, "other": HOSTILE}
    assert read_results(output) == run.results
    assert run.output_path == str(output) and run.kernel_name == "python3"
    assert not list(tmp_path.rglob("PWNED")) and not Path("PWNED").exists()
    assert not (NOTEBOOKS / "PWNED").exists()
    injected = json.loads(output.read_text())["cells"][2]
    assert injected["metadata"]["tags"] == ["injected-parameters"]
    assert "".join(injected["source"]).splitlines()[1] == "text = " + repr(INJECTION)


@pytest.mark.parametrize("name", ["x = 1\nimport os", "a b", "for"], ids=repr)
def test_bad_parameter_names_are_refused_before_a_kernel_starts(name: str) -> None:
    with pytest.raises(NotebookParameterError, match="not Python identifiers"):
        run_notebook(NOTEBOOKS / "echo.ipynb", {name: 1})


def test_an_unknown_kernel_lists_the_installed_ones() -> None:
    with pytest.raises(
        KernelNotFoundError, match=r"'no-such-kernel'.*installed kernels: .*'python3'"
    ):
        run_notebook(NOTEBOOKS / "echo.ipynb", {}, kernel_name="no-such-kernel")


def test_cli_runs_a_notebook_without_a_parameters_cell(tmp_path: Path) -> None:
    output = tmp_path / "done.ipynb"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "nbflow",
            "notebook",
            "run",
            str(NOTEBOOKS / "no_params.ipynb"),
            "-p",
            "x",
            "41",
            "-o",
            str(output),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "NBFLOW_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 0, done.stderr
    assert "warning: Notebook 'no_params.ipynb' has no cell tagged 'parameters'" in done.stderr
    assert f"executed notebook: {output}" in done.stdout
    assert "| result | 42    |" in done.stdout
    cells = json.loads(output.read_text())["cells"]
    assert cells[0]["metadata"]["tags"] == ["injected-parameters"]
    assert read_results(output) == {"result": 42}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["notebook", "run", "missing.ipynb"],
            "error: Notebook '{cwd}/missing.ipynb' (given as "
            "'missing.ipynb') does not exist; expected an .ipynb file.",
        ),
        (
            ["notebook", "run", "{nb}", "-k", "nope"],
            "error: No Jupyter kernel named 'nope' is installed (installed kernels: ",
        ),
        (
            ["notebook", "run", "{nb}", "-p", "x", "1", "-p", "x", "2"],
            "error: Parameter 'x' is given twice. Fix: pass -p x once.",
        ),
        (
            ["notebook", "sweep", "{nb}", "-p", "x"],
            "error: -p x has no values. Fix: list the values to try, e.g. -p x 1 2 3.",
        ),
    ],
    ids=["missing-notebook", "unknown-kernel", "parameter-twice", "no-values"],
)
def test_cli_bad_input_is_one_clear_error(
    argv: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    nb = str(NOTEBOOKS / "no_params.ipynb")
    assert main([a.replace("{nb}", nb) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message.replace("{cwd}", str(tmp_path))), err
    assert "Traceback" not in err
