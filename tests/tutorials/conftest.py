"""Fixtures for the tutorial checks: where the notebooks are, and a private copy of them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
TUTORIALS = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
"""The numbered tutorials (``notebooks/data`` holds what they use, not tutorials)."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes a minute or more (still part of every CI run)")


@pytest.fixture
def notebooks_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of ``notebooks/`` in this test's folder; nbflow's files go there too."""
    target = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, target)
    monkeypatch.setenv("NBFLOW_HOME", str(tmp_path / "nbflow-home"))
    return target
