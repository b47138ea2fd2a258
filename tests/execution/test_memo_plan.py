"""``plan_run``: which steps a memoized run would run and why, with times from the run history.

The job (``tests/fixtures/plan_jobs.py``) has ops that sleep 0.2 s and 0.05 s, stores its
outputs with the filesystem IO manager in a persistent instance's folder, and every estimate
is checked against the durations recorded in the events of the earlier runs.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
from plan_jobs import QUICK_S, SLOW_S, config, side, sleepy, unmemoized

from nbflow import MEMOIZED_RUN_TAG, Instance, graph, job, list_versions, op
from nbflow.errors import MemoizationOffError, NbflowError, NotAJobError
from nbflow.events import EventType
from nbflow.execution.engine.plan import build_plan
from nbflow.execution.views.graph_dot import STATUS_STYLES, to_dot
from nbflow.execution.views.list_versions import STORED, TO_BE_RECOMPUTED, VersionRow
from nbflow.execution.views.memo_plan import (
    MEMOIZED,
    RUN,
    decide,
    plan_run,
    plan_view,
)
from nbflow.versioning import NEVER_RUN, OUTPUT_MISSING

STEPS = ("slow", "quick", "side", "total")


@pytest.fixture
def instance(tmp_path: Path) -> Instance:
    return Instance.local(tmp_path / "home")


def recorded_seconds(instance: Instance, run_id: str) -> dict[str, float]:
    """Each step's duration as the run's STEP_SUCCESS events recorded it."""
    return {
        event.step_key: event.data.duration_ms / 1000
        for event in instance.get_events(run_id)
        if event.event_type is EventType.STEP_SUCCESS and event.step_key is not None
    }


def memoized_in(instance: Instance, run_id: str) -> set[str]:
    return {
        event.step_key
        for event in instance.get_events(run_id)
        if event.event_type is EventType.STEP_SKIPPED and event.data.memoized
    }


def run(instance: Instance, n: int) -> str:
    result = sleepy.execute_in_process(run_config=config(n), instance=instance)
    assert result.success
    return result.run_id


def test_before_any_run_every_step_runs_and_its_time_is_unknown(instance: Instance) -> None:
    plan = plan_run(sleepy, config(1), instance)

    assert [(r.step_key, r.action) for r in plan.rows] == [(s, RUN) for s in STEPS]
    assert all(r.reasons == (NEVER_RUN,) for r in plan.rows)
    assert all(r.expected_seconds is None for r in plan.rows)
    assert plan.expected_seconds is None
    assert str(plan.expected_run) == "unknown"
    assert plan.runs_read == 0
    assert "Expected run time: unknown (4 steps to run)" in str(plan)
    assert "Time saved: 0 s (0 steps memoized)" in str(plan)


def test_after_a_run_a_config_change_reruns_that_step_and_downstream_timed_by_that_run(
    instance: Instance,
) -> None:
    first = recorded_seconds(instance, run(instance, 1))
    assert first["slow"] >= SLOW_S and first["side"] >= QUICK_S  # the sleeps are measured

    plan = plan_run(sleepy, config(2), instance)

    assert plan.to_run == ("slow", "quick", "total")
    assert plan.memoized == ("side",)
    assert plan.row("slow").reasons == ("config key 'n' changed",)
    assert plan.row("quick").reasons == ("upstream 'slow.result' changed",)
    for step in STEPS:
        assert plan.row(step).expected_seconds == pytest.approx(first[step])
    assert plan.expected_seconds == pytest.approx(first["slow"] + first["quick"] + first["total"])
    assert plan.saved_seconds == pytest.approx(first["side"])
    assert plan.runs_read == 1

    second = sleepy.execute_in_process(run_config=config(2), instance=instance)
    assert memoized_in(instance, second.run_id) == set(plan.memoized)


def test_unchanged_job_is_all_memoized_and_saves_the_whole_first_run(instance: Instance) -> None:
    first = recorded_seconds(instance, run(instance, 1))

    plan = plan_run(sleepy, config(1), instance)

    assert plan.to_run == ()
    assert plan.expected_seconds == 0
    assert plan.saved_seconds == pytest.approx(sum(first.values()))


def test_expected_time_is_the_median_of_the_latest_successful_executions(
    instance: Instance,
) -> None:
    runs = [recorded_seconds(instance, run(instance, n)) for n in (1, 2, 3, 4)]

    plan = plan_run(sleepy, config(5), instance)

    # slow ran in every run: the median of the newest three; side only in the first run
    assert plan.row("slow").expected_seconds == pytest.approx(
        statistics.median(r["slow"] for r in runs[1:])
    )
    assert plan.row("side").expected_seconds == pytest.approx(runs[0]["side"])
    assert plan.runs_read == 4


def test_runs_of_another_job_with_the_same_step_keys_are_not_used(
    instance: Instance, tmp_path: Path
) -> None:
    unmemoized.execute_in_process(run_config=config(1), instance=instance)

    plan = plan_run(sleepy, config(1), instance)

    assert all(r.expected_seconds is None for r in plan.rows)


def stored_path(instance: Instance, step_output: str, n: int) -> Path:
    rows = {r.step_output: r for r in list_versions(sleepy, config(n), instance)}
    return Path(instance.storage_dir) / f"{step_output}@{rows[step_output].version}"


def test_a_missing_output_reruns_its_step_but_not_the_steps_after_it(instance: Instance) -> None:
    run(instance, 1)
    stored_path(instance, "slow.result", 1).unlink()

    plan = plan_run(sleepy, config(1), instance)

    assert plan.to_run == ("slow",)
    assert plan.row("slow").reasons == (OUTPUT_MISSING,)
    again = sleepy.execute_in_process(run_config=config(1), instance=instance)
    assert memoized_in(instance, again.run_id) == set(plan.memoized)


def test_a_step_stored_for_the_upstream_version_stays_memoized_when_the_upstream_reruns(
    instance: Instance,
) -> None:
    run(instance, 1)
    run(instance, 2)  # slow's latest manifest is now n=2
    stored_path(instance, "slow.result", 1).unlink()

    plan = plan_run(sleepy, config(1), instance)

    # slow must run (its latest record says n=2), but quick stored n=1's result
    assert plan.to_run == ("slow",)
    assert plan.row("slow").reasons == ("config key 'n' changed",)
    again = sleepy.execute_in_process(run_config=config(1), instance=instance)
    assert memoized_in(instance, again.run_id) == set(plan.memoized)


def test_consumers_of_a_step_that_runs_are_listed_to_run_and_early_cutoff_may_skip_them(
    instance: Instance,
) -> None:
    run(instance, 1)
    plan = plan_run(sleepy, config(2), instance)

    assert set(plan.to_run) >= {"slow", "quick"}
    assert "may still be memoized if that step's value comes out unchanged" in plan.summary()


def test_decide_runs_exactly_the_steps_with_an_output_to_recompute() -> None:
    execution_plan = build_plan(sleepy)
    rows = {f"{s}.result": VersionRow(f"{s}.result", "v", STORED, ()) for s in STEPS}
    rows["quick.result"] = VersionRow("quick.result", "v", TO_BE_RECOMPUTED, ("code changed",))

    assert decide(execution_plan.steps.values(), rows) == {
        "slow": (MEMOIZED, ()),
        "quick": (RUN, ("code changed",)),
        "side": (MEMOIZED, ()),
        "total": (MEMOIZED, ()),
    }


def test_the_plan_view_colours_steps_to_run_and_memoized_steps(instance: Instance) -> None:
    run(instance, 1)
    plan = plan_run(sleepy, config(2), instance)

    view = plan_view(sleepy, plan)
    dot = to_dot(view)

    assert {n.key: n.status for n in view.nodes} == {
        "slow": TO_BE_RECOMPUTED,
        "quick": TO_BE_RECOMPUTED,
        "side": STORED,
        "total": TO_BE_RECOMPUTED,
    }
    run_style, stored_style = STATUS_STYLES[TO_BE_RECOMPUTED], STATUS_STYLES[STORED]
    slow_line = next(line for line in dot.splitlines() if line.strip().startswith('"slow"'))
    side_line = next(line for line in dot.splitlines() if line.strip().startswith('"side"'))
    assert f'fillcolor="{run_style.fill}"' in slow_line
    assert "config key 'n' changed" in slow_line
    assert f'fillcolor="{stored_style.fill}"' in side_line
    assert "memoized (expected " in side_line


def test_a_job_that_is_not_memoized_is_refused_with_the_fix() -> None:
    with pytest.raises(MemoizationOffError, match="Job 'unmemoized' does not run memoized") as e:
        plan_run(unmemoized, config(1))

    assert isinstance(e.value, NbflowError)
    assert "no version strategy and no nbflow/is_memoized_run tag" in str(e.value)
    assert "version_strategy=SourceHashVersionStrategy()" in str(e.value)


def test_a_graph_is_refused_with_the_fix() -> None:
    @graph
    def g() -> None:
        side()

    with pytest.raises(NotAJobError, match="A memo plan needs a job, but got GraphDefinition 'g'"):
        plan_run(g)  # type: ignore[arg-type]


def test_memoization_turned_off_by_a_tag_is_named_in_the_error() -> None:
    with pytest.raises(MemoizationOffError, match="its tags set nbflow/is_memoized_run='false'"):
        plan_run(sleepy, config(1), tags={MEMOIZED_RUN_TAG: "false"})


def test_the_memoization_tag_turns_planning_on_for_versioned_ops() -> None:
    @op(version="1")
    def one() -> int:
        return 1

    @job(tags={MEMOIZED_RUN_TAG: "true"})
    def tagged() -> None:
        one()

    plan = plan_run(tagged)

    assert plan.to_run == ("one",)
