"""Running jobs: plans, op selection, contexts, the step engine, executors and results."""

from typing import TYPE_CHECKING, Any

from nbflow._lazy_exports import LazyExports

if TYPE_CHECKING:
    from nbflow.execution.engine.builders import (
        build_hook_context,
        build_init_resource_context,
        build_input_context,
        build_output_context,
        instance_for_test,
    )
    from nbflow.execution.engine.context import HookContext, OpExecutionContext
    from nbflow.execution.engine.direct import build_op_context
    from nbflow.execution.engine.executor import Executor
    from nbflow.execution.engine.memo import MEMOIZED_RUN_TAG
    from nbflow.execution.engine.plan import ExecutionPlan, build_plan
    from nbflow.execution.engine.resources import InitResourceContext, Resources
    from nbflow.execution.engine.result import ExecuteInProcessResult
    from nbflow.execution.engine.run import validate_run_config
    from nbflow.execution.execute_job import execute_job
    from nbflow.execution.executors.reconstruct import (
        ReconstructableJob,
        build_reconstructable_job,
        reconstructable,
    )
    from nbflow.execution.materialize import materialize, materialize_to_memory
    from nbflow.execution.reexecution import ReexecutionOptions
    from nbflow.execution.views.graph_dot import to_dot
    from nbflow.execution.views.graph_view import (
        ClusterView,
        EdgeView,
        GraphView,
        NodeView,
        graph_view,
    )
    from nbflow.execution.views.list_versions import VersionRow, list_versions

# Each name loads its module on first use: a run loads the engine it needs, not the views, the
# out-of-process executors' reconstruction or materialize.
_EXPORTS = LazyExports(
    __name__,
    {
        "build_hook_context": "nbflow.execution.engine.builders",
        "build_init_resource_context": "nbflow.execution.engine.builders",
        "build_input_context": "nbflow.execution.engine.builders",
        "build_output_context": "nbflow.execution.engine.builders",
        "instance_for_test": "nbflow.execution.engine.builders",
        "HookContext": "nbflow.execution.engine.context",
        "OpExecutionContext": "nbflow.execution.engine.context",
        "build_op_context": "nbflow.execution.engine.direct",
        "Executor": "nbflow.execution.engine.executor",
        "MEMOIZED_RUN_TAG": "nbflow.execution.engine.memo",
        "ExecutionPlan": "nbflow.execution.engine.plan",
        "build_plan": "nbflow.execution.engine.plan",
        "InitResourceContext": "nbflow.execution.engine.resources",
        "Resources": "nbflow.execution.engine.resources",
        "ExecuteInProcessResult": "nbflow.execution.engine.result",
        "validate_run_config": "nbflow.execution.engine.run",
        "execute_job": "nbflow.execution.execute_job",
        "ReconstructableJob": "nbflow.execution.executors.reconstruct",
        "build_reconstructable_job": "nbflow.execution.executors.reconstruct",
        "reconstructable": "nbflow.execution.executors.reconstruct",
        "materialize": "nbflow.execution.materialize",
        "materialize_to_memory": "nbflow.execution.materialize",
        "ReexecutionOptions": "nbflow.execution.reexecution",
        "to_dot": "nbflow.execution.views.graph_dot",
        "ClusterView": "nbflow.execution.views.graph_view",
        "EdgeView": "nbflow.execution.views.graph_view",
        "GraphView": "nbflow.execution.views.graph_view",
        "NodeView": "nbflow.execution.views.graph_view",
        "graph_view": "nbflow.execution.views.graph_view",
        "VersionRow": "nbflow.execution.views.list_versions",
        "list_versions": "nbflow.execution.views.list_versions",
    },
)


def __getattr__(name: str) -> Any:
    return _EXPORTS.load(name)


def __dir__() -> list[str]:
    return _EXPORTS.listing(globals())


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
    "ReexecutionOptions",
    "Resources",
    "VersionRow",
    "build_hook_context",
    "build_init_resource_context",
    "build_input_context",
    "build_op_context",
    "build_output_context",
    "build_plan",
    "build_reconstructable_job",
    "execute_job",
    "graph_view",
    "instance_for_test",
    "list_versions",
    "materialize",
    "materialize_to_memory",
    "reconstructable",
    "to_dot",
    "validate_run_config",
]
