"""What a job follows: the names its definitions were bound under, and what they hold now.

Private to :mod:`nbflow.definitions.redefinition` (see there for the rules).
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any

from nbflow.definitions.asset import AssetsDefinition
from nbflow.definitions.composition import PendingNodeInvocation
from nbflow.definitions.graph import GraphDefinition
from nbflow.definitions.io_manager import IOManagerDefinition
from nbflow.definitions.job import JobDefinition
from nbflow.definitions.node import NodeDefinition
from nbflow.definitions.op import OpDefinition
from nbflow.definitions.resource import ResourceDefinition

MISSING = object()
"""What a name no longer bound reads as."""


@dataclass(frozen=True, slots=True)
class Followed:
    """A definition of a job, the function it was made from, and where that name lives."""

    definition: Any
    function: types.FunctionType
    namespace: dict[str, Any]
    name: str
    kind: type
    label: str  # "op 'scale'", "graph 'inner'", "resource 'db'"
    same: object  # what the name held when first looked at, if made from the same function


def top_level(fn: object) -> types.FunctionType | None:
    """``fn`` when it is a function defined at the top level of its own module, else None."""
    if not isinstance(fn, types.FunctionType):
        return None
    if fn.__qualname__ != fn.__name__ or fn.__name__.startswith("<"):
        return None  # nested (<locals>), a method, a lambda
    if fn.__globals__.get("__name__") != fn.__module__:
        return None  # functools.wraps copied the names of a function from another module
    return fn


def follow(definition: Any, label: str | None = None) -> Followed | None:
    """How to find ``definition``'s current binding, or ``None`` when it is not followed."""
    fn: object
    kind: type
    if isinstance(definition, OpDefinition):
        fn, kind, what = definition.compute_fn, OpDefinition, "op"
    elif isinstance(definition, GraphDefinition):
        fn, kind, what = definition.compose_fn, GraphDefinition, "graph"
    elif isinstance(definition, IOManagerDefinition):
        fn, kind, what = definition.resource_fn, IOManagerDefinition, "IO manager"
    elif isinstance(definition, ResourceDefinition):
        fn, kind, what = definition.resource_fn, ResourceDefinition, "resource"
    else:
        return None
    top = top_level(fn)
    if top is None:
        return None
    label = label or f"{what} {definition.name!r}"
    bound = top.__globals__.get(top.__name__, MISSING)
    now = function_of(bound, kind)
    if now is top:
        same = bound  # the name holds it, as an asset, an alias, with_tags...
    elif getattr(now, "__code__", None) is top.__code__:
        return None  # the same code made both: definitions made in a loop, not a redefinition
    else:
        same = definition
    return Followed(definition, top, top.__globals__, top.__name__, kind, label, same)


def followed_by(job: JobDefinition) -> tuple[Followed, ...]:
    """Every followed definition of ``job``: ops and graphs at any depth, then resources."""
    found: list[Followed] = []
    seen: set[int] = set()

    def visit(graph: GraphDefinition) -> None:
        for definition in graph.node_defs:
            if id(definition) in seen:
                continue
            seen.add(id(definition))
            followed = follow(definition)
            if followed is not None:
                found.append(followed)
            if isinstance(definition, GraphDefinition):
                visit(definition)

    if job.defined_at is None:  # made from a graph (to_job): follow that graph too
        top = follow(job.graph_def)
        if top is not None:
            found.append(top)
    visit(job.graph_def)
    for key, resource_def in job.resource_defs.items():
        followed = follow(resource_def, resource_label(resource_def, key))
        if followed is not None:
            found.append(followed)
    return tuple(found)


def unchanged(followed: tuple[Followed, ...]) -> bool:
    """The fast path: every binding is still what it was, the definition, its function, or
    unbound."""
    for f in followed:
        bound = f.namespace.get(f.name, MISSING)
        if (
            bound is not f.same
            and bound is not f.definition
            and bound is not f.function
            and bound is not MISSING
        ):
            return False
    return True


def unwrapped(value: object, kind: type) -> object:
    """The definition of ``kind`` a binding carries: an alias's definition, an asset's op,
    a job's graph (``with_hooks`` copies and ``to_job`` jobs follow the ``@job``/``@graph``
    name they were made from)."""
    if isinstance(value, PendingNodeInvocation):
        value = value.definition
    if isinstance(value, AssetsDefinition) and kind is OpDefinition:
        value = value.op
    if isinstance(value, JobDefinition) and kind is GraphDefinition:
        value = value.graph_def
    return value


def function_of(value: object, kind: type) -> object:
    value = unwrapped(value, kind)
    if isinstance(value, OpDefinition):
        return value.compute_fn
    if isinstance(value, GraphDefinition):
        return value.compose_fn
    if isinstance(value, ResourceDefinition):
        return value.resource_fn
    return value


def definition_in(value: object, kind: type) -> Any:
    value = unwrapped(value, kind)
    return value if isinstance(value, kind) else None


def describe_value(value: object) -> str:
    if isinstance(value, NodeDefinition | AssetsDefinition | ResourceDefinition):
        fn = function_of(value, type(value))
        made_from = f" (from function {getattr(fn, '__qualname__', fn)!r})"
        if isinstance(value, AssetsDefinition):
            return f"asset {value.key.to_user_string()!r}{made_from}"
        if isinstance(value, ResourceDefinition):
            return f"a resource{made_from}"
        return f"{value.describe()}{made_from}"
    if isinstance(value, JobDefinition):
        return f"job {value.name!r}"
    if isinstance(value, types.FunctionType):
        return "a plain function"
    kind = type(value)
    module = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
    return f"a value of type {module}{kind.__qualname__}"


def kind_name(kind: type) -> str:
    return {
        OpDefinition: "an op",
        GraphDefinition: "a graph",
        IOManagerDefinition: "an IO manager",
    }.get(kind, "a resource")


@dataclass(frozen=True, slots=True)
class Redefinition:
    """A definition of a job that was replaced by the one its name is bound to now.

    Attributes:
        label: what was redefined: ``"op 'scale'"``, ``"graph 'inner'"``, ``"resource 'db'"``.
        location: where the new definition was made (``"Cell In[5], line 1"``, ``"f.py:12"``).
        old: the definition the job was built with.
        new: the definition it runs now.
    """

    label: str
    location: str
    old: Any
    new: Any

    def reason(self, job_name: str) -> str:
        """``"op 'scale' redefined after job 'pipeline' was built"``."""
        return f"{self.label} redefined after job {job_name!r} was built"


def resource_label(resource_def: ResourceDefinition, key: str) -> str:
    kind = "IO manager" if isinstance(resource_def, IOManagerDefinition) else "resource"
    return f"{kind} {key!r}"
