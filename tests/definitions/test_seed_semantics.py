"""Definition-time semantics aligned with the seed system (issue #13)."""

from __future__ import annotations

import pytest

from nbflow import Field, ResourceDefinition, graph, job, op, resource
from nbflow.errors import DefinitionError, NbflowWarning, RunConfigValidationError


def test_op_with_resources_but_no_context_is_allowed_and_resources_are_initialised() -> None:
    started: list[str] = []

    @resource
    def db(_):
        started.append("db")
        return "db"

    @op(required_resource_keys={"db"})
    def uses_db_implicitly():
        return 1

    @job(resource_defs={"db": db})
    def needs_db():
        uses_db_implicitly()

    result = needs_db.execute_in_process()
    assert result.output_for_node("uses_db_implicitly") == 1
    assert started == ["db"]


def test_priority_tag_of_the_seed_system_warns_that_nbflow_priority_is_meant() -> None:
    with pytest.warns(NbflowWarning, match="nbflow/priority"):

        @op(tags={"dagster/priority": "3"})
        def urgent():
            return 1


def test_nbflow_priority_tag_does_not_warn(recwarn: pytest.WarningsRecorder) -> None:
    @op(tags={"nbflow/priority": "3"})
    def urgent():
        return 1

    assert not [w for w in recwarn if issubclass(w.category, NbflowWarning)]


@pytest.mark.parametrize("name", ["has space", "dash-ed", "dot.ted"])
def test_job_and_op_names_are_validated_at_definition_time(name: str) -> None:
    with pytest.raises(DefinitionError, match="name"):
        op(name=name)(lambda: 1)
    with pytest.raises(DefinitionError, match="name"):

        @job(name=name)
        def some_job():
            pass


def test_resource_keys_are_validated_at_definition_time() -> None:
    with pytest.raises(DefinitionError, match="'bad key'"):

        @job(resource_defs={"bad key": ResourceDefinition.hardcoded_resource(1)})
        def some_job():
            pass


def test_tags_that_do_not_survive_json_are_rejected_at_definition_time() -> None:
    with pytest.raises(DefinitionError, match="tags"):

        @op(tags={"when": object()})
        def tagged():
            return 1

    with pytest.raises(DefinitionError, match="tags"):

        @job(tags={"pair": (1, 2)})
        def tagged_job():
            pass


def test_json_tags_that_round_trip_are_accepted() -> None:
    @op(tags={"n": 3, "d": {"a": [1, 2]}, "s": "x"})
    def tagged():
        return 1

    assert tagged.tags["n"] == 3


def test_missing_required_op_config_in_to_job_config_is_rejected_at_to_job() -> None:
    @op(config_schema={"rate": int})
    def scaled(context):
        return context.op_config["rate"]

    @graph
    def scaling():
        scaled()

    with pytest.raises(RunConfigValidationError, match="rate"):
        scaling.to_job(config={"ops": {"scaled": {"config": {}}}})


def test_to_job_config_that_fits_is_accepted() -> None:
    @op(config_schema={"rate": Field(int, default_value=2)})
    def scaled(context):
        return context.op_config["rate"]

    @graph
    def scaling():
        scaled()

    built = scaling.to_job(config={"ops": {"scaled": {"config": {}}}})
    assert built.execute_in_process().output_for_node("scaled") == 2
