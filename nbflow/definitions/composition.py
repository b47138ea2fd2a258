"""Building graphs by calling ops inside a decorated function, recorded as dependencies.

While a ``@graph`` or ``@job`` function runs, calling a node records an invocation and
returns handles for its outputs; passing a handle to another node records a dependency.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from nbflow.definitions.dependency import (
    AnyDependency,
    DependencyDefinition,
    InputMapping,
    MultiDependencyDefinition,
    NodeInvocation,
    OutputMapping,
)
from nbflow.errors import InvalidDefinitionError, InvalidInvocationError, did_you_mean

if TYPE_CHECKING:
    from nbflow.definitions.hook import HookDefinition
    from nbflow.definitions.job import JobDefinition
    from nbflow.definitions.node import NodeDefinition
    from nbflow.definitions.policy import RetryPolicy

_state = threading.local()


@dataclass(frozen=True, slots=True)
class InvokedOutput:
    """Handle for output ``output_name`` of node ``node_name`` while a graph is being composed."""

    node_name: str
    output_name: str

    def __repr__(self) -> str:
        return f"<output {self.node_name}.{self.output_name}>"


@dataclass(frozen=True, slots=True)
class GraphInputRef:
    """Handle for a graph's own input while the graph is being composed."""

    name: str


class InvokedOutputs(tuple[InvokedOutput, ...]):
    """The outputs of a multi-output node: unpack them, or read them by name."""

    def __getattr__(self, name: str) -> InvokedOutput:
        for handle in self:
            if handle.output_name == name:
                return handle
        raise AttributeError(
            f"Node has no output {name!r}; its outputs are {[h.output_name for h in self]}."
        )


@dataclass(frozen=True)
class PendingNodeInvocation:
    """A node definition with a name, tags, hooks or retry policy for its next use in a graph."""

    definition: NodeDefinition
    alias_name: str | None = None
    tags: Mapping[str, Any] = field(default_factory=dict)
    hook_defs: frozenset[HookDefinition] = frozenset()
    retry_policy: RetryPolicy | None = None

    def alias(self, name: str) -> PendingNodeInvocation:
        return replace(self, alias_name=name)

    def tag(self, tags: Mapping[str, Any]) -> PendingNodeInvocation:
        return replace(self, tags={**self.tags, **tags})

    def with_hooks(self, hook_defs: Iterable[HookDefinition]) -> PendingNodeInvocation:
        return replace(self, hook_defs=self.hook_defs | frozenset(hook_defs))

    def with_retry_policy(self, retry_policy: RetryPolicy) -> PendingNodeInvocation:
        return replace(self, retry_policy=retry_policy)

    def to_job(self, name: str | None = None, **kwargs: Any) -> JobDefinition:
        """A job of this graph named by the alias, with the invocation's hooks and tags.

        Args:
            name: the job's name (default: the alias, else the graph's name).
            **kwargs: the arguments of ``GraphDefinition.to_job``.

        Raises:
            InvalidDefinitionError: the definition is an op, not a graph.
        """
        to_job = getattr(self.definition, "to_job", None)
        if to_job is None:
            raise InvalidDefinitionError(
                f"{self.definition.describe()} is not a graph, so it cannot become a job. Fix: "
                "call it inside a @job (or @graph) function."
            )
        hooks = self.hook_defs | frozenset(kwargs.pop("hooks", None) or ())
        tags = {**self.tags, **(kwargs.pop("tags", None) or {})}
        job_def: JobDefinition = to_job(
            name=name or self.alias_name, hooks=hooks, tags=tags or None, **kwargs
        )
        return job_def

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        recorder = current_recorder()
        if recorder is None:
            raise InvalidInvocationError(
                f"{self.definition.describe()} with an alias, tags, hooks or a retry policy can "
                "only be called inside a @graph or @job function. Fix: call the plain definition "
                "to invoke it directly."
            )
        return recorder.invoke(self, args, kwargs)


