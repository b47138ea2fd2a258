"""Step requests: what a step needs to run in another process, and running it there.

The parent builds a :class:`StepRequest` per step: how to rebuild the job (a
:class:`ReconstructableJob`, or the job cloudpickled by value), the op selection, the run
record, the resolved run config and the versions the step reads and writes. The other side
(a fresh step process or a Dask worker) rebuilds the job and its plan, builds only the
resources the step needs and calls the one step engine, :func:`run_step`. Values travel
through IO managers; events travel back through a :class:`StepChannel`.
"""

from __future__ import annotations

import contextlib
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from nbflow.definitions.specs import DEFAULT_IO_MANAGER_KEY
from nbflow.errors import ReconstructionError
from nbflow.events import ErrorInfo, Event, EventType, StepFailureData
from nbflow.execution.engine.plan import build_plan
from nbflow.execution.engine.resources import build_resources
from nbflow.execution.engine.run_config import ResolvedRunConfig
from nbflow.execution.engine.run_context import RunContext
from nbflow.execution.engine.step import run_step
from nbflow.execution.executors import by_value
from nbflow.execution.executors.reconstruct import ReconstructableJob, loading_job
from nbflow.execution.executors.reported_manifests import ReportedManifests
from nbflow.execution.executors.step_log import channel_log
from nbflow.storage.fs import fs_io_manager
from nbflow.storage.instance import InMemoryRunStorage, Instance
from nbflow.storage.manifests import PROCESS_MANIFESTS

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nbflow.definitions.job import JobDefinition
    from nbflow.definitions.resource import ResourceDefinition
    from nbflow.execution.engine.plan import ExecutionPlan, Step
    from nbflow.storage.manifests import ManifestStore
    from nbflow.storage.run import Run
    from nbflow.versioning import VersionParts


@dataclass(frozen=True)
class HeldJob:
    """Stands for the job a warm worker was sent once, before its steps (:func:`hold_job`)."""


JobPayload = ReconstructableJob | bytes | HeldJob
"""How a job travels: a pointer to rebuild it, the job cloudpickled by value, or
:class:`HeldJob` for the one this process holds."""

_held: ReconstructableJob | bytes | None = None


def hold_job(job: ReconstructableJob | bytes) -> None:
    """Keep ``job`` for the requests that name :class:`HeldJob` (sent once per worker, so a
    large job does not travel with every step)."""
    global _held
    _held = job


class StepChannel(Protocol):
    """Where a step running elsewhere reports to."""

    def event(self, event: Event) -> None:
        """Report an event as it happens."""

    def failure(self, key: str, exc: BaseException) -> None:
        """Report an exception the run must record under ``key`` (a step key)."""

    def manifest(self, step_key: str, output_name: str, manifest: Mapping[str, Any]) -> None:
        """Report a version manifest for the run's instance to keep."""


@dataclass(frozen=True)
class StepRequest:
    """Everything one step needs to run in another process."""

    step_key: str
    job: JobPayload
    op_selection: tuple[str, ...] | None
    run: Run
    run_config: Mapping[str, Any]
    version_parts: Mapping[tuple[str, str], VersionParts]
    instance_root: str
    instance_storage: str
    instance_storage_options: Mapping[str, Any]
    manifests: ManifestStore | None  # None: the other process's own in-memory store
    retries_enabled: bool
    partition_key: str | None = None
    loads_cut_inputs: bool = False
    resource_keys: frozenset[str] = field(default_factory=frozenset)
    source_run_ids: Mapping[str, str] = field(default_factory=dict)
    mapping_keys: Mapping[tuple[str, str], list[str]] = field(default_factory=dict)
    """Dynamic output → its mapping keys, for a mapped or collecting step: the other side
    expands the plan's templates with them, as the ready queue did here."""


def out_of_process_resource_defs(job_def: JobDefinition) -> dict[str, ResourceDefinition]:
    """The job's resources when steps run elsewhere: ``io_manager`` defaults to the filesystem."""
    return {DEFAULT_IO_MANAGER_KEY: fs_io_manager, **job_def.resource_defs}


def build_step_request(run: RunContext, step: Step, job: JobPayload) -> StepRequest:
    """The request for ``step`` of ``run``, carrying only the versions the step touches."""
    wanted = {(step.key, name) for name in step.op_def.outs}
    for step_input in step.inputs:
        for upstream in (step_input.upstream, step_input.cut_upstream):
            if upstream is not None:
                wanted.add(upstream)
        wanted.update(step_input.fan_in)
    manifests = run.instance.manifests
    return StepRequest(
        step_key=step.key,
        job=job,
        op_selection=tuple(run.run.op_selection) if run.run.op_selection else None,
        run=run.run,
        run_config=run.config.value,
        version_parts={k: v for k, v in run.version_parts.items() if k in wanted},
        instance_root=str(run.instance.root),
        instance_storage=run.instance.storage_dir,
        instance_storage_options=run.instance.storage_options,
        manifests=None if manifests is PROCESS_MANIFESTS else manifests,
        retries_enabled=run.retries_enabled,
        partition_key=run.partition_key,
        loads_cut_inputs=step.loads_cut_inputs,
        resource_keys=frozenset(run.plan.resource_keys(step, cut_inputs=step.loads_cut_inputs)),
        source_run_ids=dict(run.plan.source_run_ids),
        mapping_keys=run.plan.dynamic.keys_for(step),
    )


def encode_request(request: StepRequest) -> bytes:
    return by_value.dumps(request)


def decode_request(data: bytes) -> StepRequest:
    request = pickle.loads(data)
    assert isinstance(request, StepRequest)
    return request


_last_loaded: tuple[bytes, JobDefinition] | None = None
"""The job this process last unpickled, and its payload: a warm worker gets the same payload
with every step of a run."""


