"""Memoized values kept in memory are isolated from the ops that read them.

A consumer that mutates its input changes its own copy only: not the kept value, not what a
second consumer of the same run reads, not what the next run is fed. Values pickle cannot
store serve their own run, are not kept, and the user is told why. Plain (unversioned)
values are still handed on as they are.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest

from nbflow import MEMOIZED_RUN_TAG, Field, Instance, JobDefinition, job, list_versions, op
from nbflow.errors import ValueNotKeptWarning
from nbflow.storage import clear_memoized_values

if TYPE_CHECKING:
    from collections.abc import Iterator

MEMOIZED = {MEMOIZED_RUN_TAG: "true"}
RERUN = {"run": Field(int, default_value=0)}
"""Config that only makes a consumer run again, so it reads the kept upstream value."""


@pytest.fixture(autouse=True)
def fresh_memo() -> Iterator[None]:
    clear_memoized_values()
    yield
    clear_memoized_values()


def again(*steps: str) -> dict[str, Any]:
    """Run config that changes the version of ``steps`` only."""
    return {"ops": {s: {"config": {"run": 1}} for s in steps}}


def memoized_steps(result: Any) -> set[str]:
    return {e.step_key for e in result.get_step_skipped_events() if e.data.memoized}


def list_job(call_log: list[str]) -> JobDefinition:
    @op(version="1")
    def numbers() -> list[int]:
        call_log.append("numbers")
        return [1, 2, 3]

    @op(version="1", config_schema=RERUN)
    def grow(_context: Any, xs: list[int]) -> list[int]:
        xs.append(4)
        return xs

    @op(version="1", config_schema=RERUN)
    def extend(_context: Any, xs: list[int]) -> list[int]:
        xs.extend([5, 6])
        return xs

    @job(tags=MEMOIZED)
    def lists() -> None:
        value = numbers()
        grow(value)
        extend(value)

    return lists


def test_a_consumer_appending_to_its_input_does_not_change_what_the_next_run_reads(
    call_log: list[str],
) -> None:
    lists = list_job(call_log)
    first = lists.execute_in_process()
    assert first.output_for_node("grow") == [1, 2, 3, 4]

    second = lists.execute_in_process(run_config=again("grow", "extend"))

    assert call_log == ["numbers"]  # the second run read the kept value
    assert memoized_steps(second) == {"numbers"}
    assert second.output_for_node("grow") == [1, 2, 3, 4]
    assert second.output_for_node("extend") == [1, 2, 3, 5, 6]
    assert second.output_for_node("numbers") == [1, 2, 3]


def test_two_consumers_in_one_run_each_read_the_value_as_it_was_produced(
    call_log: list[str],
) -> None:
    result = list_job(call_log).execute_in_process()

    assert result.output_for_node("grow") == [1, 2, 3, 4]
    assert result.output_for_node("extend") == [1, 2, 3, 5, 6]


def test_changing_a_result_after_the_run_does_not_change_the_kept_value(
    call_log: list[str],
) -> None:
    lists = list_job(call_log)
    lists.execute_in_process().output_for_node("numbers").append(99)

    second = lists.execute_in_process(run_config=again("grow"))

    assert memoized_steps(second) >= {"numbers"}
    assert second.output_for_node("numbers") == [1, 2, 3]
    assert second.output_for_node("grow") == [1, 2, 3, 4]


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # pandas 3 deprecates inplace=
def test_dropna_in_place_by_a_consumer_leaves_the_kept_frame_whole(call_log: list[str]) -> None:
    @op(version="1")
    def frame() -> pd.DataFrame:
        call_log.append("frame")
        return pd.DataFrame({"x": [1.0, None, 3.0, None], "y": list("abcd")})

    @op(version="1", config_schema=RERUN)
    def clean(_context: Any, df: pd.DataFrame) -> int:
        df.dropna(inplace=True)
        return len(df)

    @op(version="1", config_schema=RERUN)
    def count(_context: Any, df: pd.DataFrame) -> int:
        return len(df)

    @job(tags=MEMOIZED)
    def frames() -> None:
        df = frame()
        clean(df)
        count(df)

    first = frames.execute_in_process()
    assert (first.output_for_node("clean"), first.output_for_node("count")) == (2, 4)

    second = frames.execute_in_process(run_config=again("clean", "count"))

    assert call_log == ["frame"]
    assert (second.output_for_node("clean"), second.output_for_node("count")) == (2, 4)
    assert second.output_for_node("frame")["x"].isna().sum() == 2


def test_an_array_changed_in_place_by_a_consumer_is_whole_for_the_next_run() -> None:
    @op(version="1")
    def zeros() -> np.ndarray:
        return np.zeros(1_000_000)

    @op(version="1", config_schema=RERUN)
    def bump(_context: Any, a: np.ndarray) -> float:
        a += 1
        return float(a.sum())

    @job(tags=MEMOIZED)
    def arrays() -> None:
        bump(zeros())

    arrays.execute_in_process()
    second = arrays.execute_in_process(run_config=again("bump"))

    assert second.output_for_node("bump") == 1_000_000.0
    assert not second.output_for_node("zeros").any()


def test_plain_values_of_a_run_are_still_handed_on_as_they_are() -> None:
    produced: list[int] = [1]
    seen: list[bool] = []

    @op
    def make() -> list[int]:
        return produced

    @op
    def look(xs: list[int]) -> None:
        seen.append(xs is produced)

    @job
    def plain() -> None:
        look(make())

    plain.execute_in_process()

    assert seen == [True]


# --- values pickle cannot store -----------------------------------------------------------------


def unpicklable_job(call_log: list[str], kind: str) -> JobDefinition:
    @op(version="1")
    def handle() -> Any:
        call_log.append("handle")
        return (i for i in range(4)) if kind == "generator" else threading.Lock()

    @op(version="1")
    def use(value: Any) -> int:
        if kind == "generator":
            return sum(value)
        with value:
            return 6

    @job(tags=MEMOIZED, name=f"with_{kind}")
    def flow() -> None:
        use(handle())

    return flow


@pytest.mark.parametrize("kind", ["generator", "lock"])
def test_a_value_pickle_cannot_store_serves_its_run_and_its_step_runs_again(
    call_log: list[str], kind: str
) -> None:
    flow = unpicklable_job(call_log, kind)

    with pytest.warns(ValueNotKeptWarning, match=r"Output 'handle\.result' could not be pickled"):
        first = flow.execute_in_process()
    assert first.success
    assert first.output_for_node("use") == 6

    rows = {r.step_output: r for r in list_versions(flow)}
    assert rows["handle.result"].status == "to-be-recomputed"
    reason = rows["handle.result"].reasons[0]
    assert reason.startswith("value not kept between runs: pickle cannot store it (TypeError: ")
    assert "cannot pickle" in reason
    assert rows["use.result"].status == "stored"

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        second = flow.execute_in_process()
    assert second.success
    assert call_log == ["handle", "handle"]  # not kept: computed again
    assert memoized_steps(second) == {"use"}
    assert not [w for w in caught if issubclass(w.category, ValueNotKeptWarning)]  # said once


def test_a_persistent_instance_keeps_a_value_pickle_cannot_store_for_its_run_only(
    call_log: list[str], tmp_path: Path
) -> None:
    flow = unpicklable_job(call_log, "generator")

    with pytest.warns(ValueNotKeptWarning, match="could not be pickled"):
        first = flow.execute_in_process(instance=Instance.local(tmp_path))
    second = flow.execute_in_process(instance=Instance.local(tmp_path))

    assert first.success and second.success
    assert first.output_for_node("use") == 6
    assert call_log == ["handle", "handle"]
    assert memoized_steps(second) == {"use"}
    storage = tmp_path / "storage"
    assert len(stored_values(storage, "use")) == 1
    assert stored_values(storage, "handle") == []  # its manifest only, in the run history


def stored_values(storage: Path, step: str) -> list[str]:
    """The stored versions of ``step.result`` in an instance's (flat) store."""
    return [p.name for p in storage.iterdir() if p.name.startswith(f"{step}.result@")]
