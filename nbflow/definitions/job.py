"""Jobs: a graph bound to the resources, config, executor and policies it runs with."""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, overload

from nbflow.definitions.executor import ExecutorDefinition, multi_or_in_process_executor
from nbflow.definitions.graph import GraphDefinition, compose_graph
from nbflow.definitions.job_config import op_config_problems
from nbflow.definitions.resource import ResourceDefinition
from nbflow.definitions.specs import DEFAULT_IO_MANAGER_KEY
from nbflow.definitions.tags import tag_problems, warn_seed_tags
from nbflow.errors import InvalidDefinitionError, RunConfigValidationError, did_you_mean

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from nbflow.definitions.config_mapping import ConfigMapping
    from nbflow.definitions.graph import Node
    from nbflow.definitions.hook import HookDefinition
    from nbflow.definitions.logger import LoggerDefinition
    from nbflow.definitions.partitions import PartitionsDefinition
    from nbflow.definitions.policy import RetryPolicy
    from nbflow.execution.engine.result import ExecuteInProcessResult
    from nbflow.storage.instance import Instance

_RESOURCE_KEY = re.compile(r"[A-Za-z0-9_]+")


def _is_version_strategy(value: object) -> bool:
    from nbflow.versioning.strategy import VersionStrategy  # loads only when one is given

    return isinstance(value, VersionStrategy)


def _unprovided_by_op(handle: str, node: Node, provided: set[str]) -> Iterator[tuple[str, str]]:
    """``(owner, key)`` for each resource key op node ``handle``, its outputs or its hooks
    need that is not in ``provided``."""
    op_def: Any = node.definition
    for k in sorted(op_def.required_resource_keys):
        if k not in provided:
            yield f"op {handle!r}", k
    for name, out in op_def.outs.items():
        if out.io_manager_key not in provided:
            yield f"output {handle}.{name}", out.io_manager_key
    for hook in node.hook_defs:
        yield from (
            (f"hook {hook.name!r}", k)
            for k in sorted(hook.required_resource_keys)
            if k not in provided
        )


def _resource_def_problems(resource_defs: Mapping[str, Any]) -> list[str]:
    """Problems with the keys and values of a job's ``resource_defs``."""
    problems: list[str] = []
    for key, value in resource_defs.items():
        if not isinstance(key, str) or not _RESOURCE_KEY.fullmatch(key):
            problems.append(
                f"resource key {key!r} is invalid: expected letters, digits and underscores."
                f" Fix: {re.sub(r'[^A-Za-z0-9_]', '_', str(key))!r}."
            )
        if not isinstance(value, ResourceDefinition):
            problems.append(
                f"resource_defs[{key!r}] is {type(value).__name__}, not a ResourceDefinition."
                " Fix: wrap plain objects with ResourceDefinition.hardcoded_resource(value)."
            )
    return problems


