"""The notebook views show the job as its definitions are now: version table, DAG, live run.

Cells run in one module namespace (``tests/fixtures/cells.py``); the kernel itself is
exercised in ``tests/notebook_kernel/test_kernel_redefinition.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from cells import Cells, steps_that_ran

import nbflow.notebook as nbn
from nbflow.definitions.code_location import (
    register_location_describer,
    unregister_location_describer,
)
from nbflow.errors import RedefinitionError
from nbflow.notebook._cell_location import CellLocations
from nbflow.storage import clear_memoized_values

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

REASON = "op 'scale' redefined after job 'pipeline' was built"


@pytest.fixture(autouse=True)
def fresh_memo() -> Iterator[None]:
    clear_memoized_values()
    yield
    clear_memoized_values()


@pytest.fixture
def cells() -> Iterator[Cells]:
    namespace = Cells()
    namespace.run(
        """
        from nbflow import SourceHashVersionStrategy, job, op

        @op
        def load():
            return 2

        @op
        def scale(x):
            return x * 10

        @op
        def total(x):
            return x + 1
        """
    )
    namespace.run(
        """
        @job(version_strategy=SourceHashVersionStrategy())
        def pipeline():
            total(scale(load()))
        """
    )
    namespace["pipeline"].execute_in_process()
    yield namespace
    namespace.close()


def test_version_table_shows_the_redefinition_as_a_reason(cells: Cells) -> None:
    cells.run(
        """
        @op
        def scale(x):
            return x * 100
        """
    )
    table = nbn.version_table(cells["pipeline"])
    rows = {row["Step Output"]: row for _, row in table.iterrows()}

    assert rows["scale.result"]["Status of Output"] == "to-be-recomputed"
    assert REASON in rows["scale.result"]["Reasons"]
    assert rows["load.result"]["Status of Output"] == "stored"
    assert REASON not in rows["total.result"]["Reasons"]


def test_show_graph_with_versions_shows_the_rebuilt_job(cells: Cells) -> None:
    cells.run(
        """
        @op
        def scale(x):
            return x * 100
        """
    )
    view = nbn.show_graph(cells["pipeline"], with_versions=True).view
    nodes = {node.key: node for node in view.nodes}

    assert nodes["load"].status == "stored"
    assert nodes["scale"].status == "to-be-recomputed"
    assert REASON in nodes["scale"].tooltip


def test_run_runs_the_redefined_op(cells: Cells) -> None:
    cells.run(
        """
        @op
        def scale(x):
            return x * 100
        """
    )
    result = nbn.run(cells["pipeline"])

    assert result.output_for_node("total") == 201
    assert steps_that_ran(result) == ["scale", "total"]


def test_run_of_a_job_that_no_longer_fits_raises_before_showing_anything(
    cells: Cells, capsys: pytest.CaptureFixture[str]
) -> None:
    cells.run(
        """
        @op
        def scale():
            return 1
        """
    )
    with pytest.raises(RedefinitionError, match="op 'scale'"):
        nbn.run(cells["pipeline"])
    assert capsys.readouterr().out == ""


class _Labels:
    """A describer that names every cell of one namespace by its file name."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def describe_code(self, filename: str, line: int) -> str | None:
        if filename.startswith("<cell ") and self.prefix in filename:
            return f"Cell In[{filename.split()[1]}], line {line}"
        return None

    def describe_binding(self, namespace: Mapping[str, Any], name: str) -> str | None:
        return None


def test_a_registered_describer_names_cells_in_the_message(cells: Cells) -> None:
    labels = _Labels(cells.module.__name__)
    register_location_describer(labels)
    cells.run(
        """
        @op
        def scale():
            return 1
        """
    )
    try:
        with pytest.raises(RedefinitionError) as raised:
            cells["pipeline"].execute_in_process()
    finally:
        unregister_location_describer(labels)

    message = str(raised.value)
    assert "op 'scale' (Cell In[3], line 1) was redefined" in message
    assert "Fix: re-run the cell that builds 'pipeline' (Cell In[2], line 1)" in message


def test_cell_locations_say_nothing_outside_ipython() -> None:
    describer = CellLocations()
    assert describer.describe_code("/tmp/ipykernel_1/1.py", 1) is None
    assert describer.describe_binding({"_ih": ["", "x = 1"]}, "x") is None
