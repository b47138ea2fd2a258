"""Topological order of a dependency graph, deterministic, with the cycles named.

Graph nodes and resources both come out upstream first, in the order a depth-first walk gives
(so the order never depends on set or hash order), without recursion: a chain of any length
orders. The sorting is :class:`graphlib.TopologicalSorter`'s.
"""

from __future__ import annotations

import graphlib
import heapq
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

Node = TypeVar("Node", bound=str)


def topological_order(
    upstream: Mapping[Node, Sequence[Node]],
) -> tuple[list[Node], list[list[Node]]]:
    """Order ``upstream``'s keys so that every node comes after the nodes it depends on.

    Ties are broken as a depth-first walk would break them: the keys in the mapping's order,
    each visiting what it depends on in the order listed before itself. The walk is not
    recursive: it ranks nodes by when a depth-first search first reaches them, then lets
    :class:`graphlib.TopologicalSorter` hand out ready nodes, lowest rank first (which gives
    the same order).

    Args:
        upstream: each node and the nodes it depends on (every one of them also a key).

    Returns:
        ``(order, cycles)``. With no cycle, ``order`` holds every node and ``cycles`` is empty.
        Otherwise ``order`` is empty and ``cycles`` lists each cycle found as the path from the
        node of it the walk reaches first, along "depends on" edges, back to that node.
    """
    rank = _reached_order(upstream)
    sorter = graphlib.TopologicalSorter(upstream)
    try:
        sorter.prepare()
    except graphlib.CycleError:
        return [], _cycles(upstream, rank)
    ready = [(rank[node], node) for node in sorter.get_ready()]
    heapq.heapify(ready)
    order: list[Node] = []
    while ready:
        _, node = heapq.heappop(ready)
        order.append(node)
        sorter.done(node)
        for unlocked in sorter.get_ready():
            heapq.heappush(ready, (rank[unlocked], unlocked))
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
