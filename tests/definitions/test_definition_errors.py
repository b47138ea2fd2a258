"""Errors found when graphs and jobs are defined: each message pinned, all offenders at once."""

from __future__ import annotations

import pytest

from nbflow import (
    DependencyDefinition,
    GraphDefinition,
    NodeInvocation,
    Out,
    ResourceDefinition,
    StaticPartitionsDefinition,
    graph,
    job,
    op,
    resource,
    success_hook,
)
from nbflow.errors import (
    ConfigSchemaError,
    DefinitionError,
    InvalidDefinitionError,
    NbflowError,
)


@op
def one():
    return 1


@op
def passthrough(x):
    return x


@op
def relay(x):
    return x


@op
def link(x):
    return x


@op
def add(x, y):
    return x + y


# --- cycles ----------------------------------------------------------------------------------


def test_two_node_cycle_names_the_cycle_path() -> None:
    with pytest.raises(
        InvalidDefinitionError,
        match=r"the dependencies form a cycle: passthrough → relay → passthrough\. "
        r"Fix: remove one of these dependencies\.",
    ):
        GraphDefinition(
            name="cyclic",
            node_defs=[passthrough, relay],
            dependencies={
                "passthrough": {"x": DependencyDefinition("relay")},
                "relay": {"x": DependencyDefinition("passthrough")},
            },
        )


def test_three_node_cycle_names_every_node_on_the_path() -> None:
    with pytest.raises(
        InvalidDefinitionError, match=r"Graph 'loop' is invalid \(1 problem\)"
    ) as info:
        GraphDefinition(
            name="loop",
            node_defs=[passthrough, relay, link],
            dependencies={
                "passthrough": {"x": DependencyDefinition("link")},
                "relay": {"x": DependencyDefinition("passthrough")},
                "link": {"x": DependencyDefinition("relay")},
            },
        )
    assert info.value.problems == [
        "the dependencies form a cycle: passthrough → link → relay → passthrough. "
        "Fix: remove one of these dependencies."
    ]


def test_a_node_depending_on_itself_is_a_cycle() -> None:
    with pytest.raises(InvalidDefinitionError, match=r"form a cycle: passthrough → passthrough\."):
        GraphDefinition(
            name="selfish",
            node_defs=[passthrough],
            dependencies={"passthrough": {"x": DependencyDefinition("passthrough")}},
        )


# --- wiring ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dependencies", "message"),
    [
        (
            {"add": {"xx": DependencyDefinition("one")}},
            r"node 'add' has no input 'xx'\. Did you mean 'x'\? Its inputs are \['x', 'y'\]\.",
        ),
        (
            {"passthrough": {"x": DependencyDefinition("onee")}},
            r"input passthrough\.x depends on node 'onee', which is not in the graph\. "
            r"Did you mean 'one'\?",
        ),
        (
            {"passthrough": {"x": DependencyDefinition("one", "reslt")}},
            r"input passthrough\.x depends on output 'reslt' of 'one', which has outputs "
            r"\['result'\]\. Did you mean 'result'\?",
        ),
        (
            {"pasthrough": {}},
            r"node 'pasthrough' uses definition 'pasthrough', which is not in node_defs\. "
            r"Did you mean 'passthrough'\?",
        ),
    ],
    ids=["unknown-input", "unknown-upstream-node", "unknown-upstream-output", "unknown-node"],
)
def test_unknown_names_in_dependencies_suggest_close_ones(dependencies, message: str) -> None:
    with pytest.raises(InvalidDefinitionError, match=message):
        GraphDefinition(name="wired", node_defs=[one, passthrough, add], dependencies=dependencies)


