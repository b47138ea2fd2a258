"""The parent side shared by executors that run steps in other processes (multiprocess, Dask).

Before the run: refuse in-memory IO managers (values must cross processes), and make sure
the job can travel — as a :class:`ReconstructableJob`, or pickled by value with cloudpickle,
listing every op or resource that cannot be pickled. During the run: turn a ready step into a
request, and re-emit through the run what comes back, in order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from nbflow.definitions.io_manager import stays_in_process
from nbflow.errors import OutOfProcessStorageError, ReconstructionError
from nbflow.events import ErrorInfo, EventType, StepFailureData
from nbflow.execution.engine.executor import Executor
from nbflow.execution.engine.result import NOT_IN_MEMORY
from nbflow.execution.executors import _wire, by_value
from nbflow.execution.executors.step_log import keeps_log_message
from nbflow.execution.executors.step_request import JobPayload, build_step_request, encode_request
from nbflow.storage.memory import mem_io_manager

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nbflow.definitions.job import JobDefinition
    from nbflow.definitions.resource import ResourceDefinition
    from nbflow.errors import StepProcessError
    from nbflow.execution.engine.plan import ExecutionPlan, Step
    from nbflow.execution.engine.run_context import RunContext
    from nbflow.execution.executors.reconstruct import ReconstructableJob

_MAX_LISTED = 5


def _listed(items: list[str]) -> list[str]:
    if len(items) <= _MAX_LISTED:
        return items
    return [*items[:_MAX_LISTED], f"and {len(items) - _MAX_LISTED} more"]


def _keeps_values_in_memory(definition: ResourceDefinition) -> bool:
    return definition is mem_io_manager or stays_in_process(definition.fixed_value)


def refuse_in_memory_storage(
    executor: str, plan: ExecutionPlan, resource_defs: Mapping[str, ResourceDefinition]
) -> None:
    """Raise before the run when a step output would be kept in one process's memory."""
    offenders = [
        f"'{step.key}.{name}' ({out.io_manager_key!r})"
        for step in plan.steps.values()
        for name, out in step.op_def.outs.items()
        if out.io_manager_key in resource_defs
        and _keeps_values_in_memory(resource_defs[out.io_manager_key])
    ]
    if offenders:
        raise OutOfProcessStorageError.build(executor, _listed(offenders))


def _unpicklable_parts(job_def: JobDefinition, error: Exception) -> list[str]:

    parts: list[tuple[str, Any]] = [
        (f"op {handle!r}", node.definition) for handle, node in job_def.graph_def.iter_ops()
    ]
    parts += [(f"resource {key!r}", value) for key, value in job_def.resource_defs.items()]
    parts += [(f"hook {hook.name!r}", hook) for hook in job_def.hook_defs]
    parts += [(f"logger {key!r}", value) for key, value in job_def.logger_defs.items()]
    parts += [
        ("the job's config", job_def.config),
        ("the job's version_strategy", job_def.version_strategy),
        ("the job's partitions_def", job_def.partitions_def),
        ("the job's input_values", dict(job_def.input_values)),
    ]
    problems = []
    for label, value in parts:
        try:
            by_value.dumps(value)
        except Exception as exc:
            problems.append(f"{label}: {type(exc).__name__}: {exc}")
    return problems or [f"job {job_def.name!r}: {type(error).__name__}: {error}"]


def pickle_job(job_def: JobDefinition) -> bytes:
    """The job pickled by value with cloudpickle (ops defined in notebooks or scripts too).

    Raises:
        ReconstructionError: listing every op, resource or hook that cannot be pickled.
    """
    try:
        return by_value.dumps(job_def)
    except Exception as exc:
        raise ReconstructionError.unserializable(
            job_def.name, _unpicklable_parts(job_def, exc)
        ) from exc


class OutOfProcessExecutor(Executor):
    """Base of executors whose steps run in other processes; values go through IO managers."""

    label: ClassVar[str] = "out-of-process"

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        self._job: JobPayload | None = None

    def prepare(
        self,
        job_def: JobDefinition,
        recon: ReconstructableJob | None,
        plan: ExecutionPlan,
        resource_defs: Mapping[str, ResourceDefinition],
    ) -> None:
        """Pre-flight checks, before the run is recorded; fixes how the job travels."""
        refuse_in_memory_storage(self.label, plan, resource_defs)
        self._job = recon if recon is not None else pickle_job(job_def)

    def resource_keys_here(self, plan: ExecutionPlan) -> set[str] | None:
        """Only IO managers: to find stored outputs (memoized, or cut off by a selection)
        and load results here. Steps build the resources they use in their own processes.
        """
        return plan.needed_resource_keys(io_managers_only=True)

    def begin(self, run: RunContext) -> JobPayload:
        """Check the IO managers the run built; the job payload."""
        offenders = [
            f"'{step.key}.{name}' ({out.io_manager_key!r})"
            for step in run.plan.steps.values()
            for name, out in step.op_def.outs.items()
            if stays_in_process(run.resources[out.io_manager_key])
        ]
        if offenders:
            raise OutOfProcessStorageError.build(self.label, _listed(offenders))
        if self._job is None:
            self._job = pickle_job(run.job_def)
        return self._job

    def request(self, run: RunContext, step: Step) -> bytes:
        """The serialized request that runs ``step`` elsewhere."""
        assert self._job is not None, "begin() first"
        return encode_request(build_step_request(run, step, self._job))

    def receive(self, run: RunContext, data: bytes, where: str) -> bool | None:
        """Handle one message from a step; the step's success when it is the last one."""
        message = _wire.decode(data)
        kind = message[0]
        if kind == "event":
            event = message[1]
            if event.event_type is EventType.HANDLED_OUTPUT:
                run.record_output(event.step_key, event.data.name, NOT_IN_MEMORY)
            elif event.event_type is EventType.LOG_MESSAGE and not keeps_log_message(run, event):
                return None
            run.forward(event)
        elif kind == "manifest":
            _, key, name, manifest = message
            run.instance.manifests.record_manifest(key, name, manifest)
        elif kind == "failure":
            _, key, info, blob = message
            run.record_failure(key, _wire.rebuild_failure(key, info, blob, where))
        elif kind == "done":
            return bool(message[1])
        return None

    def step_died(self, run: RunContext, step: Step, exc: StepProcessError) -> None:
        """Fail ``step`` because its process (or worker) died under it."""
        message = f"Execution of step {step.key!r} failed: {str(exc).splitlines()[0]}"
        run.fail_step(step.key, message, exc, user_failure=True)


def stop_canceled_step(run: RunContext, step: Step, how: str) -> None:
    """Report ``step`` failed because the run was canceled while it ran (``how`` it was stopped).

    Not recorded as a run failure: the run ends CANCELED, not FAILURE.
    """
    message = (
        f"Step {step.key!r} was stopped before it finished: the run was canceled while it ran "
        f"({how}). Its outputs were not stored; run the job again to compute it."
    )
    run.emit(
        EventType.STEP_FAILURE,
        step.key,
        message,
        StepFailureData(ErrorInfo("RunCanceled", message, ""), user_failure=False),
    )
