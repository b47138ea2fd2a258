"""A job follows its definitions: ops, graphs and resources redefined after it was built.

Code runs in "cells" of one module namespace (``tests/fixtures/cells.py``), as in a notebook:
define ops, build a job, redefine an op in a later cell, run the job again. Run events prove
which steps ran and which were memoized.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from cells import Cells, memoized_steps, steps_that_ran

from nbflow import Instance, list_versions
from nbflow.definitions.redefinition import (
    current_job,
    origin_job,
    redefinition_reasons,
    redefinitions,
)
from nbflow.errors import DefinitionError, RedefinitionError
from nbflow.storage import clear_memoized_values

if TYPE_CHECKING:
    from collections.abc import Iterator

OPS = """
from nbflow import SourceHashVersionStrategy, graph, job, op, resource

@op
def load():
    return 2

@op
def scale(x):
    return x * 10

@op
def total(x):
    return x + 1

@op
def side():
    return "side"
"""
PIPELINE = """
@job(version_strategy=SourceHashVersionStrategy())
def pipeline():
    total(scale(load()))
    side()
"""
SCALE_BY_100 = """
@op
def scale(x):
    return x * 100
"""


@pytest.fixture(autouse=True)
def fresh_memo() -> Iterator[None]:
    clear_memoized_values()
    yield
    clear_memoized_values()


@pytest.fixture
def cells() -> Iterator[Cells]:
    namespace = Cells()
    yield namespace
    namespace.close()


def test_a_job_nothing_was_redefined_for_is_itself(cells: Cells) -> None:
    cells.run(OPS)
    cells.run(PIPELINE)
    assert current_job(cells["pipeline"]) is cells["pipeline"]
    assert redefinitions(cells["pipeline"]) == ()


def test_an_op_redefined_after_the_job_was_built_runs_in_the_next_run(cells: Cells) -> None:
    cells.run(OPS)
    cells.run(PIPELINE)
    first = cells["pipeline"].execute_in_process()
    assert first.output_for_node("total") == 21

    cells.run(SCALE_BY_100)
    second = cells["pipeline"].execute_in_process()

    assert second.output_for_node("scale") == 200
    assert second.output_for_node("total") == 201
    assert steps_that_ran(second) == ["scale", "total"]
    assert sorted(memoized_steps(second)) == ["load", "side"]


def test_an_op_run_again_without_edits_reruns_nothing_and_rebuilds_once(cells: Cells) -> None:
    cells.run(OPS)
    cells.run(PIPELINE)
    cells["pipeline"].execute_in_process()
    old_scale = cells["scale"]

    cells.run(OPS)  # the cell of the ops, run again as it is
    assert cells["scale"] is not old_scale
    again = cells["pipeline"].execute_in_process()

    assert steps_that_ran(again) == []
    rebuilt = current_job(cells["pipeline"])
    assert rebuilt is not cells["pipeline"]
    assert current_job(cells["pipeline"]) is rebuilt  # cached while the bindings stay
    assert current_job(rebuilt) is rebuilt
    assert origin_job(rebuilt) is cells["pipeline"]


def test_an_op_redefined_inside_a_nested_graph_is_used(cells: Cells) -> None:
    cells.run(OPS)
    cells.run(
        """
        @graph
        def inner(x):
            return total(scale(x))

        @job(version_strategy=SourceHashVersionStrategy())
        def nested():
            inner(load())
        """
    )
    assert cells["nested"].execute_in_process().output_for_node("inner.total") == 21

    cells.run(SCALE_BY_100)
    result = cells["nested"].execute_in_process()

    assert result.output_for_node("inner.total") == 201
    assert steps_that_ran(result) == ["inner.scale", "inner.total"]
    assert cells["inner"].node_defs[0] is not cells["scale"]  # the graph itself is untouched


def test_a_redefined_graph_is_followed_by_to_job_and_by_jobs_that_use_it(cells: Cells) -> None:
    cells.run(OPS)
    cells.run(
        """
        @graph
        def inner(x):
            return scale(x)

        as_job = inner.to_job(name="as_job", input_values={"x": 3})

        @job
        def outer():
            total(inner(load()))
        """
    )
    assert cells["as_job"].execute_in_process().output_for_node("scale") == 30
    cells.run(
        """
        @graph
        def inner(x):
            return scale(scale.alias("again")(x))
        """
    )
    assert cells["as_job"].execute_in_process().output_for_node("scale") == 300
    assert cells["outer"].execute_in_process().output_for_node("total") == 201

    cells.run(SCALE_BY_100)  # and an op of the new graph, redefined after it was built
    assert cells["outer"].execute_in_process().output_for_node("total") == 20001


def test_a_graph_built_with_graph_definition_gets_the_new_node_definitions(cells: Cells) -> None:
    cells.run(OPS)
    cells.run(
        """
        from nbflow import DependencyDefinition, GraphDefinition, NodeInvocation

        wired = GraphDefinition(
            "wired",
            node_defs=[load, scale],
            dependencies={
                NodeInvocation("scale", alias="scaled", tags={"team": "a"}): {
                    "x": DependencyDefinition("load")
                }
            },
        )
        wired_job = wired.to_job()
        """
    )
    assert cells["wired_job"].execute_in_process().output_for_node("scaled") == 20

    cells.run(SCALE_BY_100)
    result = cells["wired_job"].execute_in_process()

    assert result.output_for_node("scaled") == 200
    node = current_job(cells["wired_job"]).graph_def.nodes["scaled"]
    assert node.definition is cells["scale"]
    assert dict(node.tags) == {"team": "a"}


def test_a_redefined_resource_replaces_the_jobs_entry(cells: Cells) -> None:
    cells.run(
        """
        from nbflow import SourceHashVersionStrategy, job, op, resource

        @resource
        def factor(_):
            return 3

        @op
        def base():
            return 2

        @op(required_resource_keys={"factor"})
        def multiplied(context, x):
            return x * context.resources.factor

        @job(resource_defs={"factor": factor}, version_strategy=SourceHashVersionStrategy())
        def uses_factor():
            multiplied(base())
        """
    )
    assert cells["uses_factor"].execute_in_process().output_for_node("multiplied") == 6
    cells.run(
        """
        @resource
        def factor(_):
            return 5
        """
    )
    rows = {r.step_output: r for r in list_versions(cells["uses_factor"])}
    result = cells["uses_factor"].execute_in_process()

    assert result.output_for_node("multiplied") == 10
    assert steps_that_ran(result) == ["multiplied"]
    assert "resource 'factor' redefined after job 'uses_factor' was built" in (
        rows["multiplied.result"].reasons
    )
    assert rows["base.result"].reasons == ()


def test_list_versions_names_the_redefined_op_on_its_rows(cells: Cells) -> None:
    cells.run(OPS)
    cells.run(PIPELINE)
    cells["pipeline"].execute_in_process()
    cells.run(SCALE_BY_100)

    rows = {r.step_output: r for r in list_versions(cells["pipeline"])}

    reason = "op 'scale' redefined after job 'pipeline' was built"
    assert rows["scale.result"].status == "to-be-recomputed"
    assert rows["scale.result"].reasons[-1] == reason
    assert rows["total.result"].status == "to-be-recomputed"
    assert reason not in rows["total.result"].reasons
    assert (rows["load.result"].status, rows["load.result"].reasons) == ("stored", ())
    assert redefinition_reasons(current_job(cells["pipeline"])) == {"scale": (reason,)}


def test_an_op_redefined_with_the_same_code_stays_stored_without_a_reason(cells: Cells) -> None:
    cells.run(OPS)
    cells.run(PIPELINE)
    cells["pipeline"].execute_in_process()
    cells.run(
        """
        @op
        def scale(x):
            return x * 10
        """
    )  # the same cell run again: a new op object, the same code

    rows = {r.step_output: r for r in list_versions(cells["pipeline"])}

    assert (rows["scale.result"].status, rows["scale.result"].reasons) == ("stored", ())
    assert steps_that_ran(cells["pipeline"].execute_in_process()) == []


def test_an_op_that_no_longer_fits_the_job_stops_the_run_before_it_starts(cells: Cells) -> None:
    cells.run(OPS)
    cells.run(PIPELINE)
    cells.run(
        """
        RAN = []

        @op
        def scale():
            RAN.append("scale")
            return 1
        """
    )
    instance = Instance.ephemeral()
    name = cells.module.__name__

    with pytest.raises(RedefinitionError) as raised:
        cells["pipeline"].execute_in_process(instance=instance)

    message = str(raised.value)
    assert isinstance(raised.value, DefinitionError)
    assert f"op 'scale' (<cell 3 of {name}>:3) was redefined, and job 'pipeline' no longer " in (
        message
    )
    assert "node 'scale' was called with 1 positional arguments but op 'scale' has 0" in message
    assert f"Fix: re-run the code that builds 'pipeline' (<cell 2 of {name}>:1)" in message
    assert instance.get_runs() == []
    assert cells["RAN"] == []
    with pytest.raises(RedefinitionError):
        list_versions(cells["pipeline"])


def test_a_name_rebound_to_a_value_stops_the_run(cells: Cells) -> None:
    cells.run(OPS)
    cells.run(PIPELINE)
    cells.run("load = 5")

    with pytest.raises(
        RedefinitionError,
        match="the name 'load' of op 'load' is now bound to a value of type int, not to an op",
    ) as raised:
        cells["pipeline"].execute_in_process()
    assert "(use another name for the new value, or define op 'load' again)" in str(raised.value)


def test_an_op_redefined_without_its_decorator_stops_the_run(cells: Cells) -> None:
    cells.run(OPS)
    cells.run(PIPELINE)
    cells.run(
        """
        def scale(x):
            return x * 100
        """
    )
    with pytest.raises(
        RedefinitionError,
        match=r"op 'scale' was redefined \(<cell 3 of .*>:1\) "
        "as a plain function, not as an op",
    ):
        cells["pipeline"].execute_in_process()


def test_a_name_no_longer_bound_keeps_the_definition(cells: Cells) -> None:
    cells.run(OPS)
    cells.run(PIPELINE)
    cells.run("del scale")
    assert cells["pipeline"].execute_in_process().output_for_node("scale") == 20


def test_definitions_made_inside_functions_are_not_followed(cells: Cells) -> None:
    cells.run(
        """
        from nbflow import job, op

        def make_job(factor):
            @op
            def scale():
                return factor

            @job(name=f"times_{factor}")
            def made():
                scale()

            return made

        made = make_job(3)

        @op
        def scale():
            return 100
        """
    )
    assert current_job(cells["made"]) is cells["made"]
    assert cells["made"].execute_in_process().output_for_node("scale") == 3


def test_an_op_reused_through_with_tags_or_alias_is_unchanged(cells: Cells) -> None:
    cells.run(
        """
        from nbflow import job, op

        @op
        def base():
            return 1

        tagged = base.with_tags(team="a")

        @job
        def uses_tagged():
            tagged()
        """
    )
    assert current_job(cells["uses_tagged"]) is cells["uses_tagged"]


def test_a_job_of_redefined_assets_stops_the_run_and_fresh_assets_run(cells: Cells) -> None:
    cells.run(
        """
        from nbflow import asset, define_asset_job, materialize_to_memory

        @asset
        def numbers():
            return [1, 2]

        @asset
        def doubled(numbers):
            return [2 * n for n in numbers]

        asset_job = define_asset_job("asset_job", [numbers, doubled])
        """
    )
    cells.run(
        """
        @asset
        def doubled(numbers):
            return [3 * n for n in numbers]
        """
    )
    with pytest.raises(RedefinitionError, match="asset 'doubled' was redefined"):
        cells["asset_job"].execute_in_process()
    fresh = cells["materialize_to_memory"]([cells["numbers"], cells["doubled"]])
    assert fresh.output_for_node("doubled") == [3, 6]


def test_a_job_with_hooks_follows_the_op_and_the_job_it_was_made_from(cells: Cells) -> None:
    cells.run(OPS)
    cells.run(PIPELINE)
    cells.run(
        """
        from nbflow import success_hook

        @success_hook
        def noted(context):
            pass

        hooked = pipeline.with_hooks({noted})
        """
    )
    assert current_job(cells["hooked"]) is cells["hooked"]
    cells.run(SCALE_BY_100)
    assert cells["hooked"].execute_in_process().output_for_node("total") == 201

    cells.run(
        """
        @job
        def pipeline():
            total(scale(scale.alias("twice")(load())))
        """
    )  # the @job cell itself, changed and run again: the copy with hooks follows it
    rebuilt = current_job(cells["hooked"])
    assert rebuilt.hook_defs == cells["hooked"].hook_defs
    assert rebuilt.execute_in_process().output_for_node("total") == 20001
    assert (
        "graph 'pipeline' redefined after job 'pipeline' was built"
        in (redefinition_reasons(rebuilt)["twice"])
    )


def test_a_name_rebound_to_another_definition_is_not_taken_for_a_redefinition(
    cells: Cells,
) -> None:
    cells.run(OPS)
    cells.run(PIPELINE)
    cells.run(
        """
        @op(name="scale")
        def faster(x):
            return x * 10

        scale = faster
        """
    )
    with pytest.raises(
        RedefinitionError,
        match=r"the name 'scale' of op 'scale' is now bound to op 'scale' \(from function "
        r"'faster'\), which is not a redefinition of it",
    ):
        cells["pipeline"].execute_in_process()


LOOP_OF_ASSETS = """
from nbflow import asset, materialize_to_memory

