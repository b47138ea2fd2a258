"""``list_versions``: seed 002's walkthrough in Python, the reasons it gives, golden versions.

The walkthrough uses ``versioned_filesystem_io_manager`` under ``tmp_path``; a call log
proves which op bodies each execution ran.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import pytest

from nbflow import (
    MEMOIZED_RUN_TAG,
    JobDefinition,
    VersionRow,
    graph,
    job,
    list_versions,
    op,
    resource,
    versioned_filesystem_io_manager,
)
from nbflow.errors import MissingVersionError, RunConfigValidationError
from nbflow.execution.views.list_versions import format_version_table
from nbflow.storage import clear_memoized_values

seed_002: Any = importlib.import_module("seed_002")

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

STORED = "stored"
RECOMPUTE = "to-be-recomputed"
OUTPUTS = ["emit_dog.result", "emit_tree.result", "emit_sentence.result"]


@pytest.fixture(autouse=True)
def fresh_memo() -> Iterator[None]:
    clear_memoized_values()
    yield
    clear_memoized_values()


def seed_002_job(call_log: list[str]) -> JobDefinition:
    """Seed 002's job on the versioned filesystem IO manager."""
    return seed_002.dogs_and_trees(
        call_log, resource_defs={"io_manager": versioned_filesystem_io_manager}
    )


def config(tree_species: str, base_dir: Path, dog_breed: str = "poodle") -> dict[str, Any]:
    return {
        "ops": {
            "emit_dog": {"config": {"dog_breed": dog_breed}},
            "emit_tree": {"config": {"tree_species": tree_species}},
        },
        "resources": {"io_manager": {"config": {"base_dir": str(base_dir)}}},
    }


def by_output(rows: list[VersionRow]) -> dict[str, VersionRow]:
    return {row.step_output: row for row in rows}


def execute(job_def: JobDefinition, run_config: dict[str, Any], call_log: list[str]) -> list[str]:
    result = job_def.execute_in_process(run_config=run_config)
    assert result.success
    ran = list(call_log)
    call_log.clear()
    return ran


class TestSeed002Walkthrough:
    def test_before_any_run_every_output_is_to_be_recomputed(
        self, call_log: list[str], tmp_path: Path
    ) -> None:
        my_job = seed_002_job(call_log)
        california = config("douglas_fir", tmp_path / "results")

        rows = list_versions(my_job, california)

        assert [r.step_output for r in rows] == OUTPUTS
        assert [r.status for r in rows] == [RECOMPUTE] * 3
        assert [r.reasons for r in rows] == [("never run",)] * 3
        assert all(len(r.version) == 40 for r in rows)
        assert call_log == []
        assert not (tmp_path / "results").exists()  # listing writes nothing

    def test_full_walkthrough(self, call_log: list[str], tmp_path: Path) -> None:
        my_job = seed_002_job(call_log)
        base_dir = tmp_path / "results"
        california = config("douglas_fir", base_dir)
        maryland = config("red_maple", base_dir)

        before = by_output(list_versions(my_job, california))
        first_run = execute(my_job, california, call_log)
        after = by_output(list_versions(my_job, california))
        changed = by_output(list_versions(my_job, maryland))
        maryland_run = execute(my_job, maryland, call_log)
        maryland_after = by_output(list_versions(my_job, maryland))
        back_to_california = execute(my_job, california, call_log)

        assert first_run == ["emit_dog", "emit_tree", "emit_sentence"]
        assert {k: r.status for k, r in after.items()} == dict.fromkeys(OUTPUTS, STORED)
        # Outputs without upstream keep the version listed before the run; emit_sentence's is
        # known only once its inputs' values are (they version it, for early cutoff).
        for key in ("emit_dog.result", "emit_tree.result"):
            assert after[key].version == before[key].version
        assert after["emit_sentence.result"].version != before["emit_sentence.result"].version
        assert {k: r.reasons for k, r in after.items()} == dict.fromkeys(OUTPUTS, ())

        assert changed["emit_dog.result"].status == STORED
        assert changed["emit_dog.result"].version == after["emit_dog.result"].version
        assert changed["emit_tree.result"].status == RECOMPUTE
        assert changed["emit_tree.result"].version != after["emit_tree.result"].version
        assert changed["emit_tree.result"].reasons == ("config key 'tree_species' changed",)
        assert changed["emit_sentence.result"].status == RECOMPUTE
        assert changed["emit_sentence.result"].version != after["emit_sentence.result"].version
        assert changed["emit_sentence.result"].reasons == ("upstream 'emit_tree.result' changed",)

        assert maryland_run == ["emit_tree", "emit_sentence"]
        assert {k: r.status for k, r in maryland_after.items()} == dict.fromkeys(OUTPUTS, STORED)
        assert back_to_california == []

    def test_outputs_are_stored_by_step_output_and_version(
        self, call_log: list[str], tmp_path: Path
    ) -> None:
        my_job = seed_002_job(call_log)
        base_dir = tmp_path / "results"
        california = config("douglas_fir", base_dir)
        execute(my_job, california, call_log)

        for row in list_versions(my_job, california):
            step_key, output = row.step_output.split(".")
            folder = base_dir / step_key / output
            assert (folder / row.version).is_file()
            assert (folder / f"{row.version}.manifest.json").is_file()

    def test_back_to_california_returns_the_california_sentence(
        self, call_log: list[str], tmp_path: Path
    ) -> None:
        my_job = seed_002_job(call_log)
        base_dir = tmp_path / "results"
        execute(my_job, config("douglas_fir", base_dir), call_log)
        execute(my_job, config("red_maple", base_dir), call_log)

        result = my_job.execute_in_process(run_config=config("douglas_fir", base_dir))

        assert call_log == []
        assert result.output_for_node("emit_sentence") == (
            "poodle is a breed of dog, while douglas_fir is a species of tree."
        )

    def test_a_deleted_output_is_to_be_recomputed_as_missing(
        self, call_log: list[str], tmp_path: Path
    ) -> None:
        my_job = seed_002_job(call_log)
        base_dir = tmp_path / "results"
        california = config("douglas_fir", base_dir)
        execute(my_job, california, call_log)
        dog = by_output(list_versions(my_job, california))["emit_dog.result"]
        (base_dir / "emit_dog" / "result" / dog.version).unlink()

        rows = by_output(list_versions(my_job, california))
        ran = execute(my_job, california, call_log)

        assert rows["emit_dog.result"].status == RECOMPUTE
        assert rows["emit_dog.result"].reasons == ("output missing",)
        assert rows["emit_sentence.result"].status == STORED
        assert ran == ["emit_dog"]  # its version did not change, so nothing downstream reruns


