"""What users declare: ops, graphs, jobs, resources, IO managers, hooks, policies and specs.

Ops, graphs, jobs, resources, executors and specs load with the package; assets, IO managers,
hooks, loggers, policies, partitions and user events load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbflow._lazy_exports import LazyExports
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
from nbflow.definitions.job import JobDefinition, job
from nbflow.definitions.op import OpDefinition, op
from nbflow.definitions.resource import ResourceDefinition, resource
from nbflow.definitions.specs import GraphOut, In, Nothing, Out, Output

# Ops, graphs and jobs are imported above; the rest loads on first use (see nbflow/__init__.py).
_EXPORTS = LazyExports(
    __name__,
    {
        "AssetIn": "nbflow.definitions.asset",
        "AssetsDefinition": "nbflow.definitions.asset",
        "asset": "nbflow.definitions.asset",
        "define_asset_job": "nbflow.definitions.asset_job",
        "AssetKey": "nbflow.definitions.asset_key",
        "ConfigMapping": "nbflow.definitions.config_mapping",
        "HookDefinition": "nbflow.definitions.hook",
        "failure_hook": "nbflow.definitions.hook",
        "success_hook": "nbflow.definitions.hook",
        "InputContext": "nbflow.definitions.io_manager",
        "IOManager": "nbflow.definitions.io_manager",
        "IOManagerDefinition": "nbflow.definitions.io_manager",
        "MemoizableIOManager": "nbflow.definitions.io_manager",
        "OutputContext": "nbflow.definitions.io_manager",
        "io_manager": "nbflow.definitions.io_manager",
        "LoggerDefinition": "nbflow.definitions.logger",
        "logger": "nbflow.definitions.logger",
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
    },
)

if TYPE_CHECKING:
    from nbflow.definitions.asset import AssetIn, AssetsDefinition, asset
    from nbflow.definitions.asset_job import define_asset_job
    from nbflow.definitions.asset_key import AssetKey
    from nbflow.definitions.config_mapping import ConfigMapping
    from nbflow.definitions.hook import HookDefinition, failure_hook, success_hook
    from nbflow.definitions.io_manager import (
        InputContext,
        IOManager,
        IOManagerDefinition,
        MemoizableIOManager,
        OutputContext,
        io_manager,
    )
    from nbflow.definitions.logger import LoggerDefinition, logger
    from nbflow.definitions.partitions import (
        DailyPartitionsDefinition,
        PartitionsDefinition,
        StaticPartitionsDefinition,
        TimeWindow,
    )
    from nbflow.definitions.policy import Backoff, Jitter, RetryPolicy
    from nbflow.definitions.source_asset import (
        DataVersion,
        ObserveContext,
        SourceAsset,
        observable_source_asset,
    )
    from nbflow.definitions.user_events import (
        AssetMaterialization,
        AssetObservation,
        ExpectationResult,
    )


def __getattr__(name: str) -> Any:
    return _EXPORTS.load(name)


def __dir__() -> list[str]:
    return _EXPORTS.listing(globals())


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
