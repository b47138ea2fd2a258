"""The notebook views of a job with dynamic outputs name the mapped op, ``op[*]``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import nbflow.notebook as nbn
from nbflow import DynamicOut, DynamicOutput, Instance, SourceHashVersionStrategy, job, op

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@op(out=DynamicOut())
def rows() -> Iterator[DynamicOutput]:
    for key in ["x", "y"]:
        yield DynamicOutput(ord(key), mapping_key=key)


@op
def scaled(row: int) -> int:
    return row * 10


@op
def listed(values: list) -> list:  # type: ignore[type-arg]
    return values


@job(version_strategy=SourceHashVersionStrategy())
def rows_job() -> None:
    listed(rows().map(scaled).collect())


def test_version_table_has_one_row_for_the_mapped_op(tmp_path: Path) -> None:
    table = nbn.version_table(rows_job, instance=Instance.local(tmp_path))
    assert list(table["Step Output"]) == ["rows.result", "scaled[*].result", "listed.result"]
    assert "mapped over 'rows.result'" in table["Reasons"][1]


def test_show_graph_draws_the_mapped_op() -> None:
    display = nbn.show_graph(rows_job, engine="builtin")
    text = display._repr_mimebundle_()["text/plain"]
    assert text.splitlines()[0] == "rows_job: 3 nodes (3 pending)"
    assert "scaled[*]" in text
    assert "scaled[*]" in display.drawing().svg


def test_the_plan_shows_the_mapped_op_to_run(tmp_path: Path) -> None:
    shown = nbn.plan(rows_job, instance=Instance.local(tmp_path), engine="builtin")
    html = shown._repr_html_()
    assert html is not None
    assert "<code>scaled[*]</code>" in html
    assert '"scaled[*]" [' in shown.dag().source
