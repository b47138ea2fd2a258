"""Running a job: the recipe every entry point follows.

validate the request → build the plan → resolve run config → record the run → build
resources → let the executor run the steps → tear down → report the result.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import time
import uuid
from typing import TYPE_CHECKING, Any

from nbflow.definitions.executor import in_process_executor
from nbflow.definitions.partitioned_config import partition_run_config
from nbflow.definitions.redefinition import current_job
from nbflow.definitions.resource import ResourceDefinition, as_resource_definition
from nbflow.definitions.specs import DEFAULT_IO_MANAGER_KEY
from nbflow.errors import (
    InvalidDefinitionError,
    NbflowError,
    NonMemoizableIOManagerError,
    PartitionKeyError,
    ResourceInitError,
)
from nbflow.events import ErrorInfo, EventType, LogMessageData, StepFailureData, StepSkippedData
from nbflow.execution.engine.entry_arguments import check_run_arguments
from nbflow.execution.engine.executor import CANCELED_REASON
from nbflow.execution.engine.in_process import InProcessExecutor
from nbflow.execution.engine.io_contexts import IOScope
from nbflow.execution.engine.log import LOGGER_NAME, LogRecorder, RunLog, event_level
from nbflow.execution.engine.memo import (
    RunVersions,
    Versioner,
    check_cut_inputs_stored,
    memoization_enabled,
    stored_steps,
    stored_value_fingerprints,
)
from nbflow.execution.engine.plan import ExecutionPlan, build_plan
from nbflow.execution.engine.resources import build_resources, resource_order, runs_user_code
from nbflow.execution.engine.result import ExecuteInProcessResult
from nbflow.execution.engine.run_config import ResolvedRunConfig, resolve_run_config
from nbflow.execution.engine.run_context import RunContext
from nbflow.execution.engine.run_signals import interrupt_reason, run_signals
from nbflow.execution.engine.step_states import StepState, StepStates
from nbflow.storage.folder_listing import listing_folders
from nbflow.storage.fs import instance_files_io_manager
from nbflow.storage.heartbeat import beating
from nbflow.storage.instance import Instance
from nbflow.storage.memory import mem_io_manager
from nbflow.storage.run import Run, RunStatus
from nbflow.storage.run_owner import this_host

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from nbflow.definitions.job import JobDefinition
    from nbflow.execution.engine.executor import Executor
    from nbflow.execution.engine.memo import StepOutput
    from nbflow.versioning import VersionParts

PARTITION_TAG = "nbflow/partition"


def _tag_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def merge_tags(job_def: JobDefinition, tags: Mapping[str, Any] | None) -> dict[str, str]:
    """Job tags with run tags on top; non-string values JSON-encoded."""
    return {k: _tag_value(v) for k, v in {**job_def.tags, **(tags or {})}.items()}


def default_io_manager(
    job_def: JobDefinition, instance: Instance | None, memoized: bool
) -> ResourceDefinition:
    """The ``io_manager`` of an in-process run that names none.

    Files in the instance's storage folder when the instance is persistent and the run
    keeps values beyond itself (memoized, or an asset job), so a later process finds them;
    memory otherwise.
    """
    lasting = memoized or job_def.asset_layer is not None
    if instance is not None and instance.is_persistent and lasting:
        return instance_files_io_manager
    return mem_io_manager


def in_process_resource_defs(
    job_def: JobDefinition,
    resources: Mapping[str, Any] | None = None,
    io_manager: ResourceDefinition = mem_io_manager,
) -> dict[str, ResourceDefinition]:
    """The job's resources for an in-process run: ``io_manager`` (in memory by default,
    see :func:`default_io_manager`) unless the job or ``resources`` give one."""
    given = {k: as_resource_definition(v) for k, v in (resources or {}).items()}
    clash = sorted(set(given) & set(job_def.resource_defs))
    if clash:
        raise InvalidDefinitionError(
            f"Resources {clash} are given to the run but job {job_def.name!r} defines them "
            "already. Fix: remove them from resources=, or from the job's resource_defs."
        )
    return {DEFAULT_IO_MANAGER_KEY: io_manager, **job_def.resource_defs, **given}


def check_partition_key(job_def: JobDefinition, partition_key: str | None) -> str | None:
    if job_def.partitions_def is None:
        if partition_key is not None:
            raise PartitionKeyError(
                f"Job {job_def.name!r} is not partitioned, but partition_key={partition_key!r} "
                "was given. Fix: drop partition_key, or give the job a partitions_def."
            )
        return None
    return job_def.partitions_def.validate_key(partition_key)


def needed_resource_keys(plan: ExecutionPlan) -> set[str]:
    """Every resource the plan's steps use, cut-off inputs' IO managers included."""
    return plan.needed_resource_keys()


def _build_log(job_def: JobDefinition, config: ResolvedRunConfig, run_id: str) -> RunLog:
    if not job_def.logger_defs:
        return RunLog.default(job_def.name, run_id)
    loggers = []
    for key, definition in job_def.logger_defs.items():
        init = _LoggerInit(config.logger_config(key), definition, run_id)
        built = definition.logger_fn(init)
        loggers.append(built if isinstance(built, logging.Logger) else logging.getLogger(key))
    return RunLog.to(loggers, job_def.name, run_id)


def _log_events(ctx: RunContext) -> LogRecorder:
    """Records each ``context.log`` message of the run as a LOG_MESSAGE event."""

    def record(level: int, text: str, step_key: str | None) -> None:
        ctx.emit(EventType.LOG_MESSAGE, step_key, text, LogMessageData(level, LOGGER_NAME))

    return record


class _LoggerInit:
    def __init__(self, logger_config: Any, logger_def: Any, run_id: str) -> None:
        self.logger_config = logger_config
        self.logger_def = logger_def
        self.run_id = run_id


def _resource_keys_here(executor: Executor, plan: ExecutionPlan) -> set[str]:
    keys = executor.resource_keys_here(plan)
    return needed_resource_keys(plan) if keys is None else keys


def execute_plan(
    plan: ExecutionPlan,
    config: ResolvedRunConfig,
    resource_defs: Mapping[str, ResourceDefinition],
    executor: Executor,
    *,
    instance: Instance,
    tags: Mapping[str, str],
    partition_key: str | None,
    run_id: str | None,
    raise_on_error: bool,
    op_selection: Sequence[str] | None = None,
    full_plan: ExecutionPlan | None = None,
    parent_run_id: str | None = None,
    root_run_id: str | None = None,
) -> ExecuteInProcessResult:
    """Run a validated plan: version it, record the run, build resources, skip what is
    stored, execute the rest, tear down, report.

    ``full_plan`` is the job's plan without op selection (versions of cut inputs need it);
    ``parent_run_id``/``root_run_id`` are recorded on a re-execution's run.
    """
    versioner = None
    if memoization_enabled(plan.job_def, tags):
        versioner = Versioner(plan, full_plan or plan, config, resource_defs, partition_key)
    version_parts = versioner.compute() if versioner is not None else {}
    with run_signals() as signals:  # SIGINT/SIGTERM end the run CANCELED, then act
        ctx = _start_run(
            plan,
            config,
            executor,
            instance=instance,
            tags=tags,
            partition_key=partition_key,
            run_id=run_id,
            raise_on_error=raise_on_error,
            op_selection=op_selection,
            version_parts=version_parts,
            lineage=(parent_run_id, root_run_id),
        )
        with beating(instance.run_storage, ctx.run_id):
            try:
                with ctx.cancelable():  # request_cancel(run_id) reaches the run from here on
                    started = f"Started execution of run for {plan.job_def.name!r}."
                    ctx.emit(EventType.RUN_START, message=started)
                    _run_steps(ctx, resource_defs, executor, versioner)
                with signals.deferred():
                    _finish_run(ctx)
            except KeyboardInterrupt as interrupt:
                if not ctx.run.is_finished:
                    with signals.deferred():
                        _end_interrupted(ctx, interrupt)
                raise
    run_error = ctx.failures.get("<run>")
    if isinstance(run_error, NonMemoizableIOManagerError) or (raise_on_error and ctx.failures):
        raise run_error or next(iter(ctx.failures.values()))
    return ExecuteInProcessResult(
        plan=plan,
        run=ctx.run,
        events=ctx.events,
        outputs=ctx.outputs,
        load_stored_output=_stored_output_loader(ctx, resource_defs),
    )


def _start_run(
    plan: ExecutionPlan,
    config: ResolvedRunConfig,
    executor: Executor,
    *,
    instance: Instance,
    tags: Mapping[str, str],
    partition_key: str | None,
    run_id: str | None,
    raise_on_error: bool,
    op_selection: Sequence[str] | None,
    version_parts: dict[StepOutput, VersionParts],
    lineage: tuple[str | None, str | None] = (None, None),
) -> RunContext:
    """Record the run on ``instance`` and mark it started; returns its context."""
    job_def = plan.job_def
    log_level = event_level()
    run = Run(
        run_id=run_id or str(uuid.uuid4()),
        job_name=job_def.name,
        run_config=config.value,
        tags=dict(tags),
        op_selection=list(op_selection) if op_selection else None,
        parent_run_id=lineage[0],
        root_run_id=lineage[1],
        owner_pid=os.getpid(),
        owner_host=this_host(),
        heartbeat_time=time.time(),
    )
    instance.add_new_run(run)  # a run id in use is refused here, before anything runs
    ctx = RunContext(
        plan=plan,
        config=config,
        run=run,
        instance=instance,
        log=_build_log(job_def, config, run.run_id),
        partition_key=partition_key,
        retries_enabled=executor.retries_enabled,
        raise_on_error=raise_on_error,
        version_parts=version_parts,
    )
    ctx.log = ctx.log.recording(_log_events(ctx), log_level)
    ctx.run = run.with_status(RunStatus.STARTED, time.time())
    instance.update_run(ctx.run)
    return ctx


def _run_steps(
    ctx: RunContext,
    resource_defs: Mapping[str, ResourceDefinition],
    executor: Executor,
    versioner: Versioner | None,
) -> None:
    """Build resources, settle what is stored, execute the rest, tear down; failures of the
    run itself (not of a step) are recorded on ``ctx``."""
    try:
        with contextlib.ExitStack() as stack:
            keys = _resource_keys_here(executor, ctx.plan)
            ctx.resources = build_resources(
                resource_defs,
                {k: ctx.config.resource_config(k) for k in resource_defs},
                keys,
                stack,
                instance=ctx.instance,
                run_id=ctx.run_id,
                log=ctx.log,
                report=lambda kind, message, data: ctx.emit(kind, None, message, data),
            )
            # One look at the run history file and at each storage folder serves the run.
            stack.enter_context(ctx.instance.joining_writes())
            stack.enter_context(listing_folders())
            if versioner is not None:
                data_of = stored_value_fingerprints(ctx.plan, ctx.resources, ctx.instance)
                ctx.memo = RunVersions(versioner, data_of)
                order = resource_order(resource_defs, keys)
                if any(runs_user_code(resource_defs[key]) for key in order):
                    ctx.memo.code_ran()  # a user's resource may hold and change a given value
                ctx.set_version_parts(ctx.memo.initial())
                ctx.memoized = stored_steps(IOScope.of_run(ctx), ctx.versions)
            check_cut_inputs_stored(ctx)
            executor.execute(ctx)
    except NbflowError as exc:
        if not isinstance(exc, ResourceInitError):  # that one was reported as it happened
            failure = StepFailureData(ErrorInfo.from_exception(exc), False)
            ctx.emit(EventType.ENGINE_EVENT, message=str(exc), data=failure)
        ctx.record_failure("<run>", exc)
    except Exception as exc:  # a resource's teardown raised
        ctx.emit(
            EventType.ENGINE_EVENT,
            message=f"Resource teardown failed: {type(exc).__name__}: {exc}",
            data=StepFailureData(ErrorInfo.from_exception(exc), True),
        )
        ctx.record_failure("<teardown>", exc)


def _end_interrupted(ctx: RunContext, interrupt: KeyboardInterrupt) -> None:
    """Record a run stopped by Ctrl-C (``KeyboardInterrupt``) or SIGTERM
    (:class:`~nbflow.execution.engine.run_signals.RunTerminated`) as ``CANCELED``.

    The step that was running fails with the interrupt, the steps that had not finished
    are skipped (``run canceled``), and the run emits ``RUN_CANCELING`` and ``RUN_CANCELED``.
    """
    ctx.canceled = True
    reason = interrupt_reason(interrupt)
    if not interrupt.args:  # so the step's error says what happened
        interrupt.args = (reason,)
    name = ctx.plan.job_def.name
    ctx.emit(EventType.RUN_CANCELING, message=f"Canceling run of {name!r}: {reason}.")
    states = StepStates(ctx.events)
    for key in ctx.plan.steps:
        state = states.state(key)
        if state.is_final:
            continue
        if state in (StepState.RUNNING, StepState.UP_FOR_RETRY):
            message = f"Step {key!r} was {reason} before it finished."
            ctx.fail_step(key, message, interrupt, user_failure=False)
        else:
            message = f"Skipped step {key!r}: run canceled"
            ctx.emit(EventType.STEP_SKIPPED, key, message, StepSkippedData(CANCELED_REASON))
    _finish_run(ctx)


def _finish_run(ctx: RunContext) -> None:
    """Record how the run ended and emit its last event."""
    name = ctx.plan.job_def.name
    ok = not ctx.failures
    status = RunStatus.SUCCESS if ok else RunStatus.FAILURE
    ctx.run = ctx.run.with_status(RunStatus.CANCELED if ctx.canceled else status, time.time())
    try:
        ctx.instance.update_run(ctx.run)
    except Exception as exc:  # never hides the run's own outcome or the user's error
        logging.getLogger("nbflow").error(
            "Could not record the end (%s) of run %s: %s", ctx.run.status.value, ctx.run_id, exc
        )
    if ctx.canceled:
        ctx.emit(EventType.RUN_CANCELED, message=f"Run of {name!r} was canceled.")
    elif ok:
        ctx.emit(EventType.RUN_SUCCESS, message=f"Finished execution of run for {name!r}.")
    else:
        failed = ", ".join(map(repr, ctx.failures))
        ctx.emit(EventType.RUN_FAILURE, message=f"Execution of run for {name!r} failed ({failed}).")


def _stored_output_loader(
    ctx: RunContext, resource_defs: Mapping[str, ResourceDefinition]
) -> Callable[[str, str], Any]:
    """Loads a step output that is not in memory (memoized, or stored by another process)
    through its IO manager, after the run.

    The run's resources are torn down by then (a connection an IO manager holds is closed),
    so each load builds the output's IO manager (and what it needs) anew, with the run's
    config, and tears it down again once the value is loaded.
    """
    log = ctx.log.unrecorded()  # the run has ended: loads add no events to it
    scope = dataclasses.replace(IOScope.of_run(ctx), log=log)

    def load(step_key: str, output_name: str) -> Any:
        manager_key = scope.io_manager_key(step_key, output_name)
        with contextlib.ExitStack() as stack:
            resources = build_resources(
                resource_defs,
                {k: ctx.config.resource_config(k) for k in resource_defs},
                {manager_key},
                stack,
                instance=ctx.instance,
                run_id=ctx.run_id,
                log=log,
            )
            live = scope.with_resources(resources)
            version = ctx.versions.get((step_key, output_name))
            upstream = live.output(step_key, output_name, version)
            context = live.input(step_key, output_name, upstream)
            return resources[manager_key].load_input(context)

    return load


def prepare_plans(
    job_def: JobDefinition,
    input_values: Mapping[str, Any] | None,
    op_selection: Sequence[str] | None,
    run_tags: Mapping[str, str],
) -> tuple[ExecutionPlan, ExecutionPlan]:
    """The plan to run and the whole job's plan (versions of cut inputs need the latter).

    Inputs an op selection cuts off are loaded from storage when values are stored by
    version (memoized runs) or by asset key (asset jobs); otherwise run config gives them.
    """
    plan = build_plan(job_def, input_values, op_selection)
    full_plan = build_plan(job_def, input_values) if op_selection else plan
    if memoization_enabled(job_def, run_tags) or job_def.asset_layer is not None:
        plan.load_cut_inputs_from_storage()
    return plan, full_plan


def execute_in_process(
    job_def: JobDefinition,
    *,
    run_config: Mapping[str, Any] | None = None,
    instance: Instance | None = None,
    partition_key: str | None = None,
    raise_on_error: bool = True,
    op_selection: Sequence[str] | None = None,
    run_id: str | None = None,
    input_values: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    resources: Mapping[str, Any] | None = None,
) -> ExecuteInProcessResult:
    """Run ``job_def`` in this process (see ``JobDefinition``); values are kept in memory,
    or in the instance's storage folder when it is persistent and the run memoized.

    Raises:
        InvalidArgumentError: an argument has the wrong type or form (before anything runs).
    """
    check_run_arguments(
        "execute_in_process",
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
    job_def = current_job(job_def)  # ops, graphs and resources redefined since it was built
    run_config, tags = partition_run_config(job_def, partition_key, run_config, tags)
    instance = instance or Instance.ephemeral()
    run_tags = merge_tags(job_def, tags)
    memoized = memoization_enabled(job_def, run_tags)
    resource_defs = in_process_resource_defs(
        job_def, resources, default_io_manager(job_def, instance, memoized)
    )
    partition_key = check_partition_key(job_def, partition_key)
    op_selection = op_selection or job_def.op_selection
    plan, full_plan = prepare_plans(job_def, input_values, op_selection, run_tags)
    config = resolve_run_config(plan, resource_defs, run_config, in_process_executor)
    if partition_key is not None:
        run_tags[PARTITION_TAG] = partition_key
    return execute_plan(
        plan,
        config,
        resource_defs,
        InProcessExecutor(config.execution.get("config")),
        instance=instance,
        tags=run_tags,
        partition_key=partition_key,
        run_id=run_id,
        raise_on_error=raise_on_error,
        op_selection=op_selection,
        full_plan=full_plan,
    )


def validate_run_config(
    job_def: JobDefinition, run_config: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Check ``run_config`` against ``job_def`` and return it resolved, defaults filled in.

    Raises:
        RunConfigValidationError: listing every problem with its path.
    """
    job_def = current_job(job_def)
    plan = build_plan(job_def)
    config = resolve_run_config(plan, in_process_resource_defs(job_def), run_config)
    return dict(config.value)
