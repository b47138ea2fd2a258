"""The API reference pages of the docs site: every public name, documented from its docstring.

One page per public module (``nbflow``, ``nbflow.notebook``, ``nbflow.dask``,
``nbflow.scaffold``), made from the module's ``__all__`` when the docs are built
(``scripts/docs_hooks.py``). Each class and function is rendered by mkdocstrings from where
it is defined (a name such as ``nbflow.op`` shares its name with the module that defines it,
which a static reading of the package would take instead); other values (IO managers,
executors and constants built once) get their description.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

# page -> (module, what the page says first)
PAGES = {
    "reference/nbflow.md": (
        "nbflow",
        "Everything `import nbflow` gives: definitions, config, running, storage, versioning, "
        "events. [The summary](../api.md) lists the same names on one page.",
    ),
    "reference/notebook.md": (
        "nbflow.notebook",
        'The notebook layer (`pip install "nbflowkit[notebook]"`): drawing, tables, live runs, '
        "config forms, parameterized notebooks and notebooks as ops.",
    ),
    "reference/dask.md": (
        "nbflow.dask",
        'The Dask executor (`pip install "nbflowkit[dask]"`).',
    ),
    "reference/scaffold.md": (
        "nbflow.scaffold",
        "New projects from the template shipped in the package.",
    ),
}


def _api_reference() -> Any:
    path = ROOT / "scripts" / "api_reference.py"
    spec = importlib.util.spec_from_file_location("api_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def public_value(module: types.ModuleType, name: str) -> Any:
    """``module.name``; when a submodule of that name hides it, the name inside that module."""
    value = getattr(module, name)
    if isinstance(value, types.ModuleType) and hasattr(value, name):
        value = getattr(value, name)
    return value


def entry(module: types.ModuleType, name: str, summary: str) -> str:
    """The Markdown for one public name."""
    value = public_value(module, name)
    defined_in = getattr(value, "__module__", None)
    is_code = inspect.isclass(value) or inspect.isroutine(value)
    if defined_in == "nbflow.errors":  # documented once, on the errors page
        target = f"nbflow.errors.{value.__qualname__}"
        return f"### `{name}`\n\n{summary} See [`{target}`][{target}].\n"
    if is_code and str(defined_in).startswith("nbflow") and "<locals>" not in value.__qualname__:
        return (
            f"::: {defined_in}.{value.__qualname__}\n"
            "    options:\n"
            "      heading_level: 3\n"
            "      show_root_full_path: false\n"
        )
    if is_code:  # made by a factory: its signature and docstring, as Python reports them
        signature = f"```python\n{name}{inspect.signature(value)}\n```\n\n"
        return f"### `{name}`\n\n{signature}{inspect.getdoc(value) or summary}\n"
    kind = type(value).__name__
    return f"### `{name}`\n\n{summary or ''}\n\n*{kind}*\n"


def page(path: str) -> str:
    """The Markdown of one reference page of ``PAGES``."""
    module_name, intro = PAGES[path]
    module = importlib.import_module(module_name)
    api = _api_reference()
    parts = [f"# `{module_name}`\n", intro + "\n"]
    if module_name == "nbflow":
        current = None
        for title, name, summary in api.entries():
            if name.startswith("errors."):
                continue
            if title != current:
                parts.append(f"## {title}\n")
                current = title
            parts.append(entry(module, name, summary))
    else:
        for name in module.__all__:
            parts.append(entry(module, name, api.summary(name, public_value(module, name))))
    return "\n".join(parts)
