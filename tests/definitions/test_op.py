"""Ops: declaration (ins, outs, config, resources, tags, version, policy) and direct invocation."""

from __future__ import annotations

import pytest

from nbflow import (
    Array,
    Backoff,
    Field,
    In,
    Noneable,
    OpDefinition,
    Out,
    Output,
    RetryPolicy,
    Shape,
    build_op_context,
    job,
    op,
)
from nbflow.errors import (
    ConfigSchemaError,
    DefinitionError,
    InvalidDefinitionError,
    InvalidInvocationError,
    InvalidVersionError,
    RunConfigValidationError,
)

# --- declaration -----------------------------------------------------------------------------


def test_op_decorator_without_arguments_builds_an_op_definition() -> None:
    @op
    def inc(x):
        """Add one."""
        return x + 1

    assert isinstance(inc, OpDefinition)
    assert inc.name == "inc"
    assert inc.description == "Add one."
    assert list(inc.ins) == ["x"]
    assert list(inc.outs) == ["result"]
    assert inc.has_context is False


def test_op_decorator_keeps_every_declared_parameter() -> None:
    policy = RetryPolicy(max_retries=2, delay=0.1, backoff=Backoff.LINEAR)

    @op(
        name="renamed",
        description="Explicit description.",
        ins={"x": In(int, description="a number", default_value=1, metadata={"unit": "m"})},
        out=Out(str, description="text"),
        config_schema={"prefix": str},
        required_resource_keys={"db", "cache"},
        tags={"team": "core", "nbflow/priority": "3"},
        version="v2",
        retry_policy=policy,
    )
    def original(context, x):
        """Ignored docstring."""
        return f"{context.op_config['prefix']}{x}"

    assert original.name == "renamed"
    assert original.description == "Explicit description."
    assert original.ins["x"].python_type is int
    assert original.ins["x"].default_value == 1
    assert original.ins["x"].metadata == {"unit": "m"}
    assert original.outs["result"].python_type is str
    assert original.outs["result"].description == "text"
    assert original.config_field is not None
    assert original.config_field.config_type == Shape({"prefix": str})
    assert original.required_resource_keys == {"db", "cache"}
    assert dict(original.tags) == {"team": "core", "nbflow/priority": "3"}
    assert original.version == "v2"
    assert original.retry_policy is policy
    assert original.has_context is True


def test_code_version_is_another_name_for_version() -> None:
    @op(code_version="v3")
    def versioned():
        return 1

    assert versioned.version == "v3"
    with pytest.raises(InvalidDefinitionError, match=r"got version='a' and code_version='b'"):
        op(version="a", code_version="b")


def test_invalid_version_is_rejected_at_definition() -> None:
    with pytest.raises(InvalidVersionError, match=r"Op 'v' has version 'no spaces'"):

        @op(version="no spaces")
        def v():
            return 1


@pytest.mark.parametrize(
    ("schema", "config", "expected"),
    [
        (int, 3, 3),
        (str, "pug", "pug"),
        ({"n": int, "name": str}, {"n": 1, "name": "a"}, {"n": 1, "name": "a"}),
        ({"n": Field(int, default_value=5)}, {}, {"n": 5}),
        ([int], [1, 2], [1, 2]),
        (
            {"outer": {"inner": [str], "opt": Field(Noneable(int), default_value=None)}},
            {"outer": {"inner": ["a"]}},
            {"outer": {"inner": ["a"], "opt": None}},
        ),
        (
            {"rows": [{"id": int}]},
            {"rows": [{"id": 1}, {"id": 2}]},
            {"rows": [{"id": 1}, {"id": 2}]},
        ),
        (Field(Array(float), default_value=[0.5]), None, [0.5]),
    ],
    ids=[
        "int",
        "str",
        "dict",
        "field-default",
        "list",
        "nested-dict-list",
        "list-of-dicts",
        "field-at-top",
    ],
)
def test_config_schema_from_python_types_and_fields(schema, config, expected) -> None:
    @op(config_schema=schema)
    def configured(context):
        return context.op_config

    @job
    def config_job():
        configured()

    run_config = {"ops": {"configured": {"config": config}}} if config is not None else None
    result = config_job.execute_in_process(run_config=run_config)
    assert result.output_for_node("configured") == expected


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"n": 3}, r"config_schema\['n'\]: 3 is not a config type"),
        ([int, str], r"a list schema needs exactly one element"),
        (set, r"class builtins\.set is not a config type"),
    ],
    ids=["value-not-type", "two-element-list", "unsupported-class"],
)
def test_bad_config_schema_is_rejected_at_definition(schema, message: str) -> None:
    with pytest.raises(ConfigSchemaError, match=message):

        @op(config_schema=schema)
        def bad(context):
            return None


