"""What ops and graphs share: a name, inputs and outputs, and how they are used in a graph."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from nbflow.definitions.composition import PendingNodeInvocation

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from nbflow.definitions.hook import HookDefinition
    from nbflow.definitions.policy import RetryPolicy
    from nbflow.definitions.specs import In, Out


class NodeDefinition(ABC):
    """A definition that can be used as a node of a graph (an op, or a graph itself)."""

    name: str
    description: str | None
    tags: Mapping[str, Any]
    ins: Mapping[str, In]
    outs: Mapping[str, Out]
    positional_inputs: tuple[str, ...]

    @property
    @abstractmethod
    def kind(self) -> str:
        """``"op"`` or ``"graph"``."""

    def describe(self) -> str:
        return f"{self.kind} {self.name!r}"

    def alias(self, name: str) -> PendingNodeInvocation:
        """Use this definition in a graph under another node name."""
        return PendingNodeInvocation(self, alias_name=name)

    def tag(self, tags: Mapping[str, Any]) -> PendingNodeInvocation:
        """Use this definition in a graph with extra tags on the node."""
        return PendingNodeInvocation(self, tags=dict(tags))

    def with_hooks(self, hook_defs: Iterable[HookDefinition]) -> PendingNodeInvocation:
        """Use this definition in a graph with hooks on the node."""
        return PendingNodeInvocation(self, hook_defs=frozenset(hook_defs))

    def with_retry_policy(self, retry_policy: RetryPolicy) -> PendingNodeInvocation:
        """Use this definition in a graph with a retry policy on the node."""
        return PendingNodeInvocation(self, retry_policy=retry_policy)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
