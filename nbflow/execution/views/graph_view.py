"""``graph_view``: a neutral record of a job's DAG (nodes, edges, nested-graph clusters, status).

The notebook layer turns a :class:`GraphView` into SVG, the command line could print it, and
tests assert on it or on its DOT text (:func:`nbflow.execution.views.graph_dot.to_dot`). Building a
view is pure bookkeeping over the execution plan: no drawing library is involved.

Statuses: ``pending`` (nothing known), ``stored`` / ``to-be-recomputed`` (from
``list_versions``), and ``running`` / ``succeeded`` / ``failed`` / ``memoized`` / ``skipped``
(from a run's events).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from nbflow.definitions.asset import AssetsDefinition
from nbflow.definitions.asset_job import build_asset_job
from nbflow.definitions.graph import GraphDefinition
from nbflow.definitions.job import JobDefinition
from nbflow.definitions.redefinition import current_job
from nbflow.definitions.resource import ResourceDefinition
from nbflow.definitions.resource_keys import op_resource_keys
from nbflow.definitions.source_asset import SourceAsset
from nbflow.definitions.specs import DEFAULT_IO_MANAGER_KEY
from nbflow.errors import GraphViewError
from nbflow.execution.engine.plan import ExecutionPlan, Step, build_plan
from nbflow.execution.engine.result import ExecuteInProcessResult
from nbflow.execution.engine.step_states import StepRecord, StepState, StepStates
from nbflow.execution.views.list_versions import list_versions
from nbflow.execution.views.run_names import caption

if TYPE_CHECKING:
    from nbflow.events import Event
    from nbflow.storage.instance import Instance

PENDING = "pending"
STORED = "stored"
TO_BE_RECOMPUTED = "to-be-recomputed"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
MEMOIZED = "memoized"
SKIPPED = "skipped"

STATUSES = (PENDING, STORED, TO_BE_RECOMPUTED, RUNNING, SUCCEEDED, FAILED, MEMOIZED, SKIPPED)
"""Every node status, in legend order."""

OP, ASSET, SOURCE = "op", "asset", "source"

_SHORT = 12  # characters of a version shown in tooltips


@dataclass(frozen=True, slots=True)
class NodeView:
    """One step (or source asset) of the DAG.

    Attributes:
        key: the step key (``outer.inner`` for nested graphs); unique in the view.
        label: what the drawing shows (the node name, or the asset key).
        kind: ``op``, ``asset`` or ``source`` (a source asset read by an asset).
        status: one of :data:`STATUSES`.
        tooltip: details shown on hover: the op, reasons to recompute, duration, the error.
        duration_ms: how long the step took, when it ran.
        cluster: the key of the innermost nested graph holding the step, or ``None``.
        size: how many steps the node stands for (more than one for a summarised group).
    """

    key: str
    label: str
    kind: str = OP
    status: str = PENDING
    tooltip: str = ""
    duration_ms: float | None = None
    cluster: str | None = None
    size: int = 1


@dataclass(frozen=True, slots=True)
class EdgeView:
    """``source`` feeds ``target``; ``tooltip`` lists which outputs feed which inputs."""

    source: str
    target: str
    tooltip: str = ""


@dataclass(frozen=True, slots=True)
class ClusterView:
    """A nested graph: ``key`` is its handle (``outer`` or ``outer.inner``)."""

    key: str
    label: str
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class GraphView:
    """A drawable DAG: nodes in topological order, edges, clusters, and a caption note."""

    title: str
    nodes: tuple[NodeView, ...]
    edges: tuple[EdgeView, ...]
    clusters: tuple[ClusterView, ...] = ()
    note: str = ""

    def node(self, key: str) -> NodeView:
        """The node with step key ``key``."""
        for node in self.nodes:
            if node.key == key:
                return node
        raise KeyError(key)

    def status_counts(self) -> dict[str, int]:
        """How many nodes have each status (statuses with no node left out), in legend order."""
        counts = dict.fromkeys(STATUSES, 0)
        for node in self.nodes:
            counts[node.status] = counts.get(node.status, 0) + 1
        return {status: n for status, n in counts.items() if n}

    def with_statuses(
        self,
        statuses: Mapping[str, str],
        tooltips: Mapping[str, str] | None = None,
        durations: Mapping[str, float | None] | None = None,
    ) -> GraphView:
        """A copy with the given nodes' status (and tooltip, duration) replaced."""
        tooltips = tooltips or {}
        durations = durations or {}
        nodes = tuple(
            replace(
                n,
                status=statuses.get(n.key, n.status),
                tooltip=tooltips.get(n.key, n.tooltip),
                duration_ms=durations.get(n.key, n.duration_ms),
            )
            if n.key in statuses or n.key in tooltips or n.key in durations
            else n
            for n in self.nodes
        )
        return replace(self, nodes=nodes)

    def with_events(self, events: Iterable[Event]) -> GraphView:
        """A copy whose statuses follow ``events`` (a finished run's, or a live run's so far)."""
        return self.with_step_states(StepStates(events))

    def with_step_states(self, states: StepStates) -> GraphView:
        """A copy whose statuses follow ``states``
        (see :mod:`nbflow.execution.engine.step_states`)."""
        statuses, tooltips, durations = _statuses_from_states(states, {n.key for n in self.nodes})
        described = {n.key: _first_line(n.tooltip) for n in self.nodes}
        tooltips = {k: f"{described[k]}\n{text}".strip() for k, text in tooltips.items()}
        return self.with_statuses(statuses, tooltips, durations)


