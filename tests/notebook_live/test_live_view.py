"""nbn.run / nbn.start: the DAG and progress bar update while a run goes on, then show the
final state (DAG + summary table), in process, with multiprocess and with Dask; cancel."""

from __future__ import annotations

import _thread
import importlib
import re
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import nbflow.notebook as nbn
from nbflow import MEMOIZED_RUN_TAG, Field, asset, job, op
from nbflow.dask import dask_executor
from nbflow.errors import LiveRunError, RunConfigValidationError
from nbflow.execution.views.graph_dot import STATUS_STYLES
from nbflow.notebook import live
from nbflow.storage.run import RunStatus

if TYPE_CHECKING:
    from .conftest import DisplaySpy

live_jobs: Any = importlib.import_module("live_jobs")
process_check: Any = importlib.import_module("process_check")

FILL = {status: style.fill for status, style in STATUS_STYLES.items()}


def svg_of(html: str) -> str:
    found = re.search(r"<svg.*?</svg>", html, re.S)
    assert found, "no SVG in the view"
    return found.group(0)


def texts(output: Any) -> list[str]:
    return [bundle["text/plain"] for bundle in output.shown]


@op(config_schema={"seconds": float})
def pause(context: Any, value: int) -> int:
    time.sleep(context.op_config["seconds"])
    return value + 1


@op
def start_value() -> int:
    return 0


@job
def four_pauses() -> None:
    value = start_value()
    for i in range(4):
        value = pause.alias(f"pause_{i}")(value)


def pauses_config(seconds: float) -> dict[str, Any]:
    return {"ops": {f"pause_{i}": {"config": {"seconds": seconds}} for i in range(4)}}


def test_in_process_run_updates_the_view_then_shows_dag_and_summary(
    display_spy: DisplaySpy,
) -> None:
    result = nbn.run(four_pauses, pauses_config(0.3))

    assert result.success and result.output_for_node("pause_3") == 4
    output = display_spy.view()
    assert output.updates >= 3  # several redraws while it ran, then the final state
    seen = texts(output)
    assert any("1 running (running)" in t for t in seen[:-1])
    done_counts = [int(m.group(1)) for t in seen[:-1] if (m := re.search(r"(\d)/5 steps", t))]
    assert done_counts == sorted(done_counts) and done_counts[-1] >= 2  # moves forward
    final = output.last["text/html"]
    assert "nbflow-live-final" in final and "5/5 steps" in final
    assert "<table" in final and "pause_3" in final  # the summary table
    dag = svg_of(final)
    assert FILL["succeeded"] in dag and FILL["running"] not in dag
    assert output.last["text/plain"].startswith(repr(result))


def test_run_returns_at_once_for_a_quick_run_drawn_once_finished(display_spy: DisplaySpy) -> None:
    result = nbn.run(four_pauses, pauses_config(0.0), interval=5.0)
    output = display_spy.view()
    assert result.success
    assert output.updates == 0 and "nbflow-live-final" in output.last["text/html"]


@op(version="1", config_schema={"tag": str})
def base(context: Any) -> str:
    return context.op_config["tag"]


@op(version="1", config_schema={"fail": Field(bool, default_value=False)})
def middle(context: Any, value: str) -> str:
    if context.op_config["fail"]:
        raise RuntimeError("middle was told to fail")
    return value + "-m"


@op(version="1")
def tail(value: str) -> str:
    return value + "-t"


@op(version="1", config_schema={"n": int})
def side(context: Any, value: str) -> str:
    return f"{value}-{context.op_config['n']}"


@job(tags={MEMOIZED_RUN_TAG: "true"})
def memoized_job() -> None:
    value = base()
    tail(middle(value))
    side(value)


