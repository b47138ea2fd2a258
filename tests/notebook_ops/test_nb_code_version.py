"""A notebook's code version, and notebook op definitions (no kernel is started here)."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

import cloudpickle
import pytest

from nbflow import In, Out, job, list_versions, op
from nbflow.errors import (
    InvalidDefinitionError,
    InvalidNotebookError,
    NotebookNotFoundError,
    NotebookParameterError,
)
from nbflow.notebook import NotebookOpDefinition, define_notebook_op, notebook_code_version
from nbflow.notebook.code_version import NOTEBOOK_CODE_DOMAIN
from nbflow.versioning import hash_parts

from .conftest import NOTEBOOKS

SCALE_CODE = [
    "x = 1\nfactor = 2\nextra = None",
    "from nbflow.notebook import yield_result",
    'yield_result(x * factor)\nyield_result(extra, output_name="extra")',
]


def edit(path: Path, change: Any) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document, indent=1))


def test_golden_version_of_the_scale_notebook() -> None:
    version = notebook_code_version(NOTEBOOKS / "scale.ipynb")
    assert version == hash_parts(NOTEBOOK_CODE_DOMAIN, *SCALE_CODE)[:40]
    assert version == "355e72de9d97a415d7b15d48cd8d92a511da86da"


def _rewrite_markdown(doc: dict[str, Any]) -> None:
    doc["cells"][0]["source"] = ["# A new title\n", "More prose."]


def _add_outputs(doc: dict[str, Any]) -> None:
    for count, cell in enumerate(c for c in doc["cells"] if c["cell_type"] == "code"):
        cell["execution_count"] = count + 1
        cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hi\n"]}]
        cell["metadata"]["collapsed"] = True


def _touch_metadata(doc: dict[str, Any]) -> None:
    doc["metadata"]["kernelspec"]["display_name"] = "Another name"
    doc["metadata"]["papermill"] = {"parameters": {"x": 3}}
    for cell in doc["cells"]:
        cell["id"] = cell["id"] + "-x"


def _add_blank_and_injected_cells(doc: dict[str, Any]) -> None:
    injected = {
        "cell_type": "code",
        "metadata": {"tags": ["injected-parameters"]},
        "source": "x = 99",
        "outputs": [],
        "execution_count": None,
    }
    blank = {**injected, "metadata": {}, "source": "  \n"}
    doc["cells"][2:2] = [injected, blank]
    doc["cells"].append({"cell_type": "raw", "metadata": {}, "source": "raw text"})


@pytest.mark.parametrize(
    "change",
    [_rewrite_markdown, _add_outputs, _touch_metadata, _add_blank_and_injected_cells],
    ids=["markdown", "outputs", "metadata-and-ids", "blank-injected-raw-cells"],
)
def test_what_is_not_code_does_not_change_the_version(notebook_copy: Any, change: Any) -> None:
    path = notebook_copy("scale.ipynb")
    before = notebook_code_version(path)
    edit(path, change)
    assert notebook_code_version(path) == before


@pytest.mark.parametrize(
    ("cell", "source"),
    [
        (3, "yield_result(x * factor + 1)"),
        (1, "x = 1\nfactor = 3\nextra = None"),
        (2, "from nbflow.notebook import yield_result "),
        (3, "yield_result(x)\n\nyield_result(extra)"),
    ],
    ids=["code", "parameters-cell", "trailing-space", "split"],
)
def test_any_code_edit_changes_the_version(notebook_copy: Any, cell: int, source: str) -> None:
    path = notebook_copy("scale.ipynb")
    before = notebook_code_version(path)

    def change(doc: dict[str, Any]) -> None:
        doc["cells"][cell]["source"] = source

    edit(path, change)
    assert notebook_code_version(path) != before


def test_cell_boundaries_count(tmp_path: Path) -> None:
    one = {"cells": [{"cell_type": "code", "source": "a = 1\nb = 2"}]}
    two = {
        "cells": [
            {"cell_type": "code", "source": "a = 1\n"},
            {"cell_type": "code", "source": "b = 2"},
        ]
    }
    (tmp_path / "one.ipynb").write_text(json.dumps(one))
    (tmp_path / "two.ipynb").write_text(json.dumps(two))
    assert notebook_code_version(tmp_path / "one.ipynb") != notebook_code_version(
        tmp_path / "two.ipynb"
    )


def test_a_missing_notebook_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    expected = f"'{tmp_path / 'nope.ipynb'}' \\(given as 'nope.ipynb'\\) does not exist"
    with pytest.raises(NotebookNotFoundError, match=expected):
        define_notebook_op("nope.ipynb")
    with pytest.raises(FileNotFoundError, match="Fix: check the path"):
        notebook_code_version("nope.ipynb")


@pytest.mark.parametrize(
    ("text", "reason"),
    [("not json", "JSONDecodeError"), ('{"nbformat": 4, "metadata": {}}', "no list of 'cells'")],
    ids=["not-json", "no-cells"],
)
def test_a_file_that_is_not_a_notebook_says_so(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "bad.ipynb"
    path.write_text(text)
    with pytest.raises(InvalidNotebookError, match=f"(?s)Cannot read notebook .*{reason}.*Fix:"):
        notebook_code_version(path)


def test_the_op_version_follows_the_file_without_redefining(notebook_copy: Any) -> None:
    path = notebook_copy("scale.ipynb")
    scale = define_notebook_op(path, ins={"x": In()})
    first = scale.version
    assert first == notebook_code_version(path)

    edit(path, _add_outputs)
    assert scale.version == first
    edit(path, lambda doc: doc["cells"][3].update(source="yield_result(0)"))
    assert scale.version != first
    tagged = scale.with_tags(team="a")
    assert isinstance(tagged, NotebookOpDefinition)
    assert tagged.version == scale.version and tagged.tags["team"] == "a"


def test_list_versions_uses_the_notebook_version(notebook_copy: Any) -> None:
    path = notebook_copy("scale.ipynb")
    scale = define_notebook_op(path, ins={"x": In()})

    @op(version="1")
    def emit() -> int:
        return 1

    @job
    def pipeline() -> None:
        scale(emit())

    before = {r.step_output: r.version for r in list_versions(pipeline)}
    edit(path, _rewrite_markdown)
    assert {r.step_output: r.version for r in list_versions(pipeline)} == before
    edit(path, lambda doc: doc["cells"][3].update(source="yield_result(2)"))
    after = {r.step_output: r.version for r in list_versions(pipeline)}
    assert after["emit.result"] == before["emit.result"]
    assert after["scale.result"] != before["scale.result"]


def test_a_notebook_op_is_an_op_with_inputs_outputs_and_a_name() -> None:
    scale = define_notebook_op(
        NOTEBOOKS / "scale.ipynb",
        ins={"x": In(int), "extra": In(default_value=None)},
        outs={"result": Out(), "extra": Out(is_required=False)},
        config_schema={"factor": int},
    )
    assert scale.name == "scale"
    assert list(scale.ins) == ["x", "extra"]
    assert list(scale.outs) == ["result", "extra"]
    assert scale.has_context and scale.is_generator
    assert scale.notebook_path == str(NOTEBOOKS / "scale.ipynb")
    assert define_notebook_op(NOTEBOOKS / "no_params.ipynb").name == "no_params"
    assert list(define_notebook_op(NOTEBOOKS / "no_params.ipynb").outs) == ["result"]


def test_a_notebook_op_pickles_for_other_processes() -> None:
    scale = define_notebook_op(NOTEBOOKS / "scale.ipynb", ins={"x": In()}, kernel_name="python3")
    back = pickle.loads(cloudpickle.dumps(scale))
    assert isinstance(back, NotebookOpDefinition)
    assert back.version == scale.version and back.kernel_name == "python3"


def test_a_notebook_op_refuses_an_explicit_version() -> None:
    scale = define_notebook_op(NOTEBOOKS / "scale.ipynb")
    with pytest.raises(InvalidDefinitionError, match="its version is the hash"):
        scale.version = "2"


def test_an_input_named_like_a_resource_is_refused() -> None:
    with pytest.raises(NotebookParameterError, match="'db' twice \\(from an input and a resource"):
        define_notebook_op(
            NOTEBOOKS / "scale.ipynb", ins={"db": In()}, required_resource_keys=["db"]
        )


def test_relative_paths_are_resolved_at_definition(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(NOTEBOOKS)
    scale = define_notebook_op("scale.ipynb")
    monkeypatch.chdir(os.sep)
    assert scale.notebook_path == str(NOTEBOOKS / "scale.ipynb")
    assert scale.version == notebook_code_version(NOTEBOOKS / "scale.ipynb")


def test_an_old_format_notebook_is_converted(tmp_path: Path) -> None:
    import nbformat

    old = nbformat.v3.new_notebook(
        worksheets=[nbformat.v3.new_worksheet(cells=[nbformat.v3.new_code_cell(input="x = 1")])]
    )
    path = tmp_path / "old.ipynb"
    path.write_text(nbformat.writes(old, version=3))
    assert notebook_code_version(path) == hash_parts(NOTEBOOK_CODE_DOMAIN, "x = 1")[:40]
