"""Fixtures for notebook runs: the checked-in fixture notebooks, copied where a test may edit them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks"


@pytest.fixture
def notebook_copy(tmp_path: Path) -> Callable[[str], Path]:
    """``notebook_copy("scale.ipynb")`` → a private copy in this test's tmp_path."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copyfile(NOTEBOOKS / name, target)
        return target

    return copy


@pytest.fixture(autouse=True)
def _own_nbflow_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Executed notebooks written to default places land in this test's folder."""
    monkeypatch.setenv("NBFLOW_HOME", str(tmp_path / "home"))
