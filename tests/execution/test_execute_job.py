"""execute_job: the job's executor, filesystem storage by default, memoization across runs."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import pytest

from nbflow import (
    MEMOIZED_RUN_TAG,
    EventType,
    Instance,
    Out,
    execute_job,
    fs_io_manager,
    in_process_executor,
    job,
    mem_io_manager,
    multi_or_in_process_executor,
    op,
    resource,
)
from nbflow.errors import RunConfigValidationError

mp_jobs: Any = importlib.import_module("mp_jobs")
process_check: Any = importlib.import_module("process_check")


@pytest.fixture(autouse=True)
def no_process_left_behind() -> Any:
    yield
    assert process_check.leftover_processes() == []


@op
def pid() -> int:
    return os.getpid()


@op
def pid_plus(value: int) -> list[int]:
    return [value, os.getpid()]


@job
def default_job() -> None:
    pid_plus(pid())


def test_jobs_default_to_multi_or_in_process_which_defaults_to_multiprocess() -> None:
    assert default_job.executor_def is multi_or_in_process_executor
    result = execute_job(default_job)
    first, second = result.output_for_node("pid_plus")
    assert os.getpid() not in {first, second}  # both steps ran in step processes


def test_in_process_mode_is_chosen_by_config() -> None:
    config = {"execution": {"config": {"in_process": {}}}}
    result = execute_job(default_job, run_config=config)
    assert result.output_for_node("pid_plus") == [os.getpid(), os.getpid()]


def test_seed_multiprocess_config_form_is_accepted() -> None:
    config = {
        "execution": {
            "config": {"multiprocess": {"max_concurrent": 4, "retries": {"enabled": None}}}
        }
    }
    assert execute_job(default_job, run_config=config).success


def test_executor_config_is_validated_before_the_run() -> None:
    instance = Instance.ephemeral()
    config = {"execution": {"config": {"multiprocess": {"max_concurent": 4}}}}
    with pytest.raises(RunConfigValidationError, match="max_concurent"):
        execute_job(default_job, run_config=config, instance=instance)
    assert instance.get_runs() == []


def test_execute_in_process_ignores_the_executor_and_its_config_schema() -> None:
    config = {"execution": {"config": {"retries": {"disabled": {}}}}}
    result = default_job.execute_in_process(run_config=config)
    assert result.output_for_node("pid_plus") == [os.getpid(), os.getpid()]


def test_outputs_are_stored_in_the_instance_storage_folder(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    result = execute_job(default_job, instance=instance)
    stored = tmp_path / "home" / "storage" / result.run_id / "pid" / "result"
    assert stored.is_file()
    assert result.output_for_node("pid") == result.output_for_node("pid_plus")[0]
    assert instance.get_run(result.run_id).is_success  # type: ignore[union-attr]


def test_the_instance_keeps_each_steps_events_in_order(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    result = execute_job(default_job, instance=instance)
    stored = instance.get_events(result.run_id)
    assert [e.event_type for e in stored] == [e.event_type for e in result.all_events]
    kinds = [e.event_type for e in stored if e.step_key == "pid_plus"]
    assert kinds[:5] == [
        EventType.STEP_WORKER_STARTING,
        EventType.STEP_WORKER_STARTED,
        EventType.RESOURCE_INIT_STARTED,
        EventType.RESOURCE_INIT_SUCCESS,
        EventType.STEP_START,
    ]
    assert kinds[-1] is EventType.STEP_SUCCESS


def test_memoized_steps_are_skipped_without_a_process(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    first = execute_job(mp_jobs.memo_job, instance=instance)
    assert first.output_for_node("report") == "number=40"
    assert len(first.filter_events(EventType.STEP_WORKER_STARTING)) == 3
    second = execute_job(mp_jobs.memo_job, instance=instance)
    assert second.filter_events(EventType.STEP_WORKER_STARTING) == []
    skipped = second.filter_events(EventType.STEP_SKIPPED)
    assert [e.step_key for e in skipped] == ["emit_number", "double", "report"]
    assert all(e.data.memoized for e in skipped)
    assert second.output_for_node("report") == "number=40"  # loaded through the IO manager


@op(version="1")
def emit_five() -> int:
    return 5


@op(name="times", version="1")
def times_two(number: int) -> int:
    return number * 2


@op(name="times", version="2")
def times_twenty(number: int) -> int:
    return number * 20


def test_a_selection_reads_cut_inputs_from_storage_in_the_step_process(tmp_path: Path) -> None:
    @job(name="cut")
    def first_version() -> None:
        times_two(emit_five())

    @job(name="cut")
    def second_version() -> None:
        times_twenty(emit_five())

    instance = Instance.local(tmp_path / "home")
    memoized = {MEMOIZED_RUN_TAG: "true"}
    assert (
        execute_job(first_version, instance=instance, tags=memoized).output_for_node("times") == 10
    )
    result = execute_job(second_version, instance=instance, tags=memoized, op_selection=["times"])
    assert result.output_for_node("times") == 100
    loaded = result.filter_events(EventType.LOADED_INPUT)
    assert [e.step_key for e in loaded] == ["times"] and loaded[0].pid != os.getpid()


def test_an_in_process_selection_loads_cut_inputs_through_their_own_io_manager(
    tmp_path: Path,
) -> None:
    @op(version="1", out=Out(io_manager_key="archive"))
    def emit_seven() -> int:
        return 7

    def archived(add: int) -> Any:
        @op(name="plus", version=str(add))
        def plus(number: int) -> int:
            return number + add

        @job(
            name="archived",
            executor_def=in_process_executor,
            resource_defs={"archive": fs_io_manager},
        )
        def archived_job() -> None:
            plus(emit_seven())

        return archived_job

    instance = Instance.local(tmp_path / "home")
    memoized = {MEMOIZED_RUN_TAG: "true"}
    execute_job(archived(1), instance=instance, tags=memoized)
    result = execute_job(archived(2), instance=instance, tags=memoized, op_selection=["plus"])
    assert result.output_for_node("plus") == 9
    (loaded,) = result.filter_events(EventType.LOADED_INPUT)
    assert loaded.data.manager_key == "archive"


@resource(config_schema={"path": str})
def noisy(context: Any) -> str:
    with open(context.resource_config["path"], "a") as log:
        log.write(f"{os.getpid()}\n")
    return "ready"


@op(required_resource_keys={"noisy"})
def needs_noisy(context: Any) -> str:
    return str(context.resources.noisy)


def test_resources_are_built_only_in_the_step_processes_that_use_them(tmp_path: Path) -> None:
    @job(resource_defs={"noisy": noisy})
    def with_resource() -> None:
        needs_noisy()
        pid()

    log = tmp_path / "inits"
    config = {"resources": {"noisy": {"config": {"path": str(log)}}}}
    result = execute_job(with_resource, run_config=config)
    assert result.output_for_node("needs_noisy") == "ready"
    (init_pid,) = log.read_text().split()
    assert int(init_pid) not in (os.getpid(), result.output_for_node("pid"))


def test_op_selection_runs_the_selected_steps_in_processes() -> None:
    result = execute_job(default_job, op_selection=["pid"])
    assert [e.step_key for e in result.filter_events(EventType.STEP_SUCCESS)] == ["pid"]
    assert result.output_for_node("pid") != os.getpid()


def test_a_job_with_the_in_process_executor_runs_here_with_files() -> None:
    @job(executor_def=in_process_executor)
    def here() -> None:
        pid_plus(pid())

    result = execute_job(here)
    assert result.output_for_node("pid_plus") == [os.getpid(), os.getpid()]


def test_in_memory_io_manager_is_fine_in_process() -> None:
    @job(executor_def=in_process_executor, resource_defs={"io_manager": mem_io_manager})
    def here() -> None:
        pid_plus(pid())

    assert execute_job(here).output_for_node("pid") == os.getpid()


def test_execute_job_needs_a_job() -> None:
    with pytest.raises(TypeError, match="needs a JobDefinition or a ReconstructableJob, got str"):
        execute_job("default_job")  # type: ignore[arg-type]