def graph_view(
    obj: Any,
    run_config: Mapping[str, Any] | None = None,
    instance: Instance | None = None,
    *,
    with_versions: bool = False,
    resources: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> GraphView:
    """The DAG of ``obj`` as a :class:`GraphView`.

    Args:
        obj: a ``JobDefinition``, ``GraphDefinition``, a list of assets (``@asset`` and
            ``SourceAsset``), an ``ExecutionPlan`` or an ``ExecuteInProcessResult``.
        run_config: run config, used with ``with_versions``.
        instance: where stored versions are looked up, used with ``with_versions``.
        with_versions: ask ``list_versions`` which steps are ``stored`` and which
            ``to-be-recomputed`` (a step is stored when all its outputs are); the tooltips
            carry the versions and the reasons. Ignored for a result.
        resources: extra resources, as for ``list_versions``.
        title: the caption; defaults to the job's name.

    Raises:
        GraphViewError: ``obj`` is none of the above.
        MissingVersionError: with ``with_versions``, an op has no version.
    """
    if isinstance(obj, ExecuteInProcessResult):
        plan = obj.plan  # the result's own plan keeps its op selection
        view = _structure(plan, title or caption(plan.job_def))
        return view.with_events(obj.all_events)
    plan = _plan_of(obj)
    view = _structure(plan, title or caption(plan.job_def))
    if with_versions:
        view = _with_versions(view, plan, run_config, instance, resources)
    return view


def _plan_of(obj: Any) -> ExecutionPlan:
    if isinstance(obj, ExecutionPlan):
        return obj
    if isinstance(obj, JobDefinition):
        return build_plan(current_job(obj))
    if isinstance(obj, GraphDefinition):
        return build_plan(current_job(_job_for_graph(obj)))
    if isinstance(obj, AssetsDefinition | SourceAsset):
        obj = [obj]
    if isinstance(obj, Sequence | set | frozenset) and not isinstance(obj, str):
        items = list(obj)
        if items and all(isinstance(i, AssetsDefinition | SourceAsset) for i in items):
            return build_plan(build_asset_job("assets", items))
    raise GraphViewError.not_viewable(obj)


def _job_for_graph(graph: GraphDefinition) -> JobDefinition:
    """A job around ``graph`` just to plan it; resources it needs are stood in for by ``None``.

    The default IO manager is left out: runs provide it (in memory) on their own.
    """
    needed: set[str] = set()
    for _, node in graph.iter_ops():
        needed |= op_resource_keys(node.definition)  # type: ignore[arg-type]
    needed.discard(DEFAULT_IO_MANAGER_KEY)
    stand_ins = {k: ResourceDefinition.none_resource() for k in sorted(needed)}
    return JobDefinition(graph_def=graph, resource_defs=stand_ins)


def _structure(plan: ExecutionPlan, title: str) -> GraphView:
    layer = plan.job_def.asset_layer
    nodes: list[NodeView] = []
    edges: list[EdgeView] = []
    clusters: dict[str, ClusterView] = {}
    sources: dict[str, NodeView] = {}
    graph_names = _graph_names(plan.job_def.graph_def)
    shown = plan.dynamic.shown_steps()  # a mapped op not expanded yet is one node, op[*]
    keys = {step.key for step in shown}
    for step in shown:
        head, _, name = step.key.rpartition(".")
        cluster = head or None
        if cluster is not None and cluster not in clusters:
            _add_clusters(cluster, clusters, graph_names)
        asset_key = layer.asset_key_for(step.key) if layer is not None else None
        kind = ASSET if asset_key is not None else OP
        label = asset_key.to_user_string() if asset_key is not None else name
        nodes.append(NodeView(step.key, label, kind, PENDING, _describe(step, kind), None, cluster))
        edges += _edges_into(step, keys)
        for step_input in step.inputs:
            source = step_input.source_asset
            if source is not None:
                source_id = f"source:{source.key.to_user_string()}"
                if source_id not in sources:
                    label = source.key.to_user_string()
                    sources[source_id] = NodeView(
                        source_id, label, SOURCE, PENDING, f"source asset {label!r}"
                    )
                edges.append(EdgeView(source_id, step.key, f"→ {step_input.name}"))
    return GraphView(
        title=title,
        nodes=(*sources.values(), *nodes),
        edges=tuple(edges),
        clusters=tuple(clusters.values()),
    )


def _edges_into(step: Step, keys: set[str]) -> list[EdgeView]:
    feeds: dict[str, list[str]] = {}
    for step_input in step.inputs:
        for up, output in step_input.upstreams:
            if up in keys:
                feeds.setdefault(up, []).append(f"{up}.{output} → {step_input.name}")
    return [EdgeView(up, step.key, "\n".join(lines)) for up, lines in feeds.items()]


def _graph_names(graph: GraphDefinition, prefix: str = "") -> dict[str, str]:
    """Handle of every nested graph node → its definition's name."""
    names: dict[str, str] = {}
    for name, node in graph.nodes.items():
        if isinstance(node.definition, GraphDefinition):
            handle = prefix + name
            names[handle] = node.definition.name
            names.update(_graph_names(node.definition, handle + "."))
    return names


def _add_clusters(key: str, clusters: dict[str, ClusterView], names: Mapping[str, str]) -> None:
    parent, _, name = key.rpartition(".")
    if parent and parent not in clusters:
        _add_clusters(parent, clusters, names)
    definition = names.get(key, name)
    label = name if definition == name else f"{name} ({definition})"
    clusters[key] = ClusterView(key, label, parent or None)


def _describe(step: Step, kind: str) -> str:
    what = "asset" if kind == ASSET else "op"
    text = f"{step.key}: {what} {step.op_def.name!r}"
    if step.op_def.description:
        text += " — " + _first_line(step.op_def.description)
    return text


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0]


