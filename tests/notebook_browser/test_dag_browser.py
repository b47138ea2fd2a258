"""An inline DAG in a real JupyterLab (headless Debian Chromium, Playwright): a 61-op DAG fits
the output width, zoom and pan change its view, the legend lists the statuses shown, hovering
a step shows its tooltip, and under JupyterLab Dark the DAG's background is dark (in the DOM
and in the screenshot's pixels).

One JupyterLab server for every check; screenshots are kept in the test's folder.
"""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING

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

    from playwright.sync_api import Locator, Page

CELLS = [
    "import nbflow.notebook as nbn\n"
    "from nbflow import GraphDefinition, DependencyDefinition, NodeInvocation, op\n"
    "@op\n"
    "def source() -> int:\n"
    "    return 1\n"
    "@op\n"
    "def grow(x: int) -> int:\n"
    "    if x < 0:\n"
    "        raise ValueError('negative')\n"
    "    return x + 1\n"
    "deps = {NodeInvocation('grow', alias=f'step_{i}'): {'x': DependencyDefinition('source')}"
    " for i in range(60)}\n"
    "wide = GraphDefinition('wide', node_defs=[source, grow], dependencies=deps).to_job()",
    "nbn.show_graph(wide.execute_in_process(), engine='builtin', max_nodes=None)",
]


def notebook() -> dict[str, object]:
    return {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "source": c,
                "outputs": [],
                "execution_count": None,
            }
            for c in CELLS
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


MEAN_BRIGHTNESS = """async (src) => {
    const image = new Image();
    image.src = src;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext("2d");
    context.drawImage(image, 0, 0);
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    for (let i = 0; i < pixels.length; i += 4) sum += (pixels[i] + pixels[i + 1] + pixels[i + 2]) / 3;
    return sum / (pixels.length / 4);
}"""


def mean_brightness(page: Page, png: bytes) -> float:
    """The mean brightness (0 black to 255 white) of a screenshot, decoded by the browser."""
    return float(
        page.evaluate(MEAN_BRIGHTNESS, "data:image/png;base64," + base64.b64encode(png).decode())
    )


def zoom_and_pan(page: Page, dag: Locator, svg: Locator, tmp_path: Path) -> None:
    """Zoom with the button, then with Ctrl + wheel, then pan by dragging; Fit resets."""
    from playwright.sync_api import expect

    # zoom with the button, then with Ctrl + wheel, then pan by dragging
    before = svg.get_attribute("viewBox")
    dag.locator("button[data-act='in']").click()
    zoomed = svg.get_attribute("viewBox")
    assert zoomed != before
    svg.scroll_into_view_if_needed()
    box = svg.bounding_box()
    # a point on the drawing inside the window (a tall drawing's middle may lie below it)
    middle = (box["x"] + box["width"] / 2, box["y"] + min(box["height"] / 2, 150))
    page.mouse.move(*middle)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -200)
    page.keyboard.up("Control")
    expect(svg).not_to_have_attribute("viewBox", zoomed)
    wheeled = svg.get_attribute("viewBox")
    page.mouse.down()
    page.mouse.move(middle[0] + 120, middle[1], steps=5)
    page.mouse.up()
    assert svg.get_attribute("viewBox") != wheeled
    page.screenshot(path=str(tmp_path / "dag-zoomed.png"))
    dag.locator("button[data-act='fit']").click()
    assert svg.get_attribute("viewBox") == before


def test_an_inline_dag_fits_zooms_pans_has_a_legend_tooltips_and_a_dark_theme(
    tmp_path: Path,
) -> None:
    require_browser_tools()
    from playwright.sync_api import expect, sync_playwright

    root = tmp_path / "notebooks"
    root.mkdir()
    (root / "dag.ipynb").write_text(json.dumps(notebook()), encoding="utf-8")
    expect.set_options(timeout=TIMEOUT_MS)
    with jupyter_lab(root, tmp_path / "lab") as (base, token), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        try:
            page.goto(f"{base}/lab/tree/dag.ipynb?token={token}")
            run_all_cells(page)
            dag = page.locator(".nbflow-dag-view")
            expect(dag).to_have_count(1)
            expect(dag).to_have_class(re.compile("nbflow-dag-live"))  # the script ran
            svg = dag.locator(".nbflow-dag-canvas svg")
            output = page.locator(".jp-OutputArea-output", has=dag)
            page.screenshot(path=str(tmp_path / "dag-fitted.png"))
            light = mean_brightness(page, dag.screenshot(path=str(tmp_path / "dag-light.png")))
            assert light > 180, light

            # fits the output's width
            assert svg.bounding_box()["width"] <= output.bounding_box()["width"] + 0.5
            # the legend lists exactly the statuses present: all 61 steps succeeded
            legend = dag.locator(".nbflow-legend-item[data-status]")
            assert legend.evaluate_all("els => els.map(e => e.dataset.status)") == ["succeeded"]

            zoom_and_pan(page, dag, svg, tmp_path)

            # hovering a step shows its tooltip, taken from its <title>
            node = svg.locator("g.node").nth(1)
            assert node.locator("title").count() == 1
            node.hover()
            tip = dag.locator(".nbflow-dag-tip")
            expect(tip).to_be_visible()
            expect(tip).to_contain_text("succeeded")
            page.screenshot(path=str(tmp_path / "dag-tooltip.png"))

            # JupyterLab Dark: the DAG's background is dark
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Settings$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Theme$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^JupyterLab Dark$")).click()
            page.wait_for_selector("body[data-jp-theme-light='false']", state="attached")
            background = dag.evaluate("e => getComputedStyle(e).backgroundColor")
            channels = [int(c) for c in re.findall(r"\d+", background)[:3]]
            assert sum(channels) / 3 < 80, background
            page.screenshot(path=str(tmp_path / "dag-dark.png"))
            dark = mean_brightness(page, dag.screenshot(path=str(tmp_path / "dag-dark-only.png")))
            assert dark < 90, dark
        except BaseException:
            page.screenshot(path=str(tmp_path / "failure.png"))
            print(f"screenshot of the failure: {tmp_path / 'failure.png'}")
            raise
        finally:
            browser.close()
