"""Users get real types: ``mypy --strict`` on a user's script against an installed nbflow wheel.

The wheel is built from this checkout and installed (not editable) into a temporary folder,
which is the only place the type checker can find nbflow: an editable install made by
``pip install -e .`` loads through an import hook that type checkers do not run.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tests" / "fixtures" / "typed_user_script.py"
_EXPECTED = re.compile(r"#\s*([NE]): (.*)$")


def _can_build_offline() -> bool:
    """Whether setuptools can build a wheel here without downloading a build environment."""
    import setuptools

    major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


def _build_wheel(work: Path) -> Path:
    """Build nbflow's wheel from a copy of this checkout (so no build files land in it)."""
    source = work / "source"
    shutil.copytree(
        REPO / "nbflow", source / "nbflow", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(work)]
    if _can_build_offline():
        command.append("--no-build-isolation")
    subprocess.run([*command, str(source)], check=True, capture_output=True, text=True)
    (wheel,) = work.glob("nbflowkit-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The built wheel, and the folder it is installed in with ``pip install --target``."""
    work = tmp_path_factory.mktemp("typing")
    wheel = _build_wheel(work)
    target = work / "site-packages"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return wheel, target


@pytest.fixture(scope="module")
def mypy_report(
    installed_wheel: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> list[str]:
    """What ``mypy --strict`` reports on the user script, one line per note or error."""
    _, target = installed_wheel
    work = tmp_path_factory.mktemp("mypy")
    script = work / SCRIPT.name
    shutil.copy2(SCRIPT, script)
    (work / "mypy.ini").write_text("[mypy]\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MYPYPATH")}
    # On the checked interpreter's path, the folder counts as installed packages (py.typed).
    env["PYTHONPATH"] = str(target)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "mypy", "--strict", "--config-file", "mypy.ini"),
            *("--cache-dir", str(work / "cache"), "--python-executable", sys.executable),
            *("--no-error-summary", "--hide-error-context", script.name),
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.stdout.splitlines()


def _expected_lines() -> list[str]:
    expected = []
    for number, line in enumerate(SCRIPT.read_text().splitlines(), start=1):
        found = _EXPECTED.search(line)
        if found:
            kind = "note" if found.group(1) == "N" else "error"
            expected.append(f"{SCRIPT.name}:{number}: {kind}: {found.group(2)}")
    return expected


def test_wheel_ships_the_typed_marker(installed_wheel: tuple[Path, Path]) -> None:
    wheel, target = installed_wheel
    assert "nbflow/py.typed" in zipfile.ZipFile(wheel).namelist()
    assert (target / "nbflow" / "py.typed").is_file()


def test_result_success_is_typed_as_bool(mypy_report: list[str]) -> None:
    lines = SCRIPT.read_text().splitlines()
    number = lines.index('reveal_type(result.success)  # N: Revealed type is "bool"') + 1
    assert f'{SCRIPT.name}:{number}: note: Revealed type is "bool"' in mypy_report, mypy_report


def test_mypy_reports_exactly_the_marked_notes_and_errors(mypy_report: list[str]) -> None:
    assert mypy_report == _expected_lines()
