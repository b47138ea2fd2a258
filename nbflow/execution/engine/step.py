"""The step engine: runs one step wherever it is scheduled.

Loads inputs through IO managers, builds the context, calls the op, checks and stores its
outputs, emits events, applies retry policies and runs hooks. Executors only decide where
and when steps run; they all call :func:`run_step`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from nbflow.definitions.dynamic import DynamicOutput
from nbflow.definitions.io_manager import writes_through
from nbflow.definitions.op import check_value_type
from nbflow.definitions.specs import NO_VALUE, Output
from nbflow.definitions.user_events import AssetMaterialization, AssetObservation, ExpectationResult
from nbflow.errors import (
    ExecutionError,
    Failure,
    MaxRetriesExceededError,
    OutputError,
    RetryRequested,
    StepTimeoutError,
    TypeCheckError,
)
from nbflow.events import (
    ErrorInfo,
    EventType,
    HookData,
    IOManagerData,
    RetryData,
    StepDurationData,
    StepInputData,
    StepOutputData,
)
from nbflow.execution.engine.context import USER_EVENT_TYPES, HookContext, OpExecutionContext
from nbflow.execution.engine.dynamic_outputs import (
    DynamicElements,
    element_spec,
    returns_dynamic_outputs,
    version_element,
)
from nbflow.execution.engine.io_contexts import IOScope
from nbflow.execution.engine.result import NOT_IN_MEMORY
from nbflow.execution.engine.run_config import unwrap_input_value
from nbflow.storage.manifests import VALUE_FINGERPRINT_KEY, manifest_store_for
from nbflow.versioning.output_fingerprint import output_fingerprint

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nbflow.definitions.op import OpDefinition
    from nbflow.execution.engine.plan import Step, StepInput
    from nbflow.execution.engine.run_context import RunContext
    from nbflow.execution.engine.timeouts import StepLimit

_USER_EVENT_KIND = {
    AssetMaterialization: EventType.ASSET_MATERIALIZATION,
    AssetObservation: EventType.ASSET_OBSERVATION,
    ExpectationResult: EventType.STEP_EXPECTATION_RESULT,
}


def _load_source_asset(run: RunContext, step: Step, step_input: StepInput) -> Any:
    source = step_input.source_asset
    scope = IOScope.of_run(run)
    context = scope.input(
        step.key,
        step_input.name,
        scope.source_asset_output(source),
        metadata=step_input.spec.metadata,
    )
    with run.user_code():
        value = run.resources[source.io_manager_key].load_input(context)
    run.emit(
        EventType.LOADED_INPUT,
        step.key,
        f"Loaded input {step_input.name!r} from source asset {source.key} with "
        f"{source.io_manager_key!r}",
        IOManagerData(step_input.name, source.io_manager_key),
    )
    return value


def _load_with_input_manager(run: RunContext, step: Step, step_input: StepInput) -> Any:
    """The input's value from its input manager (``In(input_manager_key=...)``)."""
    key = step_input.spec.input_manager_key
    assert key is not None
    scope = IOScope.of_run(run)
    upstream = step_input.upstream or step_input.cut_upstream
    upstream_context = (
        None if upstream is None else scope.output(*upstream, run.versions.get(upstream))
    )
    context = scope.input(
        step.key, step_input.name, upstream_context, metadata=step_input.spec.metadata
    )
    given = run.config.input_values(step.key)
    if step_input.name in given:
        context.config = unwrap_input_value(given[step_input.name])
    with run.user_code():
        value = run.resources[key].load_input(context)
    run.emit(
        EventType.LOADED_INPUT,
        step.key,
        f"Loaded input {step_input.name!r} with input manager {key!r}",
        IOManagerData(step_input.name, key),
    )
    return value


def _input_value(run: RunContext, step: Step, step_input: StepInput) -> Any:
    if step_input.spec.input_manager_key is not None and step_input.value is NO_VALUE:
        return _load_with_input_manager(run, step, step_input)
    if step_input.upstream is not None:
        up_key, up_out = step_input.upstream
        return _load(run, step, step_input, up_key, up_out)
    if step_input.fan_in or step_input.collects is not None:
        return [_load(run, step, step_input, *up) for up in step_input.fan_in]
    if step_input.value is not NO_VALUE:
        return step_input.value
    if step_input.source_asset is not None:
        return _load_source_asset(run, step, step_input)
    given = run.config.input_values(step.key)
    if step_input.name in given:
        return unwrap_input_value(given[step_input.name])
    if step_input.cut_upstream is not None and step.loads_cut_inputs:
        return _load(run, step, step_input, *step_input.cut_upstream)
    if step_input.spec.has_default_value:
        return step_input.spec.default_value
    raise ExecutionError(
        f"Input {step.key}.{step_input.name} has no value: nothing upstream provides it, and "
        f"run config has no ops.{step.key.replace('.', '.ops.')}.inputs.{step_input.name}."
    )


