"""A new nbflow project from the template shipped in the package (``nbflow new DIR``).

The template (``nbflow/templates/project/``) holds a job module, a notebook that explores it,
a run config and a README; ``create_project`` copies it into a new or empty folder.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from nbflow.errors import ProjectDirectoryError

if TYPE_CHECKING:
    import os

__all__ = ["TEMPLATE_FILES", "create_project"]

# What a new project holds, in the order the README presents it.
TEMPLATE_FILES = ("README.md", "pipeline.py", "config.yaml", "explore.ipynb")


def create_project(directory: str | os.PathLike[str]) -> list[Path]:
    """Write a new project into ``directory`` (created if missing) and return its files.

    The project runs as it is: ``nbflow job execute -f pipeline.py -c config.yaml`` inside it.
    Raises ``ProjectDirectoryError`` when ``directory`` is a file or a folder that is not empty;
    nothing is written then.
    """
    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise ProjectDirectoryError.not_a_folder(str(target))
    if target.is_dir():
        entries = sorted(entry.name for entry in target.iterdir())
        if entries:
            raise ProjectDirectoryError.not_empty(str(target), entries)
    target.mkdir(parents=True, exist_ok=True)
    template = resources.files("nbflow").joinpath("templates", "project")
    written = []
    for name in TEMPLATE_FILES:
        path = target / name
        path.write_bytes(template.joinpath(name).read_bytes())
        written.append(path)
    return written
