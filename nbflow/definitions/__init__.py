"""What users declare: ops, graphs, jobs, resources, IO managers, hooks, policies and specs."""

from nbflow.definitions.asset_key import AssetKey
from nbflow.definitions.config_mapping import ConfigMapping
from nbflow.definitions.dependency import (
    DependencyDefinition,
    InputMapping,
    NodeInvocation,
    OutputMapping,
)
from nbflow.definitions.executor import ExecutorDefinition, in_process_executor
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
from nbflow.definitions.partitions import PartitionsDefinition, StaticPartitionsDefinition
from nbflow.definitions.policy import Backoff, Jitter, RetryPolicy
from nbflow.definitions.resource import ResourceDefinition, resource
from nbflow.definitions.specs import In, Out, Output
from nbflow.definitions.user_events import AssetMaterialization, AssetObservation, ExpectationResult

__all__ = [
    "AssetKey",
    "AssetMaterialization",
    "AssetObservation",
    "Backoff",
    "ConfigMapping",
    "DependencyDefinition",
    "ExecutorDefinition",
    "ExpectationResult",
    "GraphDefinition",
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
    "NodeInvocation",
    "OpDefinition",
    "Out",
    "Output",
    "OutputContext",
    "OutputMapping",
    "PartitionsDefinition",
    "ResourceDefinition",
    "RetryPolicy",
    "StaticPartitionsDefinition",
    "failure_hook",
    "graph",
    "in_process_executor",
    "io_manager",
    "job",
    "logger",
    "op",
    "resource",
    "success_hook",
]
