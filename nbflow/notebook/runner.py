"""``run_notebook``: run one notebook with parameters and get back what it yielded.

The recipe every notebook run follows (the notebook op and sweeps call it too): find the
notebook, check the kernel, load it, check and inject the parameters, execute it through
papermill, read the yielded results from the executed notebook.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbflow.notebook.papermill as _papermill
from nbflow.errors import UnversionableValueError
from nbflow.notebook.code_version import notebook_code_version, resolve_notebook
from nbflow.notebook.injection import check_parameters, inject_parameters, load_notebook
from nbflow.notebook.parameters import json_safe
from nbflow.notebook.results import results_from_notebook
from nbflow.storage.instance import DEFAULT_HOME, HOME_ENV_VAR
from nbflow.versioning import fingerprint, hash_parts

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True)
class NotebookRun:
    """One executed notebook.

    Attributes:
        notebook_path: the notebook that ran (absolute).
        output_path: the executed notebook, with outputs (absolute).
        parameters: the parameters injected.
        results: what the notebook yielded, ``{output_name: value}``.
        kernel: the kernel that ran it (name, display_name, language, argv, resource_dir).
        code_version: the notebook's code version (see ``notebook_code_version``).
        duration_s: wall time of the run, kernel start included.
    """

    notebook_path: str
    output_path: str
    parameters: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    kernel: dict[str, Any] = field(default_factory=dict)
    code_version: str = ""
    duration_s: float = 0.0

    @property
    def kernel_name(self) -> str:
        return str(self.kernel.get("name", ""))


def notebooks_home() -> Path:
    """Where executed notebooks go by default: ``$NBFLOW_HOME/notebooks``, else
    ``./.nbflow/notebooks``."""
    home = os.environ.get(HOME_ENV_VAR, "").strip() or DEFAULT_HOME
    return Path(home).expanduser().absolute() / "notebooks"


def parameters_key(parameters: Mapping[str, Any]) -> str:
    """A stable hash of a parameter set (key order never matters).

    Raises:
        UnversionableValueError: a value has no stable fingerprint.
    """
    return hash_parts("nbflow.notebook.parameters.v1", fingerprint(dict(parameters)))[:16]


def _default_output(source: Path, parameters: Mapping[str, Any]) -> Path:
    try:
        tail = parameters_key(parameters)
    except UnversionableValueError:
        tail = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
    return notebooks_home() / "runs" / f"{source.stem}-{tail}.ipynb"


def run_notebook(
    path: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    output_path: str | os.PathLike[str] | None = None,
    kernel_name: str | None = None,
    *,
    warn: bool = True,
    cwd: str | os.PathLike[str] | None = None,
    execution_timeout: float | None = None,
) -> NotebookRun:
    """Run the notebook at ``path`` with ``parameters`` injected; keep the executed copy.

    Args:
        path: the notebook to run.
        parameters: values for the notebook's variables (see ``nbflow.notebook.parameters``
            for how they are passed: literals for plain data, pickles otherwise).
        output_path: where to write the executed notebook; default
            ``<notebooks_home()>/runs/<name>-<parameters hash>.ipynb``.
        kernel_name: the Jupyter kernel; default ``"python3"``.
        warn: warn about a missing ``parameters`` cell or undeclared parameters.
        cwd: the folder the kernel starts in; default the notebook's folder.
        execution_timeout: seconds each cell may run; a slower cell fails the run with
            ``NotebookRunError`` (default: no limit).

    Returns:
        A :class:`NotebookRun` with the yielded results and where the executed notebook is.

    Raises:
        NotebookNotFoundError: no notebook at ``path``.
        KernelNotFoundError: the kernel is not installed.
        NotebookParameterError: a parameter name is not an identifier.
        NotebookRunError: a cell raised.

    Examples:
        >>> run = run_notebook("report.ipynb", {"alpha": 0.1})  # doctest: +SKIP
        >>> run.results["result"], run.output_path  # doctest: +SKIP
    """
    started = time.perf_counter()
    source = resolve_notebook(path)
    params = dict(parameters or {})
    kernel = _papermill.kernel_record(kernel_name or _papermill.DEFAULT_KERNEL)
    nb = load_notebook(source)
    check_parameters(nb, params, source.name, warn=warn)
    code_version = notebook_code_version(source)
    target = (
        Path(output_path).expanduser().absolute()
        if output_path is not None
        else _default_output(source, params)
    )
    executed = _papermill.execute(
        inject_parameters(nb, params, source.name),
        notebook_path=source,
        output_path=target,
        kernel=kernel,
        extra_metadata={"code_version": code_version, "parameters": json_safe(params)},
        cwd=None if cwd is None else Path(cwd).expanduser().absolute(),
        execution_timeout=execution_timeout,
    )
    return NotebookRun(
        notebook_path=str(source),
        output_path=str(target),
        parameters=params,
        results=results_from_notebook(executed, str(target)),
        kernel=kernel,
        code_version=code_version,
        duration_s=time.perf_counter() - started,
    )
