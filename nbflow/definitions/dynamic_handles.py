"""Handles of dynamic outputs while a graph is being composed: ``.map(fn)`` and ``.collect()``.

Calling a node on a mapped handle records a :class:`MappedDependency` (the node runs once per
element) or, downstream of a mapped node, a plain dependency (same mapping key); a collected
handle records a :class:`CollectDependency` (the node gets the list of every element's value).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbflow.definitions.composition import InvokedOutput, InvokedOutputs
from nbflow.definitions.dependency import DependencyDefinition

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(frozen=True, slots=True)
class MappedDependency(DependencyDefinition):
    """An input that takes, in each mapped step, one element of dynamic output ``output``."""


@dataclass(frozen=True, slots=True)
class CollectDependency(DependencyDefinition):
    """An input whose value is the list of every mapped value of ``node.output``, in the
    order the dynamic output yielded its elements."""


@dataclass(frozen=True, slots=True, repr=False)
class CollectedOutput(InvokedOutput):
    """A mapped (or dynamic) output gathered into one list."""


@dataclass(frozen=True, slots=True, repr=False)
class MappedOutput(InvokedOutput):
    """An output computed once per element of a dynamic output (``element``: the dynamic
    output's element itself, not a mapped node's output)."""

    element: bool = False

    def collect(self) -> CollectedOutput:
        """The values of every mapping key, as one list input of a downstream node."""
        return CollectedOutput(self.node_name, self.output_name)


@dataclass(frozen=True, slots=True, repr=False)
class DynamicOutputHandle(InvokedOutput):
    """The output of a node declared with ``DynamicOut``."""

    def map(self, fn: Callable[[MappedOutput], Any]) -> Any:
        """Call ``fn`` (an op, a graph, or a function calling them) on each element.

        Returns what ``fn`` returns: mapped outputs, to ``.collect()`` or map further.
        """
        return fn(MappedOutput(self.node_name, self.output_name, element=True))

    def collect(self) -> CollectedOutput:
        """Every element's value, as one list input of a downstream node."""
        return CollectedOutput(self.node_name, self.output_name)


def dependency_for(value: Any) -> DependencyDefinition | None:
    """The dependency a handle passed to a node records (``None``: not a dynamic handle)."""
    if isinstance(value, CollectedOutput):
        return CollectDependency(value.node_name, value.output_name)
    if isinstance(value, MappedOutput):
        kind = MappedDependency if value.element else DependencyDefinition
        return kind(value.node_name, value.output_name)
    return None


def node_outputs(
    node_name: str, outs: list[str], dynamic: set[str], mapped: bool
) -> InvokedOutput | InvokedOutputs:
    """The handles a node invocation returns: mapped when the node is, dynamic for its
    ``DynamicOut`` outputs, plain otherwise."""
    handles = [
        MappedOutput(node_name, out)
        if mapped
        else DynamicOutputHandle(node_name, out)
        if out in dynamic
        else InvokedOutput(node_name, out)
        for out in outs
    ]
    return handles[0] if len(handles) == 1 else InvokedOutputs(handles)
