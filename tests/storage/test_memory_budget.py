"""The in-memory store keeps values between runs within a byte budget, least recently used
evicted first, and never takes away a value the current run still needs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from nbflow import MEMOIZED_RUN_TAG, Field, job, list_versions, op
from nbflow.errors import InvalidArgumentError, ValueNotKeptWarning
from nbflow.storage import clear_memoized_values, memory_usage, set_memory_budget
from nbflow.storage.kept_values import KeptValues, parse_size

if TYPE_CHECKING:
    from collections.abc import Iterator

MB = 1_000_000


@pytest.fixture(autouse=True)
def fresh_store() -> Iterator[None]:
    clear_memoized_values()
    yield
    set_memory_budget(None)
    clear_memoized_values()


def sized_job(call_log: list[str]) -> Any:
    """``make`` returns ``size`` bytes and its tag (config); two consumers read it in turn.

    Versions follow values (early cutoff), so each tag gives every output a new version.
    """

    @op(version="1", config_schema={"size": Field(int), "tag": Field(str, default_value="")})
    def make(context: Any) -> bytes:
        call_log.append("make")
        return context.op_config["tag"].encode() + b"x" * context.op_config["size"]

    @op(version="1", config_schema={"tag": Field(str, default_value="")})
    def first(context: Any, blob: bytes) -> bytes:
        call_log.append("first")
        return blob.replace(b"x", b"y")

    @op(version="1", config_schema={"tag": Field(str, default_value="")})
    def second(context: Any, blob: bytes) -> int:
        call_log.append("second")
        return len(blob)

    @job(tags={MEMOIZED_RUN_TAG: "true"})
    def sized() -> None:
        blob = make()
        first(blob)
        second(blob)

    return sized


def config(tag: str, size: int = MB, consumers: str = "") -> dict[str, Any]:
    """Config of ``sized``: ``tag`` versions make's value, ``consumers`` first's and second's."""
    return {
        "ops": {
            "make": {"config": {"size": size, "tag": tag}},
            "first": {"config": {"tag": consumers}},
            "second": {"config": {"tag": consumers}},
        }
    }


def run(job_def: Any, call_log: list[str], run_config: dict[str, Any]) -> list[str]:
    result = job_def.execute_in_process(run_config=run_config)
    assert result.success
    make = run_config["ops"]["make"]["config"]
    assert result.output_for_node("second") == make["size"] + len(make["tag"])
    ran = list(call_log)
    call_log.clear()
    return ran


def test_the_least_recently_used_values_are_evicted_first(call_log: list[str]) -> None:
    sized = sized_job(call_log)
    set_memory_budget(4 * MB + 100_000)  # two runs' worth: make, first (and tiny second)

    assert run(sized, call_log, config("a")) == ["make", "first", "second"]
    assert run(sized, call_log, config("b")) == ["make", "first", "second"]
    assert run(sized, call_log, config("a")) == []  # reading a's values uses them
    assert run(sized, call_log, config("c")) == ["make", "first", "second"]

    assert run(sized, call_log, config("a")) == []  # used more recently than b: kept
    # b's two large values went to make room for c's; its small one still fitted.
    assert run(sized, call_log, config("b")) == ["make", "first"]
    assert memory_usage().nbytes <= 4 * MB + 100_000


def test_a_value_evicted_during_a_run_still_reaches_its_later_consumers(
    call_log: list[str],
) -> None:
    sized = sized_job(call_log)
    set_memory_budget(MB + 100_000)  # one value: first's output evicts make's

    assert run(sized, call_log, config("a")) == ["make", "first", "second"]
    kept = {value.step for value in memory_usage().values}
    assert "make" not in kept
    assert run(sized, call_log, config("a")) == ["make"]


def test_a_memoized_value_found_before_eviction_is_still_read_by_its_run(
    call_log: list[str],
) -> None:
    sized = sized_job(call_log)
    set_memory_budget(MB + 100_000)  # one value
    assert run(sized, call_log, config("a")) == ["make", "first", "second"]
    assert run(sized, call_log, config("a")) == ["make"]  # make's value was evicted by first's

    # make is reused from memory; first's new value evicts it before second reads it.
    assert run(sized, call_log, config("a", consumers="new")) == ["first", "second"]


def test_a_value_larger_than_the_budget_is_not_kept_and_says_why(call_log: list[str]) -> None:
    sized = sized_job(call_log)
    set_memory_budget(MB // 2)

    with pytest.warns(ValueNotKeptWarning, match="more than the whole memory budget"):
        assert run(sized, call_log, config("a")) == ["make", "first", "second"]
    assert memory_usage().nbytes <= MB // 2

    rows = {row.step_output: row for row in list_versions(sized, config("a"))}
    assert rows["make.result"].status == "to-be-recomputed"
    assert any("exceed the memory budget" in reason for reason in rows["make.result"].reasons)
    assert run(sized, call_log, config("a")) == ["make", "first"]


def test_lowering_the_budget_evicts_at_once_and_usage_lists_what_is_kept(
    call_log: list[str],
) -> None:
    sized = sized_job(call_log)
    run(sized, call_log, config("a"))
    usage = memory_usage()
    assert {(v.step, v.output) for v in usage.values} == {
        ("make", "result"),
        ("first", "result"),
        ("second", "result"),
    }
    assert usage.nbytes == sum(v.nbytes for v in usage.values) >= 2 * MB
    assert "make.result" in str(usage) and "budget" in str(usage)

    set_memory_budget("1.5MB")
    assert memory_usage().nbytes <= 1_500_000
    assert memory_usage().budget == 1_500_000


@pytest.mark.parametrize("bad", [-1, "lots", "5 parsecs", True])
def test_a_bad_budget_is_refused_with_the_fix(bad: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="Fix:"):
        set_memory_budget(bad)


def test_sizes_parse_with_decimal_and_binary_units() -> None:
    assert parse_size("2GB", "x") == 2 * 10**9
    assert parse_size("512 MiB", "x") == 512 * 2**20
    assert parse_size("1000", "x") == 1000


def test_the_default_budget_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBFLOW_MEMORY_BUDGET", "3MiB")
    assert KeptValues().budget == 3 * 2**20
    monkeypatch.setenv("NBFLOW_MEMORY_BUDGET", "much")
    with pytest.raises(InvalidArgumentError, match="NBFLOW_MEMORY_BUDGET"):
        KeptValues().budget
