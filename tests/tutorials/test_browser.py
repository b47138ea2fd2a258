"""The quick-start tutorial in a real browser: JupyterLab, headless Chromium, Playwright.

JupyterLab serves a copy of ``notebooks/`` on 127.0.0.1 (a free port, a random token, its
settings, workspaces and runtime files in this test's folder). Chromium opens
``01-quickstart.ipynb`` and runs every cell from the Run menu; then the page must show the
job's DAG and run summary as SVG in output areas, the live run's progress (``4/4 steps``),
and the config form. Clicking the form's Run button must round-trip through the kernel: the
run's live view appears under the form and ends ``succeeded``. A screenshot is saved as
``jupyterlab-01-quickstart.png`` in the test's folder. The server and every kernel it
started are stopped at the end, whatever happened.

Needs Debian's Chromium (``/usr/lib/chromium/chromium``) and the ``jupyterlab`` and
``playwright`` packages, which ``scripts/test.sh`` installs; Playwright's own browser
download is never used.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Page

CHROMIUM = "/usr/lib/chromium/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    # a closed network: no background connections, no component or sync updates
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SETTINGS = {
    # no "would you like news?" toast, no update check
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    # every cell in the DOM, so the checks below see outputs scrolled out of view too
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}
NOTEBOOK = "01-quickstart.ipynb"
TIMEOUT_MS = 90_000


def require_browser_tools() -> None:
    missing = []
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(
            f"Chromium at {CHROMIUM} (apt-get install -y --no-install-recommends chromium "
            "fonts-dejavu-core)"
        )
    for module in ("jupyterlab", "playwright"):
        try:
            __import__(module)
        except ImportError:
            missing.append(f"the {module} package (pip install {module})")
    assert not missing, (
        "The browser test needs " + "; ".join(missing) + ". scripts/test.sh installs them."
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def processes_mentioning(text: str) -> list[int]:
    """Pids of processes whose command line contains ``text`` (kernels name their
    connection file, which lives in the server's runtime folder)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry))
    return found


@contextmanager
def jupyter_lab(root: Path, home: Path) -> Iterator[tuple[str, str]]:
    """A JupyterLab server on ``root``: yields (base URL, token); always stopped after."""
    runtime = home / "runtime"
    settings = home / "settings"
    for name, values in SETTINGS.items():
        target = settings / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(runtime),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        NBFLOW_HOME=str(home / "nbflow-home"),
    )
    token = secrets.token_hex(16)
    port = free_port()
    log = (home / "jupyter-lab.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            "--allow-root",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (
                "jupyter lab exited:\n" + (home / "jupyter-lab.log").read_text()
            )
            try:
                request = urllib.request.Request(
                    f"{base}/api/status", headers={"Authorization": f"token {token}"}
                )
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "jupyter lab did not answer within 60 s"
            time.sleep(0.25)
        yield base, token
    finally:
        stop(server)
        log.close()
        leftovers = processes_mentioning(str(runtime))
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        assert not leftovers, f"kernels outlived the server: {leftovers}"


def stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM (the server then shuts its kernels down), SIGKILL its group if it hangs."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    server.wait(timeout=10)


KERNEL_IDLE = (
    "() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]"
    ".some(item => /\\|\\s*Idle\\s*$/.test(item.textContent))"
)


def run_all_cells(page: Page) -> None:
    """Run → Run All Cells, once the kernel is connected.

    Early on, the execution indicator says ``idle`` before the kernel's websocket connects,
    and a Run All clicked then is lost, or (on a busy machine, before the session has its
    kernel) opens the Select Kernel dialog. So: wait for the status bar to say the kernel is
    idle, accept that dialog if it shows, and click again until the first code cell starts.
    """
    from playwright.sync_api import expect

    first_prompt = page.locator(".jp-CodeCell .jp-InputArea-prompt").first
    select_kernel = page.locator(".jp-Dialog", has_text="Select Kernel")
    for _ in range(6):
        if select_kernel.count():
            select_kernel.locator("button", has_text=re.compile(r"^\s*Select\s*$")).click()
            expect(select_kernel).to_have_count(0)
        page.wait_for_function(KERNEL_IDLE)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        try:
            expect(first_prompt).to_have_text(re.compile(r"\[(\*|\d+)\]"), timeout=10_000)
            return
        except AssertionError:
            continue
    raise AssertionError("Run All Cells never started the first cell: the kernel did not connect")


def test_quickstart_runs_in_jupyterlab_and_the_config_form_runs_the_job(tmp_path: Path) -> None:
    require_browser_tools()
    from playwright.sync_api import expect, sync_playwright

    from tests.tutorials.conftest import NOTEBOOKS

    root = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, root)
    screenshot = tmp_path / "jupyterlab-01-quickstart.png"

    expect.set_options(timeout=TIMEOUT_MS)
    with jupyter_lab(root, tmp_path / "lab") as (base, token), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        try:
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
            run_all_cells(page)

            # the last cell shows the form's run config: every cell has run by then
            expect(page.locator(".jp-OutputArea-output", has_text="'top': 3")).to_have_count(1)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")

            # the job's DAG (inline HTML with its SVG) and the run summaries' SVG drawings
            assert page.locator(".nbflow-dag-view svg").count() >= 1
            assert page.locator(".jp-OutputArea-output svg").count() >= 2
            live = page.locator(".jp-OutputArea-output .nbflow-live")
            expect(live).to_have_count(1)
            expect(live).to_contain_text("4/4 steps")
            assert live.locator("svg").count() >= 1
            # nothing went wrong in any cell
            assert page.locator("[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
            assert page.locator(".jp-OutputArea-output[data-mime-type*='error']").count() == 0

            # the config form: Run goes to the kernel, the live view comes back under the form
            form = page.locator(".nbflow-config-form")
            expect(form).to_have_count(1)
            run_button = form.locator("button", has_text=re.compile(r"^\s*Run\s*$"))
            expect(run_button).to_be_enabled()
            run_button.click()
            view = form.locator(".nbflow-live-widget")
            expect(view).to_contain_text("succeeded")
            expect(view).to_contain_text("4/4 steps")
            expect(run_button).to_be_enabled()  # ready for another run

            form.scroll_into_view_if_needed()
            page.screenshot(path=str(screenshot))
        except BaseException:
            page.screenshot(path=str(tmp_path / "failure.png"))
            print(f"screenshot of the failure: {tmp_path / 'failure.png'}")
            raise
        finally:
            browser.close()

    assert screenshot.stat().st_size > 10_000
    print(f"screenshot: {screenshot}")
