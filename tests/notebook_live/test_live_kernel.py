"""A real Jupyter kernel (through nbclient): ``nbn.run(job)`` leaves the final state in the
saved notebook — one output, updated in place, with the DAG's SVG and the summary table."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import nbformat
from kernel_output import KERNEL_OUTPUT
from nbclient import NotebookClient

if TYPE_CHECKING:
    from pathlib import Path

CELLS = [
    (
        "import time\n"
        "from nbflow import job, op\n"
        "import nbflow.notebook as nbn\n"
        "\n"
        "@op\n"
        "def fetch():\n"
        "    time.sleep(0.3)\n"
        "    return 2\n"
        "\n"
        "@op\n"
        "def double(x):\n"
        "    time.sleep(0.3)\n"
        "    return 2 * x\n"
        "\n"
        "@op\n"
        "def report(x):\n"
        "    time.sleep(0.3)\n"
        "    return f'got {x}'\n"
        "\n"
        "@job\n"
        "def doubling():\n"
        "    report(double(fetch()))\n"
    ),
    "result = nbn.run(doubling)\nassert result.success\nresult.output_for_node('report')",
]


def run_notebook(folder: Path) -> Any:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    client = NotebookClient(
        notebook,
        **KERNEL_OUTPUT,
        kernel_name="python3",
        timeout=120,
        resources={"metadata": {"path": str(folder)}},
    )
    # ipykernel forwards file descriptor 2 into the notebook except under pytest: as in real use
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    client.execute(env=env)
    path = folder / "executed.ipynb"
    nbformat.write(notebook, path)
    return nbformat.read(path, as_version=4)


def test_the_saved_notebook_keeps_the_final_dag_and_summary(tmp_path: Path) -> None:
    notebook = run_notebook(tmp_path)

    nbformat.validate(notebook)
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    run_cell = notebook.cells[1].outputs
    views = [o for o in run_cell if o.output_type == "display_data"]
    assert len(views) == 1  # one output, updated in place
    html = views[0].data["text/html"]
    assert "nbflow-live-final" in html and "3/3 steps" in html and ">succeeded<" in html
    assert "<svg" in html and "</svg>" in html  # the final DAG
    assert "<table" in html and "report" in html  # the summary table
    assert views[0].data["text/plain"].startswith("<ExecuteInProcessResult doubling")
    assert run_cell[-1].output_type == "execute_result"
    assert run_cell[-1].data["text/plain"] == "'got 4'"


BAD_CONFIG_CELLS = [
    CELLS[0],
    "nbn.run(doubling, {'ops': {'fetchh': {'config': {'n': 1}}}})",
]


def test_a_bad_config_shows_a_short_error_and_the_view_ends_as_invalid_config(
    tmp_path: Path,
) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in BAD_CONFIG_CELLS]
    client = NotebookClient(
        notebook,
        **KERNEL_OUTPUT,
        kernel_name="python3",
        timeout=120,
        allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute(env={k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"})
    path = tmp_path / "executed.ipynb"
    nbformat.write(notebook, path)
    outputs = nbformat.read(path, as_version=4).cells[1].outputs

    (view,) = [o for o in outputs if o.output_type == "display_data"]
    html = view.data["text/html"]
    assert "nbflow-live-final" in html and ">invalid config<" in html
    assert "starting" not in html and "interrupt the kernel" not in html
    (error,) = [o for o in outputs if o.output_type == "error"]
    assert error.ename == "RunConfigValidationError"
    shown = "\n".join(error.traceback)
    assert "Cell In[2], line 1" in shown and "Fix" in shown
    assert "/nbflow/" not in shown  # no frame of nbflow's own files
    assert len(error.traceback) < 12  # short: the cell, the message, the note
