"""What ``nbflow.notebook.run`` runs: a job, graph, reconstructable job or list of assets.

Turns the object and the run options into the DAG to show and a call that runs it with a
given instance, through the public entry points (``execute_in_process``, ``execute_job``,
``materialize_to_memory``). Options an entry point does not take are refused up front.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbflow.definitions.asset import AssetsDefinition
from nbflow.definitions.graph import GraphDefinition
from nbflow.definitions.job import JobDefinition
from nbflow.definitions.redefinition import current_job
from nbflow.definitions.resource import as_resource_definition
from nbflow.definitions.source_asset import SourceAsset
from nbflow.errors import LiveRunError
from nbflow.execution.engine.plan import build_plan
from nbflow.execution.execute_job import execute_job
from nbflow.execution.executors.reconstruct import ReconstructableJob
from nbflow.execution.materialize import materialize_to_memory
from nbflow.execution.views.graph_view import GraphView, graph_view

if TYPE_CHECKING:
    from nbflow.execution.engine.result import ExecuteInProcessResult
    from nbflow.storage.instance import Instance

EXECUTORS = ("in_process", "job")
"""``in_process``: ``execute_in_process``; ``job``: the job's own executor (``execute_job``)."""

RunCall = Callable[["Instance", str], "ExecuteInProcessResult"]
"""Runs the target with an instance, under a run id."""


@dataclass(frozen=True, slots=True)
class RunTarget:
    """The DAG to show before the run, and the call that runs it with an instance and a
    run id."""

    view: GraphView
    call: RunCall


@dataclass(frozen=True, slots=True)
class RunOptions:
    """The options of ``nbflow.notebook.run`` that reach the entry point."""

    run_config: Mapping[str, Any] | None = None
    executor: str = "in_process"
    tags: Mapping[str, Any] | None = None
    op_selection: Sequence[str] | None = None
    raise_on_error: bool = False
    resources: Mapping[str, Any] | None = None
    input_values: Mapping[str, Any] | None = None
    partition_key: str | None = None


def as_assets(obj: Any) -> list[AssetsDefinition | SourceAsset] | None:
    """``obj`` as a list of assets, or ``None`` when it is not one."""
    if isinstance(obj, AssetsDefinition | SourceAsset):
        return [obj]
    if isinstance(obj, Sequence | set | frozenset) and not isinstance(obj, str | bytes):
        items = list(obj)
        if items and all(isinstance(i, AssetsDefinition | SourceAsset) for i in items):
            return items
    return None


def job_of(obj: Any, resources: Mapping[str, Any] | None = None) -> JobDefinition | None:
    """The job ``obj`` stands for (a graph becomes a job with ``resources``), or ``None``."""
    if isinstance(obj, JobDefinition):
        return obj
    if isinstance(obj, ReconstructableJob):
        return obj.get_definition()
    if isinstance(obj, GraphDefinition):
        return JobDefinition(
            graph_def=obj,
            resource_defs={k: as_resource_definition(v) for k, v in (resources or {}).items()},
        )
    return None


def run_target(obj: Any, options: RunOptions) -> RunTarget:
    """What to show and how to run ``obj``.

    Raises:
        LiveRunError: ``obj`` cannot be run, the executor is unknown, or an option does not
            apply to the chosen entry point.
    """
    if options.executor not in EXECUTORS:
        raise LiveRunError.bad_executor(options.executor, EXECUTORS)
    assets = as_assets(obj)
    if assets is not None:
        return _assets_target(assets, options)
    job_def = job_of(obj, options.resources)
    if job_def is None:
        raise LiveRunError.not_runnable(obj)
    job_def = current_job(job_def)  # the DAG shown is the one that runs
    # a graph's resources are in the job made for it
    resources = None if isinstance(obj, GraphDefinition) else options.resources
    view = graph_view(build_plan(job_def, options.input_values, options.op_selection))
    o = options
    if o.executor == "in_process":

        def in_process(instance: Instance, run_id: str) -> ExecuteInProcessResult:
            result: ExecuteInProcessResult = job_def.execute_in_process(
                run_config=o.run_config,
                instance=instance,
                partition_key=o.partition_key,
                raise_on_error=o.raise_on_error,
                op_selection=o.op_selection,
                input_values=o.input_values,
                tags=o.tags,
                resources=resources,
                run_id=run_id,
            )
            return result

        return RunTarget(view, in_process)
    for name, value in (
        ("resources=", resources),
        ("input_values=", o.input_values),
        ("partition_key=", o.partition_key),
    ):
        if value is not None:
            raise LiveRunError.unsupported(
                name,
                'with executor="job" (execute_job takes run config, instance, tags and '
                "op_selection only)",
                f'use executor="in_process", or put the {name[:-1]} into the job definition '
                "or its run config.",
            )
    runnable: JobDefinition | ReconstructableJob = (
        obj if isinstance(obj, ReconstructableJob) else job_def
    )

    def with_executor(instance: Instance, run_id: str) -> ExecuteInProcessResult:
        return execute_job(
            runnable,
            run_config=o.run_config,
            instance=instance,
            tags=o.tags,
            op_selection=o.op_selection,
            raise_on_error=o.raise_on_error,
            run_id=run_id,
        )

    return RunTarget(view, with_executor)


def _assets_target(assets: list[AssetsDefinition | SourceAsset], o: RunOptions) -> RunTarget:
    refused = {
        'executor="job"': (
            o.executor == "job",
            "assets run in this process (materialize_to_memory)",
            "drop executor=, or build a job from the assets and pass that job.",
        ),
        "op_selection=": (
            o.op_selection is not None,
            "with a list of assets",
            "pass only the assets to run (with SourceAsset for what they read).",
        ),
        "input_values=": (
            o.input_values is not None,
            "with a list of assets",
            "give values through run config or resources.",
        ),
    }
    for option, (given, where, fix) in refused.items():
        if given:
            raise LiveRunError.unsupported(option, where, fix)
    view = graph_view(assets)

    def materialize(instance: Instance, run_id: str) -> ExecuteInProcessResult:
        return materialize_to_memory(
            assets,
            run_config=o.run_config,
            instance=instance,
            resources=o.resources,
            partition_key=o.partition_key,
            tags=o.tags,
            raise_on_error=o.raise_on_error,
            run_id=run_id,
        )

    return RunTarget(view, materialize)
