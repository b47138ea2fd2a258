"""The package as a user gets it: sdist and wheel built as a release does, the wheel installed
into a fresh virtual environment (no system site-packages, no checkout on the path), then the
shipped quick-start job and a project made by ``nbflow new`` run from another folder."""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import nbflow

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SHIPPED = ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md")


def _run(command: list[str | Path], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m build`` on a copy of the checkout: the sdist, then the wheel built from it."""
    work = tmp_path_factory.mktemp("dist")
    source = work / "source"
    shutil.copytree(
        REPO / "nbflow", source / "nbflow", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in SHIPPED:
        shutil.copy2(REPO / name, source / name)
    _run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", work / "out", source],
        cwd=work,
        env=dict(os.environ),
    )
    return work / "out"


@pytest.fixture(scope="module")
def fresh_venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A plain venv with only the wheel and the dependencies it declares; its environment."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    _run([sys.executable, "-m", "venv", venv], cwd=venv.parent, env=dict(os.environ))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "NBFLOW_HOME"}
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    (wheel,) = dist.glob("nbflowkit-*.whl")
    _run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", wheel], venv.parent, env)
    return venv, env


def test_the_distribution_is_nbflowkit_with_its_license_and_version(dist: Path) -> None:
    (wheel,) = dist.glob("nbflowkit-*.whl")
    (sdist,) = dist.glob("nbflowkit-*.tar.gz")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = f"nbflowkit-{nbflow.__version__}.dist-info"
        metadata = email.message_from_bytes(archive.read(f"{info}/METADATA"))
        assert archive.read(f"{info}/licenses/LICENSE") == (REPO / "LICENSE").read_bytes()
    assert metadata["Name"] == "nbflowkit"
    assert metadata["Version"] == nbflow.__version__
    assert metadata["License-Expression"] == "Apache-2.0"
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL"))
    assert set(urls) == {"Homepage", "Documentation", "Repository", "Issues", "Changelog", "Binder"}
    assert "nbflow/examples/quickstart.py" in names and "nbflow/py.typed" in names
    for name in ("README.md", "pipeline.py", "config.yaml", "explore.ipynb"):
        assert f"nbflow/templates/project/{name}" in names
    with tarfile.open(sdist) as archive:
        top = f"nbflowkit-{nbflow.__version__}"
        assert {f"{top}/LICENSE", f"{top}/README.md"} <= set(archive.getnames())


def test_the_quick_start_runs_from_the_installed_wheel(
    fresh_venv: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    venv, env = fresh_venv
    python = venv / "bin" / "python"
    env = {**env, "NBFLOW_HOME": str(tmp_path / "home")}
    where = _run(
        [python, "-c", "import nbflow.examples.quickstart as q; print(q.__file__)"], tmp_path, env
    )
    shipped = Path(where.strip())
    assert shipped.is_relative_to(venv), "nbflow was not imported from the fresh venv"
    out = _run([venv / "bin" / "nbflow", "job", "execute", "-f", shipped], tmp_path, env)
    assert "of job 'word_stats': success" in out
    out = _run([venv / "bin" / "nbflow", "example", "quickstart"], tmp_path, env)
    assert "of job 'word_stats': success" in out
    out = _run(
        [python, "-m", "nbflow", "job", "execute", "-m", "nbflow.examples.quickstart"],
        tmp_path,
        env,
    )
    assert "of job 'word_stats': success" in out


def test_a_new_project_runs_from_the_installed_wheel(
    fresh_venv: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    venv, env = fresh_venv
    _run([venv / "bin" / "nbflow", "new", "proj"], tmp_path, env)
    project = tmp_path / "proj"
    command = [venv / "bin" / "nbflow", "job", "execute", "-f", "pipeline.py", "-c", "config.yaml"]
    first = _run(command, project, env)
    assert "of job 'readings_report': success" in first and "memoized" not in first
    second = _run([*command, "--quiet"], project, env)
    assert second.count("memoized") >= 4, second
    assert (project / ".nbflow").is_dir()
