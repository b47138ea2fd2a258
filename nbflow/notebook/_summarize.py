"""Shrink a big :class:`GraphView` so its drawing stays readable and small.

In order, until the view has at most ``max_nodes`` nodes: collapse nested graphs into one
node each (deepest first), collapse chains of same-status steps into one node, collapse
parallel branches (same inputs, same consumers, same status) into one node, then keep the
first nodes in topological order and stand one node in for the rest. A group's label counts
the steps it holds (``NodeView.size``), however many groups it was made of. The view's note
says what was done.
"""

from __future__ import annotations

from dataclasses import replace

from nbflow.execution.views.graph_view import (
    OP,
    STATUSES,
    ClusterView,
    EdgeView,
    GraphView,
    NodeView,
)

# The status a group of nodes shows: the most urgent one among them.
_FIRST = ("failed", "running", "to-be-recomputed", "pending", "skipped", "succeeded")
_URGENCY = (*_FIRST, *(s for s in STATUSES if s not in _FIRST))

MORE_KEY = "nbflow:more"


def summarize(view: GraphView, max_nodes: int = 200) -> GraphView:
    """``view`` with at most ``max_nodes`` nodes, its note saying how it was summarised."""
    total = len(view.nodes)
    if total <= max_nodes:
        return view
    done: list[str] = []
    depth = max((c.key.count(".") for c in view.clusters), default=-1)
    while depth >= 0 and len(view.nodes) > max_nodes:
        view = _collapse_clusters(view, depth)
        depth -= 1
        if "nested graphs collapsed" not in done:
            done.append("nested graphs collapsed")
    if len(view.nodes) > max_nodes:
        view = _collapse_chains(view)
        done.append("chains collapsed")
    if len(view.nodes) > max_nodes:
        view = _collapse_siblings(view)
        done.append("parallel branches collapsed")
    if len(view.nodes) > max_nodes:
        view = _truncate(view, max_nodes)
        done.append(f"only the first {max_nodes - 1} shown")
    note = f"Summarised: {total} steps shown as {len(view.nodes)} nodes ({', '.join(done)})."
    return replace(view, note=f"{view.note} {note}".strip())


def group_status(statuses: list[str]) -> str:
    """The status shown for a group of nodes: the most urgent of theirs."""
    present = set(statuses)
    return next((s for s in _URGENCY if s in present), "pending")


def _counts(nodes: list[NodeView]) -> str:
    counts: dict[str, int] = {}
    for node in nodes:
        counts[node.status] = counts.get(node.status, 0) + node.size
    return ", ".join(f"{n} {status}" for status, n in counts.items())


def steps_in(members: list[NodeView]) -> int:
    """How many steps ``members`` stand for (a group counts all the steps it holds)."""
    return sum(m.size for m in members)


def _group_node(key: str, label: str, members: list[NodeView], cluster: str | None) -> NodeView:
    listed = [m.label if m.size > 1 else m.key for m in members[:8]]
    listed += ["…"] if len(members) > 8 else []
    durations = [m.duration_ms for m in members if m.duration_ms is not None]
    return NodeView(
        key=key,
        label=label,
        kind=OP,
        status=group_status([m.status for m in members]),
        tooltip=f"{steps_in(members)} steps: {_counts(members)}\n" + "\n".join(listed),
        duration_ms=sum(durations) if durations else None,
        cluster=cluster,
        size=steps_in(members),
    )


def _rebuild(
    view: GraphView,
    nodes: list[NodeView],
    representative: dict[str, str],
    clusters: tuple[ClusterView, ...],
) -> GraphView:
    edges: dict[tuple[str, str], list[str]] = {}
    for edge in view.edges:
        source = representative.get(edge.source, edge.source)
        target = representative.get(edge.target, edge.target)
        if source != target:
            tips = edges.setdefault((source, target), [])
            if edge.tooltip and len(tips) < 6:
                tips.append(edge.tooltip)
    return replace(
        view,
        nodes=tuple(nodes),
        edges=tuple(EdgeView(s, t, "\n".join(tips)) for (s, t), tips in edges.items()),
        clusters=clusters,
    )


def _collapse_clusters(view: GraphView, depth: int) -> GraphView:
    """Every cluster at ``depth`` (0 = top level) becomes one node inside its parent cluster."""
    targets = {c.key: c for c in view.clusters if c.key.count(".") == depth}
    members: dict[str, list[NodeView]] = {key: [] for key in targets}
    representative: dict[str, str] = {}
    for node in view.nodes:
        owner = _owner(node.cluster, depth)
        if owner in targets:
            members[owner].append(node)
            representative[node.key] = owner
    nodes: list[NodeView] = []
    placed: set[str] = set()
    for node in view.nodes:
        owner = representative.get(node.key)
        if owner is None:
            nodes.append(node)
        elif owner not in placed:
            placed.add(owner)
            cluster = targets[owner]
            label = f"{cluster.label} ({steps_in(members[owner])} steps)"
            nodes.append(_group_node(owner, label, members[owner], cluster.parent))
    kept = tuple(c for c in view.clusters if c.key.count(".") < depth)
    return _rebuild(view, nodes, representative, kept)