def test_final_state_has_every_status_colour_memoized_failed_skipped_succeeded(
    display_spy: DisplaySpy,
) -> None:
    tag = uuid.uuid4().hex  # fresh versions: nothing stored by other tests
    first = {"ops": {"base": {"config": {"tag": tag}}, "side": {"config": {"n": 1}}}}
    assert nbn.run(memoized_job, first).success
    second = {
        "ops": {
            "base": {"config": {"tag": tag}},
            "middle": {"config": {"fail": True}},
            "side": {"config": {"n": 2}},
        }
    }
    result = nbn.run(memoized_job, second)

    assert result.run.status is RunStatus.FAILURE
    statuses = {s.step_key: s.status for s in result.step_summaries()}
    assert statuses == {
        "base": "memoized",
        "middle": "failed",
        "tail": "skipped",
        "side": "succeeded",
    }
    final = display_spy.views()[-1].last["text/html"]
    dag = svg_of(final)
    for status in ("memoized", "failed", "skipped", "succeeded"):
        assert FILL[status] in dag, status
    assert "middle was told to fail" in final  # the summary says why
    assert "4/4 steps" in final and "1 memoized" in final and "1 failed" in final


def test_multiprocess_run_streams_updates_and_ends_with_the_summary(
    display_spy: DisplaySpy, tmp_path: Path
) -> None:
    mp_jobs: Any = importlib.import_module("mp_jobs")
    config = mp_jobs.recorder_config(tmp_path, max_concurrent=2)
    result = nbn.run(mp_jobs.sleepers(4, 0.4), config, executor="job")

    assert result.success
    output = display_spy.view()
    assert output.updates >= 2
    assert any("2 running" in t for t in texts(output)[:-1])  # max_concurrent 2, streamed
    final = output.last["text/html"]
    assert "4/4 steps" in final and "<table" in final
    assert FILL["succeeded"] in svg_of(final) and FILL["running"] not in svg_of(final)
    assert process_check.leftover_processes() == []


def test_dask_run_delivers_events_per_step_and_ends_with_the_summary(
    display_spy: DisplaySpy,
) -> None:
    job_def, config = live_jobs.napping_chain(3, 0.4, executor_def=dask_executor)
    config["execution"] = {"config": {"n_workers": 2}}
    result = nbn.run(job_def, config, executor="job")

    assert result.success and result.output_for_node("nap_2") == 3
    output = display_spy.view()
    assert output.updates >= 2
    seen = texts(output)[:-1]
    assert any("1 running" in t for t in seen)  # submitted to Dask
    assert any(re.search(r"[1-3]/4 steps", t) for t in seen)  # steps reported as they end
    final = output.last["text/html"]
    assert "4/4 steps" in final and "nap_2" in final and "<table" in final
    assert process_check.leftover_processes() == []


def test_assets_run_with_materialize_to_memory(display_spy: DisplaySpy) -> None:
    @asset
    def numbers() -> list[int]:
        return [1, 2, 3]

    @asset
    def total(numbers: list[int]) -> int:
        return sum(numbers)

    result = nbn.run([numbers, total])
    assert result.success and result.asset_value("total") == 6
    assert "2/2 steps" in display_spy.view().last["text/html"]


# --- cancel ----------------------------------------------------------------------------------


