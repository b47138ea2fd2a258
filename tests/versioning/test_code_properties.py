"""Properties of transitive code versions over random call graphs of helpers (Hypothesis).

A graph is written as a module file: helpers ``h0``..``hN`` that call each other (cycles
allowed: the code is versioned, never run) and ops ``op0``..``opM`` that call some helpers.
The module is imported under a unique name, edited, and imported again.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from .code_modules import load_module, versions


@dataclass(frozen=True)
class Graph:
    helpers: tuple[tuple[int, ...], ...]  # helper i calls these helpers
    ops: tuple[tuple[int, ...], ...]  # op j calls these helpers

    def source(self, edited: int | None = None, renamed: int | None = None) -> str:
        lines = ["RATE = 2", ""]
        for index, calls in enumerate(self.helpers):
            local = "renamed_local" if index == renamed else "value"
            constant = 100 + index + (1 if index == edited else 0)
            lines += [f"def h{index}(x):", f"    {local} = x + {constant}"]
            called = "".join(f" + h{c}({local})" for c in calls)
            lines += [f"    return {local}{called}", ""]
        for index, calls in enumerate(self.ops):
            body = " + ".join([f"h{c}(x)" for c in calls] or ["x"])
            lines += [f"def op{index}(x):", f"    return {body} * RATE", ""]
        return "\n".join(lines)

    def reaching(self, helper: int) -> set[str]:
        """The ops whose calls reach ``helper``."""
        found = set()
        for index, calls in enumerate(self.ops):
            seen: set[int] = set()
            todo = list(calls)
            while todo:
                current = todo.pop()
                if current not in seen:
                    seen.add(current)
                    todo += self.helpers[current]
            if helper in seen:
                found.add(f"op{index}")
        return found

    @property
    def op_names(self) -> list[str]:
        return [f"op{index}" for index in range(len(self.ops))]


@st.composite
def graphs(draw: st.DrawFn) -> Graph:
    count = draw(st.integers(min_value=1, max_value=6))
    calls = st.lists(st.integers(min_value=0, max_value=count - 1), max_size=3, unique=True)
    helpers = tuple(tuple(draw(calls)) for _ in range(count))
    ops = tuple(tuple(draw(calls)) for _ in range(draw(st.integers(1, 5))))
    return Graph(helpers, ops)


FOLDER = Path(tempfile.mkdtemp(prefix="nbflow-code-properties-"))


@settings(max_examples=40, deadline=None)
@given(graph=graphs(), data=st.data())
def test_editing_a_helper_changes_exactly_the_ops_that_reach_it(
    graph: Graph, data: st.DataObject
) -> None:
    helper = data.draw(st.integers(0, len(graph.helpers) - 1), label="edited helper")
    before = versions(load_module(FOLDER, graph.source()), graph.op_names)
    after = versions(load_module(FOLDER, graph.source(edited=helper)), graph.op_names)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == graph.reaching(helper)


@settings(max_examples=40, deadline=None)
@given(graph=graphs(), data=st.data())
def test_renaming_a_local_in_a_helper_leaves_unrelated_ops_alone(
    graph: Graph, data: st.DataObject
) -> None:
    helper = data.draw(st.integers(0, len(graph.helpers) - 1), label="helper with a renamed local")
    before = versions(load_module(FOLDER, graph.source()), graph.op_names)
    after = versions(load_module(FOLDER, graph.source(renamed=helper)), graph.op_names)
    unrelated = set(graph.op_names) - graph.reaching(helper)
    assert {name: after[name] for name in unrelated} == {name: before[name] for name in unrelated}


@settings(max_examples=20, deadline=None)
@given(graph=graphs())
def test_the_same_source_gives_the_same_versions(graph: Graph) -> None:
    first = versions(load_module(FOLDER, graph.source()), graph.op_names)
    assert versions(load_module(FOLDER, graph.source()), graph.op_names) == first