class TestReasons:
    def test_code_change_is_reported_with_both_versions(self, call_log: list[str]) -> None:
        def build(version: str) -> JobDefinition:
            @op(version=version)
            def step_a() -> int:
                return 1

            @op(version="1")
            def step_b(x: int) -> int:
                return x

            @job(tags={MEMOIZED_RUN_TAG: "true"})
            def code_job() -> None:
                step_b(step_a())

            return code_job

        assert build("v1").execute_in_process().success

        rows = by_output(list_versions(build("v2")))

        assert rows["step_a.result"].reasons == ("code changed (op version v1 → v2)",)
        assert rows["step_b.result"].reasons == ("upstream 'step_a.result' changed",)

    def test_resource_change_and_input_value_change_are_named(self) -> None:
        def build(db_version: str) -> JobDefinition:
            @resource(version=db_version)
            def db(_init: Any) -> str:
                return "db"

            @op(version="1", required_resource_keys={"db"})
            def query(context: Any, limit: int) -> str:
                return f"{context.resources.db}:{limit}"

            @graph
            def querying(limit: int) -> None:
                query(limit)

            return querying.to_job(
                resource_defs={"db": db}, tags={MEMOIZED_RUN_TAG: "true"}, input_values={"limit": 1}
            )

        assert build("a").execute_in_process().success

        resource_changed = by_output(list_versions(build("b")))

        assert resource_changed["query.result"].reasons == ("resource 'db' changed",)

    def test_run_config_input_change_is_named(self) -> None:
        @op(version="1")
        def double(n: int) -> int:
            return n * 2

        @job(tags={MEMOIZED_RUN_TAG: "true"})
        def doubling() -> None:
            double()

        def given(n: int) -> dict[str, Any]:
            return {"ops": {"double": {"inputs": {"n": n}}}}

        assert doubling.execute_in_process(run_config=given(1)).success

        rows = by_output(list_versions(doubling, given(2)))
        same = by_output(list_versions(doubling, given(1)))

        assert rows["double.result"].status == RECOMPUTE
        assert rows["double.result"].reasons == ("input 'n' value changed",)
        assert same["double.result"].status == STORED

    def test_several_config_keys_are_each_named(self) -> None:
        @op(version="1", config_schema={"a": int, "b": int, "c": int})
        def configured(context: Any) -> int:
            return sum(context.op_config.values())

        @job(tags={MEMOIZED_RUN_TAG: "true"})
        def configuring() -> None:
            configured()

        def cfg(a: int, b: int, c: int) -> dict[str, Any]:
            return {"ops": {"configured": {"config": {"a": a, "b": b, "c": c}}}}

        assert configuring.execute_in_process(run_config=cfg(1, 2, 3)).success

        [row] = list_versions(configuring, cfg(9, 2, 8))
        [reordered] = list_versions(
            configuring, {"ops": {"configured": {"config": {"c": 3, "b": 2, "a": 1}}}}
        )

        assert row.reasons == ("config key 'a' changed", "config key 'c' changed")
        assert reordered.status == STORED  # key order in config never matters