def _load(run: RunContext, step: Step, step_input: StepInput, up_key: str, up_out: str) -> Any:
    scope = IOScope.of_run(run)
    manager_key = scope.io_manager_key(up_key, up_out)
    input_name = step_input.name
    produced = run.outputs.get((up_key, up_out), NOT_IN_MEMORY)
    if produced is not NOT_IN_MEMORY and writes_through(run.resources[manager_key]):
        run.emit(
            EventType.LOADED_INPUT,
            step.key,
            f"Loaded input {input_name!r} from {up_key}.{up_out} in memory, as this process "
            f"stored it with {manager_key!r}",
            IOManagerData(input_name, manager_key),
        )
        return produced
    upstream = scope.output(up_key, up_out, run.versions.get((up_key, up_out)))
    context = scope.input(step.key, input_name, upstream, metadata=step_input.spec.metadata)
    with run.user_code():
        value = run.resources[manager_key].load_input(context)
    run.emit(
        EventType.LOADED_INPUT,
        step.key,
        f"Loaded input {input_name!r} from {up_key}.{up_out} with {manager_key!r}",
        IOManagerData(input_name, manager_key),
    )
    return value


def _load_inputs(run: RunContext, step: Step) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for step_input in step.inputs:
        if step_input.spec.is_nothing:
            continue
        value = _input_value(run, step, step_input)
        problem = check_value_type(f"Input {step.key}.{step_input.name}", step_input.spec, value)
        if problem:
            raise TypeCheckError.build(problem, is_input=True)
        values[step_input.name] = value
        handles = step_input.upstreams
        source = ", ".join(f"{up[0]}.{up[1]}" for up in handles) if handles else "value"
        run.emit(
            EventType.STEP_INPUT,
            step.key,
            f"Got input {step_input.name!r}",
            StepInputData(step_input.name, source),
        )
    return values


def _produced(op_def: OpDefinition, result: Any) -> Iterator[Any]:
    """The Outputs (and user events) an op produced, from what it returned or yielded."""
    if op_def.is_generator:
        yield from result
        return
    outs = op_def.outs
    if returns_dynamic_outputs(op_def, result):
        yield from result
    elif isinstance(result, Output):
        yield result
    elif len(outs) == 1:
        yield Output(result, next(iter(outs)))
    elif len(outs) > 1:
        if not isinstance(result, tuple) or len(result) != len(outs):
            raise OutputError(
                f"Op {op_def.name!r} has outputs {list(outs)}, so it must return a tuple of "
                f"{len(outs)} values in that order (or yield Output(value, name)); it returned "
                f"{type(result).__name__} {result!r:.60}."
            )
        for name, value in zip(outs, result, strict=True):
            yield value if isinstance(value, Output) else Output(value, name)
    elif result is not None:
        raise OutputError(f"Op {op_def.name!r} declares no outputs but returned {result!r:.60}.")


def _store(
    run: RunContext,
    step: Step,
    context: OpExecutionContext,
    output: Output,
    done: dict[str, Any],
    check_type: bool = True,
) -> None:
    op_def = step.op_def
    name = output.output_name
    spec = op_def.outs.get(name) or element_spec(op_def, name)
    if spec is None:
        raise OutputError(
            f"Op {op_def.name!r} produced output {name!r}, which it does not declare; its "
            f"outputs are {list(op_def.outs)}."
        )
    if name in done:
        raise OutputError(f"Op {op_def.name!r} produced output {name!r} twice.")
    problem = check_type and check_value_type(f"Output {step.key}.{name}", spec, output.value)
    if problem:
        raise TypeCheckError.build(problem, is_input=False)
    metadata = {**context.output_metadata(name), **output.metadata}
    version_element(run, step.key, name)
    version = run.versions.get((step.key, name))
    parts = run.version_parts.get((step.key, name))
    value_fingerprint = None if parts is None else output_fingerprint(output.value)
    out_context = IOScope.of_run(run).output(step.key, name, version, context.log)
    asset_key = out_context.asset_key
    run.emit(
        EventType.STEP_OUTPUT,
        step.key,
        f"Yielded output {name!r}",
        StepOutputData(name, version, metadata, value_fingerprint),
    )
    run.resources[spec.io_manager_key].handle_output(out_context, output.value)
    run.emit(
        EventType.HANDLED_OUTPUT,
        step.key,
        f"Handled output {name!r} using IO manager {spec.io_manager_key!r}",
        IOManagerData(name, spec.io_manager_key, metadata),
    )
    if asset_key is not None:
        materialization = AssetMaterialization(
            asset_key, metadata=metadata, partition=run.partition_key
        )
        run.emit(
            EventType.ASSET_MATERIALIZATION,
            step.key,
            f"Materialized asset {asset_key}",
            materialization,
        )
    done[name] = output.value
    run.record_output(step.key, name, output.value)
    if parts is not None:
        manifest = parts.to_manifest()
        if value_fingerprint is not None:
            manifest[VALUE_FINGERPRINT_KEY] = value_fingerprint
        manager = run.resources[spec.io_manager_key]
        store = manifest_store_for(manager, run.instance.manifests, op_def)
        store.record_manifest(step.key, name, manifest)