def test_every_problem_of_a_config_schema_is_reported_at_once() -> None:
    with pytest.raises(ConfigSchemaError, match=r"Config schema is invalid \(3 problems\)") as info:

        @op(config_schema={"a": 3, "b": [int, str], "c": set})
        def bad(context):
            return None

    text = str(info.value)
    assert "config_schema['a']" in text
    assert "config_schema['b']" in text
    assert "config_schema['c']" in text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"config_schema": int}, r"it declares config but its function takes no context"),
        ({"ins": {"y": In()}}, r"ins has 'y', which is not a parameter of the function"),
        ({"ins": {"xx": In()}}, r"ins has 'xx'.*Did you mean 'x'\?"),
        ({"out": "result"}, r"out is 'result'; expected Out\(\) or a dict of names to Out\(\)"),
        ({"out": {"a": 1}}, r"out has entries \['a'\] that are not identifier names mapped to Out"),
    ],
    ids=[
        "config-no-context",
        "unknown-in",
        "close-in",
        "bad-out",
        "bad-out-dict",
    ],
)
def test_op_definition_problems_are_reported(kwargs, message: str) -> None:
    with pytest.raises(InvalidDefinitionError, match=message):

        @op(**kwargs)
        def bad(x):
            return x


def test_op_with_star_args_is_rejected() -> None:
    with pytest.raises(InvalidDefinitionError, match=r"parameter 'rest' is \*args/\*\*kwargs"):

        @op
        def bad(*rest):
            return rest


def test_op_name_must_be_an_identifier() -> None:
    with pytest.raises(
        DefinitionError, match=r"Op name 'bad name' is invalid.*Fix: name='bad_name'"
    ):
        op(name="bad name")(lambda: 1)


@pytest.mark.parametrize("param_name", ["context", "_context", "_", "ctx", "_ctx"])
def test_context_parameter_names_are_recognised(param_name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"def fn({param_name}, x):\n    return x", namespace)
    op_def = op(namespace["fn"])
    assert op_def.has_context is True
    assert list(op_def.ins) == ["x"]


def test_default_parameter_values_become_input_defaults() -> None:
    @op
    def with_default(x=7):
        return x

    @job
    def default_job():
        with_default()

    assert with_default.ins["x"].default_value == 7
    assert default_job.execute_in_process().output_for_node("with_default") == 7


def test_with_tags_returns_a_copy_with_extra_tags() -> None:
    @op(tags={"a": "1"})
    def tagged():
        return 1

    more = tagged.with_tags(b="2")
    assert dict(more.tags) == {"a": "1", "b": "2"}
    assert dict(tagged.tags) == {"a": "1"}


# --- outputs in a run ------------------------------------------------------------------------


def test_several_outputs_by_dict_and_tuple_return() -> None:
    @op(out={"low": Out(int), "high": Out(int)})
    def split(context):
        return 1, 9

    @op
    def total(a, b):
        return a + b

    @job
    def split_job():
        low, high = split()
        total(low, high)

    result = split_job.execute_in_process()
    assert result.output_for_node("split", "low") == 1
    assert result.output_for_node("split", "high") == 9
    assert result.output_for_node("total") == 10


def test_yielded_outputs_by_name() -> None:
    @op(out={"a": Out(), "b": Out()})
    def gen():
        yield Output("second", "b")
        yield Output("first", "a")

    @job
    def gen_job():
        gen()

    result = gen_job.execute_in_process()
    assert result.output_for_node("gen", "a") == "first"
    assert result.output_for_node("gen", "b") == "second"


def test_returned_output_object_carries_metadata() -> None:
    @op
    def wrapped():
        return Output(3, metadata={"rows": 3})

    @job
    def wrapped_job():
        wrapped()

    result = wrapped_job.execute_in_process()
    [output] = [e for e in result.all_events if e.event_type.name == "STEP_OUTPUT"]
    assert output.data.metadata == {"rows": 3}
    assert result.output_for_node("wrapped") == 3


def test_multi_output_op_returning_a_non_tuple_fails_with_a_clear_error() -> None:
    @op(out={"a": Out(), "b": Out()})
    def wrong():
        return 1

    @job
    def wrong_job():
        wrong()

    with pytest.raises(TypeError, match=r"must return a tuple of 2 values in that order"):
        wrong_job.execute_in_process()


def test_output_of_the_wrong_type_fails_the_step() -> None:
    @op(out=Out(int))
    def typed():
        return "not an int"

    @job
    def typed_job():
        typed()

    with pytest.raises(
        TypeError, match=r"Output typed\.result expected a value of type int, got str"
    ):
        typed_job.execute_in_process()


