"""A real Jupyter kernel (through nbclient): ``nbn.run(job)`` shows an op's ``context.log``
lines while the op still runs, and a failed run's view shows the user's traceback (their
file, line and source), not nbflow's frames."""

from __future__ import annotations

import html
import os
from typing import TYPE_CHECKING, Any

import nbformat
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
        "def slow(context):\n"
        "    context.log.info('reading the rows')\n"
        "    context.log.warning('two rows were empty')\n"
        "    time.sleep(2.0)\n"
        "    return 1\n"
        "\n"
        "@job\n"
        "def logging_job():\n"
        "    slow()\n"
    ),
    "result = nbn.run(logging_job)\nassert result.success",
    (
        "def check_rows(rows):\n"
        "    raise ValueError('boom: ' + str(len(rows)))\n"
        "\n"
        "@op\n"
        "def bad():\n"
        "    check_rows([1, 2])\n"
        "\n"
        "@job\n"
        "def failing_job():\n"
        "    bad()\n"
        "\n"
        "print(check_rows.__code__.co_filename, check_rows.__code__.co_firstlineno + 1)"
    ),
    "failed = nbn.run(failing_job)\nassert not failed.success",
]


class RecordingClient(NotebookClient):  # type: ignore[misc]
    """Keeps every ``display_data`` and ``update_display_data`` message: the live view's
    states as they came."""

    updates: list[dict[str, Any]]

    def process_message(self, msg: dict[str, Any], cell: Any, cell_index: int) -> Any:
        if msg["msg_type"] in ("display_data", "update_display_data"):
            self.updates.append(msg["content"]["data"])
        return super().process_message(msg, cell, cell_index)


def run_notebook(folder: Path) -> tuple[Any, list[dict[str, Any]]]:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    client = RecordingClient(
        notebook, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(folder)}}
    )
    client.updates = []
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    client.execute(env=env)
    return notebook, client.updates


def test_log_lines_show_while_the_op_runs_and_failures_show_the_users_frames(
    tmp_path: Path,
) -> None:
    notebook, updates = run_notebook(tmp_path)
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]

    # while the op sleeps, a redrawn (not final) view already lists both lines and levels
    live = [u["text/html"] for u in updates if "nbflow-live-final" not in u["text/html"]]
    logged = [h for h in live if "two rows were empty" in h]
    assert logged, "no live state showed the log lines"
    panel = logged[0][logged[0].index('class="nbflow-logs"') :]
    assert ">INFO</b> reading the rows" in panel
    assert ">WARNING</b> two rows were empty" in panel
    assert 'data-step="slow"' in panel and "last 20 per step" in panel
    assert "1 running" in logged[0]

    # the saved notebook keeps the final view, log panel included
    final = [o for o in notebook.cells[1].outputs if o.output_type == "display_data"]
    assert len(final) == 1 and "nbflow-live-final" in final[0].data["text/html"]
    assert ">WARNING</b> two rows were empty" in final[0].data["text/html"]

    # the failed run: its traceback ends on the user's line, with no nbflow frame
    filename, line = notebook.cells[2].outputs[0].text.split()
    failed = [o for o in notebook.cells[3].outputs if o.output_type == "display_data"]
    page = failed[0].data["text/html"]
    shown = page[page.index('class="nbflow-traceback"') :]
    shown = html.unescape(shown[shown.index("<pre") : shown.index("</pre>")])
    # named as IPython names the cell that defines it, not by the kernel's file
    defining = next(c for c in notebook.cells if "def check_rows" in c.source)
    assert f"Cell In[{defining.execution_count}], line {line}, in check_rows" in shown
    assert filename not in shown
    assert "raise ValueError('boom: ' + str(len(rows)))" in shown
    assert shown.splitlines()[-2] == "ValueError: boom: 2"  # then a note on nbflow's frames
    assert "check_rows([1, 2])" in shown  # the op's own line
    assert "nbflow/execution" not in page and "nbflow frames left out" in shown