class JobDefinition:
    """A graph plus everything needed to run it: resources, config, executor, policies.

    Args:
        graph_def: the graph to run.
        resource_defs: resources by key; ``io_manager`` defaults to in-memory for in-process runs.
        executor_def: how steps are run by ``execute_job``; defaults to
            ``multi_or_in_process_executor`` (``execute_in_process`` ignores it).
        logger_defs: loggers by key.
        name: defaults to the graph's name.
        config: default run config (a dict), a :class:`ConfigMapping`, or a
            :class:`PartitionedConfig` (the job then takes its partitions, and a run's config
            and tags come from its ``partition_key``).
        description: shown in docs and notebook views.
        partitions_def: the partition keys a run may target.
        tags: tags for every run; run tags win.
        metadata: free-form information.
        hook_defs: hooks applied to every op.
        op_retry_policy: retry policy for ops that have none of their own.
        version_strategy: versions ops and resources; turns memoization on.
        input_values: values for the graph's top-level inputs.
        op_selection: op selection queries (``"name"``, ``"*name"``, ``"name+"``, ``"*"``)
            of the ops every run of the job runs (see :meth:`get_subset`); a run's own
            ``op_selection`` replaces it. Checked when the job is built.
    """

    def __init__(
        self,
        *,
        graph_def: GraphDefinition,
        resource_defs: Mapping[str, ResourceDefinition] | None = None,
        executor_def: ExecutorDefinition | None = None,
        logger_defs: Mapping[str, LoggerDefinition] | None = None,
        name: str | None = None,
        config: ConfigMapping | Mapping[str, Any] | None = None,
        description: str | None = None,
        partitions_def: PartitionsDefinition | None = None,
        tags: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        hook_defs: Iterable[HookDefinition] | None = None,
        op_retry_policy: RetryPolicy | None = None,
        version_strategy: Any = None,
        input_values: Mapping[str, Any] | None = None,
        asset_layer: Any = None,
        op_selection: Sequence[str] | None = None,
    ) -> None:
        self.graph_def = graph_def
        self.asset_layer = asset_layer
        self.name = name or graph_def.name
        self.description = description or graph_def.description
        self.resource_defs = MappingProxyType(dict(resource_defs or {}))
        self.executor_def = executor_def or multi_or_in_process_executor
        self.logger_defs = MappingProxyType(dict(logger_defs or {}))
        self.config = config
        self.partitions_def = partitions_def
        if config is not None and not isinstance(config, Mapping):
            from nbflow.definitions.partitioned_config import PartitionedConfig

            if isinstance(config, PartitionedConfig) and partitions_def is None:
                self.partitions_def = config.partitions_def
        self.tags = MappingProxyType({**graph_def.tags, **(tags or {})})
        self.metadata = MappingProxyType(dict(metadata or {}))
        self.hook_defs = frozenset(hook_defs or ())
        self.op_retry_policy = op_retry_policy
        self.version_strategy = version_strategy
        self.input_values = MappingProxyType(dict(input_values or {}))
        self.op_selection: tuple[str, ...] | None = tuple(op_selection) if op_selection else None
        self.defined_at: tuple[str, str] | None = None
        """(module, qualified name) of the ``@job`` function; ``None`` for other jobs."""
        self._validate()

    @property
    def graph(self) -> GraphDefinition:
        return self.graph_def

    @property
    def nodes(self) -> list[Node]:
        """The top-level nodes of the job's graph, in topological order."""
        return [self.graph_def.nodes[name] for name in self.graph_def.topological_order]

    def get_node_named(self, name: str) -> Node:
        """The node ``name`` of the job's graph; ``outer.inner`` reaches into nested graphs.

        Raises:
            NodeNotFoundError: no node has that name.
        """
        return self.graph_def.get_node_named(name)

    @property
    def loggers(self) -> Mapping[str, LoggerDefinition]:
        """The job's logger definitions by key (empty: messages go to the ``nbflow`` logger)."""
        return self.logger_defs

    def _validate(self) -> None:
        problems: list[str] = []
        if self.version_strategy is not None and not _is_version_strategy(self.version_strategy):
            problems.append(
                f"version_strategy is {self.version_strategy!r}, not a VersionStrategy. Fix: "
                "version_strategy=SourceHashVersionStrategy(), or subclass VersionStrategy."
            )
        partitioned = getattr(self.config, "partitions_def", None) is self.partitions_def
        if self.config is not None and self.partitions_def is not None and not partitioned:
            problems.append("config and partitions_def cannot both be given; pass only one.")
        problems += tag_problems(self.tags)
        problems += _resource_def_problems(self.resource_defs)
        available = set(self.resource_defs) | {DEFAULT_IO_MANAGER_KEY}
        for owner, key in self._unprovided_resources(available):
            problems.append(
                f"{owner} needs resource {key!r}, which the job does not provide."
                f"{did_you_mean(key, available)} Fix: pass resource_defs={{{key!r}: ...}} "
                "to the job."
            )
        for key in self.input_values:
            if key not in self.graph_def.ins:
                problems.append(
                    f"input_values has {key!r}, which is not an input of graph "
                    f"{self.graph_def.name!r}.{did_you_mean(key, self.graph_def.ins)} Its inputs: "
                    f"{list(self.graph_def.ins)}."
                )
        if problems:
            raise InvalidDefinitionError.build(f"Job {self.name!r}", problems)
        if isinstance(self.config, Mapping):
            config_problems = op_config_problems(self.graph_def, self.config.get("ops"))
            if config_problems:
                raise RunConfigValidationError.build(f"job {self.name!r}", config_problems)
        warn_seed_tags(f"Job {self.name!r}", self.tags)
        if self.op_selection is not None:
            # Resolving the queries is the plan's business (a call-time import, declared in
            # pyproject's import-linter layers contract); a bad query fails here.
            from nbflow.execution.engine.plan import build_plan

            build_plan(self, None, self.op_selection)

    def _unprovided_resources(self, provided: set[str]) -> Iterator[tuple[str, str]]:
        """``(owner, key)`` for each resource key an op, output, hook or resource needs that
        is not in ``provided``. Owners are described only then: a large job whose resources
        are all provided formats no text per op."""
        for handle, node in self.graph_def.iter_ops():
            yield from _unprovided_by_op(handle, node, provided)
        owners = [(f"hook {hook.name!r}", hook.required_resource_keys) for hook in self.hook_defs]
        owners += [
            (f"resource {key!r}", res.required_resource_keys)
            for key, res in self.resource_defs.items()
            if isinstance(res, ResourceDefinition)
        ]
        for owner, keys in owners:
            yield from ((owner, k) for k in sorted(keys) if k not in provided)

    def _copy(self, **changes: Any) -> JobDefinition:
        params: dict[str, Any] = {
            "graph_def": self.graph_def,
            "resource_defs": self.resource_defs,
            "executor_def": self.executor_def,
            "logger_defs": self.logger_defs,
            "name": self.name,
            "config": self.config,
            "description": self.description,
            "partitions_def": self.partitions_def,
            "tags": self.tags,
            "metadata": self.metadata,
            "hook_defs": self.hook_defs,
            "op_retry_policy": self.op_retry_policy,
            "version_strategy": self.version_strategy,
            "input_values": self.input_values,
            "asset_layer": self.asset_layer,
            "op_selection": self.op_selection,
        }
        params.update(changes)
        return JobDefinition(**params)

    def get_subset(self, *, op_selection: Sequence[str] | None = None) -> JobDefinition:
        """This job restricted to the ops ``op_selection`` selects (``["*"]``: all of them).

        Every run of the subset runs those ops only; inputs the selection cuts off come
        from run config (``ops.<op>.inputs.<input>``), or from storage in memoized and
        asset jobs. ``None`` returns the job itself.

        Raises:
            InvalidDefinitionError: a query is malformed or names no op of the job.
        """
        if op_selection is None:
            return self
        return self._copy(op_selection=op_selection)

    def with_hooks(self, hook_defs: Iterable[HookDefinition]) -> JobDefinition:
        """A copy of this job with ``hook_defs`` applied to every op."""
        return self._copy(hook_defs=self.hook_defs | frozenset(hook_defs))

    def execute_in_process(
        self,
        run_config: Mapping[str, Any] | None = None,
        instance: Instance | None = None,
        partition_key: str | None = None,
        raise_on_error: bool = True,
        op_selection: Sequence[str] | None = None,
        run_id: str | None = None,
        input_values: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        resources: Mapping[str, Any] | None = None,
    ) -> ExecuteInProcessResult:
        """Run the job in this process, values in memory; returns an ``ExecuteInProcessResult``.

        The job's executor is ignored (steps run in this process), and a default ``io_manager``
        keeps values in memory, or, when ``instance`` is persistent and the run memoized (or
        the job an asset job), in the instance's storage folder. Run tags merge over the
        job's tags and may switch memoization on or off with ``MEMOIZED_RUN_TAG``. Ops,
        graphs and resources redefined under the same name after the job was built (a later
        notebook cell) are used: see :mod:`nbflow.definitions.redefinition`.

        Raises:
            InvalidArgumentError: an argument has the wrong type or form (raised before
                anything runs or is recorded).
            RedefinitionError: a redefined definition no longer fits the job (raised before
                anything runs).
        """
        # The one import of a higher layer from definitions, made at call time (declared in
        # pyproject's import-linter layers contract): running a job is execution's business.
        from nbflow.execution.engine.run import execute_in_process

        return execute_in_process(
            self,
            run_config=run_config,
            instance=instance,
            partition_key=partition_key,
            raise_on_error=raise_on_error,
            op_selection=op_selection,
            run_id=run_id,
            input_values=input_values,
            tags=tags,
            resources=resources,
        )

    def __repr__(self) -> str:
        return f"<JobDefinition {self.name}>"


