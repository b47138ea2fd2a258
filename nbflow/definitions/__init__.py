"""What users declare: ops, graphs, jobs, resources, IO managers, hooks, policies and specs."""

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
from nbflow.definitions.executor import (
    ExecutorDefinition,
    in_process_executor,
    multi_or_in_process_executor,
    multiprocess_executor,
)
from nbflow.definitions.graph import GraphDefinition, graph
from nbflow.definitions.hook import HookDefinition, failure_hook, success_hook
from nbflow.definitions.io_manager import (
    InputContext,
    IOManager,
    IOManagerDefinition,
    MemoizableIOManager,
    OutputContext,
    io_manager,
)
from nbflow.definitions.job import JobDefinition, job
from nbflow.definitions.logger import LoggerDefinition, logger
from nbflow.definitions.op import OpDefinition, op
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
from nbflow.definitions.user_events import AssetMaterialization, AssetObservation, ExpectationResult

__all__ = [
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
    "ExecutorDefinition",
    "ExpectationResult",
    "GraphDefinition",
    "GraphOut",
    "HookDefinition",
    "IOManager",
    "IOManagerDefinition",
    "In",
    "InputContext",
    "InputMapping",
    "Jitter",
    "JobDefinition",
    "LoggerDefinition",
    "MemoizableIOManager",
    "MultiDependencyDefinition",
    "NodeInvocation",
    "Nothing",
    "ObserveContext",
    "OpDefinition",
    "Out",
    "Output",
    "OutputContext",
    "OutputMapping",
    "PartitionsDefinition",
    "ResourceDefinition",
    "RetryPolicy",
    "SourceAsset",
    "StaticPartitionsDefinition",
    "TimeWindow",
    "asset",
    "define_asset_job",
    "failure_hook",
    "graph",
    "in_process_executor",
    "io_manager",
    "job",
    "logger",
    "multi_or_in_process_executor",
    "multiprocess_executor",
    "observable_source_asset",
    "op",
    "resource",
    "success_hook",
]
