"""Graphs: composition, nesting, aliases, graph inputs/outputs, to_job, GraphDefinition."""

from __future__ import annotations

import pytest

from nbflow import (
    DependencyDefinition,
    GraphDefinition,
    In,
    InputMapping,
    JobDefinition,
    NodeInvocation,
    Out,
    OutputMapping,
    ResourceDefinition,
    graph,
    op,
)
from nbflow.errors import InvalidInvocationError


@op
def one():
    return 1


@op
def add(x, y):
    return x + y


@op
def double(x):
    return x * 2


def test_graph_composition_records_nodes_and_dependencies() -> None:
    @graph
    def composed():
        return double(add(one(), one()))

    assert set(composed.nodes) == {"one", "one_2", "add", "double"}
    assert composed.dependencies["add"] == {
        "x": DependencyDefinition("one"),
        "y": DependencyDefinition("one_2"),
    }
    assert composed.dependencies["double"] == {"x": DependencyDefinition("add")}
    assert composed.topological_order.index("add") < composed.topological_order.index("double")
    assert composed.execute_in_process().output_value() == 4


def test_graph_keyword_arguments_bind_inputs_by_name() -> None:
    @op
    def minus(a, b):
        return a - b

    @graph
    def keywords():
        return minus(b=one(), a=double(one()))

    assert keywords.execute_in_process().output_value() == 1


def test_nested_graphs_flatten_into_dotted_step_keys() -> None:
    @graph
    def inner(x):
        return double(x)

    @graph
    def middle(x):
        return inner(x)

    @graph
    def top():
        return middle(one())

    result = top.execute_in_process()
    steps = {e.step_key for e in result.all_node_events}
    assert steps == {"one", "middle.inner.double"}
    assert result.output_for_node("middle.inner.double") == 2
    assert result.output_for_node("middle") == 2


def test_alias_gives_each_use_its_own_node_name() -> None:
    @graph
    def aliased():
        first = double.alias("first")(one())
        return double.alias("second")(first)

    assert set(aliased.nodes) == {"one", "first", "second"}
    result = aliased.execute_in_process()
    assert result.output_for_node("first") == 2
    assert result.output_for_node("second") == 4


def test_a_graph_can_be_aliased_and_used_twice() -> None:
    @graph
    def doubler(x):
        return double(x)

    @graph
    def twice():
        return doubler.alias("b")(doubler.alias("a")(one()))

    result = twice.execute_in_process()
    assert result.output_for_node("a.double") == 2
    assert result.output_for_node("b.double") == 4
    assert result.output_value() == 4


def test_tag_on_an_invocation_adds_node_tags() -> None:
    @graph
    def tagged():
        double.tag({"kind": "math"})(one())

    assert dict(tagged.nodes["double"].tags) == {"kind": "math"}


def test_graph_inputs_and_several_named_outputs() -> None:
    @graph(out={"total": Out(), "partial": Out()})
    def summing(a, b):
        partial = add.alias("partial_add")(a, b)
        return {"total": add.alias("total_add")(partial, a), "partial": partial}

    assert list(summing.ins) == ["a", "b"]
    assert list(summing.outs) == ["total", "partial"]
    result = summing.execute_in_process(input_values={"a": 1, "b": 10})
    assert result.output_value("total") == 12
    assert result.output_value("partial") == 11


def test_graph_returning_a_tuple_takes_output_names_from_the_nodes() -> None:
    @op(out={"lo": Out(), "hi": Out()})
    def bounds():
        return 0, 9

    @graph
    def passthrough():
        return bounds()

    assert list(passthrough.outs) == ["lo", "hi"]
    result = passthrough.execute_in_process()
    assert (result.output_value("lo"), result.output_value("hi")) == (0, 9)


def test_graph_declared_ins_describe_its_inputs() -> None:
    @graph(ins={"x": In(int, description="a number")})
    def typed(x):
        return double(x)

    assert typed.ins["x"].python_type is int
    assert typed.execute_in_process(input_values={"x": 4}).output_value() == 8


def test_to_job_builds_a_job_with_job_parameters() -> None:
    @op(required_resource_keys={"factor"})
    def scale(context, x):
        return x * context.resources.factor

    @graph
    def scaling(x):
        return scale(x)

    scaling_job = scaling.to_job(
        name="scaling_job",
        resource_defs={"factor": ResourceDefinition.hardcoded_resource(3)},
        input_values={"x": 2},
        tags={"k": "v"},
    )

    assert isinstance(scaling_job, JobDefinition)
    assert scaling_job.name == "scaling_job"
    assert scaling_job.graph_def is scaling
    assert scaling_job.tags["k"] == "v"
    assert scaling_job.execute_in_process().output_value() == 6
    assert scaling.to_job(resource_defs=dict(scaling_job.resource_defs)).name == "scaling"


def test_graph_tags_are_inherited_by_its_job_and_job_tags_win() -> None:
    @graph(tags={"a": "graph", "b": "graph"})
    def tagged():
        one()

    tagged_job = tagged.to_job(tags={"b": "job"})
    assert dict(tagged_job.tags) == {"a": "graph", "b": "job"}


def test_graph_definition_with_node_invocation_alias_and_mappings() -> None:
    add_one = op(name="add_one")(lambda num: num + 1)
    graph_def = GraphDefinition(
        name="explicit",
        description="Built by hand.",
        node_defs=[add_one],
        dependencies={
            # A definition used under an alias is used under its own name only if listed too.
            "add_one": {},
            NodeInvocation("add_one", alias="add_two"): {"num": DependencyDefinition("add_one")},
        },
        input_mappings=[InputMapping("start", "add_one", "num")],
        output_mappings=[OutputMapping("final", "add_two")],
        tags={"built": "by-hand"},
    )

    assert graph_def.description == "Built by hand."
    assert set(graph_def.nodes) == {"add_one", "add_two"}
    assert list(graph_def.ins) == ["start"]
    assert list(graph_def.outs) == ["final"]
    result = graph_def.execute_in_process(input_values={"start": 5})
    assert result.output_for_node("add_one") == 6
    assert result.output_value("final") == 7


def test_graph_definition_as_a_node_of_another_graph() -> None:
    inner = GraphDefinition(
        name="inner",
        node_defs=[double],
        input_mappings=[InputMapping("x", "double", "x")],
        output_mappings=[OutputMapping("result", "double")],
    )
    outer = GraphDefinition(
        name="outer",
        node_defs=[one, inner],
        dependencies={"inner": {"x": DependencyDefinition("one")}},
    )

    assert outer.execute_in_process().output_for_node("inner.double") == 2


def test_calling_a_graph_outside_composition_says_how_to_run_it() -> None:
    @graph
    def lonely():
        one()

    with pytest.raises(
        InvalidInvocationError,
        match=r"Graph 'lonely' can only be called inside another @graph or @job\. "
        r"Fix: run it with lonely\.execute_in_process\(\)",
    ):
        lonely()


def test_calling_an_aliased_op_outside_composition_is_rejected() -> None:
    with pytest.raises(InvalidInvocationError, match=r"op 'double' with an alias.*only be called"):
        double.alias("other")(1)


def test_iter_ops_and_op_defs_cover_nested_graphs() -> None:
    @graph
    def inner(x):
        return double(x)

    @graph
    def outer():
        inner(one())
        double.alias("again")(one())

    assert [handle for handle, _ in outer.iter_ops()] == ["one", "inner.double", "one_2", "again"]
    assert {d.name for d in outer.op_defs()} == {"one", "double"}