def _with_versions(
    view: GraphView,
    plan: ExecutionPlan,
    run_config: Mapping[str, Any] | None,
    instance: Instance | None,
    resources: Mapping[str, Any] | None,
) -> GraphView:
    rows = list_versions(plan.job_def, run_config, instance, resources)
    by_step: dict[str, list[tuple[str, str, str, tuple[str, ...]]]] = {}
    for row in rows:
        step_key, _, output = row.step_output.rpartition(".")
        by_step.setdefault(step_key, []).append((output, row.version, row.status, row.reasons))
    statuses: dict[str, str] = {}
    tooltips: dict[str, str] = {}
    for node in view.nodes:
        outputs = by_step.get(node.key)
        if not outputs:
            continue
        stored = all(status == STORED for _, _, status, _ in outputs)
        statuses[node.key] = STORED if stored else TO_BE_RECOMPUTED
        lines = [_first_line(node.tooltip), statuses[node.key]]
        for output, version, status, reasons in outputs:
            line = f"{output} @ {version[:_SHORT]}: {status}"
            if reasons:
                line += " — " + "; ".join(reasons)
            lines.append(line)
        tooltips[node.key] = "\n".join(lines)
    return view.with_statuses(statuses, tooltips)


_STATUS_OF = {
    StepState.STARTING: RUNNING,
    StepState.RUNNING: RUNNING,
    StepState.UP_FOR_RETRY: RUNNING,
    StepState.SUCCEEDED: SUCCEEDED,
    StepState.FAILED: FAILED,
    StepState.MEMOIZED: MEMOIZED,
    StepState.SKIPPED: SKIPPED,
}


def _statuses_from_states(
    states: StepStates, keys: set[str]
) -> tuple[dict[str, str], dict[str, str], dict[str, float | None]]:
    statuses: dict[str, str] = {}
    details: dict[str, str] = {}
    durations: dict[str, float | None] = {}
    for record in states:
        key = record.step_key
        if key not in keys:
            continue
        status = _STATUS_OF.get(record.state)
        if status is not None:
            statuses[key] = status
        detail = _detail(record)
        if record.state in (StepState.SUCCEEDED, StepState.FAILED):
            durations[key] = record.duration_ms
        if record.output_versions:
            listed = ", ".join(f"{o} @ {v[:_SHORT]}" for o, v in record.output_versions.items())
            detail = (detail or "") + "\nversions: " + listed
        if detail is not None:
            details[key] = detail
    return statuses, details, durations


def _detail(record: StepRecord) -> str | None:
    """The tooltip line of a step's state (``None``: the tooltip stays as it is)."""
    state, retried = record.state, record.attempts_note
    if state is StepState.RUNNING:
        return RUNNING if record.attempts < 2 else f"running (attempt {record.attempts})"
    if state is StepState.UP_FOR_RETRY:
        return f"up for retry (attempt {record.next_attempt})"
    if state is StepState.SUCCEEDED:
        return f"succeeded in {_ms(record.duration_ms)}" + (f" ({retried})" if retried else "")
    if state is StepState.FAILED:
        after = _ms(record.duration_ms) + (f" ({retried})" if retried else "")
        return f"failed after {after}: {record.error or ''}"
    if state is StepState.MEMOIZED:
        found = ", ".join(f"{o} @ {v[:_SHORT]}" for o, v in record.stored_versions.items())
        return f"memoized: stored {found}" if found else "memoized"
    if state is StepState.SKIPPED:
        return f"skipped: {record.skip_reason}".rstrip(": ")
    return None


def _ms(duration: float | None) -> str:
    if duration is None:
        return "an unknown time"
    return f"{duration:.0f} ms" if duration >= 10 else f"{duration:.2f} ms"
