"""Put parameters into a notebook: one injected cell after the cell tagged ``parameters``.

Follows papermill's layout (the new cell is tagged ``injected-parameters``; a cell with that
tag left by an earlier run is replaced; parameters go into
``metadata.papermill.parameters``) but renders the cell with
:func:`nbflow.notebook.parameters.render_parameters`, so values are data, never code.

Warnings (:class:`~nbflow.errors.NotebookParameterWarning`): a notebook without a
``parameters`` cell gets its parameters at the top; a parameter the ``parameters`` cell does
not assign is injected anyway, and the warning names the declared ones.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from nbflow.errors import (
    InvalidNotebookError,
    MissingExtraError,
    NotebookParameterError,
    NotebookParameterWarning,
    did_you_mean,
)
from nbflow.notebook.code_version import INJECTED_TAG
from nbflow.notebook.parameters import (
    UnrenderableValueError,
    bad_parameter_names,
    declared_parameters,
    json_safe,
    render_parameters,
)

try:
    import nbformat
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingExtraError.build("nbformat", "notebook") from exc

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

PARAMETERS_TAG = "parameters"


def load_notebook(path: Path) -> Any:
    """The notebook at ``path`` (an existing file) as an nbformat 4 node.

    Raises:
        InvalidNotebookError: the file is not a notebook.
    """
    try:
        with path.open(encoding="utf-8") as handle:
            return nbformat.read(handle, as_version=4)  # type: ignore[no-untyped-call]
    except Exception as exc:
        raise InvalidNotebookError.build(str(path), f"{type(exc).__name__}: {exc}") from None


def _tagged(nb: Any, tag: str) -> int:
    for index, cell in enumerate(nb.cells):
        if tag in (cell.get("metadata", {}).get("tags") or ()):
            return index
    return -1


def check_parameters(nb: Any, parameters: Mapping[str, Any], label: str, warn: bool = True) -> None:
    """Refuse names that cannot be variables; warn about undeclared ones.

    Raises:
        NotebookParameterError: naming every bad name.
    """
    bad = bad_parameter_names(parameters)
    if bad:
        raise NotebookParameterError.bad_names(label, bad)
    if not warn or not parameters:
        return
    index = _tagged(nb, PARAMETERS_TAG)
    if index < 0:
        warnings.warn(
            f"Notebook {label!r} has no cell tagged 'parameters', so its {len(parameters)} "
            "parameter(s) are injected at the top of the notebook.\nFix: tag the cell that sets "
            "the defaults with 'parameters' (JupyterLab: Property Inspector > Cell Tags).",
            NotebookParameterWarning,
            stacklevel=3,
        )
        return
    declared = declared_parameters(nb.cells[index].source)
    unknown = [name for name in parameters if name not in declared]
    if unknown:
        hints = "".join(did_you_mean(name, declared) for name in unknown)
        warnings.warn(
            f"Notebook {label!r} got parameter(s) {', '.join(map(repr, unknown))} that its "
            f"parameters cell does not assign (it declares: "
            f"{', '.join(map(repr, declared)) or 'nothing'}); they are injected anyway.{hints}\n"
            "Fix: check the spelling, or add a default for each to the 'parameters' cell.",
            NotebookParameterWarning,
            stacklevel=3,
        )


def inject_parameters(nb: Any, parameters: Mapping[str, Any], label: str = "notebook") -> Any:
    """``nb`` with an ``injected-parameters`` cell holding ``parameters`` (nb is changed).

    Raises:
        NotebookParameterError: a value is neither plain data nor picklable.
    """
    if "papermill" not in nb.metadata:
        nb.metadata["papermill"] = {}
    nb.metadata["papermill"]["parameters"] = json_safe(parameters)
    injected = _tagged(nb, INJECTED_TAG)
    if injected >= 0:
        del nb.cells[injected]
    if not parameters:
        return nb
    cell = nbformat.v4.new_code_cell(source=_render(parameters, label))  # type: ignore[no-untyped-call]
    cell.metadata["tags"] = [INJECTED_TAG]
    nb.cells.insert(_tagged(nb, PARAMETERS_TAG) + 1, cell)
    return nb


def _render(parameters: Mapping[str, Any], label: str) -> str:
    try:
        return render_parameters(parameters)
    except UnrenderableValueError as exc:
        raise NotebookParameterError.unpicklable(label, exc.name, exc.cause) from exc.cause
