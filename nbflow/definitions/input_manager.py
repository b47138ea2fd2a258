"""Input managers: resources that load an op input (``In(input_manager_key=...)``).

An input with an input manager is loaded by that manager's ``load_input(context)`` instead
of by the upstream output's IO manager; an input with no upstream gets its value from it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, overload

from nbflow.config import Field
from nbflow.definitions._callables import positional_arity
from nbflow.definitions.resource import ResourceDefinition

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from nbflow.definitions.io_manager import InputContext


class InputManager(ABC):
    """Loads the value of an op input."""

    @abstractmethod
    def load_input(self, context: InputContext) -> Any:
        """Return the value for the input ``context`` describes."""


class InputManagerDefinition(ResourceDefinition):
    """A resource definition whose value is an :class:`InputManager`.

    Its ``version=`` (or the job's version strategy) versions the inputs it loads that have
    no upstream output.
    """


class _FunctionInputManager(InputManager):
    def __init__(self, load_fn: Callable[..., Any], resource_config: Any) -> None:
        self._load_fn = load_fn
        self._takes_context = positional_arity(load_fn) >= 1
        self._resource_config = resource_config

    def load_input(self, context: InputContext) -> Any:
        if not self._takes_context:
            return self._load_fn()
        if context.resource_config is None:
            context.resource_config = self._resource_config
        return self._load_fn(context)


def _definition(
    load_fn: Callable[..., Any],
    config_schema: Any,
    description: str | None,
    required_resource_keys: Iterable[str] | None,
    version: str | None,
) -> InputManagerDefinition:
    def build(init_context: Any) -> InputManager:
        return _FunctionInputManager(load_fn, getattr(init_context, "resource_config", None))

    build.__name__ = getattr(load_fn, "__name__", "input_manager")
    return InputManagerDefinition(
        build,
        config_schema=config_schema,
        description=description or load_fn.__doc__,
        required_resource_keys=required_resource_keys,
        version=version,
    )


@overload
def input_manager(config_schema: Callable[..., Any]) -> InputManagerDefinition: ...


@overload
def input_manager(
    config_schema: Any = None,
    description: str | None = None,
    required_resource_keys: Iterable[str] | None = None,
    version: str | None = None,
) -> Callable[[Callable[..., Any]], InputManagerDefinition]: ...


def input_manager(
    config_schema: Any = None,
    description: str | None = None,
    required_resource_keys: Iterable[str] | None = None,
    version: str | None = None,
) -> InputManagerDefinition | Callable[[Callable[..., Any]], InputManagerDefinition]:
    """Define an input manager from a load function (``@input_manager`` or ``@input_manager()``).

    The decorated function is the manager's ``load_input``: it takes an ``InputContext`` (or
    nothing) and returns the input's value; ``context.resource_config`` holds its config.

    Args:
        config_schema: schema of ``resources.<key>.config`` in run config.
        description: shown in docs and notebook views.
        required_resource_keys: other resources it needs (``context.resources``).
        version: versions the inputs it loads that have no upstream output.
    """
    if callable(config_schema) and not isinstance(config_schema, type | Field):
        return _definition(config_schema, None, None, None, None)

    def decorate(fn: Callable[..., Any]) -> InputManagerDefinition:
        return _definition(fn, config_schema, description, required_resource_keys, version)

    return decorate
