"""``%load_ext nbflow.notebook``: rich display for jobs, graphs and run results.

Jobs run the ops as the cells define them now (a job built in an earlier cell picks up an op
redefined later, see :mod:`nbflow.definitions.redefinition`); the extension makes those
messages name cells.

Registers formatters with IPython's display-formatter registry, so the core classes never
learn about notebooks: jobs and graphs display as their DAG (``text/html``: the drawing fitted
to the output with its legend and zoom; ``image/svg+xml`` for viewers that show no HTML), run
results as a summary table with the DAG (``text/html``). A formatter that fails returns
``None`` (IPython then shows the plain ``repr``); it never prints a traceback.
"""

from __future__ import annotations

from typing import Any

from nbflow.definitions.graph import GraphDefinition
from nbflow.definitions.job import JobDefinition
from nbflow.execution.engine.result import ExecuteInProcessResult
from nbflow.notebook import _cell_location, error_display

SVG = "image/svg+xml"
HTML = "text/html"


def dag_svg(obj: Any) -> str | None:
    """The SVG of a job's or graph's DAG, or ``None`` if it cannot be drawn."""
    try:
        from nbflow.notebook.dag import DagDisplay

        return DagDisplay(obj).svg
    except Exception:
        return None


def dag_view_html(obj: Any) -> str | None:
    """The inline HTML of a job's or graph's DAG, or ``None`` if it cannot be drawn."""
    try:
        from nbflow.notebook.dag import DagDisplay

        return DagDisplay(obj).html()
    except Exception:
        return None


def run_html(result: Any) -> str | None:
    """The HTML summary of a run result, or ``None`` if it cannot be made."""
    try:
        from nbflow.notebook.summary import result_html

        return result_html(result)
    except Exception:
        return None


_REGISTERED: tuple[tuple[str, type, Any], ...] = (
    (SVG, JobDefinition, dag_svg),
    (SVG, GraphDefinition, dag_svg),
    (HTML, JobDefinition, dag_view_html),
    (HTML, GraphDefinition, dag_view_html),
    (HTML, ExecuteInProcessResult, run_html),
)


def load_ipython_extension(ipython: Any) -> None:
    """Register nbflow's display formatters with ``ipython`` (an ``InteractiveShell``), let
    messages about redefined ops name cells (``Cell In[5], line 1``) and show nbflow's errors
    short (:mod:`nbflow.notebook.error_display`)."""
    _cell_location.register()
    error_display.register(ipython)
    formatters = ipython.display_formatter.formatters
    for mimetype, cls, function in _REGISTERED:
        formatters[mimetype].for_type(cls, function)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove what :func:`load_ipython_extension` registered."""
    error_display.unregister(ipython)
    formatters = ipython.display_formatter.formatters
    for mimetype, cls, _ in _REGISTERED:
        formatters[mimetype].type_printers.pop(cls, None)
