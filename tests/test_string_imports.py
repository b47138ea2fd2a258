"""Imports that name nbflow modules in strings, which import-linter cannot see, are allow-listed.

Every string in ``nbflow/`` (and every entry point in ``pyproject.toml``) that names an nbflow
module, as ``"nbflow.x.y"`` or ``"nbflow.x.y:attr"``, is an import made by name somewhere: a
lazy ``_LAZY`` map, an ``importlib.import_module`` call, an executor's implementation. Each one
must be listed below with the module that names it, and must obey the layer rules of
``[tool.importlinter]`` in ``pyproject.toml`` unless it is one of the few listed exceptions.
The places that import modules by a computed name are listed too, so a new one is reviewed.
"""

from __future__ import annotations

import ast
import functools
import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "nbflow"
ENTRY_POINT = "<entry point>"
_NAME = re.compile(r"nbflow(\.[A-Za-z_]\w*)+(:[A-Za-z_][\w.]*)?")

# (module whose source names it, module named): every string import of an nbflow module.
ALLOWED = {
    (ENTRY_POINT, "nbflow.cli"),
    ("nbflow.cli.project_commands", "nbflow.examples"),  # the examples' files, as resources
    # the top-level commands, each loaded when it is used
    ("nbflow.cli.app", "nbflow.cli.asset_commands"),
    ("nbflow.cli.app", "nbflow.cli.completion_command"),
    ("nbflow.cli.app", "nbflow.cli.job_commands"),
    ("nbflow.cli.app", "nbflow.cli.notebook_commands"),
    ("nbflow.cli.app", "nbflow.cli.project_commands"),
    ("nbflow.cli.app", "nbflow.cli.run_commands"),
    # nbflow's exports, each loaded on first use (`import nbflow` loads none of them)
    ("nbflow", "nbflow.config"),
    ("nbflow", "nbflow.definitions.dependency"),
    ("nbflow", "nbflow.definitions.executor"),
    ("nbflow", "nbflow.definitions.graph"),
    ("nbflow", "nbflow.definitions.job"),
    ("nbflow", "nbflow.definitions.op"),
    ("nbflow", "nbflow.definitions.resource"),
    ("nbflow", "nbflow.definitions.specs"),
    ("nbflow", "nbflow.errors"),
    ("nbflow", "nbflow.definitions.asset"),
    ("nbflow", "nbflow.definitions.asset_job"),
    ("nbflow", "nbflow.definitions.asset_key"),
    ("nbflow", "nbflow.definitions.config_mapping"),
    ("nbflow", "nbflow.definitions.dynamic"),
    ("nbflow", "nbflow.definitions.hook"),
    ("nbflow", "nbflow.definitions.input_manager"),
    ("nbflow", "nbflow.definitions.io_manager"),
    ("nbflow", "nbflow.definitions.json_logger"),
    ("nbflow", "nbflow.definitions.logger"),
    ("nbflow", "nbflow.definitions.partitioned_config"),
    ("nbflow", "nbflow.definitions.partitions"),
    ("nbflow", "nbflow.definitions.policy"),
    ("nbflow", "nbflow.definitions.source_asset"),
    ("nbflow", "nbflow.definitions.user_events"),
    ("nbflow", "nbflow.events"),
    ("nbflow", "nbflow.execution"),
    ("nbflow", "nbflow.storage"),
    ("nbflow", "nbflow.versioning.strategy"),
    # nbflow.definitions' exports that defining ops, graphs and jobs does not load
    ("nbflow.definitions", "nbflow.definitions.asset"),
    ("nbflow.definitions", "nbflow.definitions.asset_job"),
    ("nbflow.definitions", "nbflow.definitions.asset_key"),
    ("nbflow.definitions", "nbflow.definitions.config_mapping"),
    ("nbflow.definitions", "nbflow.definitions.hook"),
    ("nbflow.definitions", "nbflow.definitions.io_manager"),
    ("nbflow.definitions", "nbflow.definitions.logger"),
    ("nbflow.definitions", "nbflow.definitions.partitions"),
    ("nbflow.definitions", "nbflow.definitions.policy"),
    ("nbflow.definitions", "nbflow.definitions.source_asset"),
    ("nbflow.definitions", "nbflow.definitions.user_events"),
    # nbflow.execution loads every export on first use: a run loads only the engine
    ("nbflow.execution", "nbflow.execution.engine.builders"),
    ("nbflow.execution", "nbflow.execution.engine.context"),
    ("nbflow.execution", "nbflow.execution.engine.direct"),
    ("nbflow.execution", "nbflow.execution.engine.executor"),
    ("nbflow.execution", "nbflow.execution.engine.memo"),
    ("nbflow.execution", "nbflow.execution.engine.plan"),
    ("nbflow.execution", "nbflow.execution.engine.resources"),
    ("nbflow.execution", "nbflow.execution.engine.result"),
    ("nbflow.execution", "nbflow.execution.engine.run"),
    ("nbflow.execution", "nbflow.execution.execute_job"),
    ("nbflow.execution", "nbflow.execution.executors.reconstruct"),
    ("nbflow.execution", "nbflow.execution.materialize"),
    ("nbflow.execution", "nbflow.execution.reexecution"),
    ("nbflow.execution", "nbflow.execution.views.graph_dot"),
    ("nbflow.execution", "nbflow.execution.views.graph_view"),
    ("nbflow.execution", "nbflow.execution.views.list_versions"),
    # nbflow.versioning loads every export on first use
    ("nbflow.versioning", "nbflow.versioning.code_changes"),
    ("nbflow.versioning", "nbflow.versioning.code_record"),
    ("nbflow.versioning", "nbflow.versioning.code_version"),
    ("nbflow.versioning", "nbflow.versioning.code_walk"),
    ("nbflow.versioning", "nbflow.versioning.data_version"),
    ("nbflow.versioning", "nbflow.versioning.fingerprint"),
    ("nbflow.versioning", "nbflow.versioning.hashing"),
    ("nbflow.versioning", "nbflow.versioning.staleness"),
    ("nbflow.versioning", "nbflow.versioning.strategy"),
    ("nbflow.dask", "nbflow.dask.executor"),
    ("nbflow.definitions.executor", "nbflow.execution.engine.in_process"),
    ("nbflow.definitions.executor", "nbflow.execution.executors.multiprocess"),
    (
        "nbflow.execution.executors.multiprocess",
        "nbflow.execution.executors.step_process",
    ),  # fork server preload
    ("nbflow.execution.executors.reconstruct", "nbflow.notebook.reconstruct"),
    ("nbflow.notebook", "nbflow.execution.views.graph_dot"),
    ("nbflow.notebook", "nbflow.execution.views.graph_view"),
    ("nbflow.notebook", "nbflow.notebook._summarize"),
    ("nbflow.notebook", "nbflow.notebook.code_version"),
    ("nbflow.notebook", "nbflow.notebook.config_form_widget"),
    ("nbflow.notebook", "nbflow.notebook.dag"),
    ("nbflow.notebook", "nbflow.notebook.live"),
    ("nbflow.notebook", "nbflow.notebook.notebook_op"),
    ("nbflow.notebook", "nbflow.notebook.param_sweep"),
    ("nbflow.notebook", "nbflow.notebook.plan_display"),
    ("nbflow.notebook", "nbflow.notebook.reconstruct"),
    ("nbflow.notebook", "nbflow.notebook.results"),
    ("nbflow.notebook", "nbflow.notebook.run_display"),
    ("nbflow.notebook", "nbflow.notebook.run_history"),
    ("nbflow.notebook", "nbflow.notebook.runner"),
    ("nbflow.notebook", "nbflow.notebook.snapshot"),
    ("nbflow.notebook", "nbflow.notebook.summary"),
    ("nbflow.notebook", "nbflow.notebook.tables"),
    ("nbflow.notebook", "nbflow.notebook.rerun_reasons"),
    ("nbflow.notebook", "nbflow.notebook.error_display"),
    ("nbflow.notebook", "nbflow.notebook.run_explanation"),
    # A cache key named after the module whose objects it caches, not an import.
    ("nbflow.versioning.strategy", "nbflow.versioning.code_walk"),
}

