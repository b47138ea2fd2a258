"""nbflow: notebook-centric orchestration with versioned, memoized execution.

Define ops, graphs, jobs and resources; run them in-process (or beyond); every op output
gets a version, and steps whose outputs are stored with that version are skipped.
"""

from typing import TYPE_CHECKING
from typing import Any as _AnyType

from nbflow._lazy_exports import LazyExports

__version__ = "0.1.0"

# Every export loads on first use, so `import nbflow` (and the command line, a subpackage)
# stays cheap: the first of op, job, graph... loads what defining a job needs; assets,
# events, hooks, IO managers, policies, partitions, version strategies, running and storing
# load only when used.
_EXPORTS = LazyExports(
    __name__,
    {
        "Any": "nbflow.config",
        "Array": "nbflow.config",
        "Enum": "nbflow.config",
        "EnumValue": "nbflow.config",
        "Field": "nbflow.config",
        "Noneable": "nbflow.config",
        "Permissive": "nbflow.config",
        "Selector": "nbflow.config",
        "Shape": "nbflow.config",
        "DependencyDefinition": "nbflow.definitions.dependency",
        "InputMapping": "nbflow.definitions.dependency",
        "MultiDependencyDefinition": "nbflow.definitions.dependency",
        "NodeInvocation": "nbflow.definitions.dependency",
        "OutputMapping": "nbflow.definitions.dependency",
        "ExecutorDefinition": "nbflow.definitions.executor",
        "in_process_executor": "nbflow.definitions.executor",
        "multi_or_in_process_executor": "nbflow.definitions.executor",
        "multiprocess_executor": "nbflow.definitions.executor",
        "GraphDefinition": "nbflow.definitions.graph",
        "graph": "nbflow.definitions.graph",
        "JobDefinition": "nbflow.definitions.job",
        "job": "nbflow.definitions.job",
        "OpDefinition": "nbflow.definitions.op",
        "op": "nbflow.definitions.op",
        "ResourceDefinition": "nbflow.definitions.resource",
        "resource": "nbflow.definitions.resource",
        "GraphOut": "nbflow.definitions.specs",
        "In": "nbflow.definitions.specs",
        "Nothing": "nbflow.definitions.specs",
        "Out": "nbflow.definitions.specs",
        "Output": "nbflow.definitions.specs",
        "Failure": "nbflow.errors",
        "NbflowError": "nbflow.errors",
        "RetryRequested": "nbflow.errors",
        "AssetIn": "nbflow.definitions.asset",
        "AssetsDefinition": "nbflow.definitions.asset",
        "asset": "nbflow.definitions.asset",
        "define_asset_job": "nbflow.definitions.asset_job",
        "AssetKey": "nbflow.definitions.asset_key",
        "ConfigMapping": "nbflow.definitions.config_mapping",
        "DynamicOut": "nbflow.definitions.dynamic",
        "DynamicOutput": "nbflow.definitions.dynamic",
        "HookDefinition": "nbflow.definitions.hook",
        "failure_hook": "nbflow.definitions.hook",
        "success_hook": "nbflow.definitions.hook",
        "InputManager": "nbflow.definitions.input_manager",
        "InputManagerDefinition": "nbflow.definitions.input_manager",
        "input_manager": "nbflow.definitions.input_manager",
        "InputContext": "nbflow.definitions.io_manager",
        "IOManager": "nbflow.definitions.io_manager",
        "IOManagerDefinition": "nbflow.definitions.io_manager",
        "MemoizableIOManager": "nbflow.definitions.io_manager",
        "OutputContext": "nbflow.definitions.io_manager",
        "io_manager": "nbflow.definitions.io_manager",
        "json_console_logger": "nbflow.definitions.json_logger",
        "LoggerDefinition": "nbflow.definitions.logger",
        "logger": "nbflow.definitions.logger",
        "PartitionedConfig": "nbflow.definitions.partitioned_config",
        "daily_partitioned_config": "nbflow.definitions.partitioned_config",
        "static_partitioned_config": "nbflow.definitions.partitioned_config",
        "DailyPartitionsDefinition": "nbflow.definitions.partitions",
        "PartitionsDefinition": "nbflow.definitions.partitions",
        "StaticPartitionsDefinition": "nbflow.definitions.partitions",
        "TimeWindow": "nbflow.definitions.partitions",
        "Backoff": "nbflow.definitions.policy",
        "Jitter": "nbflow.definitions.policy",
        "RetryPolicy": "nbflow.definitions.policy",
        "DataVersion": "nbflow.definitions.source_asset",
        "ObserveContext": "nbflow.definitions.source_asset",
        "SourceAsset": "nbflow.definitions.source_asset",
        "observable_source_asset": "nbflow.definitions.source_asset",
        "AssetMaterialization": "nbflow.definitions.user_events",
        "AssetObservation": "nbflow.definitions.user_events",
        "ExpectationResult": "nbflow.definitions.user_events",
        "Event": "nbflow.events",
        "EventType": "nbflow.events",
        "MEMOIZED_RUN_TAG": "nbflow.execution",
        "ExecuteInProcessResult": "nbflow.execution",
        "HookContext": "nbflow.execution",
        "InitResourceContext": "nbflow.execution",
        "OpExecutionContext": "nbflow.execution",
        "ReconstructableJob": "nbflow.execution",
        "ReexecutionOptions": "nbflow.execution",
        "VersionRow": "nbflow.execution",
        "build_hook_context": "nbflow.execution",
        "build_init_resource_context": "nbflow.execution",
        "build_input_context": "nbflow.execution",
        "build_op_context": "nbflow.execution",
        "build_output_context": "nbflow.execution",
        "build_reconstructable_job": "nbflow.execution",
        "execute_job": "nbflow.execution",
        "instance_for_test": "nbflow.execution",
        "list_versions": "nbflow.execution",
        "materialize": "nbflow.execution",
        "materialize_to_memory": "nbflow.execution",
        "reconstructable": "nbflow.execution",
        "validate_run_config": "nbflow.execution",
        "Instance": "nbflow.storage",
        "Run": "nbflow.storage",
        "RunStatus": "nbflow.storage",
        "fs_io_manager": "nbflow.storage",
        "mem_io_manager": "nbflow.storage",
        "versioned_filesystem_io_manager": "nbflow.storage",
        "OpVersionContext": "nbflow.versioning.strategy",
        "ResourceVersionContext": "nbflow.versioning.strategy",
        "SourceHashVersionStrategy": "nbflow.versioning.strategy",
        "VersionStrategy": "nbflow.versioning.strategy",
    },
)

