"""Memoization covers notebooks: prose and outputs do not re-run a notebook op; code edits do."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from nbflow import MEMOIZED_RUN_TAG, EventType, In, Out, job, op, versioned_filesystem_io_manager
from nbflow.notebook import define_notebook_op

from .conftest import NOTEBOOKS


def ran_steps(result: Any) -> list[str]:
    return [e.step_key for e in result.all_events if e.event_type is EventType.STEP_SUCCESS]


def memoized_steps(result: Any) -> list[str]:
    return [e.step_key for e in result.get_step_skipped_events() if e.data.memoized]


def test_markdown_and_outputs_reuse_a_notebook_code_edit_reruns_it(tmp_path: Path) -> None:
    notebook = tmp_path / "scale.ipynb"
    shutil.copyfile(NOTEBOOKS / "scale.ipynb", notebook)
    executed_dir = tmp_path / "executed"
    scale = define_notebook_op(
        notebook, ins={"x": In()}, outs={"result": Out()}, output_notebook_dir=executed_dir
    )

    @op(version="1")
    def emit() -> int:
        return 5

    @op(version="1")
    def double(result: int) -> int:
        return result * 2

    store = {"resources": {"io_manager": {"config": {"base_dir": str(tmp_path / "store")}}}}

    @job(
        resource_defs={"io_manager": versioned_filesystem_io_manager},
        tags={MEMOIZED_RUN_TAG: "true"},
    )
    def pipeline() -> None:
        double(scale(emit()))

    first = pipeline.execute_in_process(run_config=store)
    assert ran_steps(first) == ["emit", "scale", "double"]
    assert first.output_for_node("double") == 20
    [executed] = executed_dir.glob("*/scale.ipynb")

    # Re-save the notebook as Jupyter would after running it (outputs, execution counts,
    # papermill metadata, the injected parameters cell) and rewrite its prose.
    document = json.loads(executed.read_text())
    document["cells"][0]["source"] = "# Scale, explained at length\nNothing else changed."
    notebook.write_text(json.dumps(document))
    second = pipeline.execute_in_process(run_config=store)
    assert ran_steps(second) == []
    assert memoized_steps(second) == ["emit", "scale", "double"]
    assert second.output_for_node("double") == 20
    assert len(list(executed_dir.glob("*/scale.ipynb"))) == 1

    code_cell = next(
        c for c in document["cells"] if "yield_result(x * factor)" in "".join(c["source"])
    )
    code_cell["source"] = 'yield_result(x * factor + 1)\nyield_result(extra, output_name="extra")'
    notebook.write_text(json.dumps(document))
    third = pipeline.execute_in_process(run_config=store)
    assert ran_steps(third) == ["scale", "double"]
    assert third.output_for_node("double") == 22
    assert len(list(executed_dir.glob("*/scale.ipynb"))) == 2
