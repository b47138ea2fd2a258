"""Hooks: functions that run after an op succeeds or fails."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any, overload

from nbflow.definitions._callables import check_name

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


class HookKind(Enum):
    """When a hook fires."""

    SUCCESS = "success"
    FAILURE = "failure"


class HookDefinition:
    """A function of a hook context that runs after an op's step ends the way ``kind`` says."""

    def __init__(
        self,
        name: str,
        hook_fn: Callable[..., Any],
        kind: HookKind,
        required_resource_keys: Iterable[str] | None = None,
    ) -> None:
        self.name = check_name("Hook", name)
        self.hook_fn = hook_fn
        self.kind = kind
        self.required_resource_keys = frozenset(required_resource_keys or ())

    def fires_on(self, success: bool) -> bool:
        return (self.kind is HookKind.SUCCESS) == success

    def __repr__(self) -> str:
        return f"<HookDefinition {self.name} on {self.kind.value}>"


def _hook_decorator(kind: HookKind) -> Any:
    @overload
    def decorator(name: Callable[..., Any]) -> HookDefinition: ...

    @overload
    def decorator(
        name: str | None = None, required_resource_keys: Iterable[str] | None = None
    ) -> Callable[[Callable[..., Any]], HookDefinition]: ...

    def decorator(
        name: str | Callable[..., Any] | None = None,
        required_resource_keys: Iterable[str] | None = None,
    ) -> HookDefinition | Callable[[Callable[..., Any]], HookDefinition]:
        if callable(name):
            return HookDefinition(name.__name__, name, kind)

        def decorate(fn: Callable[..., Any]) -> HookDefinition:
            return HookDefinition(name or fn.__name__, fn, kind, required_resource_keys)

        return decorate

    return decorator


success_hook = _hook_decorator(HookKind.SUCCESS)
success_hook.__doc__ = "Define a hook that runs after an op succeeds (``@success_hook``)."
failure_hook = _hook_decorator(HookKind.FAILURE)
failure_hook.__doc__ = "Define a hook that runs after an op fails (``@failure_hook``)."