def _flush_user_events(run: RunContext, step: Step, context: OpExecutionContext) -> None:
    for event in context.consume_events():
        run.emit(_USER_EVENT_KIND[type(event)], step.key, _describe_user_event(event), event)


def _describe_user_event(event: Any) -> str:
    if isinstance(event, ExpectationResult):
        return f"Expectation {event.label or ''} {'passed' if event.success else 'failed'}"
    return f"{type(event).__name__} {event.asset_key.to_user_string()}"


def _produced_by(run: RunContext, op_def: OpDefinition, result: Any) -> Iterator[Any]:
    """:func:`_produced`, where a generator op's body (or an iterator the op returned) runs
    as user code: the step's events so far are stored before each resumption."""
    produced = _produced(op_def, result)
    if not (op_def.is_generator or isinstance(result, Iterator)):
        yield from produced
        return
    while True:
        with run.user_code():
            item = next(produced, _END)
        if item is _END:
            return
        yield item


_END = object()


def _compute(run: RunContext, step: Step, context: OpExecutionContext) -> dict[str, Any]:
    op_def = step.op_def
    inputs = _load_inputs(run, step)
    with run.user_code():
        result = (
            op_def.compute_fn(context, **inputs)
            if op_def.has_context
            else op_def.compute_fn(**inputs)
        )
    done: dict[str, Any] = {}
    elements = DynamicElements(op_def)
    for item in _produced_by(run, op_def, result):
        if isinstance(item, DynamicOutput):
            _flush_user_events(run, step, context)
            # an annotation describes the whole output, not one element: not checked
            _store(run, step, context, elements.add(item), done, check_type=False)
        elif isinstance(item, Output):
            elements.check_plain(item)
            _flush_user_events(run, step, context)
            _store(run, step, context, item, done)
        elif isinstance(item, USER_EVENT_TYPES):
            context.log_event(item)
        else:
            raise OutputError(
                f"Op {op_def.name!r} yielded {type(item).__name__} {item!r:.60}; a generator op "
                "yields Output(value, name), AssetMaterialization, AssetObservation or "
                "ExpectationResult."
            )
    _flush_user_events(run, step, context)
    for output in elements.key_lists():
        _store(run, step, context, output, done, check_type=False)
    missing = [n for n, spec in op_def.outs.items() if spec.is_required and n not in done]
    if missing:
        raise OutputError(
            f"Op {op_def.name!r} did not produce required output(s) {missing}. Fix: yield "
            "Output(value, name) for each, or declare Out(is_required=False)."
        )
    return done


def _retry_wait(step: Step, exc: BaseException, attempt: int, run: RunContext) -> float | None:
    """Seconds to wait before retrying, or None when no retry is left."""
    if not run.retries_enabled or (isinstance(exc, Failure) and exc.allow_retries is False):
        return None
    if isinstance(exc, RetryRequested):
        return float(exc.seconds_to_wait or 0.0) if attempt < exc.max_retries else None
    policy = step.retry_policy
    if policy is None or attempt >= policy.max_retries:
        return None
    return policy.calculate_delay(attempt + 1)


