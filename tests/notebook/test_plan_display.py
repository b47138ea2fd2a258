"""``nbn.plan``: the memo plan as a table with its totals and the DAG coloured by plan.

In this process for the details, in a real Jupyter kernel (nbclient) for what a notebook
shows, and in a fresh interpreter for what it imports.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from kernel_output import KERNEL_OUTPUT
from nbclient import NotebookClient
from plan_jobs import config, sleepy, unmemoized

import nbflow.notebook as nbn
from nbflow import Instance
from nbflow.errors import MemoizationOffError
from nbflow.events import EventType
from nbflow.execution.views.graph_dot import STATUS_STYLES
from nbflow.execution.views.memo_plan import format_seconds, plan_run

RUN_FILL = STATUS_STYLES["to-be-recomputed"].fill
STORED_FILL = STATUS_STYLES["stored"].fill


@pytest.fixture
def instance(tmp_path: Path) -> Instance:
    return Instance.local(tmp_path / "home")


def first_run(instance: Instance) -> dict[str, float]:
    result = sleepy.execute_in_process(run_config=config(1), instance=instance)
    return {
        e.step_key: e.data.duration_ms / 1000
        for e in instance.get_events(result.run_id)
        if e.event_type is EventType.STEP_SUCCESS and e.step_key is not None
    }


def node_line(dot: str, key: str) -> str:
    return next(line for line in dot.splitlines() if line.strip().startswith(f'"{key}" ['))


def test_the_html_has_a_row_per_step_the_totals_and_the_dag(instance: Instance) -> None:
    took = first_run(instance)

    shown = nbn.plan(sleepy, config(2), instance, engine="builtin")
    html = shown._repr_html_()

    assert html is not None
    assert html.startswith('<div class="nbflow-plan">')
    for step in ("slow", "quick", "side", "total"):
        assert f"<code>{step}</code>" in html
        assert format_seconds(took[step]) in html
    assert "config key &#x27;n&#x27; changed" in html
    assert f"Time saved: {format_seconds(took['side'])} (1 step memoized)" in html
    assert "<svg" in html
    assert f"background:{RUN_FILL}" in html and f"background:{STORED_FILL}" in html


def test_the_dag_is_coloured_by_the_plan(instance: Instance) -> None:
    first_run(instance)

    dag = nbn.plan(sleepy, config(2), instance).dag()

    assert f'fillcolor="{RUN_FILL}"' in node_line(dag.source, "slow")
    assert f'fillcolor="{RUN_FILL}"' in node_line(dag.source, "total")
    assert f'fillcolor="{STORED_FILL}"' in node_line(dag.source, "side")
    assert "<svg" in dag.drawing().svg


def test_the_text_is_the_command_line_table_and_totals(instance: Instance) -> None:
    first_run(instance)

    shown = nbn.plan(sleepy, config(2), instance)

    assert repr(shown) == str(plan_run(sleepy, config(2), instance))
    header = [cell.strip() for cell in repr(shown).splitlines()[0].strip("|").split("|")]
    assert header == ["Step", "Plan", "Expected", "Reasons"]
    assert "Expected run time: " in repr(shown) and "Time saved: " in repr(shown)


def test_without_history_the_times_are_unknown() -> None:
    shown = nbn.plan(sleepy, config(1), engine="builtin")

    html = shown._repr_html_()
    assert html is not None
    assert html.count(">unknown<") == 4
    assert "Expected run time: unknown (4 steps to run)" in html
    assert shown.expected_seconds is None


def test_the_frame_has_one_row_per_step(instance: Instance) -> None:
    took = first_run(instance)

    frame = nbn.plan(sleepy, config(2), instance).to_frame()

    assert list(frame.columns) == ["step", "action", "expected_seconds", "reasons"]
    assert frame.set_index("step")["action"].to_dict() == {
        "slow": "run",
        "quick": "run",
        "side": "memoized",
        "total": "run",
    }
    assert frame.set_index("step")["expected_seconds"].to_dict() == pytest.approx(took)


def test_a_job_that_is_not_memoized_is_refused() -> None:
    with pytest.raises(MemoizationOffError, match="does not run memoized"):
        nbn.plan(unmemoized)


def test_planning_and_showing_it_loads_no_pandas() -> None:
    probe = (
        "import sys\n"
        "import nbflow.notebook as nbn\n"
        "from plan_jobs import sleepy\n"
        "html = nbn.plan(sleepy, engine='builtin')._repr_html_()\n"
        "assert html and '<svg' in html\n"
        "print('pandas' in sys.modules)\n"
    )
    fixtures = str(Path(__file__).resolve().parents[1] / "fixtures")
    path = os.pathsep.join([fixtures, os.environ.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


KERNEL_CELLS = [
    (
        "import time\n"
        "import nbflow.notebook as nbn\n"
        "from nbflow import Field, Instance, SourceHashVersionStrategy, fs_io_manager, job, op\n"
        "\n"
        "@op(config_schema={'rate': Field(int, default_value=2)})\n"
        "def load(context):\n"
        "    time.sleep(0.1)\n"
        "    return 10 * context.op_config['rate']\n"
        "\n"
        "@op\n"
        "def other():\n"
        "    time.sleep(0.1)\n"
        "    return 5\n"
        "\n"
        "@op\n"
        "def report(load, other):\n"
        "    return load + other\n"
        "\n"
        "@job(version_strategy=SourceHashVersionStrategy(),\n"
        "     resource_defs={'io_manager': fs_io_manager})\n"
        "def pipeline():\n"
        "    report(load(), other())\n"
        "\n"
        "instance = Instance.local('home')"
    ),
    "nbn.plan(pipeline, instance=instance)",
    "pipeline.execute_in_process(instance=instance).success",
    "nbn.plan(pipeline, {'ops': {'load': {'config': {'rate': 3}}}}, instance=instance)",
]


def test_a_real_kernel_shows_the_plan_as_html_with_the_dag(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in KERNEL_CELLS]
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    NotebookClient(
        notebook,
        **KERNEL_OUTPUT,
        kernel_name="python3",
        timeout=120,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute(env=env)

    before, ran, after = (notebook.cells[i].outputs for i in (1, 2, 3))
    assert ran[0]["data"]["text/plain"] == "True"
    assert "Expected run time: unknown (3 steps to run)" in before[0]["data"]["text/plain"]
    html = after[0]["data"]["text/html"]
    assert html.startswith('<div class="nbflow-plan">') and "<svg" in html
    text = after[0]["data"]["text/plain"]
    rows = {
        cells[0]: cells[1:3]
        for cells in (
            [c.strip() for c in line.strip("|").split("|")]
            for line in text.splitlines()
            if line.startswith("| ")
        )
    }
    assert rows["load"][0] == "run" and rows["report"][0] == "run"
    assert rows["other"][0] == "memoized"
    assert all(expected != "unknown" for _, expected in rows.values())
    assert "Time saved: " in text and "(1 step memoized)" in text
