"""The code version of a notebook: a hash of its code cells' sources, nothing else.

Left out on purpose: markdown and raw cells, outputs, execution counts, cell and notebook
metadata (kernelspec, tags, widths), cell ids, blank code cells, and a cell papermill or
nbflow injected (tagged ``injected-parameters``). So re-saving a notebook after running it,
or editing its prose, keeps its version; editing any code cell (the parameters cell
included) changes it.
The kernel a notebook runs with is not part of it either.

Reading the file is cached by its size, modification and change times and inode, so asking again for
the version of an unchanged notebook costs one ``stat``.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from nbflow.errors import InvalidNotebookError, NotebookNotFoundError
from nbflow.versioning import hash_parts

NOTEBOOK_CODE_DOMAIN = "nbflow.notebook.code.v1"
"""Domain tag of notebook code versions (see :func:`nbflow.versioning.hash_parts`)."""

INJECTED_TAG = "injected-parameters"

_cache: dict[str, tuple[tuple[int, ...], str]] = {}
_lock = threading.Lock()


def resolve_notebook(path: str | os.PathLike[str]) -> Path:
    """The absolute path of an existing notebook file.

    Raises:
        NotebookNotFoundError: no file there (the message names the path).
    """
    given = os.fspath(path)
    resolved = Path(given).expanduser().absolute()
    if not resolved.is_file():
        raise NotebookNotFoundError.build(given, str(resolved))
    return resolved


def read_notebook_json(path: Path) -> dict[str, Any]:
    """The notebook's JSON document (nbformat 4), without nbformat's validation cost.

    Notebooks in nbformat 3 or older are converted by nbformat.

    Raises:
        InvalidNotebookError: not JSON, or not a notebook with a list of cells.
    """
    try:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text)
        if isinstance(document, dict) and "worksheets" in document:  # nbformat 3 and older
            import nbformat

            document = nbformat.reads(text, as_version=4)  # type: ignore[no-untyped-call]
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidNotebookError.build(str(path), f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:  # nbformat could not convert it
        raise InvalidNotebookError.build(str(path), f"{type(exc).__name__}: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise InvalidNotebookError.build(str(path), "it has no list of 'cells'")
    return document


def code_sources(document: dict[str, Any]) -> list[str]:
    """The source of every non-blank code cell, in order, without injected parameter cells."""
    sources: list[str] = []
    for cell in document["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        tags = (cell.get("metadata") or {}).get("tags") or ()
        if INJECTED_TAG in tags:
            continue
        source = cell.get("source", "")
        text = source if isinstance(source, str) else "".join(source)
        if text.strip():
            sources.append(text)
    return sources


def notebook_code_version(path: str | os.PathLike[str]) -> str:
    """The code version of the notebook at ``path`` (40 hex characters).

    Examples:
        A notebook whose only code cell is ``x = 1`` has the version
        ``hash_parts("nbflow.notebook.code.v1", "x = 1")[:40]``.

    Raises:
        NotebookNotFoundError: no file at ``path``.
        InvalidNotebookError: the file is not a notebook.
    """
    resolved = resolve_notebook(path)
    stat = resolved.stat()
    key = str(resolved)
    signature = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
    with _lock:
        cached = _cache.get(key)
    if cached is not None and cached[0] == signature:
        return cached[1]
    version = hash_parts(NOTEBOOK_CODE_DOMAIN, *code_sources(read_notebook_json(resolved)))[:40]
    with _lock:
        _cache[key] = (signature, version)
    return version
