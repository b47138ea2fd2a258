"""``build_op_context``: a context for calling an op directly, outside any run."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nbflow.config import Shape, resolve_config, validate_config
from nbflow.definitions.resource import as_resource_definition
from nbflow.errors import (
    InvalidContextUseError,
    InvalidInvocationError,
    RunConfigValidationError,
    did_you_mean,
)
from nbflow.execution.engine.context import OpExecutionContext
from nbflow.execution.engine.log import RunLog
from nbflow.execution.engine.resources import Resources, build_resources
from nbflow.storage.instance import Instance

if TYPE_CHECKING:
    from collections.abc import Iterator

    from nbflow.definitions.job import JobDefinition
    from nbflow.definitions.op import OpDefinition
    from nbflow.definitions.resource import ResourceDefinition
    from nbflow.storage.run import Run

DIRECT_RUN_ID = "EPHEMERAL"


class _DirectRun:
    """The run an op called directly belongs to: no job, resources built on first use."""

    run_id = DIRECT_RUN_ID
    job_def: JobDefinition | None = None
    job_name: str | None = None
    run: Run | None = None

    def __init__(
        self,
        resources: Mapping[str, Any],
        resources_config: Mapping[str, Any],
        instance: Instance | None,
        partition_key: str | None,
    ) -> None:
        self._defs = {k: as_resource_definition(v) for k, v in resources.items()}
        self._configs = resolve_resources_config(self._defs, resources_config)
        self._instance = instance
        self._built: Resources | None = None
        self.stack: contextlib.ExitStack | None = None
        self.tags: Mapping[str, str] = {}
        self.partition_key = partition_key
        self.run_config: Mapping[str, Any] = {}
        self.log = RunLog.default("direct", DIRECT_RUN_ID)

    @property
    def instance(self) -> Instance:
        if self._instance is None:
            self._instance = Instance.ephemeral()
        return self._instance

    @property
    def resources(self) -> Resources:
        if self._built is None:
            needs_teardown = [
                k for k, d in self._defs.items() if inspect.isgeneratorfunction(d.resource_fn)
            ]
            if needs_teardown and self.stack is None:
                raise InvalidContextUseError(
                    f"Resources {needs_teardown} need teardown, so the context must be used as a "
                    "context manager. Fix: `with build_op_context(resources=...) as context:`."
                )
            stack = self.stack or contextlib.ExitStack()
            self._built = build_resources(
                self._defs,
                self._configs,
                self._defs,
                stack,
                instance=self._instance,
                run_id=DIRECT_RUN_ID,
                log=self.log,
            )
        return self._built


def _given_config(definition: ResourceDefinition, given: Any) -> Any:
    """The resource's own config from ``given``, in run-config form or bare.

    ``{"config": {...}}`` (the run config's ``resources`` shape) is unwrapped, unless the
    resource's own schema has a field named ``config``; anything else is the config itself.
    """
    if not isinstance(given, dict) or set(given) != {"config"}:
        return given
    field = definition.config_field
    own_fields = getattr(field.config_type, "fields", None) if field is not None else None
    if isinstance(own_fields, Mapping) and "config" in own_fields:
        return given
    return given["config"]


def resolve_resources_config(
    resource_defs: Mapping[str, ResourceDefinition], resources_config: Mapping[str, Any]
) -> dict[str, Any]:
    """Each resource's config validated against its schema, with defaults filled in.

    Args:
        resource_defs: the resources by key.
        resources_config: per key, ``{"config": ...}`` as in run config, or the config itself.

    Returns:
        Per key, the resolved config a resource function sees as ``resource_config``.

    Raises:
        RunConfigValidationError: a key names no resource, or a config does not fit its
            resource's schema; every problem is listed with its path.
    """
    problems: list[str] = []
    resolved: dict[str, Any] = {}
    for key in sorted(set(resources_config) - set(resource_defs)):
        problems.append(
            f"root:resources:{key}: no resource {key!r} was given."
            f"{did_you_mean(key, resource_defs)} Resources: {sorted(resource_defs)}."
        )
    for key, definition in resource_defs.items():
        given = _given_config(definition, resources_config.get(key))
        field = definition.config_field
        if field is None:
            resolved[key] = given
            continue
        value = {} if given is None else {"config": given}
        result, found = resolve_config(
            Shape({"config": field}), value, root=("root", "resources", key)
        )
        problems.extend(found)
        if not found:
            resolved[key] = (result or {}).get("config")  # type: ignore[attr-defined]
    if problems:
        raise RunConfigValidationError.build("the resources of build_op_context", problems)
    return resolved


class DirectOpExecutionContext(OpExecutionContext):
    """An op context built by :func:`build_op_context`; usable as a context manager."""

    __slots__ = ("_bound", "_config_given")

    def __init__(self, run: _DirectRun, config: Any, mapping_key: str | None = None) -> None:
        op_def: Any = None  # bound later, by bind_to_op
        super().__init__(run, "direct", op_def, config, mapping_key=mapping_key)
        self._config_given = config
        self._bound: OpExecutionContext | None = None

    def consume_events(self) -> Iterator[Any]:
        """Pop and yield the user events of the last call made with this context.

        The events the op logged (``context.log_event``) or yielded, in order, that it did not
        consume itself.
        """
        yield from super().consume_events()
        if self._bound is not None:
            yield from self._bound.consume_events()

    def get_output_metadata(
        self, output_name: str, mapping_key: str | None = None
    ) -> Mapping[str, Any] | None:
        """The metadata the last call attached to an output, or None.

        Both ``context.add_output_metadata`` and the metadata of returned or yielded ``Output``
        objects count (the ``Output``'s keys win).
        """
        if self._bound is None:
            return super().get_output_metadata(output_name, mapping_key)
        return self._bound.get_output_metadata(output_name, mapping_key)

    def bind_to_op(self, op_def: OpDefinition) -> OpExecutionContext:
        """A context for ``op_def``: its config validated, its resources checked."""
        run: _DirectRun = self._run  # type: ignore[assignment]
        missing = sorted(op_def.required_resource_keys - set(run._defs))
        if missing:
            raise InvalidInvocationError(
                f"Op {op_def.name!r} needs resources {missing}, but the context has "
                f"{sorted(run._defs)}.{did_you_mean(missing[0], run._defs)} Fix: "
                f"build_op_context(resources={{{missing[0]!r}: ...}})."
            )
        config = self._config_given
        if op_def.config_field is not None:
            config = validate_config(
                op_def.config_field.config_type,
                config,
                root=("root", "config"),
                target=f"op {op_def.name!r}",
            )
            if config is None and op_def.config_field.has_default_value:
                config = op_def.config_field.default_value
        self._bound = OpExecutionContext(
            run, op_def.name, op_def, config, mapping_key=self._mapping_key
        )
        return self._bound

    def __enter__(self) -> DirectOpExecutionContext:
        run: _DirectRun = self._run  # type: ignore[assignment]
        run.stack = contextlib.ExitStack()
        return self

    def __exit__(self, *exc: object) -> None:
        run: _DirectRun = self._run  # type: ignore[assignment]
        if run.stack is not None:
            run.stack.close()

    def __repr__(self) -> str:
        return "<DirectOpExecutionContext>"


def build_op_context(
    resources: Mapping[str, Any] | None = None,
    op_config: Any = None,
    resources_config: Mapping[str, Any] | None = None,
    instance: Instance | None = None,
    config: Any = None,
    partition_key: str | None = None,
    mapping_key: str | None = None,
) -> DirectOpExecutionContext:
    """Build a context to call an op directly: ``my_op(build_op_context(config={...}))``.

    Resources may be plain objects or resource definitions. A resource that needs teardown
    (a generator) requires ``with build_op_context(...) as context:``.
    """
    if op_config is not None and config is not None:
        raise InvalidInvocationError("Pass op_config or config to build_op_context, not both.")
    run = _DirectRun(resources or {}, resources_config or {}, instance, partition_key)
    return DirectOpExecutionContext(
        run, op_config if op_config is not None else config, mapping_key=mapping_key
    )