def test_all_offenders_of_a_graph_are_reported_at_once() -> None:
    with pytest.raises(
        InvalidDefinitionError, match=r"Graph 'broken' is invalid \(3 problems\)"
    ) as info:
        GraphDefinition(
            name="broken",
            node_defs=[one, passthrough, relay, add],
            dependencies={
                "add": {"xx": DependencyDefinition("one"), "y": DependencyDefinition("onee")},
                "passthrough": {"x": DependencyDefinition("relay")},
                "relay": {"x": DependencyDefinition("passthrough")},
            },
        )

    problems = info.value.problems
    assert len(problems) == 3
    text = str(info.value)
    assert "node 'add' has no input 'xx'. Did you mean 'x'?" in text
    assert "depends on node 'onee', which is not in the graph. Did you mean 'one'?" in text
    assert "the dependencies form a cycle: passthrough → relay → passthrough." in text


def test_graph_input_mapping_to_a_missing_input_is_reported() -> None:
    from nbflow import InputMapping, OutputMapping

    with pytest.raises(InvalidDefinitionError, match=r"\(2 problems\)") as info:
        GraphDefinition(
            name="mapped",
            node_defs=[passthrough],
            input_mappings=[InputMapping("start", "passthrough", "y")],
            output_mappings=[OutputMapping("out", "passthrough", "nope")],
        )
    assert info.value.problems == [
        "graph input 'start' maps to passthrough.y, which does not exist.",
        "graph output 'out' maps to passthrough.nope, which does not exist.",
    ]


# --- duplicate names -------------------------------------------------------------------------


def test_two_different_definitions_with_one_name_are_rejected() -> None:
    other_one = op(name="one")(lambda: 2)
    with pytest.raises(
        InvalidDefinitionError,
        match=r"two different definitions are named 'one'\. Fix: rename one, or use \.alias\(\)",
    ):
        GraphDefinition(name="dupes", node_defs=[one, other_one])


def test_same_alias_twice_in_a_composed_graph_is_rejected() -> None:
    with pytest.raises(
        InvalidDefinitionError,
        match=r"node name 'twin' is used twice\. Fix: give each use its own alias\.",
    ):

        @graph
        def twins():
            passthrough.alias("twin")(one())
            relay.alias("twin")(one())


def test_same_alias_twice_in_a_graph_definition_is_rejected() -> None:
    with pytest.raises(InvalidDefinitionError, match=r"node name 'twin' is used twice"):
        GraphDefinition(
            name="twins",
            node_defs=[passthrough, relay],
            dependencies={
                NodeInvocation("passthrough", "twin"): {},
                NodeInvocation("relay", "twin"): {},
            },
        )


def test_non_definitions_in_node_defs_are_rejected() -> None:
    with pytest.raises(
        InvalidDefinitionError, match=r"'not an op' in node_defs is not an op or a graph"
    ):
        GraphDefinition(name="odd", node_defs=["not an op"])  # type: ignore[list-item]


# --- composition -----------------------------------------------------------------------------


def test_all_composition_problems_are_reported_at_once() -> None:
    with pytest.raises(
        InvalidDefinitionError, match=r"Graph 'sloppy' is invalid \(3 problems\)"
    ) as info:

        @graph
        def sloppy():
            add(one(), 5)
            passthrough(one(), one())
            relay(z=one())

    assert info.value.problems == [
        "node 'add' was given 5 for input 'y'; inside a graph, inputs must be outputs of other "
        "nodes or graph inputs. Fix: produce the value in an op, or pass it as run config "
        "ops.add.inputs.y, or through input_values.",
        "node 'passthrough' was called with 2 positional arguments but op 'passthrough' has 1 "
        "inputs ['x'].",
        "node 'relay' was given unknown input 'z'. Its inputs are ['x'].",
    ]


def test_graph_returning_a_plain_value_is_rejected() -> None:
    with pytest.raises(
        InvalidDefinitionError,
        match=r"graph 'returns_value' returned 3; a graph function must return None, one node "
        r"output, a tuple of node outputs, or a dict of them\.",
    ):

        @graph
        def returns_value():
            one()
            return 3


def test_graph_returning_a_tuple_of_the_wrong_length_for_its_outs() -> None:
    with pytest.raises(InvalidDefinitionError, match=r"returned 1 outputs but declares 2"):

        @graph(out={"a": Out(), "b": Out()})
        def short():
            return (one(),)


# --- resources -------------------------------------------------------------------------------


