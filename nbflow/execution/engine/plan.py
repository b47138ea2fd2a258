"""The execution plan: a job's graph flattened into steps in topological order.

A step is one op node (``outer.inner`` for nodes of nested graphs). Each step input knows
where its value comes from: an upstream step's output, a value given to the run, or run
config (which also covers inputs cut off by an op selection).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbflow.definitions.dependency import MultiDependencyDefinition, upstream_dependencies
from nbflow.definitions.dynamic import out_spec
from nbflow.definitions.dynamic_handles import CollectDependency, MappedDependency
from nbflow.definitions.graph import GraphDefinition, Node
from nbflow.definitions.op import OpDefinition
from nbflow.definitions.resource_keys import op_resource_keys
from nbflow.definitions.specs import NO_VALUE, In
from nbflow.errors import InvalidDefinitionError, ResultLookupError, did_you_mean
from nbflow.execution.engine.dynamic import DynamicSteps, collect_waits, split_mapped
from nbflow.execution.engine.selection import Selection, select

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from nbflow.definitions.hook import HookDefinition
    from nbflow.definitions.job import JobDefinition
    from nbflow.definitions.policy import RetryPolicy

PRIORITY_TAG = "nbflow/priority"

StepOutputHandle = tuple[str, str]


@dataclass(frozen=True, slots=True)
class StepInput:
    """Where one input of a step gets its value.

    Exactly one of: ``upstream`` (a step output), ``fan_in`` (step outputs whose values
    make a list, in order), ``value`` (given to the run), or none, in which case run config
    (``ops.<step>.inputs.<name>``) or the default provides it. ``cut_upstream`` names the
    producing step output when an op selection left it out.
    """

    name: str
    spec: In
    upstream: StepOutputHandle | None = None
    value: Any = NO_VALUE
    cut_upstream: StepOutputHandle | None = None
    source_asset: Any = None  # a SourceAsset read through its IO manager
    fan_in: tuple[StepOutputHandle, ...] = ()
    element_of: StepOutputHandle | None = None
    """A mapped step's template input: takes one element of this dynamic output."""
    collects: StepOutputHandle | None = None
    """Gathers every mapped value of this output (``fan_in`` once the mapping keys are known)."""

    @property
    def from_config(self) -> bool:
        return (
            self.upstream is None
            and not self.fan_in
            and self.value is NO_VALUE
            and self.source_asset is None
            and self.element_of is None
            and self.collects is None
        )

    @property
    def upstreams(self) -> tuple[StepOutputHandle, ...]:
        """Every step output this input loads: its upstream, or each of its fan-in."""
        return (self.upstream,) if self.upstream is not None else self.fan_in


@dataclass(eq=False, slots=True)
class Step:
    """One op node to run."""

    key: str
    node: Node
    op_def: OpDefinition
    inputs: tuple[StepInput, ...]
    tags: Mapping[str, Any]
    hook_defs: frozenset[HookDefinition]
    retry_policy: RetryPolicy | None
    priority: int
    index: int
    upstream_keys: tuple[str, ...] = ()
    loads_cut_inputs: bool = False  # inputs cut off by a selection come from storage
    mapped_over: StepOutputHandle | None = None
    """The dynamic output this step is mapped over (a template, or one of its copies)."""
    mapping_key: str | None = None  # set on the copy of a template for one element