# Named imports against the layer order, each with the reason it is allowed.
LAYER_EXCEPTIONS = {
    ("nbflow.definitions.executor", "nbflow.execution.engine.in_process"): (
        "the built-in executor definitions name their implementation; "
        "nbflow.execution.engine.executor.load_executor imports it when a run starts"
    ),
    ("nbflow.definitions.executor", "nbflow.execution.executors.multiprocess"): (
        "as above, for the multiprocess executors"
    ),
    ("nbflow.execution.executors.reconstruct", "nbflow.notebook.reconstruct"): (
        "a job defined in notebook cells is sent to step processes through the notebook "
        "layer's snapshot, imported only then and only if IPython is running"
    ),
}

# (module, function) that import a module whose name is computed, and what they import.
COMPUTED_IMPORTS = {
    ("nbflow._lazy_exports", "load"): (
        "a lazy export's module, from the LazyExports maps of nbflow, nbflow.definitions, "
        "nbflow.execution and nbflow.versioning"
    ),
    ("nbflow.notebook", "__getattr__"): "the names of nbflow.notebook's _LAZY map",
    (
        "nbflow.execution.engine.executor",
        "load_executor",
    ): "an executor definition's implementation",
    (
        "nbflow.execution.executors.reconstruct",
        "interactive_job_pointer",
    ): "INTERACTIVE_POINTER_MODULE",
    ("nbflow.execution.executors.reconstruct", "_import"): "the user's module a job pointer names",
    ("nbflow.cli.loading", "_load_module"): "the user's module given on the command line",
    ("nbflow.cli.command_tree", "load"): "a lazy command's module (nbflow.cli.app COMMANDS)",
    ("nbflow.versioning._code_readers", "find_module"): "a user module, to read its source",
}
_IMPORTERS = {"import_module", "__import__", "resolve_name", "find_spec"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    path = REPO.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _named_module(text: str) -> str | None:
    """The nbflow module ``text`` names (``"nbflow.a.b"`` or ``"nbflow.a.b:attr"``), if any."""
    if not _NAME.fullmatch(text):
        return None
    module = text.partition(":")[0]
    return module if _is_module(module) else None


@functools.cache
def _sources() -> dict[str, ast.Module]:
    return {
        _module_name(path): ast.parse(path.read_text(), str(path))
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def _string_imports() -> set[tuple[str, str]]:
    found = set()
    for module, tree in _sources().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                named = _named_module(node.value)
                if named is not None:
                    found.add((module, named))
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    groups = [project.get("scripts", {}), project.get("gui-scripts", {})]
    groups += project.get("entry-points", {}).values()
    for group in groups:
        for target in group.values():
            named = _named_module(target)
            assert named is not None, f"entry point {target!r} names no nbflow module"
            found.add((ENTRY_POINT, named))
    return found


def _computed_imports() -> set[tuple[str, str]]:
    """(module, function) of every import call whose module name is not a string literal."""
    found = set()
    for module, tree in _sources().items():
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        for function in functions:
            for node in ast.walk(function):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                callee = node.func
                name = callee.attr if isinstance(callee, ast.Attribute) else None
                name = callee.id if isinstance(callee, ast.Name) else name
                literal = isinstance(node.args[0], ast.Constant)
                if name in _IMPORTERS and not literal:
                    found.add((module, function.name))
    return found


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts: list[dict[str, object]] = config["contracts"]
    return contracts


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _layer_problem(importer: str, importee: str) -> str | None:
    """Why the layer contracts forbid ``importer`` to import ``importee``, or ``None``."""
    for contract in _contracts():
        if contract["type"] == "layers":
            layers = list(contract["layers"])  # type: ignore[call-overload]
            ignored = set(contract.get("ignore_imports", []))  # type: ignore[call-overload]
            if f"{importer} -> {importee}" in ignored:
                continue
            above = [i for i, layer in enumerate(layers) if _within(importer, layer)]
            below = [i for i, layer in enumerate(layers) if _within(importee, layer)]
            if above and below and below[0] < above[0]:
                return f"{contract['name']}: {layers[above[0]]} is below {layers[below[0]]}"
        if contract["type"] == "independence":
            modules = list(contract["modules"])  # type: ignore[call-overload]
            sides = {m for m in modules if _within(importer, m) or _within(importee, m)}
            if len(sides) > 1:
                return f"{contract['name']}: {' and '.join(sorted(sides))} are independent"
    return None


def test_every_string_import_of_nbflow_is_allow_listed() -> None:
    found = _string_imports()
    assert sorted(found - ALLOWED) == [], "string imports not in ALLOWED"
    assert sorted(ALLOWED - found) == [], "ALLOWED lists string imports that are gone"


def test_string_imports_obey_the_layers_or_are_named_exceptions() -> None:
    problems = {
        pair: problem
        for pair in _string_imports()
        if pair[0] != ENTRY_POINT and (problem := _layer_problem(*pair)) is not None
    }
    assert sorted(set(problems) - set(LAYER_EXCEPTIONS)) == [], problems
    assert sorted(set(LAYER_EXCEPTIONS) - set(problems)) == [], "exceptions no longer needed"


def test_every_import_by_computed_name_is_reviewed() -> None:
    assert _computed_imports() == set(COMPUTED_IMPORTS)


def test_layer_check_sees_an_upward_import() -> None:
    # The old engine hook: definitions imported the execution layer by name.
    assert _layer_problem("nbflow.definitions.job", "nbflow.execution") is not None
    assert _layer_problem("nbflow.notebook.dag", "nbflow.dask.executor") is not None
    assert _layer_problem("nbflow.execution.engine.run", "nbflow.storage.instance") is None