def test_op_needing_a_resource_the_job_lacks_suggests_a_close_key() -> None:
    @op(required_resource_keys={"databse"})
    def query(context):
        return None

    with pytest.raises(
        InvalidDefinitionError,
        match=r"op 'query' needs resource 'databse', which the job does not provide\. "
        r"Did you mean 'database'\? Fix: pass resource_defs=\{'databse': \.\.\.\} to the job\.",
    ):

        @job(resource_defs={"database": ResourceDefinition.hardcoded_resource("db")})
        def queries():
            query()


def test_every_missing_resource_is_reported_once_per_owner() -> None:
    @op(required_resource_keys={"warehouse"}, out=Out(io_manager_key="lake_io"))
    def load(context):
        return None

    @success_hook(required_resource_keys={"slack"})
    def notify(context):
        return None

    @resource(required_resource_keys={"secrets"})
    def client(_):
        return None

    with pytest.raises(
        InvalidDefinitionError, match=r"Job 'loader' is invalid \(4 problems\)"
    ) as info:

        @job(resource_defs={"client": client}, hooks={notify})
        def loader():
            load()

    text = str(info.value)
    assert "op 'load' needs resource 'warehouse'" in text
    assert "output load.result needs resource 'lake_io'" in text
    assert "hook 'notify' needs resource 'slack'" in text
    assert "resource 'client' needs resource 'secrets'" in text


def test_resource_defs_must_be_resource_definitions() -> None:
    with pytest.raises(
        InvalidDefinitionError,
        match=r"resource_defs\['db'\] is str, not a ResourceDefinition\. "
        r"Fix: wrap plain objects with ResourceDefinition\.hardcoded_resource\(value\)\.",
    ):

        @job(resource_defs={"db": "sqlite://"})  # type: ignore[dict-item]
        def plain():
            one()


def test_resource_with_a_bad_config_schema_is_rejected() -> None:
    with pytest.raises(
        ConfigSchemaError, match=r"config_schema\['url'\]: 'str' is not a config type"
    ):

        @resource(config_schema={"url": "str"})
        def database(_):
            return None


def test_resource_definition_needs_a_function() -> None:
    with pytest.raises(DefinitionError, match=r"ResourceDefinition needs a function, got 3\."):
        ResourceDefinition(3)  # type: ignore[arg-type]


# --- job-level checks ------------------------------------------------------------------------


def test_job_input_values_must_name_graph_inputs() -> None:
    with pytest.raises(
        InvalidDefinitionError,
        match=r"input_values has 'xx', which is not an input of graph 'takes_x'\. "
        r"Did you mean 'x'\? Its inputs: \['x'\]\.",
    ):

        @job(input_values={"xx": 1})
        def takes_x(x):
            passthrough(x)


def test_job_cannot_have_both_config_and_partitions_def() -> None:
    with pytest.raises(
        InvalidDefinitionError, match=r"config and partitions_def cannot both be given"
    ):

        @job(config={}, partitions_def=StaticPartitionsDefinition(["a"]))
        def both():
            one()


def test_priority_tag_must_be_a_whole_number() -> None:
    @op(tags={"nbflow/priority": "high"})
    def urgent():
        return None

    @job
    def urgent_job():
        urgent()

    with pytest.raises(
        InvalidDefinitionError,
        match=r"step 'urgent' has tag nbflow/priority='high'; expected a whole number",
    ):
        urgent_job.execute_in_process()


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ([], r"needs a non-empty list"),
        (["a", "a"], r"duplicates: \['a'\]"),
        (["a", ""], r"invalid: \[''\]"),
    ],
    ids=["empty", "duplicates", "empty-key"],
)
def test_static_partitions_definition_rejects_bad_keys(keys: list[str], message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        StaticPartitionsDefinition(keys)


def test_definition_errors_are_nbflow_errors_and_value_errors() -> None:
    assert issubclass(InvalidDefinitionError, NbflowError)
    assert issubclass(InvalidDefinitionError, ValueError)
    assert issubclass(ConfigSchemaError, TypeError)