def current_recorder() -> CompositionRecorder | None:
    """The recorder of the graph being composed in this thread, if any."""
    stack: list[CompositionRecorder] | None = getattr(_state, "stack", None)
    return stack[-1] if stack else None


@dataclass
class CompositionRecorder:
    """Collects invocations and wiring while one graph function runs."""

    graph_name: str
    node_defs: list[NodeDefinition] = field(default_factory=list)
    dependencies: dict[str | NodeInvocation, dict[str, AnyDependency]] = field(default_factory=dict)
    input_mappings: list[InputMapping] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    substitutions: Mapping[int, NodeDefinition] = field(default_factory=dict)
    """Definitions to use in place of others (by ``id`` of the one called), applied to every
    call; set when a job is rebuilt with redefined ops (see ``nbflow.definitions.redefinition``)."""
    _used_names: set[str] = field(default_factory=set)

    def _node_name(self, pending: PendingNodeInvocation) -> str:
        if pending.alias_name is not None:
            name = pending.alias_name
            if name in self._used_names:
                self.problems.append(
                    f"node name {name!r} is used twice. Fix: give each use its own alias."
                )
            return name
        base = pending.definition.name
        name, n = base, 1
        while name in self._used_names:
            n += 1
            name = f"{base}_{n}"
        return name

    def invoke(
        self, pending: PendingNodeInvocation, args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> InvokedOutput | InvokedOutputs | None:
        definition = self.substitutions.get(id(pending.definition), pending.definition)
        if definition is not pending.definition:
            pending = replace(pending, definition=definition)
        node_name = self._node_name(pending)
        self._used_names.add(node_name)
        if all(d is not definition for d in self.node_defs):
            self.node_defs.append(definition)
        invocation = NodeInvocation(
            name=definition.name,
            alias=node_name if node_name != definition.name else None,
            tags=dict(pending.tags),
            hook_defs=pending.hook_defs,
            retry_policy=pending.retry_policy,
        )
        from nbflow.definitions import dynamic_handles
        from nbflow.definitions.dynamic import is_dynamic

        deps: dict[str, AnyDependency] = {}
        mapped = False
        for input_name, value in self._bind(definition, node_name, args, kwargs).items():
            dynamic_dep = dynamic_handles.dependency_for(value)
            if dynamic_dep is not None:
                deps[input_name] = dynamic_dep
                mapped = mapped or isinstance(value, dynamic_handles.MappedOutput)
            elif isinstance(value, dynamic_handles.DynamicOutputHandle):
                self.problems.append(
                    f"node {node_name!r} was given dynamic output {value.node_name}."
                    f"{value.output_name} for input {input_name!r}. Fix: map over it with "
                    f"{value.node_name}().map({definition.name}), or pass .collect() for a list."
                )
            elif isinstance(value, InvokedOutput):
                deps[input_name] = DependencyDefinition(value.node_name, value.output_name)
            elif _is_fan_in(value):
                deps[input_name] = MultiDependencyDefinition(
                    [DependencyDefinition(h.node_name, h.output_name) for h in value]
                )
            elif isinstance(value, GraphInputRef):
                self.input_mappings.append(InputMapping(value.name, node_name, input_name))
            else:
                self.problems.append(
                    f"node {node_name!r} was given {_short(value)} for input {input_name!r}; "
                    "inside a graph, inputs must be outputs of other nodes or graph inputs. "
                    f"Fix: produce the value in an op, or pass it as run config "
                    f"ops.{node_name}.inputs.{input_name}, or through input_values."
                )
        self.dependencies[invocation] = deps
        outs = list(definition.outs)
        if not outs:
            return None
        dynamic = {name for name, spec in definition.outs.items() if is_dynamic(spec)}
        if mapped or dynamic:
            return dynamic_handles.node_outputs(node_name, outs, dynamic, mapped)
        if len(outs) == 1:
            return InvokedOutput(node_name, outs[0])
        return InvokedOutputs(InvokedOutput(node_name, out) for out in outs)

    def _bind(
        self,
        definition: NodeDefinition,
        node_name: str,
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
    ) -> dict[str, Any]:
        names = _positional_names(definition)
        if len(args) > len(names):
            self.problems.append(
                f"node {node_name!r} was called with {len(args)} positional arguments but "
                f"{definition.describe()} has {len(names)} inputs {list(names)}."
            )
        bound = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in definition.ins:
                self.problems.append(
                    f"node {node_name!r} was given unknown input {key!r}."
                    f"{did_you_mean(key, definition.ins)} Its inputs are {list(definition.ins)}."
                )
            elif key in bound:
                self.problems.append(f"node {node_name!r} got input {key!r} twice.")
            else:
                bound[key] = value
        return bound

    def output_mappings(
        self, returned: Any, declared_outs: Iterable[str] | None
    ) -> list[OutputMapping]:
        """Turn what the graph function returned into output mappings."""
        if returned is None:
            return []
        if isinstance(returned, InvokedOutput):
            names = list(declared_outs or ["result"])
            return [OutputMapping(names[0], returned.node_name, returned.output_name)]
        if isinstance(returned, Mapping):
            self._check_returned_names(list(returned), declared_outs)
            return [self._map_one(k, v) for k, v in returned.items()]
        if isinstance(returned, tuple):
            names = list(declared_outs) if declared_outs else [h.output_name for h in returned]
            if len(names) != len(returned):
                self.problems.append(
                    f"graph {self.graph_name!r} returned {len(returned)} outputs but declares "
                    f"{len(names)} ({names})."
                )
            return [self._map_one(n, h) for n, h in zip(names, returned, strict=False)]
        self.problems.append(
            f"graph {self.graph_name!r} returned {_short(returned)}; a graph function must "
            "return None, one node output, a tuple of node outputs, or a dict of them."
        )
        return []

    def _check_returned_names(
        self, returned: list[str], declared_outs: Iterable[str] | None
    ) -> None:
        if declared_outs is None:
            return
        declared = list(declared_outs)
        missing = [n for n in declared if n not in returned]
        extra = [n for n in returned if n not in declared]
        if missing or extra:
            self.problems.append(
                f"graph {self.graph_name!r} returned outputs {returned} but declares {declared}"
                f" (missing: {missing}, not declared: {extra}). Fix: return a dict with one "
                "entry per declared output."
            )

    def _map_one(self, name: str, handle: Any) -> OutputMapping:
        if not isinstance(handle, InvokedOutput):
            self.problems.append(
                f"graph output {name!r} of {self.graph_name!r} is {_short(handle)}, not the output "
                "of a node in the graph."
            )
            return OutputMapping(name, "?", "?")
        return OutputMapping(name, handle.node_name, handle.output_name)


class composing:
    """Context manager that makes ``recorder`` the current recorder for this thread."""

    def __init__(self, recorder: CompositionRecorder) -> None:
        self.recorder = recorder

    def __enter__(self) -> CompositionRecorder:
        stack = getattr(_state, "stack", None)
        if stack is None:
            stack = _state.stack = []
        stack.append(self.recorder)
        return self.recorder

    def __exit__(self, *exc: object) -> None:
        _state.stack.pop()


def _positional_names(definition: NodeDefinition) -> tuple[str, ...]:
    """The inputs positional arguments fill: the value inputs, then the ordering-only
    (``Nothing``) ones, each group in declaration order."""
    nothing = tuple(
        n for n, spec in definition.ins.items() if n not in definition.positional_inputs
    )
    return definition.positional_inputs + nothing


def _is_fan_in(value: Any) -> bool:
    """True for a non-empty list of node outputs, which fans in to one list input."""
    return (
        isinstance(value, list) and bool(value) and all(isinstance(v, InvokedOutput) for v in value)
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
