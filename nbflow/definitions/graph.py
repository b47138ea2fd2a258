"""Graphs: nodes (ops or graphs) wired by dependencies. ``@graph`` builds one by composition."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, overload

from nbflow.definitions._callables import check_name
from nbflow.definitions.composition import (
    CompositionRecorder,
    GraphInputRef,
    PendingNodeInvocation,
    composing,
    current_recorder,
)
from nbflow.definitions.dependency import (
    AnyDependency,
    DependencyDefinition,
    InputMapping,
    NodeInvocation,
    OutputMapping,
    upstream_dependencies,
)
from nbflow.definitions.node import NodeDefinition
from nbflow.definitions.specs import GraphOut, In, Out, as_out
from nbflow.definitions.topological import topological_order
from nbflow.errors import (
    InvalidDefinitionError,
    InvalidInvocationError,
    NodeNotFoundError,
    did_you_mean,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

    from nbflow.definitions.config_mapping import ConfigMapping
    from nbflow.definitions.hook import HookDefinition
    from nbflow.definitions.job import JobDefinition
    from nbflow.definitions.op import OpDefinition
    from nbflow.definitions.policy import RetryPolicy
    from nbflow.execution.engine.result import ExecuteInProcessResult
    from nbflow.storage.instance import Instance


@dataclass(frozen=True, slots=True)
class Node:
    """One use of a definition inside a graph."""

    name: str
    definition: NodeDefinition
    tags: Mapping[str, Any]
    hook_defs: frozenset[HookDefinition]
    retry_policy: RetryPolicy | None


@dataclass(frozen=True, slots=True)
class GraphInputDefinition:
    """One of a graph's own inputs, by name (``graph.input_defs``)."""

    name: str
    spec: In

    @property
    def description(self) -> str | None:
        return self.spec.description

    @property
    def python_type(self) -> Any:
        return self.spec.python_type

    dagster_type = python_type

    @property
    def default_value(self) -> Any:
        return self.spec.default_value

    @property
    def has_default_value(self) -> bool:
        return self.spec.has_default_value

    @property
    def metadata(self) -> Mapping[str, Any]:
        return self.spec.metadata