class ExecutionPlan:
    """Steps of a job (or of its op selection) in topological order."""

    def __init__(
        self,
        job_def: JobDefinition,
        steps: Sequence[Step],
        selection: Selection | None,
        templates: Sequence[Step] = (),
    ) -> None:
        self.job_def = job_def
        self.steps: dict[str, Step] = {s.key: s for s in steps}
        self.selection = selection
        self.downstream: dict[str, list[str]] = {key: [] for key in self.steps}
        for step in steps:
            for up in step.upstream_keys:
                self.downstream[up].append(step.key)
        self._op_defs: dict[str, OpDefinition] | None = None
        self.dynamic = DynamicSteps(self, templates)
        self.source_run_ids: dict[str, str] = {}
        """Step key → the run whose stored outputs a re-execution loads for that left-out
        step (outputs of other steps belong to the run itself)."""

    def op_def_for(self, step_key: str) -> OpDefinition:
        """The op of a step, also for steps an op selection left out of the plan."""
        step = self.steps.get(step_key)
        if step is not None:
            return step.op_def
        if self._op_defs is None:
            self._op_defs = {
                handle: node.definition  # type: ignore[misc]
                for handle, node in self.job_def.graph_def.iter_ops()
            }
        return self._op_defs[step_key.partition("[")[0]]

    def resource_keys(
        self, step: Step, *, cut_inputs: bool, io_managers_only: bool = False
    ) -> set[str]:
        """The resources ``step`` uses: its own and its hooks', the IO managers of its outputs
        and of what it loads (upstream outputs, source assets; with ``cut_inputs``, the
        outputs an op selection cut off).

        With ``io_managers_only``, only the IO managers that store step outputs: those of its
        outputs and of the upstream outputs it loads (what finds and loads stored outputs).
        """
        keys = op_resource_keys(step.op_def, io_managers_only=io_managers_only)
        for hook in () if io_managers_only else step.hook_defs:
            keys |= hook.required_resource_keys
        for step_input in step.inputs:
            if step_input.source_asset is not None and not io_managers_only:
                keys.add(step_input.source_asset.io_manager_key)
            upstream = step_input.upstream
            if upstream is None and cut_inputs:
                upstream = step_input.cut_upstream
            for up in step_input.fan_in if upstream is None else (upstream,):
                keys.add(out_spec(self.op_def_for(up[0]), up[1]).io_manager_key)
        return keys

    def needed_resource_keys(self, *, io_managers_only: bool = False) -> set[str]:
        """Every resource the steps use (see :meth:`resource_keys`), cut-off inputs' IO
        managers included."""
        keys: set[str] = set()
        for step in self.steps.values():
            keys |= self.resource_keys(step, cut_inputs=True, io_managers_only=io_managers_only)
        return keys

    def load_cut_inputs_from_storage(self) -> None:
        """Inputs cut off by op selection will be loaded from storage, not required as config.

        For memoized runs (stored by version) and asset runs (stored by asset key).
        """
        for step in self.steps.values():
            step.loads_cut_inputs = True

    def resolve_output(self, handle: str, output_name: str) -> StepOutputHandle:
        """The step output behind ``handle``'s output (graph outputs resolve to an inner op)."""
        graph: GraphDefinition = self.job_def.graph_def
        parts = handle.split(".")
        prefix = ""
        for i, part in enumerate(parts):
            node = graph.nodes.get(part)
            if node is None:
                raise ResultLookupError(
                    f"Job {self.job_def.name!r} has no node {prefix + part!r}."
                    f"{did_you_mean(part, graph.nodes)}"
                )
            if i < len(parts) - 1:
                if not isinstance(node.definition, GraphDefinition):
                    raise ResultLookupError(f"{prefix + part!r} is an op, not a graph.")
                graph = node.definition
                prefix += part + "."
        return _resolve_output(graph, parts[-1], output_name, prefix)


def _resolve_output(
    graph: GraphDefinition, node_name: str, output_name: str, prefix: str
) -> StepOutputHandle:
    node = graph.nodes[node_name]
    definition = node.definition
    if output_name not in definition.outs:
        raise ResultLookupError(
            f"{definition.describe()} (node {prefix + node_name!r}) has no output "
            f"{output_name!r}.{did_you_mean(output_name, definition.outs)} Its outputs: "
            f"{list(definition.outs)}."
        )
    if not isinstance(definition, GraphDefinition):
        return prefix + node_name, output_name
    mapping = next(m for m in definition.output_mappings if m.graph_output_name == output_name)
    return _resolve_output(
        definition,
        mapping.mapped_node_name,
        mapping.mapped_node_output_name,
        f"{prefix}{node_name}.",
    )


_Source = tuple[str, Any]  # ("step", handle) | ("fan_in", handles) | ("value", v)


def build_plan(
    job_def: JobDefinition,
    input_values: Mapping[str, Any] | None = None,
    op_selection: Sequence[str] | None = None,
) -> ExecutionPlan:
    """Flatten ``job_def`` into steps, honouring ``op_selection`` and top-level input values."""
    graph = job_def.graph_def
    values = {**job_def.input_values, **(input_values or {})}
    unknown = [k for k in values if k not in graph.ins]
    if unknown:
        raise InvalidDefinitionError.build(
            f"input_values for job {job_def.name!r}",
            [
                f"{k!r} is not an input of the job.{did_you_mean(k, graph.ins)} Its inputs: "
                f"{list(graph.ins)}."
                for k in unknown
            ],
        )
    top_sources: dict[str, _Source | None] = {
        name: ("value", values[name]) if name in values else None for name in graph.ins
    }
    flat: list[Step] = []
    problems: list[str] = []
    _flatten(job_def, graph, "", top_sources, flat, problems)
    flat, templates = split_mapped(flat, problems)
    if problems:
        raise InvalidDefinitionError.build(f"Job {job_def.name!r}", problems)
    selection = None
    if op_selection:
        upstream = {
            name: {
                d.node
                for dep in graph.dependencies.get(name, {}).values()
                for d in upstream_dependencies(dep)
            }
            for name in graph.nodes
        }
        selection = select(op_selection, upstream, (s.key for s in flat))
        flat = [_cut(s, selection) for s in flat if selection.includes(s.key)]
    kept = {s.key for s in flat}
    for step in flat:
        step.upstream_keys = tuple(
            dict.fromkeys(up[0] for i in step.inputs for up in i.upstreams if up[0] in kept)
        )
        step.upstream_keys += collect_waits(step, templates)
    return ExecutionPlan(job_def, flat, selection, templates)


