"""A value given to a memoized run is fingerprinted once, not once per op reading it.

Hashing is counted by wrapping ``buffer_digest`` (the call that reads an array's bytes).
Four ops read one 1 MB array given as a job input value. A fully cached run hashes a writable
array once, and an array nothing can change (over ``bytes``) not at all after its first run.
Never at the cost of a stale value: an op that changes a shared input in place, and a value
changed between runs, still give the right versions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from nbflow import (
    MEMOIZED_RUN_TAG,
    InputContext,
    JobDefinition,
    MemoizableIOManager,
    OutputContext,
    ResourceDefinition,
    RetryPolicy,
    io_manager,
    job,
    list_versions,
    op,
    resource,
)
from nbflow.storage import clear_memoized_values
from nbflow.versioning.immutable_arrays import IMMUTABLE_DIGESTS

if TYPE_CHECKING:
    from collections.abc import Iterator

MEMOIZED = {MEMOIZED_RUN_TAG: "true"}
SIZE = 1 << 20


@pytest.fixture(autouse=True)
def fresh_memo() -> Iterator[None]:
    clear_memoized_values()
    IMMUTABLE_DIGESTS.clear()
    yield
    clear_memoized_values()
    IMMUTABLE_DIGESTS.clear()


def four_readers(
    value: Any, call_log: list[str], resource_defs: dict[str, Any] | None = None
) -> JobDefinition:
    """A memoized job whose four ops all read the job input value ``value``."""

    def reader(index: int) -> Any:
        @op(name=f"read_{index}", version="1")
        def read(x: Any) -> float:
            call_log.append(f"read_{index}")
            return float(x[0])

        return read

    readers = [reader(i) for i in range(4)]

    @job(tags=MEMOIZED, input_values={"x": value}, resource_defs=resource_defs)
    def reads_four_times(x: Any) -> None:
        for read in readers:
            read(x)

    return reads_four_times


def writable() -> Any:
    return np.arange(SIZE // 8, dtype=np.float64)


def over_bytes() -> Any:
    return np.frombuffer(writable().tobytes(), dtype=np.float64)


def run_counting(job_def: JobDefinition, hashed: list[int], call_log: list[str]) -> list[str]:
    """Run ``job_def``; returns the ops that ran. Empties ``hashed`` and ``call_log`` first."""
    hashed.clear()
    call_log.clear()
    result = job_def.execute_in_process()
    assert result.success
    return list(call_log)


def test_a_cached_run_hashes_a_writable_input_once(hashed: list[int], call_log: list[str]) -> None:
    readers = four_readers(writable(), call_log)
    assert len(run_counting(readers, hashed, call_log)) == 4

    for _ in range(2):
        assert run_counting(readers, hashed, call_log) == []
        assert hashed == [SIZE]  # not once per op and versioning (8 times)


def test_a_cached_run_hashes_a_read_only_flagged_input_once(
    hashed: list[int], call_log: list[str]
) -> None:
    array = writable()
    array.flags.writeable = False  # can be set back: not proof that it never changes
    readers = four_readers(array, call_log)
    run_counting(readers, hashed, call_log)

    assert run_counting(readers, hashed, call_log) == []
    assert hashed == [SIZE]


def test_an_input_nothing_can_change_is_hashed_once_per_process(
    hashed: list[int], call_log: list[str]
) -> None:
    readers = four_readers(over_bytes(), call_log)

    first = run_counting(readers, hashed, call_log)
    assert len(first) == 4
    assert hashed == [SIZE]  # once, though four ops read it and ran

    assert run_counting(readers, hashed, call_log) == []
    assert hashed == []


def test_an_input_changed_in_place_between_runs_is_hashed_again(
    hashed: list[int], call_log: list[str]
) -> None:
    array = writable()
    readers = four_readers(array, call_log)
    run_counting(readers, hashed, call_log)

    array[0] = -1.0
    ran = run_counting(readers, hashed, call_log)

    assert sorted(ran) == ["read_0", "read_1", "read_2", "read_3"]
    result = readers.execute_in_process()
    assert result.output_for_node("read_2") == -1.0


def test_a_read_only_flag_set_back_and_a_change_are_seen(
    hashed: list[int], call_log: list[str]
) -> None:
    array = writable()
    array.flags.writeable = False
    readers = four_readers(array, call_log)
    run_counting(readers, hashed, call_log)

    array.flags.writeable = True
    array[0] = -1.0
    array.flags.writeable = False
    ran = run_counting(readers, hashed, call_log)

    assert len(ran) == 4
    assert readers.execute_in_process().output_for_node("read_0") == -1.0


def changes_its_input_first(call_log: list[str]) -> Any:
    """A graph: ``bump`` (first, by priority) adds 1 to the shared input array in place;
    ``total`` then sums it. Neither depends on the other."""

    @op(version="1", tags={"nbflow/priority": "1"})
    def bump(x: Any) -> int:
        call_log.append("bump")
        x += 1
        return 0

    @op(version="1")
    def total(x: Any) -> float:
        call_log.append("total")
        return float(x.sum())

    def build(value: Any) -> JobDefinition:
        @job(tags=MEMOIZED, input_values={"x": value})
        def bump_then_total(x: Any) -> None:
            bump(x)
            total(x)

        return bump_then_total

    return build


def test_an_op_changing_a_shared_input_in_place_never_leaves_a_stale_version(
    call_log: list[str],
) -> None:
    build = changes_its_input_first(call_log)

    first = build(np.zeros(3)).execute_in_process()
    assert call_log == ["bump", "total"]
    assert first.output_for_node("total") == 3.0  # total read the array bump had changed
    call_log.clear()

    # Zeros again: bump is stored for zeros and skipped, so total now reads zeros. Its
    # stored 3.0 was computed from ones and must not be handed back as the sum of zeros.
    second = build(np.zeros(3)).execute_in_process()

    assert call_log == ["total"]
    assert second.output_for_node("total") == 0.0


def test_list_versions_hashes_an_input_read_by_four_ops_once(
    hashed: list[int], call_log: list[str]
) -> None:
    rows = list_versions(four_readers(writable(), call_log))

    assert [row.step_output for row in rows] == [f"read_{i}.result" for i in range(4)]
    assert hashed == [SIZE]


def test_readers_of_an_unchanged_value_are_not_looked_up_again(call_log: list[str]) -> None:
    store: dict[tuple[str, str, str], Any] = {}
    asked: list[str] = []

    class DictIOManager(MemoizableIOManager):
        def handle_output(self, context: OutputContext, obj: Any) -> None:
            assert context.version is not None
            store[(context.step_key, context.name, context.version)] = obj

        def load_input(self, context: InputContext) -> Any:
            raise AssertionError("no op here reads an upstream output")

        def has_output(self, context: OutputContext) -> bool:
            assert context.version is not None
            asked.append(context.step_key)
            return (context.step_key, context.name, context.version) in store

    @io_manager
    def dict_io_manager(_init: Any) -> DictIOManager:
        return DictIOManager()

    readers = four_readers(writable(), call_log, {"io_manager": dict_io_manager})

    readers.execute_in_process()

    assert call_log == ["read_0", "read_1", "read_2", "read_3"]
    # once each before the run; the array, hashed again for the readers after read_0 started,
    # is unchanged, so what was found stored stands and nothing is looked up again
    assert sorted(asked) == ["read_0", "read_1", "read_2", "read_3"]


def test_a_resource_changing_a_given_value_as_it_is_built_never_leaves_a_stale_version(
    call_log: list[str],
) -> None:
    changed_by_resource: list[Any] = []

    @resource
    def bumper(_init: Any) -> None:
        for array in changed_by_resource:
            array += 1  # holds a reference to the given value and changes it

    @op(version="1", required_resource_keys={"bumper"})
    def total(x: Any) -> float:
        call_log.append("total")
        return float(x.sum())

    def build(value: Any) -> JobDefinition:
        @job(tags=MEMOIZED, input_values={"x": value}, resource_defs={"bumper": bumper})
        def summing(x: Any) -> None:
            total(x)

        return summing

    zeros = np.zeros(3)
    changed_by_resource.append(zeros)
    assert build(zeros).execute_in_process().output_for_node("total") == 3.0
    changed_by_resource.clear()
    call_log.clear()

    # Zeros again, left alone: the 3.0 stored above was computed from ones.
    result = build(np.zeros(3)).execute_in_process()

    assert call_log == ["total"]
    assert result.output_for_node("total") == 0.0


def settings_job(settings: dict[str, int], call_log: list[str], tweak_to: int | None) -> Any:
    """A memoized job: ``tweak`` may change the ``settings`` resource in place (a fixed
    value, fingerprinted as its version); ``scaled`` reads it after."""

    @op(name="tweak", version="1", required_resource_keys={"settings"})
    def tweak(context: Any) -> int:
        call_log.append("tweak")
        if tweak_to is not None:
            context.resources.settings["scale"] = tweak_to
        return 2

    @op(name="scaled", version="1", required_resource_keys={"settings"})
    def scaled(context: Any, x: int) -> int:
        call_log.append("scaled")
        return x * context.resources.settings["scale"]

    @job(tags=MEMOIZED, resource_defs={"settings": ResourceDefinition.hardcoded_resource(settings)})
    def settings_chain() -> None:
        scaled(tweak())

    return settings_chain


def test_an_op_changing_a_resource_value_in_place_never_leaves_a_stale_version(
    call_log: list[str],
) -> None:
    # the first run's tweak changes the resource before scaled reads it: scaled's value is
    # stored under the version of what it read (scale 10), not of what the run was given
    first = settings_job({"scale": 1}, call_log, tweak_to=10).execute_in_process()
    assert first.output_for_node("scaled") == 20
    # given scale 1 again, tweak is memoized (same version) and changes nothing: scaled must
    # not come back as the 20 it computed with scale 10
    call_log.clear()
    again = settings_job({"scale": 1}, call_log, tweak_to=None).execute_in_process()
    assert call_log == ["scaled"]
    assert again.output_for_node("scaled") == 2


def test_a_retried_op_that_changed_its_input_in_place_is_stored_under_what_it_read(
    call_log: list[str],
) -> None:
    def build(value: Any) -> JobDefinition:
        @op(version="1", retry_policy=RetryPolicy(max_retries=1))
        def flaky_total(x: Any) -> float:
            call_log.append("flaky_total")
            if len(call_log) == 1:  # the first attempt changes its input, then fails
                x += 1
                raise RuntimeError("transient")
            return float(x.sum())

        @job(tags=MEMOIZED, input_values={"x": value})
        def retried(x: Any) -> None:
            flaky_total(x)

        return retried

    first = build(np.zeros(3)).execute_in_process()
    assert call_log == ["flaky_total", "flaky_total"]
    assert first.output_for_node("flaky_total") == 3.0  # the retry read the changed array
    # zeros again: the 3.0 was computed from ones and must not come back as the sum of zeros
    call_log.clear()
    call_log.append("not the first attempt")
    second = build(np.zeros(3)).execute_in_process()
    assert call_log == ["not the first attempt", "flaky_total"]
    assert second.output_for_node("flaky_total") == 0.0