@overload
def job(compose_fn: Callable[..., Any]) -> JobDefinition: ...


@overload
def job(
    compose_fn: None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    resource_defs: Mapping[str, ResourceDefinition] | None = None,
    config: ConfigMapping | Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    logger_defs: Mapping[str, LoggerDefinition] | None = None,
    executor_def: ExecutorDefinition | None = None,
    hooks: Iterable[HookDefinition] | None = None,
    op_retry_policy: RetryPolicy | None = None,
    version_strategy: Any = None,
    partitions_def: PartitionsDefinition | None = None,
    input_values: Mapping[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], JobDefinition]: ...


def job(
    compose_fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    resource_defs: Mapping[str, ResourceDefinition] | None = None,
    config: ConfigMapping | Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    logger_defs: Mapping[str, LoggerDefinition] | None = None,
    executor_def: ExecutorDefinition | None = None,
    hooks: Iterable[HookDefinition] | None = None,
    op_retry_policy: RetryPolicy | None = None,
    version_strategy: Any = None,
    partitions_def: PartitionsDefinition | None = None,
    input_values: Mapping[str, Any] | None = None,
) -> JobDefinition | Callable[[Callable[..., Any]], JobDefinition]:
    """Define a job by calling ops (and graphs) inside a function (``@job``)."""

    def decorate(fn: Callable[..., Any]) -> JobDefinition:
        job_name = name or fn.__name__
        job_def = JobDefinition(
            graph_def=compose_graph(fn, job_name, description=inspect.getdoc(fn)),
            name=job_name,
            description=description,
            resource_defs=resource_defs,
            config=config,
            tags=tags,
            metadata=metadata,
            logger_defs=logger_defs,
            executor_def=executor_def,
            hook_defs=hooks,
            op_retry_policy=op_retry_policy,
            version_strategy=version_strategy,
            partitions_def=partitions_def,
            input_values=input_values,
        )
        job_def.defined_at = (fn.__module__, fn.__qualname__)  # lets reconstructable() find it
        return job_def

    return decorate(compose_fn) if compose_fn is not None else decorate
