"""``build_op_context``: a context for calling an op directly, outside any run."""

from __future__ import annotations

import contextlib
import inspect
from typing import TYPE_CHECKING, Any

from nbflow.config import validate_config
from nbflow.definitions.resource import as_resource_definition
from nbflow.errors import InvalidContextUseError, InvalidInvocationError, did_you_mean
from nbflow.execution.engine.context import OpExecutionContext
from nbflow.execution.engine.log import RunLog
from nbflow.execution.engine.resources import Resources, build_resources
from nbflow.storage.instance import Instance

if TYPE_CHECKING:
    from collections.abc import Mapping

    from nbflow.definitions.job import JobDefinition
    from nbflow.definitions.op import OpDefinition
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
        self._configs = dict(resources_config)
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


class DirectOpExecutionContext(OpExecutionContext):
    """An op context built by :func:`build_op_context`; usable as a context manager."""

    __slots__ = ("_config_given",)

    def __init__(self, run: _DirectRun, config: Any, mapping_key: str | None = None) -> None:
        op_def: Any = None  # bound later, by bind_to_op
        super().__init__(run, "direct", op_def, config, mapping_key=mapping_key)
        self._config_given = config

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
        return OpExecutionContext(run, op_def.name, op_def, config, mapping_key=self._mapping_key)

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
