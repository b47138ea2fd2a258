"""Bad files and odd arguments on the command line: one error line, exit code 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

JOB = """\
import json
import helper
import yaml
from nbflow import job, op


@op
def emit() -> int:
    assert yaml.safe_load("a: 1") == {"a": 1} and json.loads("[1]") == [1]
    return helper.VALUE


@job
def one():
    emit()
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "jobs.py").write_text(JOB)
    (tmp_path / "helper.py").write_text("VALUE = 3\n")
    (tmp_path / "yaml.py").write_text("raise RuntimeError('the shadowing yaml.py was imported')\n")
    (tmp_path / "json.py").write_text("raise RuntimeError('the shadowing json.py was imported')\n")
    return tmp_path


def nbflow(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``nbflow job execute -f <folder>/jobs.py`` run from another folder, as a user would
    (``python -m`` would put its own working folder first on ``sys.path``)."""
    env = {**os.environ, "NBFLOW_HOME": os.fspath(folder / "home")}
    elsewhere = folder / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    job_file = os.fspath(folder / "jobs.py")
    return subprocess.run(
        [sys.executable, "-m", "nbflow", "job", "execute", "-f", job_file, *args],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_files_beside_the_job_do_not_shadow_modules_but_siblings_import(folder: Path) -> None:
    done = nbflow(folder)
    assert done.returncode == 0, done.stderr
    assert "succeeded" in done.stdout


@pytest.mark.parametrize(
    ("content", "args", "expected"),
    [
        (b"ops: {emit: {config: {n: " + b"9" * 5000 + b"}}}\n", (), "cannot be read: ValueError"),
        (b"ops: {}\n# caf\xe9\n", (), "is not UTF-8 text"),
        (None, ("--tags", "[1]"), "--tags must be a JSON object"),
        (None, ("--tags", '{"a": {"b": 1}}'), "--tags values must be strings"),
        (None, ("--tags", "{bad"), "--tags must be a JSON object"),
        (None, ("--tags", '{"a": ' + "9" * 5000 + "}"), "--tags cannot be read"),
        (None, ("--tags", "[" * 100_000), "--tags cannot be read"),
    ],
    ids=[
        "huge-int-yaml",
        "latin-1-yaml",
        "tags-list",
        "tags-nested",
        "tags-bad-json",
        "tags-huge-int",
        "tags-deep",
    ],
)
def test_bad_files_and_tags_are_one_line_errors(
    folder: Path, content: bytes | None, args: tuple[str, ...], expected: str
) -> None:
    if content is not None:
        (folder / "run.yaml").write_bytes(content)
        args = ("-c", os.fspath(folder / "run.yaml"))
    done = nbflow(folder, *args)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and expected in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import not_installed_anywhere_xyz\n", "imports 'not_installed_anywhere_xyz'"),
        ("raise ValueError(10**5000)\n", "ValueError: (its message cannot be shown)"),
    ],
    ids=["missing-module", "unprintable-error"],
)
def test_errors_importing_the_job_file_are_one_line(
    folder: Path, source: str, expected: str
) -> None:
    (folder / "jobs.py").write_text(source)
    done = nbflow(folder)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert expected in done.stderr and len(done.stderr.strip().splitlines()) == 1
