"""``nbflow notebook run``'s papermill options: ``--help-notebook``, ``-f params.yaml``,
``-y YAML``, ``--cwd``, ``--execution-timeout``, and the failing line quoted on failure."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from nbflow.cli import main
from nbflow.notebook import read_results

PARAMETERS = """\
alpha = 0.5  # learning rate
name = "base"  # run label
steps: int = 3
"""

BODY = """\
import os
from nbflow.notebook import yield_result

yield_result(alpha, output_name="alpha")
yield_result(name, output_name="name")
yield_result(steps, output_name="steps")
yield_result(os.getcwd(), output_name="cwd")
"""

FAILING = """\
import time
ok = 1
value = ok / (steps - steps)
time.sleep(0)
"""


def _notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, path)
    return path


def test_help_notebook_lists_the_parameters_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notebook = _notebook(tmp_path / "train.ipynb", BODY)
    assert main(["notebook", "run", str(notebook), "--help-notebook"]) == 0
    rows = {
        cells[0]: cells[1:]
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("| ")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    assert rows["alpha"] == ["", "0.5", "learning rate"]  # papermill reads types from annotations
    assert rows["name"] == ["", '"base"', "run label"]
    assert rows["steps"] == ["int", "3", ""]


def test_parameters_from_files_and_yaml_and_the_kernel_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NBFLOW_HOME", str(tmp_path / "home"))
    notebook = _notebook(tmp_path / "train.ipynb", BODY)
    (tmp_path / "params.yaml").write_text("alpha: 0.1\nname: from-file\nsteps: 7\n")
    work = tmp_path / "work"
    work.mkdir()
    output = tmp_path / "out.ipynb"
    argv = ["notebook", "run", str(notebook), "-f", str(tmp_path / "params.yaml")]
    argv += ["-y", "{name: from-yaml}", "-p", "steps", "9", "--cwd", str(work), "-o", str(output)]
    assert main(argv) == 0, capsys.readouterr().err
    assert read_results(output) == {
        "alpha": 0.1,
        "name": "from-yaml",
        "steps": 9,
        "cwd": os.fspath(work),
    }


def test_a_failure_quotes_the_failing_line_and_a_timeout_stops_a_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NBFLOW_HOME", str(tmp_path / "home"))
    notebook = _notebook(tmp_path / "broken.ipynb", FAILING)
    assert main(["notebook", "run", str(notebook)]) == 2
    err = capsys.readouterr().err
    assert "line 3: 'value = ok / (steps - steps)' with ZeroDivisionError" in err

    slow = _notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(30)")
    assert main(["notebook", "run", str(slow), "--execution-timeout", "1"]) == 2
    err = capsys.readouterr().err
    assert "error: Notebook" in err and "timed out" in err.lower()


def test_bad_parameter_files_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notebook = _notebook(tmp_path / "train.ipynb", BODY)
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    assert main(["notebook", "run", str(notebook), "-f", str(tmp_path / "list.yaml")]) == 2
    err = capsys.readouterr().err
    assert "must hold a mapping of parameter names to values" in err
    assert len(err.strip().splitlines()) == 1
