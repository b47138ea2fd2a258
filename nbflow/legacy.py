"""Older names (solid, pipeline, ModeDefinition, InputDefinition) as thin aliases of today's API.

So that examples written against the older API run with only their imports changed::

    from nbflow.legacy import InputDefinition, ModeDefinition, pipeline, solid
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbflow.definitions.job import JobDefinition, job
from nbflow.definitions.op import OpDefinition, op
from nbflow.definitions.specs import NO_VALUE, In, Out
from nbflow.errors import DefinitionError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from nbflow.definitions.resource import ResourceDefinition


@dataclass(frozen=True)
class InputDefinition:
    """An input by name (today: a parameter of the op function, described by ``In``)."""

    name: str
    dagster_type: Any = None
    description: str | None = None
    default_value: Any = NO_VALUE

    def to_in(self) -> In:
        return In(self.dagster_type, self.description, self.default_value)


@dataclass(frozen=True)
class OutputDefinition:
    """An output by name (today: ``Out`` in ``out=``)."""

    dagster_type: Any = None
    name: str = "result"
    description: str | None = None
    is_required: bool = True
    io_manager_key: str = "io_manager"

    def to_out(self) -> Out:
        return Out(self.dagster_type, self.description, self.is_required, self.io_manager_key)


@dataclass(frozen=True)
class ModeDefinition:
    """A named set of resources (today: the job's ``resource_defs``)."""

    name: str = "default"
    resource_defs: Mapping[str, ResourceDefinition] = field(default_factory=dict)


def solid(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    input_defs: Sequence[InputDefinition] | None = None,
    output_defs: Sequence[OutputDefinition] | None = None,
    config_schema: Any = None,
    required_resource_keys: Any = None,
    tags: Mapping[str, Any] | None = None,
    version: str | None = None,
    description: str | None = None,
) -> Any:
    """``@solid``: an op, with inputs and outputs given as definitions."""
    outs = {d.name: d.to_out() for d in output_defs} if output_defs else None
    decorator: Callable[[Callable[..., Any]], OpDefinition] = op(
        name=name,
        ins={d.name: d.to_in() for d in input_defs or ()},
        out=outs,
        config_schema=config_schema,
        required_resource_keys=required_resource_keys,
        tags=tags,
        version=version,
        description=description,
    )
    return decorator(fn) if fn is not None else decorator


def pipeline(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    mode_defs: Sequence[ModeDefinition] | None = None,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
) -> Any:
    """``@pipeline``: a job; its first mode's resources become the job's resources."""
    if mode_defs and len(mode_defs) > 1:
        raise DefinitionError(
            f"pipeline got {len(mode_defs)} modes; nbflow jobs have one set of resources. "
            "Fix: define one job per mode with @job(resource_defs=...)."
        )
    resource_defs = dict(mode_defs[0].resource_defs) if mode_defs else None
    decorator: Callable[[Callable[..., Any]], JobDefinition] = job(
        name=name, resource_defs=resource_defs, tags=tags, description=description
    )
    return decorator(fn) if fn is not None else decorator


__all__ = ["InputDefinition", "ModeDefinition", "OutputDefinition", "pipeline", "solid"]
