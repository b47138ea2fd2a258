"""How run tables read: durations in human units, the time a memoized step saved, notes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

import nbflow.notebook as nbn
from nbflow import Instance, SourceHashVersionStrategy, asset, job, materialize_to_memory, op
from nbflow.notebook import _time_saved
from nbflow.notebook.durations import human_duration
from nbflow.storage import clear_memoized_values

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    ("ms", "shown"),
    [
        (None, ""),
        (0.37, "0.4 ms"),
        (175.851, "176 ms"),
        (999.4, "999 ms"),
        (999.6, "1.0 s"),
        (2_345, "2.3 s"),
        (12_400, "12 s"),
        (60_000, "1 min"),
        (252_000, "4 min 12 s"),
        (3_600_000, "1 h"),
        (3_790_000, "1 h 3 min"),
    ],
)
def test_durations_read_in_the_unit_that_fits(ms: float | None, shown: str) -> None:
    assert human_duration(ms) == shown


@op(config_schema={"n": int})
def count_to(context: Any) -> list[int]:
    return list(range(context.op_config["n"]))


@op
def total(xs: list[int]) -> int:
    return sum(xs)


@job(version_strategy=SourceHashVersionStrategy())
def counting() -> None:
    total(count_to())


CONFIG = {"ops": {"count_to": {"config": {"n": 4}}}}


@pytest.fixture(autouse=True)
def _fresh() -> None:
    clear_memoized_values()
    _time_saved._seen.clear()


def test_a_memoized_step_shows_the_time_the_run_that_stored_it_took() -> None:
    first = counting.execute_in_process(run_config=CONFIG)
    took = {s.step_key: s.duration_ms for s in first.step_summaries()}
    nbn.result_frame(first)  # shown in the notebook: its durations are remembered

    frame = nbn.result_frame(counting.execute_in_process(run_config=CONFIG))

    assert list(frame["status"]) == ["memoized", "memoized"]
    assert list(frame["time_saved"]) == [
        human_duration(took["count_to"]),
        human_duration(took["total"]),
    ]
    assert list(frame["duration"]) == ["", ""]
    assert list(frame["note"]) == ["stored value reused"] * 2


def test_the_time_saved_is_found_in_a_persistent_instances_history(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path / "home")
    first = counting.execute_in_process(run_config=CONFIG, instance=instance)
    took = {s.step_key: s.duration_ms for s in first.step_summaries()}
    second = counting.execute_in_process(run_config=CONFIG, instance=instance)

    assert set(nbn.result_frame(second)["time_saved"]) == {""}  # this process never saw it
    frame = nbn.result_frame(second, instance=instance)

    assert list(frame["time_saved"]) == [
        human_duration(took["count_to"]),
        human_duration(took["total"]),
    ]


def test_a_step_that_ran_shows_its_duration_and_no_time_saved() -> None:
    frame = nbn.result_frame(counting.execute_in_process(run_config=CONFIG))

    assert list(frame["status"]) == ["succeeded", "succeeded"]
    assert all(d.endswith(" ms") for d in frame["duration"])
    assert list(frame["time_saved"]) == ["", ""]
    assert "detail" not in frame.columns and "duration_ms" not in frame.columns


def test_the_summary_table_says_what_a_memoized_step_saved() -> None:
    first = counting.execute_in_process(run_config=CONFIG)
    took = {s.step_key: s.duration_ms for s in first.step_summaries()}
    nbn.result_html(first)

    html = nbn.result_html(counting.execute_in_process(run_config=CONFIG))

    assert f"(saved {human_duration(took['total'])})" in html
    assert "<th" in html and ">Note</th>" in html


def test_assets_run_without_a_job_are_named_by_their_assets() -> None:
    @asset
    def numbers() -> list[int]:
        return [1, 2]

    @asset
    def summed(numbers: list[int]) -> int:
        return sum(numbers)

    result = materialize_to_memory([numbers, summed])

    html = nbn.result_html(result)
    assert "of assets numbers, summed" in html or "of assets summed, numbers" in html
    assert "materialize" not in html  # the DAG's caption (its SVG title) included
    assert "materialize" not in nbn.show_graph(result).svg
    assert "materialize" not in repr(nbn.show_result(result))
    assert "materialize" not in str(nbn.explain(result))
