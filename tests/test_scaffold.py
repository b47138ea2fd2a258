"""``nbflow.scaffold.create_project``: the project ``nbflow new`` writes, and what it refuses."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest
import yaml

import nbflow
from nbflow.errors import NbflowError, ProjectDirectoryError
from nbflow.scaffold import TEMPLATE_FILES, create_project

TEMPLATE = Path(nbflow.__file__).parent / "templates" / "project"


def test_a_new_folder_gets_every_template_file_byte_for_byte(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "proj"
    written = create_project(target)
    assert [path.name for path in written] == list(TEMPLATE_FILES)
    assert sorted(p.name for p in target.iterdir()) == sorted(TEMPLATE_FILES)
    for name in TEMPLATE_FILES:
        assert (target / name).read_bytes() == (TEMPLATE / name).read_bytes()


def test_the_template_folder_holds_exactly_the_listed_files() -> None:
    shipped = {p.name for p in TEMPLATE.iterdir() if p.name != "__pycache__"}
    assert shipped == set(TEMPLATE_FILES)


def test_an_existing_empty_folder_is_used(tmp_path: Path) -> None:
    create_project(str(tmp_path))
    assert (tmp_path / "pipeline.py").is_file()


def test_a_folder_that_is_not_empty_is_refused_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ProjectDirectoryError) as raised:
        create_project(tmp_path)
    assert isinstance(raised.value, NbflowError)
    message = str(raised.value)
    assert "not empty" in message and "notes.txt" in message and "Fix:" in message
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "proj"
    path.write_text("", encoding="utf-8")
    with pytest.raises(ProjectDirectoryError, match="it is a file"):
        create_project(path)


def test_the_project_job_runs_with_its_config_and_memoizes(tmp_path: Path) -> None:
    create_project(tmp_path)
    job = runpy.run_path(str(tmp_path / "pipeline.py"))["readings_report"]
    config = yaml.safe_load((tmp_path / "config.yaml").read_text(encoding="utf-8"))
    instance = nbflow.Instance.ephemeral()
    result = job.execute_in_process(run_config=config, instance=instance)
    # readings [1.5, 2.0, -1.0, 4.25, 3.0]: the negative one dropped, then times 2.0
    assert result.output_for_node("summarize") == {"count": 4.0, "mean": 5.375, "max": 8.5}
    again = job.execute_in_process(run_config=config, instance=instance)
    memoized = {e.step_key for e in again.all_events if e.event_type_value == "STEP_SKIPPED"}
    assert memoized == {"load", "clean", "scale", "summarize"}


def test_the_notebook_is_valid_and_uses_the_project_job(tmp_path: Path) -> None:
    import nbformat

    create_project(tmp_path)
    notebook = nbformat.read(tmp_path / "explore.ipynb", as_version=4)
    nbformat.validate(notebook)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    for source in code:
        compile(source, "explore.ipynb", "exec")
    assert "from pipeline import readings_report" in code[0]
    assert all(
        not cell.get("outputs")
        for cell in json.loads((tmp_path / "explore.ipynb").read_text(encoding="utf-8"))["cells"]
    )