def _owner(cluster: str | None, depth: int) -> str | None:
    if cluster is None:
        return None
    parts = cluster.split(".")
    return ".".join(parts[: depth + 1]) if len(parts) > depth else None


def _collapse_chains(view: GraphView) -> GraphView:
    """Runs of nodes linked one-to-one, in one cluster and with one status, become one node."""
    succs: dict[str, list[str]] = {n.key: [] for n in view.nodes}
    preds: dict[str, list[str]] = {n.key: [] for n in view.nodes}
    for edge in view.edges:
        if edge.source in succs and edge.target in preds:
            succs[edge.source].append(edge.target)
            preds[edge.target].append(edge.source)
    by_key = {n.key: n for n in view.nodes}

    def links(a: NodeView, b_key: str) -> bool:
        b = by_key[b_key]
        return (
            len(succs[a.key]) == 1
            and len(preds[b_key]) == 1
            and a.cluster == b.cluster
            and a.status == b.status
        )

    representative: dict[str, str] = {}
    nodes: list[NodeView] = []
    for node in view.nodes:
        if node.key in representative:
            continue
        if len(preds[node.key]) == 1 and links(by_key[preds[node.key][0]], node.key):
            continue  # inside a chain that starts earlier; picked up from its head
        chain = [node]
        while succs[chain[-1].key] and links(chain[-1], succs[chain[-1].key][0]):
            chain.append(by_key[succs[chain[-1].key][0]])
        if len(chain) == 1:
            nodes.append(node)
            continue
        label = f"{_bare(chain[0].label)} … {_bare(chain[-1].label)} ({steps_in(chain)} steps)"
        group = _group_node(f"{chain[0].key}…", label, chain, node.cluster)
        nodes.append(replace(group, status=node.status))
        for member in chain:
            representative[member.key] = group.key
    placed = {n.key for n in nodes} | set(representative)
    nodes += [n for n in view.nodes if n.key not in placed]  # heads skipped above (cycles)
    return _rebuild(view, nodes, representative, view.clusters)


def _bare(label: str) -> str:
    """A label without the step count a group adds: ``"g (5 steps)"`` → ``"g"``."""
    head, sep, tail = label.rpartition(" (")
    return head if sep and tail.endswith(" steps)") else label


def _collapse_siblings(view: GraphView) -> GraphView:
    """Nodes with the same inputs, consumers, nested graph, kind and status become one node.

    A fan of parallel branches (say 60 chains fed by one source) then reads as one node
    ``"c0_0 … c0_4 (60 branches, 300 steps)"``, and the drawing stays narrow.
    """
    preds: dict[str, set[str]] = {n.key: set() for n in view.nodes}
    succs: dict[str, set[str]] = {n.key: set() for n in view.nodes}
    for edge in view.edges:
        if edge.source in succs and edge.target in preds:
            succs[edge.source].add(edge.target)
            preds[edge.target].add(edge.source)
    families: dict[tuple[object, ...], list[NodeView]] = {}
    for node in view.nodes:
        if node.key == MORE_KEY or (not preds[node.key] and not succs[node.key]):
            continue  # lone nodes have nothing in common but their loneliness
        family = (
            frozenset(preds[node.key]),
            frozenset(succs[node.key]),
            node.cluster,
            node.kind,
            node.status,
        )
        families.setdefault(family, []).append(node)
    representative: dict[str, str] = {}
    groups: dict[str, NodeView] = {}
    for members in families.values():
        if len(members) < 3:
            continue
        label = f"{_bare(members[0].label)} ({len(members)} branches, {steps_in(members)} steps)"
        group = _group_node(f"{members[0].key}+", label, members, members[0].cluster)
        groups[members[0].key] = replace(group, status=members[0].status, kind=members[0].kind)
        for member in members:
            representative[member.key] = group.key
    nodes = [
        groups.get(n.key, n) for n in view.nodes if n.key not in representative or n.key in groups
    ]
    return _rebuild(view, nodes, representative, view.clusters)


def _truncate(view: GraphView, max_nodes: int) -> GraphView:
    kept = list(view.nodes[: max_nodes - 1])
    rest = list(view.nodes[max_nodes - 1 :])
    more = _group_node(MORE_KEY, f"… {steps_in(rest)} more steps", rest, None)
    representative = {n.key: MORE_KEY for n in rest}
    used = {n.cluster for n in kept}
    clusters = tuple(c for c in view.clusters if any(_within(u, c.key) for u in used))
    return _rebuild(view, [*kept, more], representative, clusters)


def _within(cluster: str | None, key: str) -> bool:
    return cluster is not None and (cluster == key or cluster.startswith(key + "."))
