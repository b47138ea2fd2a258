"""Builders for tests: the contexts IO managers, resources and hooks receive, outside a run.

``build_op_context`` (in :mod:`nbflow.execution.engine.direct`) builds an op's context; these
build the others, so an IO manager, a resource function or a hook can be called directly in a
unit test. ``instance_for_test`` gives a temporary persistent instance.

Resources given to a builder may be plain objects or resource definitions; definitions are
built at once. Use the built context as a context manager (``with build_input_context(...) as
context:``) to tear down resources that need it (generators) when the block ends.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from typing import TYPE_CHECKING, Any

from nbflow.definitions.io_manager import InputContext, OutputContext
from nbflow.definitions.resource import as_resource_definition
from nbflow.execution.engine.context import HookContext
from nbflow.execution.engine.direct import DIRECT_RUN_ID
from nbflow.execution.engine.log import RunLog
from nbflow.execution.engine.resources import InitResourceContext, Resources, build_resources
from nbflow.storage.instance import Instance

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from nbflow.definitions.asset_key import AssetKey
    from nbflow.definitions.op import OpDefinition


def _build(resources: Mapping[str, Any] | None, stack: contextlib.ExitStack) -> Resources:
    """``resources`` built (definitions called, plain objects kept), teardown on ``stack``."""
    defs = {key: as_resource_definition(value) for key, value in (resources or {}).items()}
    return build_resources(defs, {}, defs, stack, run_id=DIRECT_RUN_ID)


class _TearsDown:
    """Mixin: the context's resources are torn down when its ``with`` block ends."""

    __slots__ = ()
    _stack: contextlib.ExitStack

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


class BuiltInputContext(_TearsDown, InputContext):
    """An :class:`InputContext` built by :func:`build_input_context`."""

    __slots__ = ("_stack",)


class BuiltOutputContext(_TearsDown, OutputContext):
    """An :class:`OutputContext` built by :func:`build_output_context`."""

    __slots__ = ("_stack",)


class BuiltInitResourceContext(_TearsDown, InitResourceContext):
    """An :class:`InitResourceContext` built by :func:`build_init_resource_context`."""


class BuiltHookContext(_TearsDown, HookContext):
    """A :class:`HookContext` built by :func:`build_hook_context`."""

    instance: Instance


