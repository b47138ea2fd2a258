"""Topological order of a dependency graph, deterministic, with the cycles named.

Graph nodes and resources both come out upstream first, in the order a depth-first walk gives
(so the order never depends on set or hash order), without recursion: a chain of any length
orders. The walk is linear in nodes and edges; only when it meets a cycle are the cycles
named, with :mod:`graphlib`.
"""

from __future__ import annotations

import graphlib
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

Node = TypeVar("Node", bound=str)


def topological_order(
    upstream: Mapping[Node, Sequence[Node]],
) -> tuple[list[Node], list[list[Node]]]:
    """Order ``upstream``'s keys so that every node comes after the nodes it depends on.

    The order is a depth-first walk's post-order: the keys in the mapping's order, each
    visiting what it depends on in the order listed before itself. The walk keeps its own
    stack (no recursion) and visits every node and edge once.

    Args:
        upstream: each node and the nodes it depends on (every one of them also a key).

    Returns:
        ``(order, cycles)``. With no cycle, ``order`` holds every node and ``cycles`` is empty.
        Otherwise ``order`` is empty and ``cycles`` lists each cycle found as the path from the
        node of it the walk reaches first, along "depends on" edges, back to that node.
    """
    finished: dict[Node, bool] = {}  # False while the node is on the walk's path
    order: list[Node] = []
    for root in upstream:
        if root in finished:
            continue
        finished[root] = False
        path: list[tuple[Node, Iterator[Node]]] = [(root, iter(upstream[root]))]
        while path:
            node, deps = path[-1]
            for dep in deps:
                state = finished.get(dep)
                if state is None:
                    finished[dep] = False
                    path.append((dep, iter(upstream[dep])))
                    break
                if not state:  # on the path: a cycle
                    return [], _cycles(upstream, _reached_order(upstream))
            else:
                path.pop()
                finished[node] = True
                order.append(node)
    return order, []


def _reached_order(upstream: Mapping[Node, Sequence[Node]]) -> dict[Node, int]:
    """Each node's position in a depth-first (pre-order) walk of ``upstream``."""
    rank: dict[Node, int] = {}
    pending = list(reversed(list(upstream)))
    while pending:
        node = pending.pop()
        if node not in rank:
            rank[node] = len(rank)
            pending.extend(reversed(upstream[node]))
    return rank


def _cycles(graph: Mapping[Node, Sequence[Node]], rank: Mapping[Node, int]) -> list[list[Node]]:
    """Every cycle :mod:`graphlib` finds, removing each one's nodes before looking again."""
    remaining = dict(graph)
    found: list[list[Node]] = []
    while True:
        try:
            graphlib.TopologicalSorter(remaining).prepare()
        except graphlib.CycleError as error:
            # graphlib walks from a node to its dependents; a cycle reads the other way here.
            loop: list[Node] = list(reversed(error.args[1][:-1]))
            start = loop.index(min(loop, key=rank.__getitem__))
            loop = loop[start:] + loop[:start]
            found.append([*loop, loop[0]])
            gone = set(loop)
            remaining = {
                node: tuple(up for up in ups if up not in gone)
                for node, ups in remaining.items()
                if node not in gone
            }
        else:
            return sorted(found, key=lambda cycle: rank[cycle[0]])