def _cut(step: Step, selection: Selection) -> Step:
    inputs = tuple(
        StepInput(i.name, i.spec, cut_upstream=i.upstream)
        if i.upstream is not None and not selection.includes(i.upstream[0])
        else StepInput(i.name, i.spec)
        if any(not selection.includes(up[0]) for up in i.fan_in)
        else i
        for i in step.inputs
    )
    step.inputs = inputs
    return step


def _node_sources(
    graph: GraphDefinition,
    name: str,
    prefix: str,
    mapped: Mapping[tuple[str, str], str],
    graph_sources: Mapping[str, _Source | None],
) -> dict[str, _Source | None]:
    """Where each input of node ``name`` gets its value (``None``: run config or default)."""
    deps = graph.dependencies.get(name, {})
    sources: dict[str, _Source | None] = {}
    for input_name in graph.nodes[name].definition.ins:
        dep = deps.get(input_name)
        if isinstance(dep, MultiDependencyDefinition):
            sources[input_name] = (
                "fan_in",
                tuple(_resolve_output(graph, d.node, d.output, prefix) for d in dep.dependencies),
            )
        elif isinstance(dep, (MappedDependency, CollectDependency)):
            kind = "map" if isinstance(dep, MappedDependency) else "collect"
            sources[input_name] = (kind, _resolve_output(graph, dep.node, dep.output, prefix))
        elif dep is not None:
            sources[input_name] = ("step", _resolve_output(graph, dep.node, dep.output, prefix))
        elif (name, input_name) in mapped:
            sources[input_name] = graph_sources.get(mapped[(name, input_name)])
        else:
            sources[input_name] = None
    return sources


def _flatten(
    job_def: JobDefinition,
    graph: GraphDefinition,
    prefix: str,
    graph_sources: Mapping[str, _Source | None],
    out: list[Step],
    problems: list[str],
) -> None:
    mapped = {
        (m.mapped_node_name, m.mapped_node_input_name): m.graph_input_name
        for m in graph.input_mappings
    }
    for name in graph.topological_order:
        node = graph.nodes[name]
        handle = prefix + name
        sources = _node_sources(graph, name, prefix, mapped, graph_sources)
        definition = node.definition
        if isinstance(definition, GraphDefinition):
            _flatten(job_def, definition, handle + ".", sources, out, problems)
            continue
        assert isinstance(definition, OpDefinition)
        inputs = []
        layer = job_def.asset_layer
        for input_name, spec in definition.ins.items():
            src = sources[input_name]
            source_asset = layer.source_for(handle, input_name) if layer is not None else None
            if source_asset is not None:
                inputs.append(StepInput(input_name, spec, source_asset=source_asset))
            elif src is None:
                inputs.append(StepInput(input_name, spec))
            elif src[0] == "step":
                inputs.append(StepInput(input_name, spec, upstream=src[1]))
            elif src[0] == "fan_in":
                inputs.append(StepInput(input_name, spec, fan_in=src[1]))
            elif src[0] == "map":
                inputs.append(StepInput(input_name, spec, element_of=src[1]))
            elif src[0] == "collect":
                inputs.append(StepInput(input_name, spec, collects=src[1]))
            else:
                inputs.append(StepInput(input_name, spec, value=src[1]))
        tags = {**definition.tags, **node.tags}
        try:
            priority = int(tags.get(PRIORITY_TAG, 0))
        except (TypeError, ValueError):
            problems.append(
                f"step {handle!r} has tag {PRIORITY_TAG}={tags[PRIORITY_TAG]!r}; expected a whole "
                'number such as "5" or "-1".'
            )
            priority = 0
        # the node's own set when the job adds no hooks: no new set per step
        hook_defs = node.hook_defs | job_def.hook_defs if job_def.hook_defs else node.hook_defs
        out.append(
            Step(
                key=handle,
                node=node,
                op_def=definition,
                inputs=tuple(inputs),
                tags=tags,
                hook_defs=hook_defs,
                retry_policy=node.retry_policy
                or definition.retry_policy
                or job_def.op_retry_policy,
                priority=priority,
                index=len(out),
            )
        )