NUMBERS = []
for i in range(3):
    @asset(name=f"number_{i}")
    def number():
        return 10

    NUMBERS.append(number)
"""


def test_definitions_made_in_a_loop_are_not_taken_for_redefinitions_of_each_other(
    cells: Cells,
) -> None:
    cells.run(LOOP_OF_ASSETS)
    result = cells["materialize_to_memory"](cells["NUMBERS"])
    assert [result.asset_value(f"number_{i}") for i in range(3)] == [10, 10, 10]


def test_a_loop_run_again_with_changed_code_is_followed(cells: Cells) -> None:
    cells.run(
        """
        from nbflow import job, op

        STEPS = []
        for i in range(3):
            @op(name=f"step_{i}")
            def step():
                return 1

            STEPS.append(step)

        @job
        def fan():
            for s in STEPS:
                s()
        """
    )
    assert cells["fan"].execute_in_process().output_for_node("step_2") == 1
    cells.run(
        """
        for i in range(3):
            @op(name=f"step_{i}")
            def step():
                return 2

            STEPS[i] = step
        """
    )
    assert cells["fan"].execute_in_process().output_for_node("step_2") == 2


def test_a_redefinition_problem_is_listed_once() -> None:
    twice = ["op 'scale' changed", "op 'scale' changed"]
    error = RedefinitionError.build("pipeline", twice, None, True)
    assert error.problems == ["op 'scale' changed"]
    assert str(error).count("op 'scale' changed") == 1