class GraphDefinition(NodeDefinition):
    """Nodes and the dependencies between them; a reusable, composable DAG.

    Args:
        name: the graph's name.
        description: shown in docs and notebook views.
        node_defs: the ops and graphs it uses.
        dependencies: ``{node: {input: DependencyDefinition(upstream, output)}}``; keys may be
            :class:`NodeInvocation` to use a definition under an alias; a
            :class:`MultiDependencyDefinition` fans several outputs into one list input.
        input_mappings: which node inputs the graph's own inputs feed.
        output_mappings: which node outputs are the graph's outputs.
        config: a :class:`ConfigMapping` or a dict of default config for its nodes.
        tags: tags for every run of the graph.
    """

    def __init__(
        self,
        name: str,
        description: str | None = None,
        node_defs: Sequence[NodeDefinition] | None = None,
        dependencies: Mapping[str | NodeInvocation, Mapping[str, AnyDependency]] | None = None,
        input_mappings: Sequence[InputMapping] | None = None,
        output_mappings: Sequence[OutputMapping] | None = None,
        config: ConfigMapping | Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        ins: Mapping[str, In] | None = None,
        outs: Mapping[str, Out | GraphOut] | None = None,
        positional_inputs: Sequence[str] | None = None,
    ) -> None:
        self.name = check_name("Graph", name)
        self.description = description
        self.compose_fn: Callable[..., Any] | None = None
        """The ``@graph``/``@job`` function that composed it (read by notebook snapshots, and
        re-run when ops it uses are redefined: see :mod:`nbflow.definitions.redefinition`)."""
        self.declared_ins = None if ins is None else MappingProxyType(dict(ins))
        """``ins`` as given (``None``: derived from the node inputs the graph inputs feed)."""
        out_defs = None if outs is None else {k: as_out(v) for k, v in outs.items()}
        self.declared_outs = None if out_defs is None else MappingProxyType(out_defs)
        """``outs`` as given (``None``: one per output mapping)."""
        self.config = config
        self.tags = MappingProxyType(dict(tags or {}))
        problems: list[str] = []
        defs = _index_defs(node_defs or (), problems)
        self.node_defs = tuple(defs.values())
        self.nodes: Mapping[str, Node] = MappingProxyType(
            _build_nodes(defs, dependencies or {}, problems)
        )
        self.dependencies: Mapping[str, Mapping[str, AnyDependency]] = MappingProxyType(
            {
                (k.node_name if isinstance(k, NodeInvocation) else k): dict(v)
                for k, v in (dependencies or {}).items()
            }
        )
        self.input_mappings = tuple(input_mappings or ())
        self.output_mappings = tuple(output_mappings or ())
        self._check_wiring(problems)
        self.ins = MappingProxyType(
            _graph_ins(ins, self.input_mappings, self.nodes, positional_inputs or ())
        )
        self.positional_inputs = tuple(positional_inputs or self.ins)
        self.outs = MappingProxyType(
            dict(out_defs)
            if out_defs
            else {m.graph_output_name: Out() for m in self.output_mappings}
        )
        self.topological_order = _topological_order(self.nodes, self.dependencies, problems)
        if problems:
            raise InvalidDefinitionError.build(f"Graph {name!r}", problems)

    @property
    def kind(self) -> str:
        return "graph"

    def configured(
        self,
        config_or_config_fn: Any,
        name: str | None = None,
        config_schema: Any = None,
        description: str | None = None,
    ) -> GraphDefinition:
        """A copy of this graph with its config fixed, or derived from a new config.

        Without a config mapping on this graph, the config is its nodes' config
        (``{"op": {"config": ...}}``), as in ``config=``; with one, it is what that mapping
        receives. A config function receives the config given under the graph's ``config``
        (checked against ``config_schema``) and its result is used as above.

        Args:
            config_or_config_fn: the config, or a function of the new config returning it.
            name: the new graph's name (keeps this graph's name if not given).
            config_schema: schema of the new config a config function receives.
            description: replaces the description.

        Raises:
            DefinitionError: ``config_schema`` given with a fixed config, or a bad name.
        """
        from nbflow.definitions.config_mapping import ConfigMapping  # imports nothing heavy
        from nbflow.definitions.configured import config_function

        new_name = self.name if name is None else check_name("Graph", name)
        fn = config_function(config_or_config_fn, config_schema, f"graph {new_name!r}")
        mapping = self.config if isinstance(self.config, ConfigMapping) else None
        config: ConfigMapping | Mapping[str, Any]
        if mapping is not None:
            config = ConfigMapping(_feed_mapping(fn, mapping, new_name), config_schema)
        elif callable(config_or_config_fn):
            config = ConfigMapping(fn, config_schema)
        else:
            config = dict(config_or_config_fn)
        clone = object.__new__(GraphDefinition)
        clone.__dict__.update(self.__dict__)
        clone.name = new_name
        clone.config = config
        clone.description = description or self.description
        return clone

    def _check_wiring(self, problems: list[str]) -> None:
        nodes = self.nodes
        for node_name, deps in self.dependencies.items():
            node = nodes.get(node_name)
            if node is None:
                continue  # reported by _build_nodes
            for input_name, any_dep in deps.items():
                if input_name not in node.definition.ins:
                    problems.append(
                        f"node {node_name!r} has no input {input_name!r}."
                        f"{did_you_mean(input_name, node.definition.ins)} Its inputs are "
                        f"{list(node.definition.ins)}."
                    )
                for dep in upstream_dependencies(any_dep):
                    _check_dependency(nodes, node_name, input_name, dep, problems)
        for mapping in self.input_mappings:
            node = nodes.get(mapping.mapped_node_name)
            if node is None or mapping.mapped_node_input_name not in node.definition.ins:
                problems.append(
                    f"graph input {mapping.graph_input_name!r} maps to "
                    f"{mapping.mapped_node_name}.{mapping.mapped_node_input_name}, which does not "
                    "exist."
                )
            elif mapping.mapped_node_input_name in self.dependencies.get(node.name, {}):
                problems.append(
                    f"input {node.name}.{mapping.mapped_node_input_name} is fed both by graph "
                    f"input {mapping.graph_input_name!r} and by another node; pick one."
                )
        for out in self.output_mappings:
            node = nodes.get(out.mapped_node_name)
            if node is None or out.mapped_node_output_name not in node.definition.outs:
                problems.append(
                    f"graph output {out.graph_output_name!r} maps to "
                    f"{out.mapped_node_name}.{out.mapped_node_output_name}, which does not exist."
                )

    @property
    def input_defs(self) -> tuple[GraphInputDefinition, ...]:
        """The graph's own inputs, in order (each with its name and ``In``)."""
        return tuple(GraphInputDefinition(name, spec) for name, spec in self.ins.items())

    def get_node_named(self, name: str) -> Node:
        """The node ``name`` of this graph; ``outer.inner`` reaches into nested graphs.

        Raises:
            NodeNotFoundError: no node has that name.
        """
        graph: GraphDefinition = self
        head, _, rest = name.partition(".")
        node = graph.nodes.get(head)
        if node is None:
            raise NodeNotFoundError.build(f"Graph {self.name!r}", name, list(graph.nodes))
        if not rest:
            return node
        if not isinstance(node.definition, GraphDefinition):
            raise NodeNotFoundError.build(f"Op node {head!r}", rest, [])
        return node.definition.get_node_named(rest)

    def iter_ops(self, prefix: str = "") -> Iterator[tuple[str, Node]]:
        """Every op node, nested graphs included, with its handle (``outer.inner``)."""
        for name in self.topological_order:
            node = self.nodes[name]
            handle = f"{prefix}{name}"
            if isinstance(node.definition, GraphDefinition):
                yield from node.definition.iter_ops(f"{handle}.")
            else:
                yield handle, node

    def op_defs(self) -> list[OpDefinition]:
        """Every distinct op definition used, nested graphs included."""
        seen: dict[int, OpDefinition] = {}
        for _, node in self.iter_ops():
            seen.setdefault(id(node.definition), node.definition)  # type: ignore[arg-type]
        return list(seen.values())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        recorder = current_recorder()
        if recorder is None:
            raise InvalidInvocationError(
                f"Graph {self.name!r} can only be called inside another @graph or @job. "
                f"Fix: run it with {self.name}.execute_in_process() or make a job with "
                f"{self.name}.to_job()."
            )
        return recorder.invoke(PendingNodeInvocation(self), args, kwargs)

    def to_job(
        self,
        name: str | None = None,
        *,
        hooks: Iterable[HookDefinition] | None = None,
        op_selection: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> JobDefinition:
        """A job that runs this graph; keyword arguments are those of :class:`JobDefinition`.

        Args:
            name: the job's name (default: the graph's).
            hooks: hooks applied to every op (``hook_defs`` of the job).
            op_selection: the ops every run of the job runs (see ``JobDefinition.get_subset``).
            **kwargs: other arguments of :class:`JobDefinition`.
        """
        from nbflow.definitions.job import JobDefinition

        if hooks is not None:
            kwargs["hook_defs"] = frozenset(kwargs.get("hook_defs") or ()) | frozenset(hooks)
        return JobDefinition(graph_def=self, name=name, op_selection=op_selection, **kwargs)

    def execute_in_process(
        self,
        run_config: Mapping[str, Any] | None = None,
        instance: Instance | None = None,
        resources: Mapping[str, Any] | None = None,
        raise_on_error: bool = True,
        op_selection: Sequence[str] | None = None,
        run_id: str | None = None,
        input_values: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ExecuteInProcessResult:
        """Run the graph in this process and return an ``ExecuteInProcessResult``."""
        from nbflow.definitions.job import JobDefinition
        from nbflow.definitions.resource import as_resource_definition

        job_def = JobDefinition(
            graph_def=self,
            resource_defs={k: as_resource_definition(v) for k, v in (resources or {}).items()},
        )
        return job_def.execute_in_process(
            run_config=run_config,
            instance=instance,
            raise_on_error=raise_on_error,
            op_selection=op_selection,
            run_id=run_id,
            input_values=input_values,
            tags=tags,
        )


def _feed_mapping(
    fn: Callable[[Any], Any], mapping: ConfigMapping, graph_name: str
) -> Callable[[Any], Mapping[str, Any]]:
    """``fn``'s result, checked against ``mapping``'s schema, then mapped by ``mapping``."""

    def mapped(outer: Any) -> Mapping[str, Any]:
        given = mapping.config_for_fn(fn(outer), target=f"graph {graph_name!r} (configured)")
        return mapping.config_fn(given)

    return mapped


def _index_defs(
    node_defs: Iterable[NodeDefinition], problems: list[str]
) -> dict[str, NodeDefinition]:
    defs: dict[str, NodeDefinition] = {}
    for definition in node_defs:
        if not isinstance(definition, NodeDefinition):
            problems.append(f"{definition!r} in node_defs is not an op or a graph.")
            continue
        existing = defs.get(definition.name)
        if existing is not None and existing is not definition:
            problems.append(
                f"two different definitions are named {definition.name!r}. Fix: rename one, or "
                f"use .alias() to give each use its own node name."
            )
        defs[definition.name] = definition
    return defs


_NO_TAGS: Mapping[str, Any] = MappingProxyType({})


def _build_nodes(
    defs: Mapping[str, NodeDefinition],
    dependencies: Mapping[str | NodeInvocation, Mapping[str, AnyDependency]],
    problems: list[str],
) -> dict[str, Node]:
    invocations = [k if isinstance(k, NodeInvocation) else NodeInvocation(k) for k in dependencies]
    aliased = {inv.name for inv in invocations if inv.alias}
    named = {inv.node_name for inv in invocations}
    for name in defs:
        if name not in aliased and name not in named:
            invocations.append(NodeInvocation(name))
    nodes: dict[str, Node] = {}
    for inv in invocations:
        definition = defs.get(inv.name)
        if definition is None:
            problems.append(
                f"node {inv.node_name!r} uses definition {inv.name!r}, which is not in node_defs."
                f"{did_you_mean(inv.name, defs)}"
            )
            continue
        if inv.node_name in nodes:
            problems.append(
                f"node name {inv.node_name!r} is used twice. Fix: give each use its own alias."
            )
        nodes[inv.node_name] = Node(
            inv.node_name,
            definition,
            MappingProxyType(dict(inv.tags)) if inv.tags else _NO_TAGS,
            inv.hook_defs,
            inv.retry_policy,
        )
    return nodes


def _graph_ins(
    ins: Mapping[str, In] | None,
    mappings: Sequence[InputMapping],
    nodes: Mapping[str, Node],
    positional: Sequence[str],
) -> dict[str, In]:
    """The graph's inputs: as declared, else those of the node inputs they feed."""
    if ins:
        return dict(ins)
    result: dict[str, In] = {}
    for m in mappings:
        node = nodes.get(m.mapped_node_name)
        inner = node.definition.ins.get(m.mapped_node_input_name) if node else None
        spec = inner or In()
        if m.graph_input_description is not None:
            spec = replace(spec, description=m.graph_input_description)
        result.setdefault(m.graph_input_name, spec)
    for name in positional:
        result.setdefault(name, In())
    return result


def _check_dependency(
    nodes: Mapping[str, Node],
    node_name: str,
    input_name: str,
    dep: DependencyDefinition,
    problems: list[str],
) -> None:
    """Report ``dep`` if it names a node or output the graph does not have."""
    upstream = nodes.get(dep.node)
    if upstream is None:
        problems.append(
            f"input {node_name}.{input_name} depends on node {dep.node!r}, which is "
            f"not in the graph.{did_you_mean(dep.node, nodes)}"
        )
    elif dep.output not in upstream.definition.outs:
        problems.append(
            f"input {node_name}.{input_name} depends on output {dep.output!r} of "
            f"{dep.node!r}, which has outputs {list(upstream.definition.outs)}."
            f"{did_you_mean(dep.output, upstream.definition.outs)}"
        )


def _topological_order(
    nodes: Mapping[str, Node],
    dependencies: Mapping[str, Mapping[str, AnyDependency]],
    problems: list[str],
) -> tuple[str, ...]:
    """Node names, upstream first, in declaration order among equals; reports cycles."""
    declared = {name: index for index, name in enumerate(nodes)}
    upstream = {
        name: sorted(
            {
                d.node
                for dep in dependencies.get(name, {}).values()
                for d in upstream_dependencies(dep)
                if d.node in nodes
            },
            key=declared.__getitem__,
        )
        for name in nodes
    }
    order, cycles = topological_order(upstream)
    for cycle in cycles:
        problems.append(
            f"the dependencies form a cycle: {' → '.join(cycle)}. "
            "Fix: remove one of these dependencies."
        )
    return tuple(order)


def compose_graph(
    fn: Callable[..., Any],
    name: str,
    *,
    description: str | None = None,
    ins: Mapping[str, In] | None = None,
    out: Out | GraphOut | Mapping[str, Out | GraphOut] | None = None,
    config: ConfigMapping | Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    substitutions: Mapping[int, NodeDefinition] | None = None,
) -> GraphDefinition:
    """Run ``fn`` under a recorder and build the graph its calls describe.

    ``substitutions`` maps ``id(definition)`` to the definition to use wherever ``fn`` calls
    that one (a job rebuilt after some of its ops were redefined).
    """
    params = [
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    recorder = CompositionRecorder(name, substitutions=substitutions or {})
    with composing(recorder):
        returned = fn(*(GraphInputRef(p) for p in params))
    declared_outs: dict[str, Out] | None
    if isinstance(out, Out | GraphOut):
        declared_outs = {"result": as_out(out)}
    else:
        declared_outs = {k: as_out(v) for k, v in out.items()} if out else None
    output_mappings = recorder.output_mappings(returned, declared_outs)
    if recorder.problems:
        raise InvalidDefinitionError.build(f"Graph {name!r}", recorder.problems)
    graph_def = GraphDefinition(
        name=name,
        description=description,
        node_defs=recorder.node_defs,
        dependencies=recorder.dependencies,
        input_mappings=recorder.input_mappings,
        output_mappings=output_mappings,
        config=config,
        tags=tags,
        ins=ins,
        outs=declared_outs,
        positional_inputs=params,
    )
    graph_def.compose_fn = fn
    return graph_def


@overload
def graph(compose_fn: Callable[..., Any]) -> GraphDefinition: ...


@overload
def graph(
    compose_fn: None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    ins: Mapping[str, In] | None = None,
    out: Out | GraphOut | Mapping[str, Out | GraphOut] | None = None,
    config: ConfigMapping | Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], GraphDefinition]: ...


def graph(
    compose_fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    ins: Mapping[str, In] | None = None,
    out: Out | GraphOut | Mapping[str, Out | GraphOut] | None = None,
    config: ConfigMapping | Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
) -> GraphDefinition | Callable[[Callable[..., Any]], GraphDefinition]:
    """Define a graph by calling ops (and graphs) inside a function (``@graph``)."""

    def decorate(fn: Callable[..., Any]) -> GraphDefinition:
        return compose_graph(
            fn,
            name or fn.__name__,
            description=description or inspect.getdoc(fn),
            ins=ins,
            out=out,
            config=config,
            tags=tags,
        )

    return decorate(compose_fn) if compose_fn is not None else decorate
