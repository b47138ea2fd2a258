"""Resources: things ops use (clients, connections, settings), built once per run."""

from __future__ import annotations

import copy
import inspect
from typing import TYPE_CHECKING, Any, Self, overload

from nbflow.config import Field, Shape, as_field, validate_config
from nbflow.definitions._callables import positional_arity
from nbflow.definitions.specs import NO_VALUE
from nbflow.errors import DefinitionError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


class ResourceDefinition:
    """How to build a resource: a function of an init context, its config, its own needs.

    A generator function is set up to its ``yield`` and torn down after the run.

    Args:
        resource_fn: called with an ``InitResourceContext`` (or nothing) to build the value.
        config_schema: schema of ``resources.<key>.config`` in run config.
        description: shown in docs and notebook views.
        required_resource_keys: other resources this one needs (built first).
        version: a code version for memoization; wins over the job's version strategy.
    """

    def __init__(
        self,
        resource_fn: Callable[..., Any],
        config_schema: Any = None,
        description: str | None = None,
        required_resource_keys: Iterable[str] | None = None,
        version: str | None = None,
    ) -> None:
        if not callable(resource_fn):
            raise DefinitionError(
                f"ResourceDefinition needs a function, got {resource_fn!r}. "
                "Fix: ResourceDefinition(lambda init_context: value) or "
                "ResourceDefinition.hardcoded_resource(value)."
            )
        self.resource_fn = resource_fn
        self.config_schema = config_schema
        self.config_field: Field | None = None if config_schema is None else as_field(config_schema)
        self.description = description
        self.required_resource_keys = frozenset(required_resource_keys or ())
        owner = f"Resource {getattr(resource_fn, '__name__', 'resource')!r}"
        if version is None:
            self.version = None
        else:
            from nbflow.versioning.strategy import validate_version  # loads when used

            self.version = validate_version(owner, version)
        self.takes_context = positional_arity(resource_fn) >= 1

    configured_name: str | None = None

    @property
    def name(self) -> str:
        if self.configured_name is not None:
            return self.configured_name
        return str(getattr(self.resource_fn, "__name__", type(self).__name__))

    @property
    def fixed_value(self) -> Any:
        """The value of a resource that is always the same object, else ``NO_VALUE``."""
        return NO_VALUE

    @staticmethod
    def hardcoded_resource(value: Any, description: str | None = None) -> ResourceDefinition:
        """A resource that is always ``value``."""
        return _HardcodedResource(value, description)

    @staticmethod
    def none_resource(description: str | None = None) -> ResourceDefinition:
        """A resource that is always ``None``."""
        return _HardcodedResource(None, description)

    @staticmethod
    def mock_resource(description: str | None = None) -> ResourceDefinition:
        """A resource that is a fresh ``unittest.mock.MagicMock`` (for tests)."""
        from unittest import mock  # only when a test asks for it

        return _HardcodedResource(mock.MagicMock(), description)

    def configured(
        self,
        config_or_config_fn: Any,
        name: str | None = None,
        config_schema: Any = None,
        description: str | None = None,
    ) -> Self:
        """A copy of this resource with its config fixed, or derived from a new config.

        The config given here counts in the resource's version exactly as run config would.

        Args:
            config_or_config_fn: the config, or a function of the new config returning it.
            name: a name for the new definition (shown in views); the resource key still
                comes from the job's ``resource_defs``.
            config_schema: schema of the new config a config function receives.
            description: replaces the description.

        Raises:
            DefinitionError: ``config_schema`` given with a fixed config.
            RunConfigValidationError: a fixed config does not fit this resource's schema.
        """
        from nbflow.definitions.configured import configured_field  # loaded on first use

        owner = f"resource {name or self.name!r}"
        clone = copy.copy(self)
        clone.config_field = configured_field(
            self.config_field, config_or_config_fn, config_schema, owner
        )
        clone.config_schema = config_schema if callable(config_or_config_fn) else None
        clone.description = description or self.description
        clone.configured_name = name
        return clone

    def __call__(self, context: Any = None) -> Any:
        """Build the resource's value directly (in tests), from an init context or nothing.

        A generator resource is run to its ``yield``; the value it yields is returned. The
        context's ``resource_config`` is checked against this resource's schema and the function
        sees it with defaults filled in, as in a run.

        Raises:
            RunConfigValidationError: the context's config does not fit the schema.
        """
        if self.takes_context:
            if context is not None and self.config_field is not None:
                context = self._with_resolved_config(context)
            value = self.resource_fn(context)
        else:
            value = self.resource_fn()
        if inspect.isgenerator(value):
            return next(value)
        return value

    def _with_resolved_config(self, context: Any) -> Any:
        """A copy of ``context`` whose ``resource_config`` is validated, defaults filled in."""
        assert self.config_field is not None
        given = getattr(context, "resource_config", None)
        resolved: Any = validate_config(
            Shape({"config": self.config_field}),
            {} if given is None else {"config": given},
            target=f"resource {self.name!r}",
        )
        bound = copy.copy(context)
        bound.resource_config = resolved.get("config")
        return bound

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class _HardcodedResource(ResourceDefinition):
    def __init__(self, value: Any, description: str | None) -> None:
        super().__init__(lambda: value, description=description)
        self.value = value

    @property
    def name(self) -> str:
        return f"hardcoded({type(self.value).__name__})"

    @property
    def fixed_value(self) -> Any:
        return self.value


def as_resource_definition(value: Any) -> ResourceDefinition:
    """Resources may be given as definitions or as plain objects (used as they are)."""
    return value if isinstance(value, ResourceDefinition) else _HardcodedResource(value, None)


@overload
def resource(config_schema: Callable[..., Any]) -> ResourceDefinition: ...


@overload
def resource(
    config_schema: Any = None,
    description: str | None = None,
    required_resource_keys: Iterable[str] | None = None,
    version: str | None = None,
) -> Callable[[Callable[..., Any]], ResourceDefinition]: ...


def resource(
    config_schema: Any = None,
    description: str | None = None,
    required_resource_keys: Iterable[str] | None = None,
    version: str | None = None,
) -> ResourceDefinition | Callable[[Callable[..., Any]], ResourceDefinition]:
    """Define a resource from a function of an init context (``@resource`` or ``@resource()``)."""
    if callable(config_schema) and not isinstance(config_schema, type | Field):
        return ResourceDefinition(config_schema)

    def decorate(fn: Callable[..., Any]) -> ResourceDefinition:
        return ResourceDefinition(
            fn,
            config_schema=config_schema,
            description=description or fn.__doc__,
            required_resource_keys=required_resource_keys,
            version=version,
        )

    return decorate