def wait_until(check: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def step_started(live_run: Any, key: str) -> bool:
    return any(
        e.step_key == key and e.event_type.name == "STEP_START" for e in live_run.view.events
    )


def test_in_process_run_canceled_from_the_cancel_button_skips_later_steps(
    display_spy: DisplaySpy,
) -> None:
    live_run = nbn.start(four_pauses, pauses_config(0.4))
    button = display_spy.outputs[0].shown[0]  # the Cancel button, displayed above the view
    assert button.description == "Cancel run"
    wait_until(lambda: step_started(live_run, "pause_1"))
    button.click()
    result = live_run.wait(30)

    assert result.run.status is RunStatus.CANCELED
    statuses = {s.step_key: s.status for s in result.step_summaries()}
    assert statuses["pause_1"] == "succeeded"  # the running step finishes
    assert statuses["pause_2"] == statuses["pause_3"] == "skipped"
    assert button.disabled
    assert display_spy.outputs[0].last == {"text/plain": ""}  # the button's output emptied
    final = display_spy.view().last["text/html"]
    assert ">canceled<" in final and FILL["skipped"] in svg_of(final)
    assert live_run.done() and live_run.result is result


def test_kernel_interrupt_cancels_a_foreground_run(display_spy: DisplaySpy) -> None:
    def interrupt_when_running() -> None:
        wait_until(lambda: bool(display_spy.views()))  # the view is up: the run goes on
        _thread.interrupt_main()  # what Jupyter's interrupt does to the kernel

    threading.Thread(target=interrupt_when_running, daemon=True).start()
    result = nbn.run(four_pauses, pauses_config(0.4))

    assert result.run.status is RunStatus.CANCELED
    statuses = [s.status for s in result.step_summaries()]
    assert statuses[-1] == "skipped" and statuses[0] == "succeeded"
    assert any("(canceling)" in t for t in texts(display_spy.view()))


def test_multiprocess_run_canceled_while_a_long_step_sleeps_ends_quickly(
    display_spy: DisplaySpy,
) -> None:
    started = time.monotonic()
    live_run = nbn.start(live_jobs.long_then_more, live_jobs.LONG_CONFIG, executor="job")
    wait_until(lambda: step_started(live_run, "sleep_a_minute"))
    live_run.cancel()
    result = live_run.wait(30)

    assert time.monotonic() - started < 20
    assert result.run.status is RunStatus.CANCELED
    statuses = {s.step_key: s.status for s in result.step_summaries()}
    assert statuses["sleep_a_minute"] == "failed" and statuses["after"] == "skipped"
    assert process_check.leftover_processes() == []
    assert ">canceled<" in display_spy.view().last["text/html"]


# --- errors and plain Python -----------------------------------------------------------------


def test_invalid_run_config_is_shown_and_raised(display_spy: DisplaySpy) -> None:
    with pytest.raises(RunConfigValidationError, match="seconds"):
        nbn.run(four_pauses, {"ops": {"pause_0": {"config": {"seconds": "slow"}}}})
    final = display_spy.view().last
    assert "RunConfigValidationError" in final["text/html"] and "seconds" in final["text/plain"]


def test_raise_on_error_raises_the_step_error_after_showing_it(display_spy: DisplaySpy) -> None:
    config = {
        "ops": {
            "base": {"config": {"tag": uuid.uuid4().hex}},
            "middle": {"config": {"fail": True}},
            "side": {"config": {"n": 1}},
        }
    }
    with pytest.raises(Exception, match="middle was told to fail"):
        nbn.run(memoized_job, config, raise_on_error=True)
    final = display_spy.view().last["text/html"]
    assert "middle was told to fail" in final and FILL["failed"] in svg_of(final)


def test_what_cannot_be_run_is_refused_with_the_fix() -> None:
    with pytest.raises(LiveRunError, match="expected a JobDefinition"):
        nbn.run(42)
    with pytest.raises(LiveRunError, match="Did you mean 'in_process'"):
        nbn.run(four_pauses, executor="in_proces")
    with pytest.raises(LiveRunError, match='resources= cannot be used with executor="job"'):
        nbn.run(four_pauses, executor="job", resources={"x": 1})
    with pytest.raises(LiveRunError, match="op_selection= cannot be used with a list of assets"):
        nbn.run([numbers_asset], op_selection=["x"])


@asset
def numbers_asset() -> int:
    return 1


def test_outside_ipython_only_the_final_text_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert not live.in_ipython()
    result = nbn.run(four_pauses, pauses_config(0.2))
    printed = capsys.readouterr().out
    assert result.success
    assert printed.strip().startswith(repr(result)) and printed.count("ExecuteInProcessResult") == 1


def test_updates_are_throttled(display_spy: DisplaySpy) -> None:
    @op
    def tick(value: int) -> int:
        time.sleep(0.002)
        return value + 1

    @job
    def many_ticks() -> None:
        value = start_value()
        for i in range(150):
            value = tick.alias(f"tick_{i}")(value)

    started = time.monotonic()
    nbn.run(many_ticks, interval=0.2)
    took = time.monotonic() - started
    output = display_spy.view()
    assert output.updates <= took / 0.2 + 2  # never more than one redraw per interval


def test_slow_drawings_are_redrawn_less_often(
    display_spy: DisplaySpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "DRAW_SHARE", 4.0)
    real_draw = live.draw_svg

    def slow_draw(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.25)  # like dot on a very big DAG
        return real_draw(*args, **kwargs)

    monkeypatch.setattr(live, "draw_svg", slow_draw)
    started = time.monotonic()
    nbn.run(four_pauses, pauses_config(0.5), interval=0.05)
    took = time.monotonic() - started
    # each redraw takes >= 0.25 s, so the next waits >= 1 s: not one per 0.05 s interval
    assert display_spy.view().updates <= took / 1.0 + 2
