"""Results a notebook hands back, and NotebookRunError, without starting a kernel."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

from nbflow.errors import InvalidNotebookError, NotebookRunError
from nbflow.notebook import RESULT_MIME, read_results, results, yield_result
from nbflow.notebook.results import decode_result, encode_result


@dataclass(frozen=True)
class Point:
    x: int
    y: int


@pytest.mark.parametrize(
    "value",
    [None, True, 3, 2.5, "text", [1, "a", None], {"k": [1, {"n": 2.0}]}],
    ids=["none", "bool", "int", "float", "str", "list", "dict"],
)
def test_json_values_are_stored_as_json(value: Any) -> None:
    payload = encode_result(value, "out")
    assert payload == {"nbflow": 1, "output_name": "out", "encoding": "json", "value": value}
    assert decode_result(payload) == value


@pytest.mark.parametrize(
    "value",
    [(1, 2), {1, 2}, {1: "int key"}, float("inf"), Point(1, 2), b"bytes", [("nested", 1)]],
    ids=["tuple", "set", "int-key", "inf", "dataclass", "bytes", "nested-tuple"],
)
def test_other_values_are_pickled_and_come_back_equal(value: Any) -> None:
    payload = encode_result(value)
    assert payload["encoding"] == "pickle"
    assert payload["type"] == f"{type(value).__module__}.{type(value).__qualname__}"
    back = decode_result(payload)
    assert back == value and type(back) is type(value)


def _executed(*outputs_per_cell: list[Any]) -> Any:
    cells = []
    for outputs in outputs_per_cell:
        cell = nbformat.v4.new_code_cell("...")
        cell.outputs = outputs
        cells.append(cell)
    cells.insert(1, nbformat.v4.new_markdown_cell("prose"))
    return nbformat.v4.new_notebook(cells=cells)


def _display(value: Any, name: str = "result") -> Any:
    return nbformat.v4.new_output(
        "display_data", data={RESULT_MIME: encode_result(value, name), "text/plain": repr(value)}
    )


def test_read_results_from_a_file_and_a_node(tmp_path: Path) -> None:
    nb = _executed(
        [nbformat.v4.new_output("stream", name="stdout", text="hello\n"), _display(1)],
        [
            _display({2, 3}, "pair"),
            nbformat.v4.new_output("display_data", data={"text/plain": "x"}),
        ],
        [_display(4)],
    )
    path = tmp_path / "done.ipynb"
    nbformat.write(nb, path)
    assert read_results(path) == {"result": 4, "pair": {2, 3}}
    assert read_results(str(path)) == read_results(nbformat.read(path, as_version=4))
    assert read_results(_executed([])) == {}


def test_a_pickle_that_cannot_load_here_is_reported(tmp_path: Path) -> None:
    broken = {
        "nbflow": 1,
        "output_name": "model",
        "encoding": "pickle",
        "type": "x.Y",
        "data": "bm90IGEgcGlja2xl",
    }
    nb = _executed([nbformat.v4.new_output("display_data", data={RESULT_MIME: broken})])
    with pytest.raises(InvalidNotebookError, match="result 'model' cannot be decoded"):
        read_results(nb)


def test_outside_ipython_yield_result_prints_the_value(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(results, "_running_shell", lambda: None)  # other tests may start one
    yield_result({"a": 1}, output_name="summary")
    assert capsys.readouterr().out == "{'a': 1}\n"


def test_yield_result_needs_an_identifier() -> None:
    with pytest.raises(ValueError, match="output_name='my result'; expected an identifier"):
        yield_result(1, output_name="my result")


def test_notebook_run_error_reads_well_and_pickles() -> None:
    err = NotebookRunError.build(
        notebook_path="/nb/model.ipynb",
        output_path="/out/model.ipynb",
        cell_index=4,
        exec_count=3,
        ename="ZeroDivisionError",
        evalue="division by zero",
        traceback=["line 1", "line 2"],
        source="\n  value = 10 / divisor\nmore",
    )
    assert str(err) == (
        "Notebook '/nb/model.ipynb' failed in cell 4, In [3]: 'value = 10 / divisor' with "
        "ZeroDivisionError: division by zero\n"
        "The executed notebook, with the traceback, is at '/out/model.ipynb'.\n"
        "Fix: open it to see the failing cell, then fix the notebook or its parameters and run "
        "again."
    )
    back = pickle.loads(pickle.dumps(err))
    assert isinstance(back, NotebookRunError) and str(back) == str(err)
    assert (back.cell_index, back.ename, back.evalue, back.output_path) == (
        4,
        "ZeroDivisionError",
        "division by zero",
        "/out/model.ipynb",
    )
    assert back.traceback == ["line 1", "line 2"]
