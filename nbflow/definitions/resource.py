"""Resources: things ops use (clients, connections, settings), built once per run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, overload

from nbflow.config import Field, as_field
from nbflow.definitions._callables import positional_arity
from nbflow.definitions.specs import NO_VALUE
from nbflow.errors import DefinitionError
from nbflow.versioning import validate_version

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
        self.version = None if version is None else validate_version(owner, version)
        self.takes_context = positional_arity(resource_fn) >= 1

    @property
    def name(self) -> str:
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
