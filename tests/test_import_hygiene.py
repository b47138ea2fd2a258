"""The core never loads notebook-only libraries, checked in a fresh interpreter and by contracts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "pandas",
    "numpy",
    "pyarrow",
    "graphviz",
    "ipywidgets",
    "IPython",
    "papermill",
    "nbformat",
    "dask",
    "distributed",
    "fsspec",
    "rich",
    "click",
)
REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("module", ["nbflow", "nbflow.execution", "nbflow.storage"])
def test_core_import_pulls_in_no_heavy_dependency(module: str) -> None:
    probe = f"import sys, {module}; print([m for m in {HEAVY!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", f"{module} imported: {done.stdout.strip()}"


def test_running_a_job_pulls_in_no_heavy_dependency() -> None:
    probe = (
        "import sys\n"
        "from nbflow import job, op\n"
        "@op\n"
        "def one():\n"
        "    return 1\n"
        "@job\n"
        "def single():\n"
        "    one()\n"
        "assert single.execute_in_process().success\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_import_linter_contracts_are_kept() -> None:
    lint_imports = shutil.which("lint-imports")
    assert lint_imports is not None, "import-linter is a dev dependency: pip install -e '.[dev]'"
    done = subprocess.run([lint_imports], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "broken" not in done.stdout.replace("0 broken", "")
