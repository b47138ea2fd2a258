"""The only caller of papermill: execute a parameterized notebook node in a Jupyter kernel.

Through papermill's API (never its CLI), without a progress bar, with an explicit kernel
name, and with the kernel's working directory passed to nbclient rather than through
papermill's ``cwd=`` (which changes the whole process's directory and is not thread-safe).

The executed notebook keeps the input's kernelspec (papermill's behaviour); the kernel that
really ran it is recorded under ``metadata.nbflow.kernel``. A failing cell becomes
:class:`~nbflow.errors.NotebookRunError` with papermill's cell index, the exception's name
and value, and the path of the executed notebook.

Kernels are started by :mod:`nbflow.notebook.kernel_start` (Unix sockets in a private folder
where ZeroMQ has them, else TCP with a retry when a port was taken), so parallel runs never
take each other's addresses.

The kernel's own log (its stderr: start-up warnings, crash reports) goes to a temporary
file, not to this process's stderr: inside a Jupyter kernel that stderr is the calling
notebook's output, and every run would print the child kernel's warnings into it. When the
kernel dies or cannot start, the end of that log is part of the error.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbflow.errors import KernelNotFoundError, MissingExtraError, NotebookRunError
from nbflow.notebook.kernel_start import kernel_manager_class

try:
    import nbformat
    import papermill
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    from papermill.exceptions import PapermillExecutionError
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingExtraError.build(exc.name or "papermill", "notebook") from exc

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import IO

DEFAULT_KERNEL = "python3"
"""The kernel notebooks run with unless ``kernel_name=`` says otherwise."""

KERNEL_LOG_TAIL = 2000
"""How many characters of a dead kernel's log an error quotes."""


def _log_tail(log: IO[bytes]) -> str:
    log.flush()
    log.seek(0)
    text = log.read().decode("utf-8", errors="replace").strip()
    return text[-KERNEL_LOG_TAIL:]


def kernel_record(kernel_name: str) -> dict[str, Any]:
    """What nbflow records about a kernel: name, display name, language, argv, folder.

    Raises:
        KernelNotFoundError: no such kernel is installed (the message lists those that are).
    """
    manager = KernelSpecManager()
    try:
        spec = manager.get_kernel_spec(kernel_name)
    except NoSuchKernel:
        installed = sorted(manager.find_kernel_specs())
        raise KernelNotFoundError.build(kernel_name, installed) from None
    return {
        "name": kernel_name,
        "display_name": spec.display_name,
        "language": spec.language,
        "argv": list(spec.argv),
        "resource_dir": spec.resource_dir,
    }


def notebook_parameters(notebook_path: Path) -> list[dict[str, Any]] | None:
    """The parameters the notebook's ``parameters`` cell declares, as papermill infers them:
    ``name``, ``inferred_type_name``, ``default`` (source text) and ``help`` (the comment);
    ``None`` when no cell is tagged ``parameters``."""
    from papermill.inspection import inspect_notebook

    with notebook_path.open(encoding="utf-8") as handle:
        nb = nbformat.read(handle, as_version=4)  # type: ignore[no-untyped-call]
    if not any("parameters" in cell.get("metadata", {}).get("tags", ()) for cell in nb.cells):
        return None
    return list(inspect_notebook(str(notebook_path)).values())


def execute(
    nb: Any,
    *,
    notebook_path: Path,
    output_path: Path,
    kernel: Mapping[str, Any],
    extra_metadata: Mapping[str, Any] | None = None,
    cwd: Path | None = None,
    execution_timeout: float | None = None,
) -> Any:
    """Run the parameterized node ``nb`` with ``kernel``; write it to ``output_path``.

    The kernel starts in ``cwd``, by default the notebook's folder, so relative paths in it
    work as in Jupyter. ``execution_timeout``: seconds a cell may run (none: no limit).

    Returns:
        The executed notebook node.

    Raises:
        NotebookRunError: a cell raised, or the kernel died or could not start.
    """
    output_path.parent.mkdir(parents=True, exist_ok=True)
    nb.metadata["nbflow"] = {**(extra_metadata or {}), "kernel": dict(kernel)}
    with (
        tempfile.TemporaryFile() as kernel_log,
        tempfile.TemporaryDirectory(prefix="nbflow-kernel-") as sockets_dir,
    ):
        manager = kernel_manager_class(kernel_log, sockets_dir)
        options = {
            "resources": {"metadata": {"path": str(cwd or notebook_path.parent)}},
            "execution_timeout": execution_timeout,
            "kernel_manager_class": manager,
        }
        return _execute(nb, notebook_path, output_path, kernel, kernel_log, options)


def _execute(
    nb: Any,
    notebook_path: Path,
    output_path: Path,
    kernel: Mapping[str, Any],
    log: IO[bytes],
    options: Mapping[str, Any],
) -> Any:
    try:
        executed = papermill.execute_notebook(
            nb, str(output_path), kernel_name=kernel["name"], progress_bar=False, **options
        )
    except PapermillExecutionError as exc:
        _fix_input_path(None, output_path, notebook_path)
        raise NotebookRunError.build(
            notebook_path=str(notebook_path),
            output_path=str(output_path),
            cell_index=exc.cell_index,
            exec_count=exc.exec_count,
            ename=exc.ename,
            evalue=exc.evalue,
            traceback=exc.traceback,
            source=exc.source,
        ) from None
    except Exception as exc:  # the kernel died, timed out or never started
        if output_path.is_file():
            _fix_input_path(None, output_path, notebook_path)
        tail = _log_tail(log)
        raise NotebookRunError.build(
            notebook_path=str(notebook_path),
            output_path=str(output_path),
            cell_index=None,
            exec_count=None,
            ename=type(exc).__name__,
            evalue=f"{exc}\nThe kernel's log ends with:\n{tail}" if tail else str(exc),
        ) from exc
    return _fix_input_path(executed, output_path, notebook_path)


def _fix_input_path(nb: Any, output_path: Path, notebook_path: Path) -> Any:
    """papermill records the input node itself as ``input_path``; record the file instead."""
    if nb is None:
        with output_path.open(encoding="utf-8") as handle:
            nb = nbformat.read(handle, as_version=4)  # type: ignore[no-untyped-call]
    if "papermill" not in nb.metadata:
        nb.metadata["papermill"] = {}
    nb.metadata["papermill"]["input_path"] = str(notebook_path)
    write_notebook(nb, output_path)
    return nb


def write_notebook(nb: Any, path: Path) -> None:
    """Write ``nb`` to ``path`` atomically (a temporary file in the same folder, renamed)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            nbformat.write(nb, handle)  # type: ignore[no-untyped-call]
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
