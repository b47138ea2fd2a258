"""A live view always ends in a final state, and its progress counts finished steps only."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

import nbflow.notebook as nbn
from nbflow import job, op
from nbflow.errors import RunConfigValidationError
from nbflow.execution.views.graph_view import graph_view
from nbflow.notebook.live import INVALID_CONFIG, LiveView, Progress

if TYPE_CHECKING:
    from .conftest import DisplaySpy


@op(config_schema={"n": int})
def first(context: Any) -> int:
    return int(context.op_config["n"])


@op
def second(x: int) -> int:
    return x + 1


@op
def third(x: int) -> int:
    return x * 2


@job
def three() -> None:
    third(second(first()))


def pill_states(html: str) -> list[str]:
    """The states shown in the progress line's pill."""
    return re.findall(r"border-radius:9px;padding:0 7px\">([^<]+)</span>", html)


def test_a_bad_config_ends_the_view_as_invalid_config(display_spy: DisplaySpy) -> None:
    with pytest.raises(RunConfigValidationError):
        nbn.run(three, {"ops": {"first": {"config": {"n": "many"}}}})

    view = display_spy.view()
    final = view.last
    assert "nbflow-live-final" in final["text/html"]
    assert pill_states(final["text/html"]) == [INVALID_CONFIG]
    assert "interrupt the kernel" not in final["text/html"]  # no hint once it has ended
    assert "starting" not in final["text/html"]
    assert "0/3 steps done" in final["text/html"]
    assert final["text/plain"].startswith(f"three ({INVALID_CONFIG}): RunConfigValidationError")


def test_an_error_before_the_run_starts_ends_the_view_as_failed(
    display_spy: DisplaySpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(type(three), "execute_in_process", refuse)
    with pytest.raises(OSError, match="disk full"):
        nbn.run(three, {"ops": {"first": {"config": {"n": 1}}}})

    final = display_spy.view().last["text/html"]
    assert pill_states(final) == ["failed"] and "OSError: disk full" in final


def test_a_finished_run_ends_as_succeeded(display_spy: DisplaySpy) -> None:
    result = nbn.run(three, {"ops": {"first": {"config": {"n": 1}}}})

    final = display_spy.view().last["text/html"]
    assert result.success and pill_states(final)[0] == "succeeded"
    assert "3/3 steps done" in final


def test_progress_counts_finished_steps_and_running_ones_apart() -> None:
    view = LiveView(graph_view(three))
    counts = {"succeeded": 1, "memoized": 1, "running": 1}

    assert view.progress_text(counts) == "2/3 steps done · 1 running · 1 memoized"
    bar = view.progress_html(Progress(view.view, "running"), counts)
    widths = [float(w) for w in re.findall(r"width:([\d.]+)%", bar)]
    assert sum(widths) == pytest.approx(200 / 3, abs=0.1)  # the bar is 2/3 full, not 3/3