def _run_hooks(
    run: RunContext,
    step: Step,
    success: bool,
    exc: BaseException | None,
    outputs: Mapping[str, Any],
) -> None:
    for hook in sorted(step.hook_defs, key=lambda h: h.name):
        if not hook.fires_on(success):
            run.emit(
                EventType.HOOK_SKIPPED, step.key, f"Skipped hook {hook.name!r}", HookData(hook.name)
            )
            continue
        context = HookContext(
            step_key=step.key,
            op_def=step.op_def,
            hook_name=hook.name,
            resources=run.resources,
            log=run.log.for_step(step.key),
            run_id=run.run_id,
            job_name=run.job_name,
            op_config=run.config.op_config(step.key),
            op_exception=exc,
            op_output_values=outputs,
        )
        try:
            with run.user_code():
                hook.hook_fn(context)
        except Exception as hook_exc:
            run.emit(
                EventType.HOOK_ERRORED,
                step.key,
                f"Hook {hook.name!r} raised",
                HookData(hook.name, ErrorInfo.from_exception(hook_exc)),
            )
        else:
            run.emit(
                EventType.HOOK_COMPLETED,
                step.key,
                f"Finished hook {hook.name!r}",
                HookData(hook.name),
            )


def _late(step: Step, limit: StepLimit | None, started: float) -> StepTimeoutError | None:
    """The timeout error of a step that returned after its limit, else ``None``."""
    if limit is None:
        return None
    took = time.perf_counter() - started
    if took <= limit.seconds:
        return None
    how = (
        f"was reported when it returned, after {took:.1f} s (a step running in-process "
        "cannot be stopped safely; what it stored is kept)"
    )
    return StepTimeoutError.build(step.key, limit.seconds, limit.source, how)


def run_step(run: RunContext, step: Step, limit: StepLimit | None = None) -> bool:
    """Run ``step`` to success or final failure (retrying as its policy allows).

    A step that returns after ``limit`` (counted from its first attempt) fails with
    :class:`StepTimeoutError`; in-process, it cannot be stopped before it returns.

    The step's events are held and stored in groups, the last of them when it ends, unless
    the executor holds them longer (see :meth:`RunContext.holding_events`).
    """
    with run.holding_events():
        return _run_attempts(run, step, limit)


def _version_again(run: RunContext, step: Step) -> None:
    """Before a retry of a memoized step: the failed attempt may have changed what its op was
    given in place, so the step is versioned again from the values as they are now (its
    output is then stored under the version of what the retry reads)."""
    if run.memo is not None:
        run.memo.code_ran()
        run.memo.revise(run, step)


def _run_attempts(run: RunContext, step: Step, limit: StepLimit | None) -> bool:
    attempt = 0
    first_started = time.perf_counter()
    op_config = run.config.op_config(step.key)
    while True:
        context = OpExecutionContext(
            run, step.key, step.op_def, op_config, attempt, mapping_key=step.mapping_key
        )
        if attempt == 0:
            run.emit(EventType.STEP_START, step.key, f"Started execution of step {step.key!r}")
        else:
            run.emit(
                EventType.STEP_RESTARTED,
                step.key,
                f"Started re-execution (attempt {attempt + 1}) of step {step.key!r}",
            )
        started = time.perf_counter()
        try:
            outputs = _compute(run, step, context)
        except Exception as exc:
            wait = _retry_wait(step, exc, attempt, run)
            if wait is not None:
                attempt += 1
                run.emit(
                    EventType.STEP_UP_FOR_RETRY,
                    step.key,
                    f"Step {step.key!r} failed and will be retried (attempt {attempt + 1})",
                    RetryData(attempt, wait, ErrorInfo.from_exception(exc)),
                )
                if wait:
                    with run.user_code():
                        time.sleep(wait)
                _version_again(run, step)
                continue
            if isinstance(exc, RetryRequested) and run.retries_enabled:
                exhausted = MaxRetriesExceededError.build(step.key, exc, attempt)
                exhausted.__cause__ = exc.__cause__ or exc
                exc = exhausted
            run.fail_step(
                step.key,
                f"Execution of step {step.key!r} failed: {type(exc).__name__}: {exc}",
                exc,
                user_failure=not isinstance(exc, OutputError),
            )
            _run_hooks(run, step, False, exc, {})
            return False
        late = _late(step, limit, first_started)
        if late is not None:
            run.fail_step(step.key, str(late).splitlines()[0], late, user_failure=False)
            _run_hooks(run, step, False, late, {})
            return False
        duration_ms = (time.perf_counter() - started) * 1000
        run.emit(
            EventType.STEP_SUCCESS,
            step.key,
            f"Finished execution of step {step.key!r} in {duration_ms:.1f}ms",
            StepDurationData(duration_ms),
        )
        if step.hook_defs:
            _run_hooks(run, step, True, None, outputs)
        return True
