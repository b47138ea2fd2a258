"""What flows in and out of an op: ``In``, ``Out`` and the ``Output`` value wrapper."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Mapping


class _NoValue:
    """Marks a missing default value (``None`` is a valid default)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_VALUE"

    def __bool__(self) -> bool:
        return False


NO_VALUE: Final = _NoValue()
DEFAULT_OUTPUT: Final = "result"
DEFAULT_IO_MANAGER_KEY: Final = "io_manager"

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class Nothing:
    """Input type of an ordering-only dependency: the upstream runs first, no value is passed."""


def is_checkable_type(python_type: object) -> bool:
    """Whether ``python_type`` is a plain class nbflow can check values against."""
    return isinstance(python_type, type) and python_type not in (object, Nothing)


@dataclass(frozen=True, slots=True)
class In:
    """Declares an op input.

    Args:
        python_type: a class the value must be an instance of (checked at run time), or None.
        description: shown in docs and notebook views.
        default_value: used when nothing upstream, in run config or ``input_values`` gives one.
        metadata: free-form information about the input.
    """

    python_type: Any = None
    description: str | None = None
    default_value: Any = NO_VALUE
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def has_default_value(self) -> bool:
        return self.default_value is not NO_VALUE

    @property
    def is_nothing(self) -> bool:
        """An ordering-only input: nothing is loaded or passed to the function."""
        return self.python_type is Nothing


@dataclass(frozen=True, slots=True)
class Out:
    """Declares an op output.

    Args:
        python_type: a class the value must be an instance of (checked at run time), or None.
        description: shown in docs and notebook views.
        is_required: whether the op must produce this output.
        io_manager_key: the resource key of the IO manager that stores it.
        metadata: free-form information about the output.
    """

    python_type: Any = None
    description: str | None = None
    is_required: bool = True
    io_manager_key: str = DEFAULT_IO_MANAGER_KEY
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Output:
    """A value an op returns or yields, with the output it belongs to and its metadata."""

    value: Any
    output_name: str = DEFAULT_OUTPUT
    metadata: Mapping[str, Any] = field(default_factory=dict)
