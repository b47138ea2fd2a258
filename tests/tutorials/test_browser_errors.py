"""A bad run config in a real browser (JupyterLab, headless Chromium, Playwright): the cell
shows a short error — the user's cell and line, the message and its fix, no frame of
nbflow's own files — and the live view above it ends in its final state, ``invalid config``.

Reuses the server and browser setup of :mod:`tests.tutorials.test_browser`. Screenshots (the
page, and the error output alone) are saved in the test's folder.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import nbformat
import pytest

from tests.tutorials.test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TIMEOUT_MS,
    jupyter_lab,
    require_browser_tools,
    run_all_cells,
)

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.browser

CELLS = [
    "import nbflow.notebook as nbn\n"
    "from nbflow import job, op\n"
    "\n"
    "@op(config_schema={'n': int})\n"
    "def fetch(context):\n"
    "    return context.op_config['n']\n"
    "\n"
    "@op\n"
    "def double(x):\n"
    "    return 2 * x\n"
    "\n"
    "@job\n"
    "def doubling():\n"
    "    double(fetch())\n",
    "nbn.run(doubling, {'ops': {'fetch': {'config': {'n': 'three'}}}})",
]
NOTEBOOK = "bad-config.ipynb"


def test_a_bad_config_shows_a_short_error_and_a_final_state(tmp_path: Path) -> None:
    require_browser_tools()
    from playwright.sync_api import expect, sync_playwright

    root = tmp_path / "notebooks"
    root.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(notebook, root / NOTEBOOK)
    page_shot = tmp_path / "jupyterlab-bad-config.png"
    error_shot = tmp_path / "bad-config-error.png"

    expect.set_options(timeout=TIMEOUT_MS)
    with jupyter_lab(root, tmp_path / "lab") as (base, token), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        try:
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
            run_all_cells(page)

            error = page.locator(
                ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
            )
            expect(error).to_have_count(1)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
            text = error.inner_text()
            assert "RunConfigValidationError" in text and "Fix" in text
            assert re.search(r"Cell In\[\d+\], line 1", text)
            assert "/nbflow/" not in text  # no nbflow-internal frame by default
            assert "nbn.show_tracebacks(True)" in text  # the full one is a flag away

            view = page.locator(".jp-OutputArea-output .nbflow-live-final")
            expect(view).to_have_count(1)
            expect(view).to_contain_text("invalid config")
            expect(view).to_contain_text("0/2 steps done")
            assert "starting" not in view.inner_text()
            assert "interrupt the kernel" not in view.inner_text()

            error.scroll_into_view_if_needed()
            error.screenshot(path=str(error_shot))
            page.screenshot(path=str(page_shot))
            box = error.bounding_box()
            assert box is not None and box["height"] < 300  # short: a few lines, not a stack
        except BaseException:
            page.screenshot(path=str(tmp_path / "failure.png"))
            print(f"screenshot of the failure: {tmp_path / 'failure.png'}")
            raise
        finally:
            browser.close()

    assert page_shot.stat().st_size > 10_000 and error_shot.stat().st_size > 1_000
    print(f"screenshots: {page_shot}, {error_shot}")