def load_job(job: JobPayload) -> JobDefinition:
    """Rebuild the job from its payload (import by pointer, or unpickle by value; the same
    pickled payload twice in a row is unpickled once)."""
    global _last_loaded
    if isinstance(job, HeldJob):
        if _held is None:
            raise ReconstructionError(
                "This worker was sent a step of a job it was never sent. Fix: run the job "
                "again; if it happens again, report it as a bug."
            )
        job = _held
    if isinstance(job, ReconstructableJob):
        return job.get_definition()
    if _last_loaded is not None and _last_loaded[0] == job:
        return _last_loaded[1]
    loaded = _unpickle_job(job)
    _last_loaded = (job, loaded)
    return loaded


def _unpickle_job(job: bytes) -> JobDefinition:
    with loading_job():
        try:
            loaded = pickle.loads(job)
        except Exception as exc:
            raise ReconstructionError(
                f"The job sent to this process could not be unpickled: {type(exc).__name__}: "
                f"{exc}. Fix: make the modules the job uses importable here (same Python, "
                "libraries and sys.path), or pass reconstructable(...) to execute_job."
            ) from exc
    return loaded  # type: ignore[no-any-return]


_last_plan: tuple[JobDefinition, tuple[str, ...] | None, str, ExecutionPlan] | None = None
"""The plan this process last built without dynamic outputs expanded in it, for one job,
selection and run: the next step of that run (in a warm worker, or on a Dask worker) uses it
again instead of planning the whole job once per step. Keyed by run too: each request sets
the plan's ``source_run_ids``, which differ between runs that may share a Dask worker."""


def _plan_for(job_def: JobDefinition, request: StepRequest) -> ExecutionPlan:
    global _last_plan
    if request.mapping_keys:  # expanding changes the plan: this one is for this step only
        plan = build_plan(job_def, None, request.op_selection)
        for source, keys in request.mapping_keys.items():
            plan.dynamic.expand(source, keys)
        return plan
    last = _last_plan
    if (
        last is not None
        and last[0] is job_def
        and last[1:3] == (request.op_selection, request.run.run_id)
    ):
        return last[3]
    plan = build_plan(job_def, None, request.op_selection)
    _last_plan = (job_def, request.op_selection, request.run.run_id, plan)
    return plan


def _rebuild(request: StepRequest, channel: StepChannel) -> tuple[RunContext, Step]:
    job_def = load_job(request.job)
    plan = _plan_for(job_def, request)
    step = plan.steps.get(request.step_key)
    if step is None:
        raise ReconstructionError(
            f"The job rebuilt here ({job_def.name!r}) has no step {request.step_key!r}: its "
            "definition changed since the run started. Fix: run the job again."
        )
    step.loads_cut_inputs = request.loads_cut_inputs
    plan.source_run_ids = dict(request.source_run_ids)
    config = ResolvedRunConfig(request.run_config)
    instance = Instance(
        InMemoryRunStorage(),
        root=Path(request.instance_root),
        storage=request.instance_storage,
        storage_options=request.instance_storage_options,
        manifests=(
            PROCESS_MANIFESTS
            if request.manifests is None
            else ReportedManifests(channel, request.manifests)
        ),
    )
    context = RunContext(
        plan=plan,
        config=config,
        run=request.run,
        instance=instance,
        log=channel_log(channel, job_def.name, request.run.run_id),
        partition_key=request.partition_key,
        version_parts=request.version_parts,
        sinks=(channel.event,),
        retries_enabled=request.retries_enabled,
        raise_on_error=False,
    )
    return context, step


def _report(request: StepRequest, channel: StepChannel, kind: EventType, exc: Exception) -> None:
    where = "failed" if kind is EventType.STEP_FAILURE else "could not tear down its resources"
    channel.event(
        Event(
            kind,
            request.run.job_name,
            request.step_key,
            f"Step {request.step_key!r} {where}: {type(exc).__name__}: {exc}",
            StepFailureData(ErrorInfo.from_exception(exc), user_failure=False),
            run_id=request.run.run_id,
        )
    )
    channel.failure(request.step_key if kind is EventType.STEP_FAILURE else "<teardown>", exc)


def run_step_request(request: StepRequest, channel: StepChannel) -> bool:
    """Rebuild the job, build the step's resources and run the step; True when it succeeded.

    Failures before the step engine starts (rebuilding the job, building resources) are
    reported as the step's STEP_FAILURE; a resource teardown failure as an ENGINE_EVENT.
    """
    try:
        context, step = _rebuild(request, channel)
    except Exception as exc:
        _report(request, channel, EventType.STEP_FAILURE, exc)
        return False
    stack = contextlib.ExitStack()
    resource_defs = out_of_process_resource_defs(context.job_def)
    try:
        context.resources = build_resources(
            resource_defs,
            {key: context.config.resource_config(key) for key in resource_defs},
            request.resource_keys,
            stack,
            instance=context.instance,
            run_id=request.run.run_id,
            log=context.log,
            report=lambda kind, message, data: context.emit(kind, step.key, message, data),
        )
    except Exception as exc:  # a resource failed to build (or is missing)
        stack.close()
        _report(request, channel, EventType.STEP_FAILURE, exc)
        return False
    ok = False
    engine_error: Exception | None = None
    try:
        with stack:
            try:
                ok = run_step(context, step)
            except Exception as exc:  # the engine itself failed, not the op
                engine_error = exc
    except Exception as teardown_error:  # a resource's teardown raised
        _report(request, channel, EventType.ENGINE_EVENT, teardown_error)
    if engine_error is not None:
        _report(request, channel, EventType.STEP_FAILURE, engine_error)
        return False
    for key, failure in context.failures.items():
        channel.failure(key, failure)
    return ok
