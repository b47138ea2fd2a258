"""Run config: validation before anything runs, paths in problems, nesting, and inputs."""

from __future__ import annotations

import pytest

from nbflow import Field, In, graph, job, op, resource
from nbflow.errors import NbflowError, RunConfigValidationError


def _dog_job(call_log: list[str]):
    @op
    def first():
        call_log.append("first")
        return 1

    @op(config_schema={"dog_breed": str, "ages": [int], "owner": {"name": str}})
    def emit_dog(context):
        call_log.append("emit_dog")
        return context.op_config["dog_breed"]

    @resource(config_schema={"url": str})
    def kennel(init_context):
        call_log.append("kennel")
        return init_context.resource_config["url"]

    @op(required_resource_keys={"kennel"})
    def house(context, dog):
        call_log.append("house")
        return f"{dog} at {context.resources.kennel}"

    @job(resource_defs={"kennel": kennel})
    def dogs():
        first()
        house(emit_dog())

    return dogs


GOOD_CONFIG = {
    "ops": {"emit_dog": {"config": {"dog_breed": "pug", "ages": [1], "owner": {"name": "Ann"}}}},
    "resources": {"kennel": {"config": {"url": "kennel://"}}},
}


def test_valid_run_config_runs(call_log: list[str]) -> None:
    result = _dog_job(call_log).execute_in_process(run_config=GOOD_CONFIG)
    assert result.output_for_node("house") == "pug at kennel://"


def test_every_problem_is_listed_with_path_expected_type_and_value_before_anything_runs(
    call_log: list[str],
) -> None:
    bad = {
        "ops": {
            "emit_dog": {"config": {"dog_breed": 3, "ages": [1, "two"], "owner": {"name": None}}},
            "frist": {},
        },
        "resources": {"kennel": {"config": {"url": 8080}}},
    }

    with pytest.raises(RunConfigValidationError) as info:
        _dog_job(call_log).execute_in_process(run_config=bad)

    assert call_log == []  # neither ops nor resources ran
    assert info.value.problems == [
        "root:ops:emit_dog:config:dog_breed: expected String, got 3 (int)",
        "root:ops:emit_dog:config:ages[1]: expected Int, got 'two' (str)",
        "root:ops:emit_dog:config:owner:name: expected String, got None",
        "root:ops: unknown field 'frist'. Did you mean 'first'?",
        "root:resources:kennel:config:url: expected String, got 8080 (int)",
    ]
    assert str(info.value) == (
        "Run config for job 'dogs' is invalid (5 problems):\n"
        + "\n".join(f"  - {p}" for p in info.value.problems)
        + "\nFix the values at the paths above; nothing was run."
    )


@pytest.mark.parametrize(
    ("run_config", "problem"),
    [
        (
            {**GOOD_CONFIG, "resorces": {}},
            "root: unknown field 'resorces'. Did you mean 'resources'?",
        ),
        (
            {
                "ops": {"emit_dog": {"confg": {}, **GOOD_CONFIG["ops"]["emit_dog"]}},
                "resources": GOOD_CONFIG["resources"],
            },
            "root:ops:emit_dog: unknown field 'confg'. Did you mean 'config'?",
        ),
        (
            {
                "ops": {
                    "emit_dog": {
                        "config": {**GOOD_CONFIG["ops"]["emit_dog"]["config"], "dog_bred": "x"}
                    }
                },
                "resources": GOOD_CONFIG["resources"],
            },
            "root:ops:emit_dog:config: unknown field 'dog_bred'. Did you mean 'dog_breed'?",
        ),
        (
            {"ops": GOOD_CONFIG["ops"], "resources": {"kennel": {"config": {"ulr": "x"}}}},
            "root:resources:kennel:config: unknown field 'ulr'. Did you mean 'url'?",
        ),
    ],
    ids=["top-level", "op-level", "config-level", "resource-config-level"],
)
def test_unknown_keys_suggest_close_matches(run_config, problem: str, call_log: list[str]) -> None:
    with pytest.raises(RunConfigValidationError) as info:
        _dog_job(call_log).execute_in_process(run_config=run_config)
    assert problem in info.value.problems
    assert call_log == []


def test_missing_required_config_names_the_field_and_its_type(call_log: list[str]) -> None:
    with pytest.raises(
        RunConfigValidationError,
        match=r"root:ops:emit_dog:config: missing required field 'dog_breed' \(String\)",
    ):
        _dog_job(call_log).execute_in_process(
            run_config={
                "ops": {"emit_dog": {"config": {"ages": [], "owner": {"name": "A"}}}},
                "resources": GOOD_CONFIG["resources"],
            }
        )


def test_run_config_validation_error_is_a_value_error_and_an_nbflow_error() -> None:
    assert issubclass(RunConfigValidationError, ValueError)
    assert issubclass(RunConfigValidationError, NbflowError)


