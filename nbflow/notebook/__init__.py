"""nbflow in notebooks: DAG drawings, version tables, memo plans and run summaries.

Use it as ``import nbflow.notebook as nbn``. ``nbn.why(job, "step")`` says why a step must
run again, with a diff of the code that changed. Names load their submodule on first use, so
``nbn.show_graph`` does not import pandas. ``%load_ext nbflow.notebook`` makes jobs, graphs
and run results display richly.

Errors: in IPython (a Jupyter kernel), importing this package makes nbflow's errors show as
the user's own frames (cell and line) and the message with its fix, nbflow's frames left out;
``nbn.show_tracebacks(True)`` (or ``%tb`` for the last one) shows them in full. See
:mod:`nbflow.notebook.error_display`. ``nbn.explain(job)`` tells step by step what a run does
and why (what runs, what is reused from storage).

Run history: ``nbn.runs()`` lists recent runs as a DataFrame and ``nbn.show_run(run_id)``
shows one run's DAG, timeline, steps, logs and tracebacks.

Notebooks as ops: ``define_notebook_op`` runs a notebook (through papermill) as a step of a
job, ``run_notebook`` runs one with parameters, ``sweep`` runs a parameter grid, and inside a
notebook ``yield_result`` hands values back (``read_results`` reads them from a file).
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from nbflow.notebook import _cell_location

_cell_location.register()  # messages about redefined ops name the cell ("Cell In[5]")


def _register_error_display() -> None:
    """In a running IPython shell, show nbflow's errors short (see ``error_display``)."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    if shell is not None:
        from nbflow.notebook import error_display

        error_display.register(shell)


_register_error_display()

_LAZY = {
    "DagDisplay": "nbflow.notebook.dag",
    "Drawing": "nbflow.notebook.dag",
    "draw_svg": "nbflow.notebook.dag",
    "render": "nbflow.notebook.dag",
    "show_graph": "nbflow.notebook.dag",
    "summarize": "nbflow.notebook._summarize",
    "show_tracebacks": "nbflow.notebook.error_display",
    "Explanation": "nbflow.notebook.run_explanation",
    "explain": "nbflow.notebook.run_explanation",
    "ResultDisplay": "nbflow.notebook.summary",
    "result_html": "nbflow.notebook.summary",
    "show_result": "nbflow.notebook.summary",
    "compare_configs": "nbflow.notebook.tables",
    "result_frame": "nbflow.notebook.tables",
    "version_table": "nbflow.notebook.tables",
    "PlanDisplay": "nbflow.notebook.plan_display",
    "plan": "nbflow.notebook.plan_display",
    "Why": "nbflow.notebook.rerun_reasons",
    "why": "nbflow.notebook.rerun_reasons",
    "GraphView": "nbflow.execution.views.graph_view",
    "graph_view": "nbflow.execution.views.graph_view",
    "to_dot": "nbflow.execution.views.graph_dot",
    # notebooks as ops and parameterized notebook runs
    "NotebookOpDefinition": "nbflow.notebook.notebook_op",
    "define_notebook_op": "nbflow.notebook.notebook_op",
    "NotebookRun": "nbflow.notebook.runner",
    "run_notebook": "nbflow.notebook.runner",
    "RESULT_MIME": "nbflow.notebook.results",
    "read_results": "nbflow.notebook.results",
    "yield_result": "nbflow.notebook.results",
    "notebook_code_version": "nbflow.notebook.code_version",
    "SweepResult": "nbflow.notebook.param_sweep",
    "SweepRow": "nbflow.notebook.param_sweep",
    "parameter_grid": "nbflow.notebook.param_sweep",
    "sweep": "nbflow.notebook.param_sweep",
    # notebook-defined jobs in other processes: snapshot modules of the defining cells
    "reconstructable": "nbflow.notebook.reconstruct",
    "Snapshot": "nbflow.notebook.snapshot",
    "SnapshotError": "nbflow.notebook.snapshot",
    "snapshot_job": "nbflow.notebook.snapshot",
    "write_snapshot": "nbflow.notebook.snapshot",
    # live runs and config forms
    "LiveRun": "nbflow.notebook.live",
    "LiveView": "nbflow.notebook.live",
    "run": "nbflow.notebook.live",
    "start": "nbflow.notebook.live",
    "ConfigForm": "nbflow.notebook.config_form_widget",
    "config_form": "nbflow.notebook.config_form_widget",
    # the run history: recent runs, one run's report
    "runs": "nbflow.notebook.run_history",
    "RunDisplay": "nbflow.notebook.run_display",
    "show_run": "nbflow.notebook.run_display",
}

if TYPE_CHECKING:
    from nbflow.execution.views.graph_dot import to_dot
    from nbflow.execution.views.graph_view import GraphView, graph_view
    from nbflow.notebook._summarize import summarize
    from nbflow.notebook.code_version import notebook_code_version
    from nbflow.notebook.config_form_widget import ConfigForm, config_form
    from nbflow.notebook.dag import DagDisplay, Drawing, draw_svg, render, show_graph
    from nbflow.notebook.error_display import show_tracebacks
    from nbflow.notebook.live import LiveRun, LiveView, run, start
    from nbflow.notebook.notebook_op import NotebookOpDefinition, define_notebook_op
    from nbflow.notebook.param_sweep import SweepResult, SweepRow, parameter_grid, sweep
    from nbflow.notebook.plan_display import PlanDisplay, plan
    from nbflow.notebook.reconstruct import reconstructable
    from nbflow.notebook.rerun_reasons import Why, why
    from nbflow.notebook.results import RESULT_MIME, read_results, yield_result
    from nbflow.notebook.run_display import RunDisplay, show_run
    from nbflow.notebook.run_explanation import Explanation, explain
    from nbflow.notebook.run_history import runs
    from nbflow.notebook.runner import NotebookRun, run_notebook
    from nbflow.notebook.snapshot import Snapshot, SnapshotError, snapshot_job, write_snapshot
    from nbflow.notebook.summary import ResultDisplay, result_html, show_result
    from nbflow.notebook.tables import compare_configs, result_frame, version_table


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nbflow.notebook' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext nbflow.notebook``: jobs, graphs and run results display richly."""
    from nbflow.notebook._ipython import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext nbflow.notebook``: back to plain reprs."""
    from nbflow.notebook._ipython import unload_ipython_extension as unload

    unload(ipython)


__all__ = [
    "RESULT_MIME",
    "ConfigForm",
    "DagDisplay",
    "Drawing",
    "Explanation",
    "GraphView",
    "LiveRun",
    "LiveView",
    "NotebookOpDefinition",
    "NotebookRun",
    "PlanDisplay",
    "ResultDisplay",
    "RunDisplay",
    "Snapshot",
    "SnapshotError",
    "SweepResult",
    "SweepRow",
    "Why",
    "compare_configs",
    "config_form",
    "define_notebook_op",
    "draw_svg",
    "explain",
    "graph_view",
    "load_ipython_extension",
    "notebook_code_version",
    "parameter_grid",
    "plan",
    "read_results",
    "reconstructable",
    "render",
    "result_frame",
    "result_html",
    "run",
    "run_notebook",
    "runs",
    "show_graph",
    "show_result",
    "show_run",
    "show_tracebacks",
    "snapshot_job",
    "start",
    "summarize",
    "sweep",
    "to_dot",
    "unload_ipython_extension",
    "version_table",
    "why",
    "write_snapshot",
    "yield_result",
]
