"""The core never loads notebook-only libraries, checked in a fresh interpreter and by contracts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nbflow

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


# What `import nbflow` leaves for first use: everything not needed to define ops, graphs and
# jobs (nbflow/__init__.py), and the standard-library modules only those parts need.
LOADED_ON_FIRST_USE = (
    "nbflow.events",
    "nbflow.execution",
    "nbflow.storage",
    "nbflow.versioning",
    "nbflow.definitions.asset",
    "nbflow.definitions.asset_job",
    "nbflow.definitions.asset_key",
    "nbflow.definitions.config_mapping",
    "nbflow.definitions.hook",
    "nbflow.definitions.io_manager",
    "nbflow.definitions.logger",
    "nbflow.definitions.partitions",
    "nbflow.definitions.policy",
    "nbflow.definitions.source_asset",
    "nbflow.definitions.user_events",
    "json",
    "datetime",
    "random",
    "traceback",
)


def _loaded_in_fresh_interpreter(code: str, names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` running ``code`` loads in a fresh interpreter (modules loaded
    before it, e.g. by coverage's start-up hook under ``pytest --cov``, do not count)."""
    probe = (
        f"import sys\nbefore = set(sys.modules)\n{code}\n"
        "new = set(sys.modules) - before\n"
        f"print([n for n in {names!r} if any(m == n or m.startswith(n + '.') for m in new)])"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return list(eval(done.stdout.strip().splitlines()[-1]))  # a list the probe printed


def test_import_nbflow_leaves_what_defining_a_job_does_not_need_for_first_use() -> None:
    assert _loaded_in_fresh_interpreter("import nbflow", LOADED_ON_FIRST_USE) == []


def test_defining_a_job_with_a_resource_and_config_loads_none_of_it_either() -> None:
    code = (
        "from nbflow import Field, In, Out, job, op, resource\n"
        "@resource\n"
        "def db(_):\n"
        "    return {}\n"
        "@op(config_schema={'n': Field(int, default_value=1)}, out=Out(int))\n"
        "def one(context):\n"
        "    return context.op_config['n']\n"
        "@op(ins={'x': In(int)})\n"
        "def double(x):\n"
        "    return 2 * x\n"
        "@job(resource_defs={'db': db})\n"
        "def chain():\n"
        "    double(one())\n"
    )
    assert _loaded_in_fresh_interpreter(code, LOADED_ON_FIRST_USE) == []


# What running a job in-process does not need: nbflow.execution's views, out-of-process
# reconstruction, execute_job, materialize and re-execution load when they are used.
NOT_LOADED_BY_A_RUN = (
    "nbflow.execution.views",
    "nbflow.execution.execute_job",
    "nbflow.execution.materialize",
    "nbflow.execution.reexecution",
    "nbflow.execution.executors.reconstruct",
    "nbflow.execution.executors.out_of_process",
    "nbflow.definitions.asset_job",
)


def test_running_a_job_in_process_leaves_the_views_and_other_executors_for_first_use() -> None:
    code = (
        "from nbflow import job, op\n"
        "@op\n"
        "def one():\n"
        "    return 1\n"
        "@op\n"
        "def two(x):\n"
        "    return x + 1\n"
        "@job\n"
        "def chain():\n"
        "    two(one())\n"
        "assert chain.execute_in_process().output_for_node('two') == 2\n"
    )
    assert _loaded_in_fresh_interpreter(code, NOT_LOADED_BY_A_RUN) == []


def test_every_public_name_imports_and_is_listed_by_dir() -> None:
    code = (
        "import importlib, types, nbflow\n"
        "names = list(nbflow.__all__)\n"
        "assert set(names) <= set(dir(nbflow)), set(names) - set(dir(nbflow))\n"
        "for name, module in nbflow._EXPORTS.modules.items():\n"
        "    assert getattr(nbflow, name) is getattr(importlib.import_module(module), name)\n"
        "star = {}\n"
        "exec('from nbflow import *', star)\n"
        "assert not [n for n in names if isinstance(star[n], types.ModuleType)]\n"
        "print(len(set(names) & set(star)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(set(nbflow.__all__)) > 100


@pytest.mark.parametrize(
    ("package", "name", "first"),
    [
        ("nbflow.definitions", "asset", "import nbflow.definitions.asset"),
        ("nbflow.definitions", "logger", "from nbflow.definitions.logger import LoggerDefinition"),
        ("nbflow.versioning", "fingerprint", "import nbflow.versioning.fingerprint"),
        ("nbflow.versioning", "code_changes", "import nbflow.versioning.staleness"),
        ("nbflow.execution", "materialize", "import nbflow.execution.materialize"),
        ("nbflow.execution", "execute_job", "from nbflow.execution.execute_job import execute_job"),
    ],
    ids=["asset", "logger", "fingerprint", "code_changes", "materialize", "execute_job"],
)
def test_an_export_named_like_its_module_stays_the_export_once_the_module_is_imported(
    package: str, name: str, first: str
) -> None:
    code = (
        f"{first}\n"
        f"import {package} as package\n"
        f"from {package} import {name} as imported\n"
        f"print(type(package.{name}).__name__, type(imported).__name__)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["function", "function"]


def test_an_unknown_name_is_an_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="module 'nbflow' has no attribute 'opp'"):
        nbflow.opp
