"""Values and manifests kept in memory are filed under the op that produced them.

Two jobs in one process whose steps share a name and an explicit ``version=`` are different
ops: neither sees the other's values or manifests. The same op used by two jobs, or a job
rebuilt from the same factory, still shares them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from nbflow import MEMOIZED_RUN_TAG, JobDefinition, job, list_versions, op
from nbflow.storage import clear_memoized_values

if TYPE_CHECKING:
    from collections.abc import Iterator

MEMOIZED = {MEMOIZED_RUN_TAG: "true"}


@pytest.fixture(autouse=True)
def fresh_memo() -> Iterator[None]:
    clear_memoized_values()
    yield
    clear_memoized_values()


def memoized_steps(result: Any) -> set[str]:
    return {e.step_key for e in result.get_step_skipped_events() if e.data.memoized}


def sales_job(call_log: list[str], version: str = "1") -> JobDefinition:
    @op(version=version)
    def load() -> str:
        call_log.append("sales.load")
        return "sales rows"

    @op(version="1")
    def report(rows: str) -> str:
        return f"report of {rows}"

    @job(tags=MEMOIZED)
    def sales() -> None:
        report(load())

    return sales


def weather_job(call_log: list[str], version: str = "1") -> JobDefinition:
    @op(version=version)
    def load() -> str:
        call_log.append("weather.load")
        return "weather rows"

    @op(version="1")
    def report(rows: str) -> str:
        return f"report of {rows}"

    @job(tags=MEMOIZED)
    def weather() -> None:
        report(load())

    return weather


def test_two_jobs_with_same_step_names_and_versions_keep_their_own_values(
    call_log: list[str],
) -> None:
    sales_job(call_log).execute_in_process()

    weather = weather_job(call_log).execute_in_process()

    assert call_log == ["sales.load", "weather.load"]
    assert memoized_steps(weather) == set()
    assert weather.output_for_node("report") == "report of weather rows"
    assert sales_job(call_log).execute_in_process().output_for_node("report") == (
        "report of sales rows"
    )
    assert call_log == ["sales.load", "weather.load"]  # the third run was memoized


def test_list_versions_of_one_job_does_not_count_another_jobs_values_as_stored(
    call_log: list[str],
) -> None:
    sales_job(call_log).execute_in_process()

    rows = {r.step_output: r for r in list_versions(weather_job(call_log))}

    assert {k: (r.status, r.reasons) for k, r in rows.items()} == {
        "load.result": ("to-be-recomputed", ("never run",)),
        "report.result": ("to-be-recomputed", ("never run",)),
    }


def test_the_reasons_compare_with_the_same_ops_manifest_only(call_log: list[str]) -> None:
    sales_job(call_log, version="1").execute_in_process()
    weather_job(call_log, version="7").execute_in_process()

    rows = {r.step_output: r for r in list_versions(sales_job(call_log, version="2"))}

    assert rows["load.result"].reasons == ("code changed (op version 1 → 2)",)
    assert rows["report.result"].reasons == ("upstream 'load.result' changed",)


# --- sharing stays where the op is the same -----------------------------------------------------

SHARED_LOG: list[str] = []


@op(version="1")
def shared_load() -> list[int]:
    SHARED_LOG.append("shared_load")
    return [1, 2]


@op(version="1")
def first_total(xs: list[int]) -> int:
    return sum(xs)


@op(version="1")
def first_len(xs: list[int]) -> int:
    return len(xs)


@job(tags=MEMOIZED)
def totals() -> None:
    first_total(shared_load())


@job(tags=MEMOIZED)
def lengths() -> None:
    first_len(shared_load())


def test_the_same_op_in_two_jobs_with_equal_versions_still_shares_its_value() -> None:
    SHARED_LOG.clear()
    totals.execute_in_process()

    result = lengths.execute_in_process()

    assert SHARED_LOG == ["shared_load"]
    assert memoized_steps(result) == {"shared_load"}
    assert result.output_for_node("first_len") == 2


def test_a_job_rebuilt_by_its_factory_shares_its_values(call_log: list[str]) -> None:
    sales_job(call_log).execute_in_process()

    again = sales_job(call_log).execute_in_process()

    assert call_log == ["sales.load"]
    assert memoized_steps(again) == {"load", "report"}