if TYPE_CHECKING:
    from nbflow.config import (
        Any,
        Array,
        Enum,
        EnumValue,
        Field,
        Noneable,
        Permissive,
        Selector,
        Shape,
    )
    from nbflow.definitions.asset import AssetIn, AssetsDefinition, asset
    from nbflow.definitions.asset_job import define_asset_job
    from nbflow.definitions.asset_key import AssetKey
    from nbflow.definitions.config_mapping import ConfigMapping
    from nbflow.definitions.dependency import (
        DependencyDefinition,
        InputMapping,
        MultiDependencyDefinition,
        NodeInvocation,
        OutputMapping,
    )
    from nbflow.definitions.dynamic import DynamicOut, DynamicOutput
    from nbflow.definitions.executor import (
        ExecutorDefinition,
        in_process_executor,
        multi_or_in_process_executor,
        multiprocess_executor,
    )
    from nbflow.definitions.graph import GraphDefinition, graph
    from nbflow.definitions.hook import HookDefinition, failure_hook, success_hook
    from nbflow.definitions.input_manager import InputManager, InputManagerDefinition, input_manager
    from nbflow.definitions.io_manager import (
        InputContext,
        IOManager,
        IOManagerDefinition,
        MemoizableIOManager,
        OutputContext,
        io_manager,
    )
    from nbflow.definitions.job import JobDefinition, job
    from nbflow.definitions.json_logger import json_console_logger
    from nbflow.definitions.logger import LoggerDefinition, logger
    from nbflow.definitions.op import OpDefinition, op
    from nbflow.definitions.partitioned_config import (
        PartitionedConfig,
        daily_partitioned_config,
        static_partitioned_config,
    )
    from nbflow.definitions.partitions import (
        DailyPartitionsDefinition,
        PartitionsDefinition,
        StaticPartitionsDefinition,
        TimeWindow,
    )
    from nbflow.definitions.policy import Backoff, Jitter, RetryPolicy
    from nbflow.definitions.resource import ResourceDefinition, resource
    from nbflow.definitions.source_asset import (
        DataVersion,
        ObserveContext,
        SourceAsset,
        observable_source_asset,
    )
    from nbflow.definitions.specs import GraphOut, In, Nothing, Out, Output
    from nbflow.definitions.user_events import (
        AssetMaterialization,
        AssetObservation,
        ExpectationResult,
    )
    from nbflow.errors import Failure, NbflowError, RetryRequested
    from nbflow.events import Event, EventType
    from nbflow.execution import (
        MEMOIZED_RUN_TAG,
        ExecuteInProcessResult,
        HookContext,
        InitResourceContext,
        OpExecutionContext,
        ReconstructableJob,
        ReexecutionOptions,
        VersionRow,
        build_hook_context,
        build_init_resource_context,
        build_input_context,
        build_op_context,
        build_output_context,
        build_reconstructable_job,
        execute_job,
        instance_for_test,
        list_versions,
        materialize,
        materialize_to_memory,
        reconstructable,
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
    from nbflow.versioning.strategy import (
        OpVersionContext,
        ResourceVersionContext,
        SourceHashVersionStrategy,
        VersionStrategy,
    )


def __getattr__(name: str) -> _AnyType:
    return _EXPORTS.load(name)


def __dir__() -> list[str]:
    return _EXPORTS.listing(globals())


__all__ = [
    "MEMOIZED_RUN_TAG",
    "Any",
    "Array",
    "AssetIn",
    "AssetKey",
    "AssetMaterialization",
    "AssetObservation",
    "AssetsDefinition",
    "Backoff",
    "ConfigMapping",
    "DailyPartitionsDefinition",
    "DataVersion",
    "DependencyDefinition",
    "DynamicOut",
    "DynamicOutput",
    "Enum",
    "EnumValue",
    "Event",
    "EventType",
    "ExecuteInProcessResult",
    "ExecutorDefinition",
    "ExpectationResult",
    "Failure",
    "Field",
    "GraphDefinition",
    "GraphOut",
    "HookContext",
    "HookDefinition",
    "IOManager",
    "IOManagerDefinition",
    "In",
    "InitResourceContext",
    "InputContext",
    "InputManager",
    "InputManagerDefinition",
    "InputMapping",
    "Instance",
    "Jitter",
    "JobDefinition",
    "LoggerDefinition",
    "MemoizableIOManager",
    "MultiDependencyDefinition",
    "NbflowError",
    "NodeInvocation",
    "Noneable",
    "Nothing",
    "ObserveContext",
    "OpDefinition",
    "OpExecutionContext",
    "OpVersionContext",
    "Out",
    "Output",
    "OutputContext",
    "OutputMapping",
    "PartitionedConfig",
    "PartitionsDefinition",
    "Permissive",
    "ReconstructableJob",
    "ReexecutionOptions",
    "ResourceDefinition",
    "ResourceVersionContext",
    "RetryPolicy",
    "RetryRequested",
    "Run",
    "RunStatus",
    "Selector",
    "Shape",
    "SourceAsset",
    "SourceHashVersionStrategy",
    "StaticPartitionsDefinition",
    "TimeWindow",
    "VersionRow",
    "VersionStrategy",
    "__version__",
    "asset",
    "build_hook_context",
    "build_init_resource_context",
    "build_input_context",
    "build_op_context",
    "build_output_context",
    "build_reconstructable_job",
    "daily_partitioned_config",
    "define_asset_job",
    "execute_job",
    "failure_hook",
    "fs_io_manager",
    "graph",
    "in_process_executor",
    "input_manager",
    "instance_for_test",
    "io_manager",
    "job",
    "json_console_logger",
    "list_versions",
    "logger",
    "materialize",
    "materialize_to_memory",
    "mem_io_manager",
    "multi_or_in_process_executor",
    "multiprocess_executor",
    "observable_source_asset",
    "op",
    "reconstructable",
    "resource",
    "static_partitioned_config",
    "success_hook",
    "validate_run_config",
    "versioned_filesystem_io_manager",
]
