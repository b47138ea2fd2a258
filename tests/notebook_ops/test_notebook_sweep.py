"""Parameter sweeps: a grid of notebook runs on two worker processes, memoized per point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from nbflow.notebook import sweep

from .conftest import NOTEBOOKS


def nbflow_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nbflow", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, "NBFLOW_HOME": str(cwd / "home")},
    )


def table_rows(stdout: str) -> list[list[str]]:
    lines = [line for line in stdout.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def test_cli_sweep_runs_the_grid_then_nothing(tmp_path: Path) -> None:
    args = (
        "notebook",
        "sweep",
        str(NOTEBOOKS / "scale.ipynb"),
        "-p",
        "x",
        "1",
        "2",
        "-p",
        "factor",
        "3",
        "10",
        "--max-concurrent",
        "2",
        "--output-dir",
        "swept",
    )

    first = nbflow_cli(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    header, *rows = table_rows(first.stdout)
    assert header == ["x", "factor", "result", "extra", "status"]
    assert [row[:4] for row in rows] == [
        ["1", "3", "3", "null"],
        ["1", "10", "10", "null"],
        ["2", "3", "6", "null"],
        ["2", "10", "20", "null"],
    ]
    assert all(row[4].startswith("ran (") for row in rows)
    assert "4 parameter set(s), 4 ran, 0 memoized, 0 failed" in first.stdout
    folder = tmp_path / "swept" / "scale-355e72de9d97"
    executed = sorted(folder.glob("*.ipynb"))
    assert len(executed) == 4
    parameters = [
        json.loads(p.read_text())["metadata"]["papermill"]["parameters"] for p in executed
    ]
    assert sorted((p["x"], p["factor"]) for p in parameters) == [(1, 3), (1, 10), (2, 3), (2, 10)]

    again = nbflow_cli(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert [row[4] for row in table_rows(again.stdout)[1:]] == ["memoized"] * 4
    assert "4 ran" not in again.stdout and "0 ran, 4 memoized" in again.stdout
    assert sorted(folder.glob("*.ipynb")) == executed


def test_python_sweep_reports_failures_and_retries_only_them(tmp_path: Path) -> None:
    result = sweep(
        NOTEBOOKS / "fails.ipynb",
        {"divisor": [1, 2, 0, 5]},
        max_concurrent=2,
        output_dir=tmp_path,
    )
    assert [row.status for row in result.rows] == ["ran", "ran", "failed", "ran"]
    assert [row.results.get("result") for row in result.rows] == [10.0, 5.0, None, 2.0]
    failed = result.rows[2]
    assert failed.error == "ZeroDivisionError: division by zero in cell 2"
    assert failed.output_path.endswith(".failed.ipynb") and Path(failed.output_path).is_file()
    assert not result.success
    assert "failed: ZeroDivisionError: division by zero in cell 2" in result.table()
    assert not list(Path(result.folder).glob("*.partial-*"))

    again = sweep(NOTEBOOKS / "fails.ipynb", {"divisor": [1, 2, 0, 5]}, output_dir=tmp_path)
    assert [row.status for row in again.rows] == ["memoized", "memoized", "failed", "memoized"]
    assert again.rows[3].results == {"result": 2.0}
