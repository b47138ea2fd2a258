"""``load_ipython_extension``: jobs, graphs and results display richly; failures stay silent."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from IPython.core.formatters import DisplayFormatter

import nbflow.notebook as nbn
from nbflow import graph, job, op
from nbflow.notebook import _ipython
from nbflow.notebook.summary import ResultDisplay, result_html, show_result


@op
def fetch() -> int:
    return 2


@op
def double(x: int) -> int:
    return 2 * x


@op
def explode(x: int) -> int:
    raise RuntimeError("the dam broke")


@graph
def doubling() -> Any:
    return double(fetch())


@job
def small() -> None:
    double(fetch())


@job
def broken() -> None:
    double(explode(fetch()))


class Shell:
    """What the extension uses of an IPython shell: its display formatter."""

    def __init__(self) -> None:
        self.display_formatter = DisplayFormatter()


@pytest.fixture
def shell() -> Shell:
    ip = Shell()
    nbn.load_ipython_extension(ip)
    return ip


def test_a_job_displays_as_its_fitted_dag_and_as_svg_and_keeps_its_text(shell: Shell) -> None:
    data, _ = shell.display_formatter.format(small)

    assert set(data) == {"text/html", "image/svg+xml", "text/plain"}
    assert data["text/plain"] == "<JobDefinition small>"
    ET.fromstring(data["image/svg+xml"].encode())
    assert 'class="nbflow-dag-toolbar"' in data["text/html"]
    assert "<svg" in data["text/html"] and "<?xml" not in data["text/html"]


def test_a_graph_displays_as_svg(shell: Shell) -> None:
    data, _ = shell.display_formatter.format(doubling)

    assert "image/svg+xml" in data
    assert ">fetch<" in data["image/svg+xml"]


def test_a_result_displays_as_a_summary_table_with_its_dag(shell: Shell) -> None:
    result = broken.execute_in_process(raise_on_error=False)

    data, _ = shell.display_formatter.format(result)

    html = data["text/html"]
    assert html.startswith('<div class="nbflow-result">')
    assert f"<b>Run {result.run_id[:8]}</b> of job <code>broken</code>" in html
    assert "3 steps: 1 succeeded, 1 failed, 1 skipped" in html
    assert "RuntimeError: the dam broke" in html
    assert "<svg" in html and "<?xml" not in html and "<!DOCTYPE" not in html
    assert data["text/plain"].startswith("<ExecuteInProcessResult broken ")


@pytest.mark.parametrize("target", ["svg", "html"])
def test_a_failing_formatter_prints_nothing_and_falls_back_to_text(
    shell: Shell,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    target: str,
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("renderer on fire")

    monkeypatch.setattr("nbflow.notebook.dag.DagDisplay", fail)
    monkeypatch.setattr("nbflow.notebook.summary.result_html", fail)
    obj: Any = small if target == "svg" else small.execute_in_process()

    data, _ = shell.display_formatter.format(obj)

    assert set(data) == {"text/plain"}
    assert capfd.readouterr() == ("", "")


def test_unloading_removes_the_formatters(shell: Shell) -> None:
    nbn.unload_ipython_extension(shell)

    data, _ = shell.display_formatter.format(small)

    assert set(data) == {"text/plain"}


def test_the_formatters_cover_jobs_graphs_and_results() -> None:
    assert [(m, c.__name__) for m, c, _ in _ipython._REGISTERED] == [
        ("image/svg+xml", "JobDefinition"),
        ("image/svg+xml", "GraphDefinition"),
        ("text/html", "JobDefinition"),
        ("text/html", "GraphDefinition"),
        ("text/html", "ExecuteInProcessResult"),
    ]


def test_show_result_works_without_the_extension() -> None:
    result = small.execute_in_process()

    display = show_result(result, engine="builtin")

    html = display._repr_html_()
    assert html is not None and "nbflow-builtin" in html
    assert repr(display).splitlines()[1].startswith("  fetch  succeeded  ")


def test_a_result_display_that_fails_returns_none_and_a_plain_repr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    display = ResultDisplay(small.execute_in_process())

    def fail(*args: object) -> None:
        raise RuntimeError("no rows")

    monkeypatch.setattr("nbflow.notebook.summary.result_rows", fail)

    assert display._repr_html_() is None
    assert repr(display) == "<ResultDisplay>"


def test_the_result_html_marks_memoized_steps_and_shortens_versions(tmp_path: Any) -> None:
    from nbflow import MEMOIZED_RUN_TAG

    @op(version="7")
    def constant() -> int:
        return 7

    @job(tags={MEMOIZED_RUN_TAG: "true"})
    def remembered() -> None:
        constant()

    remembered.execute_in_process()
    html = result_html(remembered.execute_in_process(), engine="builtin")

    assert ">memoized</span>" in html
    assert "<td" in html and ">yes<" in html
    assert "…</code>" in html


def test_the_result_html_says_why_a_step_below_a_rerun_step_stayed_memoized() -> None:
    from nbflow import MEMOIZED_RUN_TAG

    def build(salt: str) -> Any:
        @op(version=salt, name="source")
        def source() -> int:
            return 3

        @op(version="1")
        def below(x: int) -> int:
            return x + 1

        @job(tags={MEMOIZED_RUN_TAG: "true"}, name="cutoff_display")
        def cutoff_display() -> None:
            below(source())

        return cutoff_display

    build("a").execute_in_process()
    html = result_html(build("b").execute_in_process(), engine="builtin")

    assert "upstream &#x27;source&#x27; re-ran; its value is unchanged" in html
