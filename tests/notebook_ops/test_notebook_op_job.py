"""Notebook ops in jobs, run for real: papermill, a python3 kernel, values both ways."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nbflow import EventType, In, Instance, Out, job, op
from nbflow.errors import NotebookRunError
from nbflow.notebook import define_notebook_op, read_results

from .conftest import NOTEBOOKS


def test_values_flow_op_to_notebook_to_op(tmp_path: Path) -> None:
    scale = define_notebook_op(
        NOTEBOOKS / "scale.ipynb",
        ins={"x": In(int), "extra": In()},
        outs={"result": Out(int), "extra": Out()},
        config_schema={"factor": int},
        output_notebook_dir=tmp_path / "executed",
    )
    seen: list[Any] = []

    @op
    def emit() -> int:
        return 5

    @op
    def emit_extra() -> dict[str, Any]:
        return {"when": (2024, 1), "tags": {"a", "b"}, "quote": 'it\'s "quoted"\n'}

    @op
    def double(result: int) -> int:
        return result * 2

    @op
    def keep(extra: Any) -> None:
        seen.append(extra)

    @job
    def mixed() -> None:
        result, extra = scale(x=emit(), extra=emit_extra())
        double(result)
        keep(extra)

    run = mixed.execute_in_process(run_config={"ops": {"scale": {"config": {"factor": 3}}}})

    assert run.success
    assert run.output_for_node("scale") == 15
    assert run.output_for_node("double") == 30
    assert seen == [{"when": (2024, 1), "tags": {"a", "b"}, "quote": 'it\'s "quoted"\n'}]

    executed = tmp_path / "executed" / run.run_id / "scale.ipynb"
    outputs = [e for e in run.events_for_node("scale") if e.event_type is EventType.STEP_OUTPUT]
    assert {e.data.output_name for e in outputs} == {"result", "extra"}
    for event in outputs:
        assert event.data.metadata["executed_notebook"] == str(executed)
        assert event.data.metadata["kernel"] == "python3"
        assert event.data.metadata["notebook_code_version"] == scale.version
    [materialization] = [
        e for e in run.events_for_node("scale") if e.event_type is EventType.ASSET_MATERIALIZATION
    ]
    assert materialization.data.asset_key.to_user_string() == "notebooks/scale"
    assert materialization.data.metadata["executed_notebook"] == str(executed)

    document = json.loads(executed.read_text())
    assert document["metadata"]["nbflow"]["kernel"]["name"] == "python3"
    assert document["metadata"]["nbflow"]["code_version"] == scale.version
    assert document["metadata"]["papermill"]["input_path"] == str(NOTEBOOKS / "scale.ipynb")
    assert document["metadata"]["papermill"]["parameters"] == {
        "x": 5,
        "extra": {"nbflow/pickled": "builtins.dict"},
        "factor": 3,
    }
    assert read_results(executed)["result"] == 15


def test_a_failing_cell_fails_the_step_with_a_notebook_run_error(tmp_path: Path) -> None:
    divide = define_notebook_op(
        NOTEBOOKS / "fails.ipynb", ins={"divisor": In()}, output_notebook_dir=tmp_path
    )

    @op
    def zero() -> int:
        return 0

    @job
    def broken() -> None:
        divide(zero())

    instance = Instance.ephemeral()
    with pytest.raises(NotebookRunError) as caught:
        broken.execute_in_process(instance=instance)

    err = caught.value
    assert (err.cell_index, err.exec_count) == (2, 3)  # parameters, injected, failing cell
    assert (err.ename, err.evalue) == ("ZeroDivisionError", "division by zero")
    assert err.source == "value = 10 / divisor"
    assert err.notebook_path == str(NOTEBOOKS / "fails.ipynb")
    executed = Path(err.output_path)
    assert executed.is_file() and executed.parent.parent == tmp_path
    assert "ZeroDivisionError" in executed.read_text()
    assert json.loads(executed.read_text())["metadata"]["nbflow"]["kernel"]["name"] == "python3"
    assert str(err).startswith(
        f"Notebook '{NOTEBOOKS / 'fails.ipynb'}' failed in cell 2, In [3], line 1: "
        "'value = 10 / divisor' with ZeroDivisionError: division by zero\n"
        f"The executed notebook, with the traceback, is at '{executed}'."
    )
    [run] = instance.get_runs()
    failures = [
        e for e in instance.get_events(run.run_id) if e.event_type is EventType.STEP_FAILURE
    ]
    assert [e.step_key for e in failures] == ["fails"]
