"""Op selection queries: ``name``, ``*name`` (ancestors), ``name+`` (one level down), unions.

``*`` before a name adds every ancestor, after it every descendant; each ``+`` adds one level
in that direction. A dotted name (``outer.inner``) selects that one nested step; ``*`` alone
selects every node.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nbflow.errors import InvalidSubsetError, did_you_mean

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

_QUERY = re.compile(r"^(\*?)(\+*)([A-Za-z_][\w.]*?)(\+*)(\*?)$")
_ALL = 10**9


@dataclass(frozen=True, slots=True)
class Selection:
    """The outcome of op selection: whole top-level nodes, and single nested steps."""

    nodes: frozenset[str]
    handles: frozenset[str]
    queries: tuple[str, ...]

    def includes(self, handle: str) -> bool:
        top = handle.split(".", 1)[0]
        return (
            top in self.nodes
            or handle in self.handles
            or any(handle.startswith(h + ".") for h in self.handles)
        )


def _walk(start: str, edges: Mapping[str, Iterable[str]], depth: int) -> set[str]:
    seen: set[str] = set()
    frontier = {start}
    while frontier and depth > 0:
        frontier = {n for f in frontier for n in edges.get(f, ())} - seen
        seen |= frontier
        depth -= 1
    return seen


def select(
    queries: Sequence[str],
    upstream: Mapping[str, Iterable[str]],
    handles: Iterable[str],
) -> Selection:
    """Resolve ``queries`` against top-level ``upstream`` edges and all step ``handles``.

    Raises:
        InvalidSubsetError: listing every query that is malformed or names nothing.
    """
    nodes = set(upstream)
    all_handles = set(handles)
    downstream: dict[str, set[str]] = {n: set() for n in nodes}
    for node, ups in upstream.items():
        for up in ups:
            downstream.setdefault(up, set()).add(node)
    chosen: set[str] = set()
    chosen_handles: set[str] = set()
    problems: list[str] = []
    for query in queries:
        if query.strip() == "*":
            chosen |= nodes
            continue
        match = _QUERY.match(query.strip())
        if match is None:
            problems.append(
                f"{query!r} is not a selection query. Expected forms: 'name', '*name', "
                "'name*', '+name', 'name++'."
            )
            continue
        star_up, plus_up, name, plus_down, star_down = match.groups()
        if "." in name:
            if name not in all_handles and not any(h.startswith(name + ".") for h in all_handles):
                problems.append(f"{query!r} names no step.{did_you_mean(name, all_handles)}")
            elif star_up or plus_up or plus_down or star_down:
                problems.append(f"{query!r}: '*' and '+' work on top-level nodes only.")
            else:
                chosen_handles.add(name)
            continue
        if name not in nodes:
            problems.append(f"{query!r} names no node of the job.{did_you_mean(name, nodes)}")
            continue
        chosen.add(name)
        chosen |= _walk(name, upstream, _ALL if star_up else len(plus_up))
        chosen |= _walk(name, downstream, _ALL if star_down else len(plus_down))
    if problems:
        raise InvalidSubsetError.build("op_selection", problems)
    return Selection(frozenset(chosen), frozenset(chosen_handles), tuple(queries))
