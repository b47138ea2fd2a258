"""How nodes in a graph are wired: dependencies, invocations and graph input/output mappings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbflow.definitions.specs import DEFAULT_OUTPUT

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from nbflow.definitions.hook import HookDefinition
    from nbflow.definitions.policy import RetryPolicy


@dataclass(frozen=True, slots=True)
class DependencyDefinition:
    """An input depends on output ``output`` of node ``node``."""

    node: str
    output: str = DEFAULT_OUTPUT
    description: str | None = None


@dataclass(frozen=True, slots=True)
class MultiDependencyDefinition:
    """A fan-in input: its value is the list of the upstream outputs' values, in this order."""

    dependencies: tuple[DependencyDefinition, ...]
    description: str | None = None

    def __init__(
        self, dependencies: Sequence[DependencyDefinition], description: str | None = None
    ) -> None:
        object.__setattr__(self, "dependencies", tuple(dependencies))
        object.__setattr__(self, "description", description)


AnyDependency = DependencyDefinition | MultiDependencyDefinition


def upstream_dependencies(dep: AnyDependency) -> tuple[DependencyDefinition, ...]:
    """The upstream outputs an input depends on: one, or each of a fan-in's, in order."""
    if isinstance(dep, MultiDependencyDefinition):
        return dep.dependencies
    return (dep,)


@dataclass(frozen=True, slots=True, eq=False)
class NodeInvocation:
    """One use of a definition in a graph: its name (``alias``), tags, hooks, retry policy."""

    name: str
    alias: str | None = None
    tags: Mapping[str, Any] = field(default_factory=dict)
    hook_defs: frozenset[HookDefinition] = frozenset()
    retry_policy: RetryPolicy | None = None

    @property
    def node_name(self) -> str:
        return self.alias or self.name


@dataclass(frozen=True, slots=True)
class InputMapping:
    """Graph input ``graph_input_name`` feeds input ``mapped_node_input_name`` of a node.

    ``graph_input_description`` describes the graph's input (by default it has the
    description of the node input it feeds).
    """

    graph_input_name: str
    mapped_node_name: str
    mapped_node_input_name: str
    graph_input_description: str | None = None


@dataclass(frozen=True, slots=True)
class OutputMapping:
    """Graph output ``graph_output_name`` is output ``mapped_node_output_name`` of a node."""

    graph_output_name: str
    mapped_node_name: str
    mapped_node_output_name: str = DEFAULT_OUTPUT
