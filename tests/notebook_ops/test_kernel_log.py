"""A notebook's kernel writes its log to a file, not to our stderr; a dead kernel's log is
quoted in the error.

Inside a Jupyter kernel, stderr is the calling notebook's output: a kernel started by
``run_notebook`` (or a sweep, or a notebook op) must not print its start-up warnings there.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import nbformat
import pytest

from nbflow.errors import NotebookRunError
from nbflow.notebook import run_notebook

if TYPE_CHECKING:
    from pathlib import Path


def test_a_kernel_that_dies_at_start_has_its_log_in_the_error_not_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "jupyter" / "kernels" / "broken"
    spec.mkdir(parents=True)
    dying = "import sys; sys.stderr.write('kernel exploded at start\\n'); sys.exit(3)"
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-c", dying, "{connection_file}"],
                "display_name": "Broken",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    notebook = tmp_path / "one.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nb, notebook)

    with pytest.raises(NotebookRunError) as caught:
        run_notebook(notebook, output_path=tmp_path / "out.ipynb", kernel_name="broken", warn=False)

    assert "The kernel's log ends with:\nkernel exploded at start" in str(caught.value)
    assert "kernel exploded" not in capfd.readouterr().err
