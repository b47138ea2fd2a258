"""The docs site: ``mkdocs build --strict`` passes, every public name has its API entry, the
six tutorials are rendered and the CLI reference lists every command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import nbflow
import nbflow.dask
import nbflow.notebook
import nbflow.scaffold

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(out)],
        cwd=REPO,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.mark.parametrize(
    ("module", "page"),
    [
        (nbflow, "nbflow"),
        (nbflow.notebook, "notebook"),
        (nbflow.dask, "dask"),
        (nbflow.scaffold, "scaffold"),
    ],
)
def test_every_public_name_has_an_entry(site: Path, module: object, page: str) -> None:
    html = (site / "reference" / page / "index.html").read_text(encoding="utf-8")
    anchors = set(re.findall(r'id="([^"]+)"', html))
    missing = [
        name
        for name in module.__all__  # type: ignore[attr-defined]
        if not any(
            a.endswith(f".{name}") or a == f"{name}" or a == f"{name.lower()}" for a in anchors
        )
    ]
    assert missing == []


def test_the_tutorials_are_rendered(site: Path) -> None:
    for notebook in sorted((REPO / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        assert (site / "notebooks" / notebook.stem / "index.html").is_file(), notebook.name


def test_the_cli_reference_lists_every_command(site: Path) -> None:
    html = (site / "cli" / "index.html").read_text(encoding="utf-8")
    for command in ("nbflow job execute", "nbflow runs list", "nbflow notebook run"):
        assert command in html
    assert "usage" in html.lower()
