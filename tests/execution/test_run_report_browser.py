"""The run report of a real multiprocess run, opened in a real browser (Debian's Chromium).

Two independent steps sleep 0.5 s each under the multiprocess executor with
``max_concurrent`` 2. Chromium opens the written page from a file, with every network
request refused, and the test reads the timeline's bars from the DOM: the two steps' bars
overlap in time and sit in different process rows. Playwright's own browser download is
never used.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import mp_jobs
import pytest

from nbflow import Instance, execute_job

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run"]

_BARS = """() => Array.from(document.querySelectorAll('svg.nbflow-timeline g.bar')).map(g => {
    const box = g.querySelector('rect.run').getBoundingClientRect();
    return {step: g.dataset.step, pid: g.dataset.pid,
            left: box.left, right: box.right, top: box.top, bottom: box.bottom};
})"""


def test_the_report_timeline_shows_two_steps_running_side_by_side(tmp_path: Path) -> None:
    assert os.access(CHROMIUM, os.X_OK), "needs Debian's Chromium at " + CHROMIUM
    from playwright.sync_api import sync_playwright

    instance = Instance.local(tmp_path / "home")
    result = execute_job(
        mp_jobs.sleepers(2, 0.5),
        run_config=mp_jobs.recorder_config(tmp_path, max_concurrent=2),
        instance=instance,
    )
    assert result.success
    page_file = tmp_path / "run.html"
    result.to_html(page_file)
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.route("**/*", lambda route: _only_the_file(route, requests))
            page.goto(page_file.as_uri())
            page.wait_for_selector("svg.nbflow-timeline g.bar")
            bars = page.evaluate(_BARS)
            assert page.locator("svg.nbflow-dag").count() == 1
            page.screenshot(path=str(tmp_path / "run-report.png"), full_page=True)
        finally:
            browser.close()
    assert requests == [page_file.as_uri()]  # the page asked for nothing else
    by_step = {bar["step"]: bar for bar in bars}
    assert sorted(by_step) == ["sleep_0", "sleep_1"]
    first, second = by_step["sleep_0"], by_step["sleep_1"]
    assert first["pid"] != second["pid"]
    # different process rows: the bars do not share a vertical band
    assert first["bottom"] <= second["top"] or second["bottom"] <= first["top"]
    # overlapping in time: each starts before the other ends, by a good part of 0.5 s
    overlap = min(first["right"], second["right"]) - max(first["left"], second["left"])
    shortest = min(first["right"] - first["left"], second["right"] - second["left"])
    assert overlap > shortest / 2


def _only_the_file(route: object, requests: list[str]) -> None:
    url = route.request.url  # type: ignore[attr-defined]
    requests.append(url)
    if url.startswith("file://"):
        route.continue_()  # type: ignore[attr-defined]
    else:
        route.abort()  # type: ignore[attr-defined]
