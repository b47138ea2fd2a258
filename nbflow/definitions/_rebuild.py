"""Rebuilding a job with the definitions its names hold now, or saying why it cannot be.

Private to :mod:`nbflow.definitions.redefinition` (see there for the rules).
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbflow.definitions._bindings import (
    MISSING,
    Followed,
    Redefinition,
    definition_in,
    describe_value,
    follow,
    function_of,
    kind_name,
    resource_label,
)
from nbflow.definitions.asset import AssetsDefinition
from nbflow.definitions.code_location import binding_location, code_location, located
from nbflow.definitions.dependency import AnyDependency, NodeInvocation
from nbflow.definitions.graph import GraphDefinition, compose_graph
from nbflow.definitions.op import OpDefinition
from nbflow.definitions.resource_keys import op_resource_keys
from nbflow.errors import InvalidDefinitionError, RedefinitionError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from nbflow.definitions.job import JobDefinition
    from nbflow.definitions.node import NodeDefinition
    from nbflow.definitions.resource import ResourceDefinition


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """A job rebuilt with redefined definitions, what they were, and the steps they concern."""

    job: JobDefinition
    redefinitions: tuple[Redefinition, ...]
    reasons: Mapping[str, tuple[str, ...]]


class Rebuilder:
    """Rebuilds one job against the current bindings, collecting every problem on the way."""

    def __init__(self, job: JobDefinition) -> None:
        self.job = job
        self.redefined: list[Redefinition] = []
        self.problems: list[str] = []
        self.final: dict[int, NodeDefinition] = {}  # id(definition) → what replaces it
        self.done: set[int] = set()
        self.marks: dict[int, list[str]] = {}  # id(definition in the new job) → reasons

    def build(self) -> Rebuilt | None:
        """The job rebuilt with the current bindings, or ``None`` when none changed.

        Raises:
            RedefinitionError: every problem found, when the job cannot be rebuilt.
        """
        job = self.job
        if job.defined_at is None:  # made from a graph, which may be redefined itself
            graph: Any = self._node(job.graph_def)
        else:  # @job: its function's name holds the job, not a graph
            graph = self._resolve_graph(job.graph_def)
        resources = dict(job.resource_defs)
        redefined_keys: set[str] = set()
        for key, resource_def in job.resource_defs.items():
            followed = follow(resource_def, resource_label(resource_def, key))
            new = self._redefined(followed) if followed is not None else None
            if new is not None:
                resources[key] = new
                redefined_keys.add(key)
        if not self.redefined and not self.problems:
            return None
        if job.asset_layer is not None and self.redefined:
            self.problems += [
                f"{r.label} was redefined ({r.location}); a job of assets is not rebuilt with "
                "redefined assets (build it again from the current ones)."
                for r in self.redefined
            ]
        if not self.problems:
            rebuilt = self._copy(graph, resources)
            if rebuilt is not None:
                reasons = self._reasons(rebuilt, redefined_keys)
                return Rebuilt(rebuilt, tuple(self.redefined), reasons)
        compose = job.graph_def.compose_fn
        location, in_cell = (
            located(compose) if isinstance(compose, types.FunctionType) else (None, False)
        )
        raise RedefinitionError.build(job.name, self.problems, location, in_cell)

    def _copy(
        self, graph: GraphDefinition, resources: Mapping[str, ResourceDefinition]
    ) -> JobDefinition | None:
        try:
            rebuilt = self.job._copy(graph_def=graph, resource_defs=resources)
        except InvalidDefinitionError as exc:
            self._no_longer_fits(exc)
            return None
        rebuilt.defined_at = self.job.defined_at
        return rebuilt

    def _redefined(self, followed: Followed) -> Any:
        """The definition that replaced ``followed``, or ``None``; records problems."""
        bound = followed.namespace.get(followed.name, MISSING)
        if bound is MISSING or bound is followed.definition or bound is followed.function:
            return None
        fn = function_of(bound, followed.kind)
        if fn is followed.function:
            return None
        old = followed.function
        if (
            isinstance(fn, types.FunctionType)
            and fn.__module__ == old.__module__
            and fn.__qualname__ == old.__qualname__
        ):
            where = code_location(fn)
            new = definition_in(bound, followed.kind)
            if new is None:
                self.problems.append(
                    f"{followed.label} was redefined ({where}) as {describe_value(bound)}, not "
                    f"as {kind_name(followed.kind)}."
                )
                return None
            label = followed.label
            if isinstance(bound, AssetsDefinition):
                label = f"asset {bound.key.to_user_string()!r}"
            redefinition = Redefinition(label, where, followed.definition, new)
            self.redefined.append(redefinition)
            self.marks.setdefault(id(new), []).append(redefinition.reason(self.job.name))
            return new
        bound_at = binding_location(followed.namespace, followed.name)
        if definition_in(bound, followed.kind) is not None:
            why = "which is not a redefinition of it (a function of the same name and module)"
        else:
            why = f"not to {kind_name(followed.kind)}"
        self.problems.append(
            f"the name {followed.name!r} of {followed.label} is now bound to "
            f"{describe_value(bound)}{f' ({bound_at})' if bound_at else ''}, {why}, so the "
            "job would run a definition the code no longer has (use another name for the new "
            f"value, or define {followed.label} again)."
        )
        return None

    def _node(self, definition: NodeDefinition) -> NodeDefinition:
        """What replaces ``definition`` in the rebuilt job (itself when nothing changed).

        Both the old definition and the one its name holds now map to the result, so a
        composition function finds it whichever of the two it calls.
        """
        key = id(definition)
        if key in self.done:
            return self.final.get(key, definition)
        self.done.add(key)
        followed = follow(definition)
        new = self._redefined(followed) if followed is not None else None
        target: NodeDefinition = definition if new is None else new
        if new is not None:
            self.done.add(id(new))
        if isinstance(target, GraphDefinition):
            target = self._resolve_graph(target)
        if new is not None and target is not new:
            self.final[id(new)] = target
            self.marks[id(target)] = self.marks.pop(id(new), [])
        if target is not definition:
            self.final[key] = target
        return target

    def _resolve_graph(self, graph: GraphDefinition) -> GraphDefinition:
        """``graph`` with its node definitions resolved; recomposed when any changed."""
        children = [self._node(d) for d in graph.node_defs]
        if self.problems or all(
            new is old for new, old in zip(children, graph.node_defs, strict=True)
        ):
            return graph  # unchanged, or the job fails anyway (composing would add noise)
        try:
            if graph.compose_fn is None:
                return self._rewired(graph)
            rebuilt = compose_graph(
                graph.compose_fn,
                graph.name,
                description=graph.description,
                ins=graph.declared_ins,
                out=graph.declared_outs,
                config=graph.config,
                tags=graph.tags,
                substitutions=self.final,
            )
        except Exception as exc:  # invalid now, or the composition function itself raised
            self._no_longer_fits(exc)
            return graph
        return rebuilt

    def _rewired(self, graph: GraphDefinition) -> GraphDefinition:
        """A graph built with ``GraphDefinition(...)``, with replaced node definitions."""
        final = self.final
        dependencies: dict[str | NodeInvocation, dict[str, AnyDependency]] = {}
        for name, node in graph.nodes.items():
            definition = final.get(id(node.definition), node.definition)
            invocation = NodeInvocation(
                name=definition.name,
                alias=None if name == definition.name else name,
                tags=dict(node.tags),
                hook_defs=node.hook_defs,
                retry_policy=node.retry_policy,
            )
            dependencies[invocation] = dict(graph.dependencies.get(name, {}))
        return GraphDefinition(
            name=graph.name,
            description=graph.description,
            node_defs=[final.get(id(d), d) for d in graph.node_defs],
            dependencies=dependencies,
            input_mappings=graph.input_mappings,
            output_mappings=graph.output_mappings,
            config=graph.config,
            tags=graph.tags,
            ins=graph.declared_ins,
            outs=graph.declared_outs,
            positional_inputs=graph.positional_inputs,
        )

    def _no_longer_fits(self, exc: BaseException) -> None:
        what = " and ".join(f"{r.label} ({r.location})" for r in self.redefined)
        were = "was" if len(self.redefined) == 1 else "were"
        if isinstance(exc, InvalidDefinitionError) and exc.problems:
            detail = " ".join(exc.problems)
        else:
            detail = f"{type(exc).__name__}: {exc}"
        self.problems.append(
            f"{what} {were} redefined, and job {self.job.name!r} no longer fits: {detail}"
        )

    def _reasons(
        self, rebuilt: JobDefinition, redefined_keys: set[str]
    ) -> dict[str, tuple[str, ...]]:
        """Step key → reasons of the redefinitions it runs: its op, a graph around it, a
        resource it uses or stores its outputs with."""
        by_label = {r.label: r.reason(self.job.name) for r in self.redefined}
        resources = _affected_resources(rebuilt, redefined_keys)
        reasons: dict[str, tuple[str, ...]] = {}
        top = rebuilt.graph_def
        around = tuple(self.marks.get(id(top), ()))  # a job made from a redefined graph
        for handle, op_def, inherited in _ops_with_marks(top, self.marks, "", around):
            found = list(inherited)
            used = op_resource_keys(op_def)
            found += [by_label[resources[key]] for key in sorted(used & set(resources))]
            if found:
                reasons[handle] = tuple(dict.fromkeys(found))
        return reasons


def _affected_resources(job: JobDefinition, redefined_keys: set[str]) -> dict[str, str]:
    """Resource key → label of the redefined resource it is or depends on."""
    labels = {key: resource_label(job.resource_defs[key], key) for key in redefined_keys}
    changed = True
    while changed:
        changed = False
        for key, resource_def in sorted(job.resource_defs.items()):
            if key in labels:
                continue
            for needed in sorted(resource_def.required_resource_keys):
                if needed in labels:
                    labels[key] = labels[needed]
                    changed = True
                    break
    return labels


def _ops_with_marks(
    graph: GraphDefinition,
    marks: Mapping[int, list[str]],
    prefix: str = "",
    inherited: tuple[str, ...] = (),
) -> Iterator[tuple[str, OpDefinition, tuple[str, ...]]]:
    for name in graph.topological_order:
        node = graph.nodes[name]
        here = inherited + tuple(marks.get(id(node.definition), ()))
        if isinstance(node.definition, GraphDefinition):
            yield from _ops_with_marks(node.definition, marks, f"{prefix}{name}.", here)
        elif isinstance(node.definition, OpDefinition):
            yield f"{prefix}{name}", node.definition, here
