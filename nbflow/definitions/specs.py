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

    def __reduce__(self) -> str:
        return "NO_VALUE"  # pickled and copied as the one marker, never a second one


NO_VALUE: Final = _NoValue()
DEFAULT_OUTPUT: Final = "result"
DEFAULT_IO_MANAGER_KEY: Final = "io_manager"

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class Nothing:
    """Input type of an ordering-only dependency: the upstream runs first, no value is passed."""


_UNCHECKED: tuple[object, ...] = (object, Nothing, Any)


def is_checkable_type(python_type: object) -> bool:
    """Whether ``python_type`` is a plain class (or tuple of classes) to check values against."""
    if isinstance(python_type, tuple):
        return bool(python_type) and all(isinstance(t, type) for t in python_type)
    return isinstance(python_type, type) and python_type not in _UNCHECKED


def type_name(python_type: object) -> str:
    """How messages name ``python_type``: ``int``, or ``int | str`` for a tuple of classes."""
    if isinstance(python_type, tuple):
        return " | ".join(type_name(t) for t in python_type)
    return getattr(python_type, "__name__", None) or repr(python_type)


@dataclass(frozen=True, slots=True)
class In:
    """Declares an op input.

    Args:
        python_type: a class (or tuple of classes) the value must be an instance of (checked
            at run time), or None. When None, the parameter's annotation gives it.
        description: shown in docs and notebook views.
        default_value: used when nothing upstream, in run config or ``input_values`` gives one.
        metadata: free-form information about the input.
        type_label: how messages name the expected type; nbflow sets it when ``python_type``
            comes from an annotation (``"int (from the annotation `x: int`)"``).
        input_manager_key: the resource key of an input manager that loads this input
            (instead of the upstream output's IO manager, or when there is no upstream).
    """

    python_type: Any = None
    description: str | None = None
    default_value: Any = NO_VALUE
    metadata: Mapping[str, Any] = field(default_factory=dict)
    type_label: str | None = None
    input_manager_key: str | None = None

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
        python_type: a class (or tuple of classes) the value must be an instance of (checked
            at run time), or None. When None, the function's return annotation gives it.
        description: shown in docs and notebook views.
        is_required: whether the op must produce this output.
        io_manager_key: the resource key of the IO manager that stores it.
        metadata: free-form information about the output.
        type_label: how messages name the expected type; nbflow sets it when ``python_type``
            comes from an annotation (``"int (from the annotation `-> int`)"``).
    """

    python_type: Any = None
    description: str | None = None
    is_required: bool = True
    io_manager_key: str = DEFAULT_IO_MANAGER_KEY
    metadata: Mapping[str, Any] = field(default_factory=dict)
    type_label: str | None = None


@dataclass(frozen=True, slots=True)
class GraphOut:
    """Declares a graph output; the graph function returns the node output behind it.

    Args:
        description: shown in docs and notebook views.
    """

    description: str | None = None

    def to_out(self) -> Out:
        """The output as the graph exposes it to the nodes that use it."""
        return Out(description=self.description)


def as_out(spec: Out | GraphOut) -> Out:
    """``spec`` as an :class:`Out` (a :class:`GraphOut` becomes one)."""
    return spec.to_out() if isinstance(spec, GraphOut) else spec


@dataclass(frozen=True, slots=True)
class Output:
    """A value an op returns or yields, with the output it belongs to and its metadata."""

    value: Any
    output_name: str = DEFAULT_OUTPUT
    metadata: Mapping[str, Any] = field(default_factory=dict)
