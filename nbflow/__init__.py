"""nbflow: notebook-centric orchestration with versioned, memoized execution.

Define ops, graphs, jobs and resources; run them in-process (or beyond); every op output
gets a version, and steps whose outputs are stored with that version are skipped.
"""

import importlib
from typing import TYPE_CHECKING
from typing import Any as _AnyType

from nbflow.config import Any, Array, Enum, EnumValue, Field, Noneable, Permissive, Selector, Shape
from nbflow.definitions import (
    AssetKey,
    AssetMaterialization,
    AssetObservation,
    Backoff,
    ConfigMapping,
    DependencyDefinition,
    ExecutorDefinition,
    ExpectationResult,
    GraphDefinition,
    HookDefinition,
    In,
    InputContext,
    InputMapping,
    IOManager,
    IOManagerDefinition,
    Jitter,
    JobDefinition,
    LoggerDefinition,
    MemoizableIOManager,
    NodeInvocation,
    OpDefinition,
    Out,
    Output,
    OutputContext,
    OutputMapping,
    PartitionsDefinition,
    ResourceDefinition,
    RetryPolicy,
    StaticPartitionsDefinition,
    failure_hook,
    graph,
    in_process_executor,
    io_manager,
    job,
    logger,
    op,
    resource,
    success_hook,
)
from nbflow.errors import NbflowError, RetryRequested
from nbflow.events import Event, EventType
from nbflow.versioning import (
    OpVersionContext,
    ResourceVersionContext,
    SourceHashVersionStrategy,
    VersionStrategy,
)

__version__ = "0.1.0"

# Running and storing load on first use, so defining ops in a cell stays cheap.
_LAZY = {
    "MEMOIZED_RUN_TAG": "nbflow.execution",
    "ExecuteInProcessResult": "nbflow.execution",
    "HookContext": "nbflow.execution",
    "InitResourceContext": "nbflow.execution",
    "OpExecutionContext": "nbflow.execution",
    "VersionRow": "nbflow.execution",
    "build_op_context": "nbflow.execution",
    "list_versions": "nbflow.execution",
    "validate_run_config": "nbflow.execution",
    "Instance": "nbflow.storage",
    "Run": "nbflow.storage",
    "RunStatus": "nbflow.storage",
    "fs_io_manager": "nbflow.storage",
    "mem_io_manager": "nbflow.storage",
    "versioned_filesystem_io_manager": "nbflow.storage",
}

if TYPE_CHECKING:
    from nbflow.execution import (
        MEMOIZED_RUN_TAG,
        ExecuteInProcessResult,
        HookContext,
        InitResourceContext,
        OpExecutionContext,
        VersionRow,
        build_op_context,
        list_versions,
        validate_run_config,
    )
    from nbflow.storage import (
        Instance,
        Run,
        RunStatus,
        fs_io_manager,
        mem_io_manager,
        versioned_filesystem_io_manager,
    )


def __getattr__(name: str) -> _AnyType:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nbflow' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "MEMOIZED_RUN_TAG",
    "Any",
    "Array",
    "AssetKey",
    "AssetMaterialization",
    "AssetObservation",
    "Backoff",
    "ConfigMapping",
    "DependencyDefinition",
    "Enum",
    "EnumValue",
    "Event",
    "EventType",
    "ExecuteInProcessResult",
    "ExecutorDefinition",
    "ExpectationResult",
    "Field",
    "GraphDefinition",
    "HookContext",
    "HookDefinition",
    "IOManager",
    "IOManagerDefinition",
    "In",
    "InitResourceContext",
    "InputContext",
    "InputMapping",
    "Instance",
    "Jitter",
    "JobDefinition",
    "LoggerDefinition",
    "MemoizableIOManager",
    "NbflowError",
    "NodeInvocation",
    "Noneable",
    "OpDefinition",
    "OpExecutionContext",
    "OpVersionContext",
    "Out",
    "Output",
    "OutputContext",
    "OutputMapping",
    "PartitionsDefinition",
    "Permissive",
    "ResourceDefinition",
    "ResourceVersionContext",
    "RetryPolicy",
    "RetryRequested",
    "Run",
    "RunStatus",
    "Selector",
    "Shape",
    "SourceHashVersionStrategy",
    "StaticPartitionsDefinition",
    "VersionRow",
    "VersionStrategy",
    "__version__",
    "build_op_context",
    "failure_hook",
    "fs_io_manager",
    "graph",
    "in_process_executor",
    "io_manager",
    "job",
    "list_versions",
    "logger",
    "mem_io_manager",
    "op",
    "resource",
    "success_hook",
    "validate_run_config",
    "versioned_filesystem_io_manager",
]
