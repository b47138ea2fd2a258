"""Running jobs: plans, op selection, contexts, the step engine, executors and results."""

import importlib
from typing import TYPE_CHECKING, Any

from nbflow.definitions.job import register_execution_engine
from nbflow.execution import run as _run
from nbflow.execution.context import HookContext, OpExecutionContext
from nbflow.execution.direct import build_op_context
from nbflow.execution.executor import Executor
from nbflow.execution.memo import MEMOIZED_RUN_TAG
from nbflow.execution.plan import ExecutionPlan, build_plan
from nbflow.execution.resources import InitResourceContext, Resources
from nbflow.execution.result import ExecuteInProcessResult
from nbflow.execution.run import validate_run_config

# Loaded on first use: step processes and plain in-process runs never need these.
_LAZY = {
    "execute_job": "nbflow.execution.execute_job",
    "to_dot": "nbflow.execution.graph_dot",
    "ClusterView": "nbflow.execution.graph_view",
    "EdgeView": "nbflow.execution.graph_view",
    "GraphView": "nbflow.execution.graph_view",
    "NodeView": "nbflow.execution.graph_view",
    "graph_view": "nbflow.execution.graph_view",
    "VersionRow": "nbflow.execution.list_versions",
    "list_versions": "nbflow.execution.list_versions",
    "materialize": "nbflow.execution.materialize",
    "materialize_to_memory": "nbflow.execution.materialize",
    "ReconstructableJob": "nbflow.execution.reconstruct",
    "build_reconstructable_job": "nbflow.execution.reconstruct",
    "reconstructable": "nbflow.execution.reconstruct",
}

if TYPE_CHECKING:
    from nbflow.execution.execute_job import execute_job
    from nbflow.execution.graph_dot import to_dot
    from nbflow.execution.graph_view import (
        ClusterView,
        EdgeView,
        GraphView,
        NodeView,
        graph_view,
    )
    from nbflow.execution.list_versions import VersionRow, list_versions
    from nbflow.execution.materialize import materialize, materialize_to_memory
    from nbflow.execution.reconstruct import (
        ReconstructableJob,
        build_reconstructable_job,
        reconstructable,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nbflow.execution' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


class _Engine:
    """Lets ``JobDefinition.execute_in_process`` reach this layer."""

    def execute_in_process(self, job_def, **kwargs):  # type: ignore[no-untyped-def]
        return _run.execute_in_process(job_def, **kwargs)


register_execution_engine(_Engine())

__all__ = [
    "MEMOIZED_RUN_TAG",
    "ClusterView",
    "EdgeView",
    "ExecuteInProcessResult",
    "ExecutionPlan",
    "Executor",
    "GraphView",
    "HookContext",
    "InitResourceContext",
    "NodeView",
    "OpExecutionContext",
    "ReconstructableJob",
    "Resources",
    "VersionRow",
    "build_op_context",
    "build_plan",
    "build_reconstructable_job",
    "execute_job",
    "graph_view",
    "list_versions",
    "materialize",
    "materialize_to_memory",
    "reconstructable",
    "to_dot",
    "validate_run_config",
]