def test_missing_required_output_fails_and_optional_output_skips_downstream(
    call_log: list[str],
) -> None:
    @op(out={"maybe": Out(is_required=False), "always": Out()})
    def partial():
        yield Output(1, "always")

    @op
    def after_maybe(x):
        call_log.append("after_maybe")

    @op
    def after_always(x):
        call_log.append("after_always")

    @job
    def partial_job():
        maybe, always = partial()
        after_maybe(maybe)
        after_always(always)

    result = partial_job.execute_in_process()
    assert result.success
    assert call_log == ["after_always"]
    [skipped] = result.get_step_skipped_events()
    assert skipped.step_key == "after_maybe"
    assert "upstream output 'partial.maybe' was not produced" in skipped.message

    @op(out={"a": Out(), "b": Out()})
    def forgetful():
        yield Output(1, "a")

    @job
    def forgetful_job():
        forgetful()

    with pytest.raises(TypeError, match=r"did not produce required output\(s\) \['b'\]"):
        forgetful_job.execute_in_process()


def test_input_of_the_wrong_type_fails_the_step() -> None:
    @op
    def text():
        return "x"

    @op(ins={"n": In(int)})
    def needs_int(n):
        return n

    @job
    def typed_inputs():
        needs_int(text())

    with pytest.raises(
        TypeError, match=r"Input needs_int\.n expected a value of type int, got str"
    ):
        typed_inputs.execute_in_process()


# --- direct invocation -----------------------------------------------------------------------


def test_op_can_be_called_like_a_function() -> None:
    @op
    def inc(x):
        return x + 1

    assert inc(3) == 4
    assert inc(x=3) == 4


def test_op_with_context_and_config_is_called_with_build_op_context() -> None:
    @op(config_schema={"n": int, "m": Field(int, default_value=10)})
    def my_op(context, x):
        return context.op_config["n"] + context.op_config["m"] + x

    assert my_op(build_op_context(config={"n": 1}), 3) == 14
    assert my_op(build_op_context(op_config={"n": 1, "m": 0}), 3) == 4


def test_direct_invocation_validates_config() -> None:
    @op(config_schema={"n": int})
    def my_op(context):
        return context.op_config

    with pytest.raises(
        RunConfigValidationError, match=r"root:config:n: expected Int, got 'a' \(str\)"
    ):
        my_op(build_op_context(config={"n": "a"}))


def test_direct_invocation_of_generator_op_returns_output_values_in_order() -> None:
    @op(out={"a": Out(), "b": Out()})
    def gen():
        yield Output(2, "b")
        yield Output(1, "a")

    @op
    def single():
        yield Output(5)

    assert gen() == (1, 2)
    assert single() == 5


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: f(1, 2), r"it takes 1 inputs \['x'\] but got 2\.$"),
        (lambda f: f(), r"input 'x' is missing\.$"),
        (lambda f: f(y=1), r"unknown input 'y'"),
        (lambda f: f(xx=1), r"unknown input 'xx'\. Did you mean 'x'\?"),
        (lambda f: f(1, x=1), r"input 'x' given twice"),
        (lambda f: f("s"), r"input 'x' expected a value of type int, got str 's'\.$"),
    ],
    ids=["too-many", "missing", "unknown", "close", "twice", "wrong-type"],
)
def test_direct_invocation_argument_problems(call, message: str) -> None:
    @op(ins={"x": In(int)})
    def typed(x):
        return x

    with pytest.raises(
        InvalidInvocationError, match=rf"Invoking op 'typed' failed:\n  - {message}"
    ):
        call(typed)


def test_direct_invocation_without_a_context_says_how_to_build_one() -> None:
    @op
    def needs_context(context, x):
        return x

    with pytest.raises(
        InvalidInvocationError,
        match=r"takes a context as its first argument, got 3\. "
        r"Fix: needs_context\(build_op_context",
    ):
        needs_context(3)


def test_direct_invocation_with_missing_resources_suggests_close_keys() -> None:
    @op(required_resource_keys={"database"})
    def query(context):
        return context.resources.database

    assert query(build_op_context(resources={"database": "db"})) == "db"
    with pytest.raises(
        InvalidInvocationError,
        match=r"needs resources \['database'\], but the context has \['databse'\]\. "
        r"Did you mean 'databse'\?",
    ):
        query(build_op_context(resources={"databse": "db"}))


def test_an_input_without_a_default_keeps_none_when_pickled_or_copied() -> None:
    import copy
    import pickle

    import cloudpickle

    from nbflow import In
    from nbflow.definitions.specs import NO_VALUE

    for copied in (
        pickle.loads(pickle.dumps(In())),
        cloudpickle.loads(cloudpickle.dumps(In())),
        copy.deepcopy(In()),
        copy.copy(In()),
    ):
        assert copied.default_value is NO_VALUE
        assert not copied.has_default_value
    assert In(default_value=None).has_default_value
