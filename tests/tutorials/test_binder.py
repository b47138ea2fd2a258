"""Binder: what ``binder/`` asks for builds, and every tutorial runs in what it builds.

There is no Docker engine here, so the build is emulated the way repo2docker's Python build
would do it: a fresh virtual environment, ``pip install -r binder/requirements.txt`` from the
repository root, an ipykernel kernelspec inside that environment, then every notebook of
``notebooks/`` executed in a kernel of that environment (no error output, nothing on
stderr). ``apt.txt``'s Graphviz is the system's (``scripts/test.sh`` installs it).
``repo2docker --no-build`` then checks that repo2docker reads the folder as intended.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.tutorials.conftest import ROOT, TUTORIALS

BINDER = ROOT / "binder"
EXECUTE = Path(__file__).with_name("execute_notebooks.py")
PROBE = (
    "import sys, nbflow\n"
    "from jupyter_client.kernelspec import KernelSpecManager\n"
    "print(sys.executable)\n"
    "print(KernelSpecManager().get_kernel_spec('python3').argv[0])\n"
    "print(nbflow.__file__)"
)


def binder_lines(name: str) -> list[str]:
    text = (BINDER / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def run(
    command: list[str], *, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, (
        f"{' '.join(command)} exited with {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done


def venv_env(venv: Path, home: Path) -> dict[str, str]:
    """The environment a Binder user's kernel would have: the venv first, nothing of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PYTEST", "JUPYTER"))}
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["JUPYTER_PREFER_ENV_PATH"] = "1"  # the venv's python3 kernelspec before any user-level one
    env["NBFLOW_HOME"] = str(home)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.mark.slow
def test_a_binder_like_environment_runs_every_notebook_cleanly(
    notebooks_copy: Path, tmp_path: Path
) -> None:
    # what binder/ asks for
    assert binder_lines("requirements.txt") == ["-e .[notebook,dask]"]
    assert binder_lines("apt.txt") == ["graphviz"]
    assert binder_lines("runtime.txt") == ["python-3.11"]
    assert not (BINDER / "environment.yml").exists(), "environment.yml would hide requirements.txt"

    # repo2docker reads it so (structural check: the Dockerfile it would build)
    r2d = run(
        [sys.executable, "-m", "repo2docker", "--no-build", "--debug", "--no-run", str(ROOT)],
        env=dict(os.environ),
        timeout=120,
    )
    dockerfile = r2d.stdout
    assert "apt-get install --yes --no-install-recommends graphviz" in dockerfile
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile
    assert "python=3.11" in r2d.stderr, r2d.stderr[-2000:]

    # the environment, built as Binder would: pip runs from the repository root
    venv = tmp_path / "venv"
    env = venv_env(venv, tmp_path / "nbflow-home")
    run([sys.executable, "-m", "venv", str(venv)], env=env, timeout=120)
    python = str(venv / "bin" / "python")
    run(
        [python, "-m", "pip", "install", "--quiet", "-r", "binder/requirements.txt"],
        env=env,
        timeout=900,
    )
    run(
        [python, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"],
        env=env,
        timeout=120,
    )

    # the kernel (and the kernels notebooks start) are the venv's, with this nbflow
    probe = notebooks_copy / "probe.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(PROBE)]
    nbformat.write(nb, probe)
    out_dir = tmp_path / "executed"
    run([python, str(EXECUTE), "python3", str(out_dir), str(probe)], env=env, timeout=300)
    executed = nbformat.read(out_dir / "probe.executed.ipynb", as_version=4)
    executable, kernel_python, nbflow_file = executed.cells[0].outputs[0].text.split()
    assert Path(executable).parent == venv / "bin"
    assert Path(kernel_python).parent == venv / "bin"
    assert Path(nbflow_file).is_relative_to(ROOT / "nbflow")

    # every tutorial, in that kernel
    notebooks = [str(notebooks_copy / p.name) for p in TUTORIALS]
    done = run([python, str(EXECUTE), "python3", str(out_dir), *notebooks], env=env, timeout=900)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(report) == sorted(p.name for p in TUTORIALS)
    failures = {name: r["problems"] for name, r in report.items() if r["problems"]}
    assert not failures, json.dumps(failures, indent=2)
    print({name: r["seconds"] for name, r in report.items()})