def test_nested_graph_config_nests_under_ops() -> None:
    @op(config_schema={"factor": int})
    def scale(context, x):
        return x * context.op_config["factor"]

    @op
    def seed():
        return 2

    @graph
    def inner(x):
        return scale(x)

    @graph
    def outer(x):
        return inner(x)

    @job
    def nested():
        outer(seed())

    nested_config = {
        "ops": {"outer": {"ops": {"inner": {"ops": {"scale": {"config": {"factor": 5}}}}}}}
    }
    assert nested.execute_in_process(run_config=nested_config).output_for_node("outer") == 10

    with pytest.raises(RunConfigValidationError) as info:
        nested.execute_in_process(
            run_config={
                "ops": {
                    "outer": {"ops": {"inner": {"ops": {"scale": {"config": {"factor": "x"}}}}}}
                }
            }
        )
    assert info.value.problems == [
        "root:ops:outer:ops:inner:ops:scale:config:factor: expected Int, got 'x' (str)"
    ]


def test_nested_graph_config_mapping_maps_onto_its_ops() -> None:
    from nbflow import ConfigMapping

    @op(config_schema={"factor": int})
    def scale(context):
        return context.op_config["factor"]

    @graph(
        config=ConfigMapping(
            config_fn=lambda c: {"scale": {"config": {"factor": c["half"] * 2}}},
            config_schema={"half": int},
        )
    )
    def doubled():
        return scale()

    @job
    def mapped():
        doubled()

    result = mapped.execute_in_process(run_config={"ops": {"doubled": {"config": {"half": 4}}}})
    assert result.output_for_node("doubled") == 8


def test_nested_graph_config_mapping_problems_have_paths_and_selection_skips_them(
    call_log: list[str],
) -> None:
    from nbflow import ConfigMapping

    @op(config_schema={"factor": int})
    def scale(context):
        return context.op_config["factor"]

    @op
    def unrelated():
        call_log.append("unrelated")

    @graph(
        config=ConfigMapping(
            config_fn=lambda c: {"scale": {"config": {"factor": c["half"] * 2}}},
            config_schema={"half": int},
        )
    )
    def doubled():
        return scale()

    @graph
    def wrapper():
        return doubled()

    @job
    def mapped():
        wrapper()
        unrelated()

    with pytest.raises(RunConfigValidationError) as info:
        mapped.execute_in_process(
            run_config={"ops": {"wrapper": {"ops": {"doubled": {"config": {"half": "x"}}}}}}
        )
    assert info.value.problems == [
        "root:ops:wrapper:ops:doubled:config:half: expected Int, got 'x' (str)"
    ]
    ok = {"ops": {"wrapper": {"ops": {"doubled": {"config": {"half": 5}}}}}}
    assert mapped.execute_in_process(run_config=ok).output_for_node("wrapper") == 10
    assert mapped.execute_in_process(op_selection=["unrelated"]).success
    assert call_log == ["unrelated", "unrelated"]


def test_graph_config_dict_is_the_default_config_of_its_ops() -> None:
    @op(config_schema={"factor": int})
    def scale(context):
        return context.op_config["factor"]

    @graph(config={"scale": {"config": {"factor": 3}}})
    def preset():
        return scale()

    @job
    def uses_preset():
        preset()

    assert uses_preset.execute_in_process().output_for_node("preset") == 3
    override = {"ops": {"preset": {"ops": {"scale": {"config": {"factor": 4}}}}}}
    assert uses_preset.execute_in_process(run_config=override).output_for_node("preset") == 4


@pytest.mark.parametrize(
    "inputs",
    [{"x": 3, "y": 4}, {"x": {"value": 3}, "y": {"value": 4}}, {"x": 3, "y": {"value": 4}}],
    ids=["bare-values", "value-dicts", "mixed"],
)
def test_run_config_inputs_feed_unconnected_inputs(inputs) -> None:
    @op
    def add(x, y):
        return x + y

    @job
    def adding():
        add()

    result = adding.execute_in_process(run_config={"ops": {"add": {"inputs": inputs}}})
    assert result.output_for_node("add") == 7


def test_unconnected_input_without_a_value_is_a_config_error(call_log: list[str]) -> None:
    @op
    def add(x, y):
        call_log.append("add")
        return x + y

    @op
    def other():
        call_log.append("other")

    @job
    def adding():
        other()
        add()

    with pytest.raises(
        RunConfigValidationError,
        match=r"root:ops:add:inputs: missing required field 'y' \(Any\)",
    ):
        adding.execute_in_process(run_config={"ops": {"add": {"inputs": {"x": 1}}}})
    assert call_log == []


def test_unconnected_input_with_a_default_needs_no_config() -> None:
    @op(ins={"x": In(default_value=10)})
    def with_default(x):
        return x

    @job
    def defaulted():
        with_default()

    assert defaulted.execute_in_process().output_for_node("with_default") == 10
    given = defaulted.execute_in_process(run_config={"ops": {"with_default": {"inputs": {"x": 1}}}})
    assert given.output_for_node("with_default") == 1


