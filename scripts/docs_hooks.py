"""mkdocs hooks (``hooks:`` in ``mkdocs.yml``): pages the docs site takes from elsewhere.

- the six tutorials of ``notebooks/`` appear as ``notebooks/*.ipynb`` (mkdocs-jupyter renders
  them without running them), so the notebooks keep one home;
- ``cli.md``, the CLI reference, is made at build time by running every command's ``--help``
  (``scripts/cli_reference.py``), so it always matches the installed command line;
- the API reference pages ``reference/*.md`` list every public name (``scripts/api_pages.py``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "notebooks"


def _script(name: str) -> Any:
    """A module of ``scripts/`` (not a package), loaded by its path."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Before mkdocs-jupyter's own on_files, which turns the .ipynb files it is given into pages.
@event_priority(100)
def on_files(files: Files, config: Any) -> Files:
    for notebook in sorted(TUTORIALS.glob("[0-9][0-9]-*.ipynb")):
        files.append(
            File(
                f"notebooks/{notebook.name}",
                src_dir=str(ROOT),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    files.append(File.generated(config, "cli.md", content=_script("cli_reference").reference()))
    api_pages = _script("api_pages")
    for path in api_pages.PAGES:
        files.append(File.generated(config, path, content=api_pages.page(path)))
    return files