def build_output_context(
    step_key: str | None = None,
    name: str | None = None,
    definition_metadata: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    mapping_key: str | None = None,
    config: Any = None,
    dagster_type: Any = None,
    version: str | None = None,
    resource_config: Any = None,
    resources: Mapping[str, Any] | None = None,
    op_def: OpDefinition | None = None,
    asset_key: AssetKey | str | None = None,
    partition_key: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> BuiltOutputContext:
    """Build the context an IO manager's ``handle_output`` receives, to test it directly.

    Args:
        step_key: the producing step (``"step"`` if not given; ``op[mapping_key]`` when a
            mapping key is given).
        name: the output's name (``"result"`` if not given).
        definition_metadata: the ``Out``'s metadata (``metadata`` is its older name).
        run_id: the run's id (``EPHEMERAL`` if not given).
        mapping_key: the mapping key of a dynamic step.
        config: the output's config.
        dagster_type: accepted for compatibility; nbflow outputs carry no type here.
        version: the output's version (part of ``get_identifier()`` when given).
        resource_config: the IO manager's config.
        resources: resources the IO manager may use (objects or definitions).
        op_def: the producing op.
        asset_key: the asset the output is, if any.
        partition_key: the partition being stored, if any.
        metadata: the ``Out``'s metadata, as older code names it.

    Returns:
        An :class:`OutputContext`, usable as a context manager to tear resources down.
    """
    from nbflow.definitions.asset_key import AssetKey

    del dagster_type
    stack = contextlib.ExitStack()
    key = step_key or (op_def.name if op_def is not None else "step")
    if mapping_key is not None and step_key is None:
        key = f"{key}[{mapping_key}]"
    context = BuiltOutputContext(
        step_key=key,
        name=name or "result",
        run_id=run_id or DIRECT_RUN_ID,
        version=version,
        metadata={**(metadata or {}), **(definition_metadata or {})},
        config=config,
        resource_config=resource_config,
        resources=_build(resources, stack),
        op_def=op_def,
        asset_key=None if asset_key is None else AssetKey.from_coercible(asset_key),
        partition_key=partition_key,
        log=RunLog.default("direct", DIRECT_RUN_ID).for_step(key),
    )
    context._stack = stack
    return context


def build_input_context(
    name: str | None = None,
    config: Any = None,
    metadata: Mapping[str, Any] | None = None,
    upstream_output: OutputContext | None = None,
    dagster_type: Any = None,
    resource_config: Any = None,
    resources: Mapping[str, Any] | None = None,
    op_def: OpDefinition | None = None,
    step_context: Any = None,
    asset_key: AssetKey | str | None = None,
    partition_key: str | None = None,
    instance: Instance | None = None,
) -> BuiltInputContext:
    """Build the context an IO manager's ``load_input`` receives, to test it directly.

    Args:
        name: the input's name (``"input"`` if not given).
        config: the input's config.
        metadata: the ``In``'s metadata.
        upstream_output: the context of the output being loaded (see
            :func:`build_output_context`); the asset key defaults to its.
        dagster_type: accepted for compatibility; nbflow inputs carry no type here.
        resource_config: the IO manager's config.
        resources: resources the IO manager may use (objects or definitions).
        op_def: the op that reads the input.
        step_context: accepted for compatibility; ignored.
        asset_key: the asset being loaded, if any.
        partition_key: the partition being loaded, if any.
        instance: accepted for compatibility; IO contexts carry no instance.

    Returns:
        An :class:`InputContext`, usable as a context manager to tear resources down.
    """
    from nbflow.definitions.asset_key import AssetKey

    del dagster_type, step_context, instance
    stack = contextlib.ExitStack()
    key = op_def.name if op_def is not None else "step"
    asset: AssetKey | None
    if asset_key is not None:
        asset = AssetKey.from_coercible(asset_key)
    else:
        asset = upstream_output.asset_key if upstream_output is not None else None
    context = BuiltInputContext(
        name=name or "input",
        step_key=key,
        upstream_output=upstream_output,
        metadata=metadata,
        config=config,
        resource_config=resource_config,
        resources=_build(resources, stack),
        op_def=op_def,
        asset_key=asset,
        partition_key=partition_key,
        log=RunLog.default("direct", DIRECT_RUN_ID).for_step(key),
    )
    context._stack = stack
    return context


def build_init_resource_context(
    config: Any = None,
    resources: Mapping[str, Any] | None = None,
    instance: Instance | None = None,
) -> BuiltInitResourceContext:
    """Build the context a resource function receives, to call it directly.

    Example:
        >>> my_resource.resource_fn(build_init_resource_context(config={"url": "x"}))

    Args:
        config: the resource's config (``context.resource_config``).
        resources: the resources it needs (objects or definitions).
        instance: the instance it sees (none if not given).

    Returns:
        An :class:`InitResourceContext`, usable as a context manager to tear resources down.
    """
    stack = contextlib.ExitStack()
    context = BuiltInitResourceContext(
        resource_config=config,
        resource_def=None,  # type: ignore[arg-type]  # no definition: called directly
        resources=_build(resources, stack),
        instance=instance,
        run_id=DIRECT_RUN_ID,
        log=RunLog.default("direct", DIRECT_RUN_ID),
    )
    context._stack = stack
    return context


def build_hook_context(
    resources: Mapping[str, Any] | None = None,
    op: OpDefinition | None = None,
    run_id: str | None = None,
    job_name: str | None = None,
    op_exception: BaseException | None = None,
    instance: Instance | None = None,
) -> BuiltHookContext:
    """Build the context a hook function receives, to call it directly.

    Example:
        >>> my_failure_hook.hook_fn(build_hook_context(op_exception=ValueError("boom")))

    Args:
        resources: the resources the hook uses (objects or definitions).
        op: the op the hook is attached to.
        run_id: the run's id (``EPHEMERAL`` if not given).
        job_name: the job's name.
        op_exception: the error the op raised (for failure hooks).
        instance: the instance it sees (an ephemeral one if not given).

    Returns:
        A :class:`HookContext`, usable as a context manager to tear resources down.
    """
    stack = contextlib.ExitStack()
    step_key = op.name if op is not None else "step"
    context = BuiltHookContext(
        step_key=step_key,
        op_def=op,  # type: ignore[arg-type]  # a hook may be tested without its op
        hook_name="hook",
        resources=_build(resources, stack),
        log=RunLog.default(job_name or "direct", run_id or DIRECT_RUN_ID).for_step(step_key),
        run_id=run_id or DIRECT_RUN_ID,
        job_name=job_name or "",
        op_config=None,
        op_exception=op_exception,
    )
    context.instance = instance if instance is not None else Instance.ephemeral()
    context._stack = stack
    return context


@contextlib.contextmanager
def instance_for_test() -> Iterator[Instance]:
    """A persistent instance in a temporary folder, removed when the block ends.

    Nothing global changes (``$NBFLOW_HOME`` stays as it is).

    Example:
        >>> with instance_for_test() as instance:
        ...     result = my_job.execute_in_process(instance=instance)
        ...     assert instance.get_run_by_id(result.run_id) is not None
    """
    folder = tempfile.mkdtemp(prefix="nbflow-test-")
    try:
        yield Instance.local(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