def test_op_selection_cut_inputs_are_given_by_run_config(call_log: list[str]) -> None:
    @op
    def load():
        call_log.append("load")
        return 1

    @op
    def transform(raw):
        call_log.append("transform")
        return raw * 100

    @op
    def publish(value):
        call_log.append("publish")
        return f"published {value}"

    @job
    def pipeline():
        publish(transform(load()))

    result = pipeline.execute_in_process(
        op_selection=["transform+"],
        run_config={"ops": {"transform": {"inputs": {"raw": {"value": 7}}}}},
    )

    assert call_log == ["transform", "publish"]
    assert result.output_for_node("publish") == "published 700"


def test_config_of_ops_left_out_by_op_selection_is_optional(call_log: list[str]) -> None:
    @op(config_schema={"n": int})
    def configured(context):
        call_log.append("configured")

    @op
    def free():
        call_log.append("free")

    @job
    def partly():
        configured()
        free()

    assert partly.execute_in_process(op_selection=["free"]).success
    assert call_log == ["free"]


def test_config_field_defaults_are_filled_in_for_the_op() -> None:
    @op(config_schema={"n": Field(int, default_value=3), "name": Field(str, is_required=False)})
    def defaults(context):
        return dict(context.op_config)

    @job
    def defaulted():
        defaults()

    assert defaulted.execute_in_process().output_for_node("defaults") == {"n": 3}


def test_op_selection_with_unknown_names_suggests_close_ones() -> None:
    @op
    def some_op():
        return 1

    @job
    def selecting():
        some_op()

    with pytest.raises(
        NbflowError,
        match=r"op_selection is invalid \(2 problems\):\n"
        r"  - 'som_op' names no node of the job\. Did you mean 'some_op'\?\n"
        r"  - '\*\*bad' is not a selection query",
    ):
        selecting.execute_in_process(op_selection=["som_op", "**bad"])


def test_top_level_graph_config_applies_when_the_graph_runs_as_a_job() -> None:
    from nbflow import ConfigMapping

    @op(config_schema={"n": int})
    def emit(context):
        return context.op_config["n"]

    @graph(config={"emit": {"config": {"n": 3}}})
    def preset():
        return emit()

    @graph(
        config=ConfigMapping(
            config_fn=lambda c: {"emit": {"config": {"n": c["m"] * 10}}},
            config_schema={"m": int},
        )
    )
    def mapped():
        return emit()

    assert preset.execute_in_process().output_value() == 3
    assert preset.to_job().execute_in_process().output_value() == 3
    assert mapped.execute_in_process(run_config={"m": 4}).output_value() == 40
    assert mapped.to_job().execute_in_process(run_config={"m": 5}).output_value() == 50


def test_cut_input_without_a_value_is_a_config_error_before_anything_runs(
    call_log: list[str],
) -> None:
    @op
    def upstream():
        call_log.append("upstream")
        return 1

    @op
    def independent():
        call_log.append("independent")

    @op
    def cut(x):
        call_log.append("cut")
        return x

    @job
    def selected():
        independent()
        cut(upstream())

    with pytest.raises(
        RunConfigValidationError,
        match=r"root:ops:cut(:inputs)?: missing required field '(x|inputs)'",
    ):
        selected.execute_in_process(op_selection=["independent", "cut"])
    assert call_log == []


def test_executor_config_in_the_seed_schema_form_is_honoured(call_log: list[str]) -> None:
    from nbflow import RetryPolicy

    @op(retry_policy=RetryPolicy(max_retries=3))
    def flaky(context):
        call_log.append(str(context.retry_number))
        raise ValueError("no")

    @job
    def retrying():
        flaky()

    # Seed 003's run config schema: execution: {__executor_name__: {config: {...}}}
    retrying.execute_in_process(
        raise_on_error=False,
        run_config={"execution": {"in_process": {"config": {"retries": {"disabled": {}}}}}},
    )
    assert call_log == ["0"]


def test_ops_without_config_schema_share_one_config_field_per_set_of_config_inputs() -> None:
    """A job of many such ops (assets, say) holds a few config fields, not one per node; an
    input fed by run config still gets a field of its own, and is still checked."""
    from nbflow.execution.engine.plan import build_plan
    from nbflow.execution.engine.run import in_process_resource_defs
    from nbflow.execution.engine.run_config import run_config_schema

    @op
    def one() -> int:
        return 1

    @op
    def two() -> int:
        return 2

    @op
    def takes(x: int) -> int:
        return x

    @op
    def also_takes(x: int) -> int:
        return x

    @job
    def many():
        one()
        two()
        takes()
        also_takes()

    schema = run_config_schema(build_plan(many), in_process_resource_defs(many))
    ops = schema.fields["ops"].config_type.fields
    assert ops["one"] is ops["two"]
    assert ops["takes"] is ops["also_takes"]
    assert ops["takes"] is not ops["one"]
    assert "inputs" in ops["takes"].config_type.fields
    assert "inputs" not in ops["one"].config_type.fields
    with pytest.raises(
        RunConfigValidationError, match=r"root:ops:takes:inputs: missing required field .x."
    ):
        many.execute_in_process(run_config={"ops": {"also_takes": {"inputs": {"x": 1}}}})
    result = many.execute_in_process(
        run_config={"ops": {n: {"inputs": {"x": 3}} for n in ("takes", "also_takes")}}
    )
    assert result.output_for_node("takes") == 3
