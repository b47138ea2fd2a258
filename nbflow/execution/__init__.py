"""Running jobs: plans, op selection, contexts, the step engine, executors and results."""

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
from nbflow.execution.views.graph_view import ClusterView, EdgeView, GraphView, NodeView, graph_view
from nbflow.execution.views.list_versions import VersionRow, list_versions

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
