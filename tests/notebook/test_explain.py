"""``nbn.explain``: a run told step by step, before it happens and after."""

from __future__ import annotations

from typing import Any

import pytest

import nbflow.notebook as nbn
from nbflow import MEMOIZED_RUN_TAG, SourceHashVersionStrategy, job, op
from nbflow.errors import RunConfigValidationError
from nbflow.storage import clear_memoized_values


@op(version="1", config_schema={"word": str})
def pick(context: Any) -> str:
    return str(context.op_config["word"])


@op(version="1")
def fixed() -> str:
    return "dog"


@op(version="1")
def sentence(word: str, animal: str) -> str:
    return f"{animal} and {word}"


@job(version_strategy=SourceHashVersionStrategy())
def told() -> None:
    sentence(pick(), fixed())


@op(version="1")
def plain() -> int:
    return 1


@job
def unmemoized() -> None:
    plain()


def config(word: str) -> dict[str, Any]:
    return {"ops": {"pick": {"config": {"word": word}}}}


@pytest.fixture(autouse=True)
def _fresh_memo() -> None:
    clear_memoized_values()


def test_before_any_run_every_step_runs_in_order_with_what_feeds_it() -> None:
    told_now = nbn.explain(told, config("fir"))

    assert [s.step for s in told_now.steps] == ["pick", "fixed", "sentence"]
    assert {s.action for s in told_now.steps} == {"runs"}
    assert told_now.steps[2].after == ("pick", "fixed")
    assert str(told_now).splitlines() == [
        "What a run of job 'told' would do, step by step:",
        "1. pick runs: never run.",
        "2. fixed runs: never run.",
        "3. sentence runs (after pick, fixed): never run.",
        "In all: 3 steps run, 0 steps reused from storage.",
    ]


def test_after_a_run_a_changed_config_reruns_its_step_and_what_reads_it() -> None:
    told.execute_in_process(run_config=config("fir"))

    again = nbn.explain(told, config("maple"))

    actions = {s.step: s.action for s in again.steps}
    assert actions == {
        "pick": "runs",
        "fixed": "is reused from storage",
        "sentence": "runs",
    }
    reasons = {s.step: s.reasons for s in again.steps}
    assert reasons["pick"] == ("config key 'word' changed",)
    assert reasons["sentence"] == ("upstream 'pick.result' changed",)
    assert again.total == "In all: 2 steps run, 1 step reused from storage."
    html = again._repr_html_()
    assert html.startswith('<div class="nbflow-explain">') and "<ol" in html
    assert "config key &#x27;word&#x27; changed" in html


def test_a_finished_run_says_what_each_step_did_and_the_time_reuse_saved() -> None:
    first = told.execute_in_process(run_config=config("fir"))
    nbn.result_frame(first)  # the notebook has seen the run that stored the values
    second = told.execute_in_process(run_config=config("maple"))

    did = nbn.explain(second)

    assert did.title == f"What run {second.run_id[:8]} of job 'told' did"
    actions = {s.step: s.action for s in did.steps}
    assert actions == {"pick": "ran", "fixed": "was reused from storage", "sentence": "ran"}
    (fixed_step,) = [s for s in did.steps if s.step == "fixed"]
    assert any(r.startswith("that saved ") for r in fixed_step.reasons)
    assert did.total == "In all: 2 steps ran, 1 step reused from storage."


def test_a_job_that_is_not_memoized_runs_every_step_every_time() -> None:
    unmemoized.execute_in_process()

    told_now = nbn.explain(unmemoized)

    assert [(s.step, s.action) for s in told_now.steps] == [("plain", "runs")]
    assert "not memoized" in told_now.total and "version_strategy" in told_now.total
    memoized = nbn.explain(unmemoized, tags={MEMOIZED_RUN_TAG: "true"})
    assert [s.reasons for s in memoized.steps] == [("never run",)]


def test_a_bad_config_is_refused_with_the_config_error() -> None:
    with pytest.raises(RunConfigValidationError):
        nbn.explain(told, {"ops": {"pick": {"config": {"word": 3}}}})