class TestErrors:
    def test_job_without_versions_names_the_op(self) -> None:
        @op
        def unversioned() -> int:
            return 1

        @job
        def plain() -> None:
            unversioned()

        with pytest.raises(MissingVersionError, match=r"op 'unversioned' has no version"):
            list_versions(plain)

    def test_invalid_run_config_lists_the_problem(
        self, call_log: list[str], tmp_path: Path
    ) -> None:
        my_job = seed_002_job(call_log)

        with pytest.raises(
            RunConfigValidationError, match=r"root:ops:emit_dog:config:dog_breed: expected String"
        ):
            list_versions(my_job, config("douglas_fir", tmp_path, dog_breed=3))  # type: ignore[arg-type]


class TestTable:
    def test_table_has_the_seed_columns_and_one_row_per_output(
        self, call_log: list[str], tmp_path: Path
    ) -> None:
        my_job = seed_002_job(call_log)
        rows = list_versions(my_job, config("douglas_fir", tmp_path))

        lines = format_version_table(rows).splitlines()

        assert [c.strip() for c in lines[0].strip("|").split("|")] == [
            "Step Output",
            "Version",
            "Status of Output",
        ]
        assert set(lines[1]) <= {"|", "-"}
        cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
        assert cells == [[r.step_output, r.version, r.status] for r in rows]

    def test_table_with_reasons_adds_a_column(self, call_log: list[str], tmp_path: Path) -> None:
        my_job = seed_002_job(call_log)
        rows = list_versions(my_job, config("douglas_fir", tmp_path))

        lines = format_version_table(rows, with_reasons=True).splitlines()

        assert lines[0].split("|")[4].strip() == "Reasons"
        assert all(line.split("|")[4].strip() == "never run" for line in lines[2:])


# --- golden versions: a change of the version formula must fail here -----------------------

GOLDEN_CALIFORNIA = {
    "emit_dog.result": "27af10d4da2422eab24c29d589056cfe154855c4",
    "emit_tree.result": "d81cb20c350cfb4fb052681856a2eb730b415112",
    "emit_sentence.result": "d9055943f09dc434ea5e89f31b7e1b1e2267af72",
}
GOLDEN_MARYLAND = {
    "emit_dog.result": "27af10d4da2422eab24c29d589056cfe154855c4",
    "emit_tree.result": "6e484bea95f8cdc778b4251a6b52702fb2b3122f",
    "emit_sentence.result": "34926d2e811b75d3b630cf54e9ff5bff4184320a",
}


@pytest.mark.parametrize(
    ("tree_species", "golden"),
    [("douglas_fir", GOLDEN_CALIFORNIA), ("red_maple", GOLDEN_MARYLAND)],
    ids=["california", "maryland"],
)
def test_golden_output_versions(
    call_log: list[str], tmp_path: Path, tree_species: str, golden: dict[str, str]
) -> None:
    # base_dir is not part of any version: golden values hold for every tmp_path.
    rows = list_versions(seed_002_job(call_log), config(tree_species, tmp_path))

    assert {r.step_output: r.version for r in rows} == golden


def test_golden_versions_with_resource_and_input_value() -> None:
    @resource(version="r1")
    def db(_init: Any) -> str:
        return "db"

    @op(version="1", required_resource_keys={"db"}, config_schema={"limit": int})
    def query(context: Any, table: str) -> str:
        return f"{context.resources.db}:{table}:{context.op_config['limit']}"

    @op(version="2")
    def count(rows: str) -> int:
        return len(rows)

    @graph
    def querying(table: str) -> None:
        count(query(table))

    querying_job = querying.to_job(
        resource_defs={"db": db}, tags={MEMOIZED_RUN_TAG: "true"}, input_values={"table": "dogs"}
    )

    rows = list_versions(querying_job, {"ops": {"query": {"config": {"limit": 10}}}})

    assert {r.step_output: r.version for r in rows} == {
        "query.result": "40274e86664ffcc798216dd7b5fca48b92ccbfa9",
        "count.result": "5acf7e8d9875fee99c9b465a3d583cf59f321d85",
    }


def test_list_versions_refuses_an_io_manager_that_cannot_say_what_it_stores() -> None:
    from nbflow import IOManager, io_manager, job, op
    from nbflow.errors import NonMemoizableIOManagerError

    class Plain(IOManager):
        def handle_output(self, context, obj):  # type: ignore[no-untyped-def]
            pass

        def load_input(self, context):  # type: ignore[no-untyped-def]
            return None

    @io_manager
    def plain_io(_init):  # type: ignore[no-untyped-def]
        return Plain()

    @op(version="1")
    def one() -> int:
        return 1

    @job(resource_defs={"io_manager": plain_io})
    def plain_job() -> None:
        one()

    with pytest.raises(NonMemoizableIOManagerError, match="IO manager 'io_manager' \\(Plain\\)"):
        list_versions(plain_job)
