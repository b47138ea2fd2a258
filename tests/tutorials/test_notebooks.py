"""The tutorials in ``notebooks/``: saved clean, and each runs in a real kernel teaching what it says.

Every tutorial is executed in this environment's ``python3`` kernel (through nbclient, as
Jupyter would): no error output and nothing on stderr, and the outputs the prose talks
about are there. The exercise checks also reject wrong answers with a helpful message.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

import nbformat
import pytest

from tests.tutorials.conftest import NOTEBOOKS, TUTORIALS
from tests.tutorials.execute_notebooks import execute

if TYPE_CHECKING:
    from pathlib import Path

EXPECTED = [
    "01-quickstart.ipynb",
    "02-memoization.ipynb",
    "03-assets.ipynb",
    "04-parameterized-notebooks.ipynb",
    "05-scaling.ipynb",
    "06-exercises.ipynb",
]


def cell_output(nb: Any, source_part: str) -> str:
    """Everything the first code cell whose source contains ``source_part`` showed, as text."""
    for cell in nb.cells:
        if cell.cell_type == "code" and source_part in cell.source:
            parts = []
            for output in cell.outputs:
                if output.output_type == "stream":
                    parts.append(output.text)
                for mime, data in output.get("data", {}).items():
                    if mime.startswith("text/") or mime == "image/svg+xml":
                        parts.append(data if isinstance(data, str) else "".join(data))
            return "\n".join(parts)
    raise AssertionError(f"no code cell contains {source_part!r}")


def mimetypes(nb: Any, source_part: str) -> set[str]:
    for cell in nb.cells:
        if cell.cell_type == "code" and source_part in cell.source:
            return {mime for output in cell.outputs for mime in output.get("data", {})}
    raise AssertionError(f"no code cell contains {source_part!r}")


def run_tutorial(folder: Path, name: str) -> Any:
    nb, found, seconds = execute(folder / name)
    assert not found, f"{name} ran with problems ({seconds:.1f} s):\n" + "\n".join(found)
    return nb


# --- saved clean ---------------------------------------------------------------------------


def test_the_six_tutorials_are_there() -> None:
    assert [p.name for p in TUTORIALS] == EXPECTED


@pytest.mark.parametrize(
    "path", sorted(NOTEBOOKS.rglob("*.ipynb")), ids=lambda p: str(p.relative_to(NOTEBOOKS))
)
def test_notebooks_are_saved_without_outputs_and_valid(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {index} of {path.name} was saved with outputs"
            assert cell.execution_count is None, f"cell {index} of {path.name} has a count"
        assert "execution" not in cell.metadata, f"cell {index} of {path.name} keeps timings"
    assert not list(path.parent.glob(".ipynb_checkpoints")), "checkpoints were left behind"


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_tutorials_open_with_a_title_and_load_the_extension(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "no title"
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code[0] == "%load_ext nbflow.notebook"


def test_the_parameterized_notebook_declares_its_parameters() -> None:
    nb = nbformat.read(NOTEBOOKS / "data" / "scale.ipynb", as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "factor = " in tagged[0].source


# --- each tutorial runs and teaches ----------------------------------------------------------


def test_01_quickstart(notebooks_copy: Path) -> None:
    nb = run_tutorial(notebooks_copy, "01-quickstart.ipynb")

    assert "image/svg+xml" in mimetypes(nb, "def word_stats():")
    assert "<svg" in cell_output(nb, "result = word_stats.execute_in_process()\nresult")
    assert "[('be', 2), ('to', 2), ('is', 1)]" in cell_output(
        nb, 'result.output_for_node("top_words")'
    )
    assert "[('the', 3), ('sat', 2)]" in cell_output(nb, "run_config = {")
    live = cell_output(nb, "nbn.run(word_stats, run_config)")
    assert 'class="nbflow-live' in live and "4/4 steps" in live and "<svg" in live
    assert "application/vnd.jupyter.widget-view+json" in mimetypes(
        nb, "nbn.config_form(word_stats)"
    )
    assert "'top': 3" in cell_output(nb, "form.run_config")


def test_02_memoization(notebooks_copy: Path) -> None:
    nb = run_tutorial(notebooks_copy, "02-memoization.ipynb")

    first = cell_output(nb, "nbn.version_table(my_job, california)")
    assert first.count("to-be-recomputed") >= 3 and "never run" in first
    again = cell_output(nb, "again = my_job.execute_in_process(run_config=california)")
    assert again.count("memoized") >= 3 and "succeeded" not in again

    compared = cell_output(nb, "nbn.compare_configs(")
    assert "config key 'tree_species' changed" in compared
    assert "upstream 'emit_tree.result' changed" in compared
    maryland = cell_output(nb, "maryland_run = my_job.execute_in_process")
    assert re.search(r"emit_dog\s+memoized", maryland)
    assert re.search(r"emit_tree\s+succeeded", maryland)
    assert re.search(r"emit_sentence\s+succeeded", maryland)

    # the op redefined in a later cell is used without re-running the job's cell
    redefined = text(nb, "nbn.version_table(my_job, maryland)")
    assert "op body changed" in redefined
    assert "op 'emit_sentence' redefined after job 'my_job'" in redefined
    edited = text(nb, "edited = my_job.execute_in_process")
    assert "A poodle sat under a red_maple." in edited
    assert steps(edited) == {
        "emit_dog": "memoized",
        "emit_tree": "memoized",
        "emit_sentence": "succeeded",
    }

    # a helper edit re-runs the step that calls it and what reads its value, nothing else
    assert "helper 'tidy' changed" in text(nb, 'return word.replace("_", " ").title()')
    why = text(nb, 'nbn.why(my_job, "emit_tree", maryland)')
    assert '+    return word.replace("_", " ").title()' in why
    helper_edit = text(nb, "helper_edit = my_job.execute_in_process")
    assert "A poodle sat under a Red Maple." in helper_edit
    assert steps(helper_edit) == {
        "emit_dog": "memoized",
        "emit_tree": "succeeded",
        "emit_sentence": "succeeded",
    }

    # a global edit re-runs only the step that reads the global
    assert "global 'ENDING' changed ('.' → '!')" in text(nb, 'ENDING = "!"')
    global_edit = text(nb, "global_edit = my_job.execute_in_process")
    assert "A poodle sat under a Red Maple!" in global_edit
    assert steps(global_edit) == {
        "emit_dog": "memoized",
        "emit_tree": "memoized",
        "emit_sentence": "succeeded",
    }

    # early cutoff: the helper rewritten to return the same words
    cutoff = text(nb, "cutoff = my_job.execute_in_process")
    assert "upstream 'emit_tree' re-ran; its value is unchanged" in cutoff

    # teaching mode: the next california run told step by step
    told = text(nb, "nbn.explain(my_job, california)")
    assert "What a run of job 'my_job' would do, step by step" in told
    assert "emit_dog" in told and "is reused from storage" in told and "runs" in told


def text(nb: Any, source_part: str) -> str:
    """What the cell showed, with HTML entities read back as characters."""
    return html.unescape(cell_output(nb, source_part))


def steps(shown: str) -> dict[str, str]:
    """Step → status, from a printed ``result_frame`` (its text form)."""
    return dict(re.findall(r"^\d+\s+(\w+)\s+(memoized|succeeded|failed|skipped)\b", shown, re.M))


def test_03_assets(notebooks_copy: Path) -> None:
    nb = run_tutorial(notebooks_copy, "03-assets.ipynb")

    assert "(705, [250, 310])" in cell_output(nb, 'result.asset_value("revenue")')
    assert "['big_orders', 'orders', 'revenue']" in cell_output(
        nb, "sorted(p.name for p in Path(instance.storage_dir).iterdir())"
    )
    assert re.search(r"revenue\s+succeeded", cell_output(nb, "partial = materialize("))
    assert "north 7\nsouth 18\neast 2" in cell_output(
        nb, "for region in regions.get_partition_keys()"
    )
    assert "2024-03-04: Mon 00:00 to Tue 00:00" in cell_output(nb, "def daily_report")
    assert "Unknown partition key 'west'" in cell_output(nb, 'partition_key="west"')


def test_04_parameterized_notebooks(notebooks_copy: Path) -> None:
    nb = run_tutorial(notebooks_copy, "04-parameterized-notebooks.ipynb")

    assert "{'result': 90, 'scaled': [30, 60]}" in cell_output(nb, "run = nbn.run_notebook(")
    swept = cell_output(nb, "swept = nbn.sweep(")
    assert "2 ran, 0 memoized, 0 failed" in swept
    widened = cell_output(nb, "again = nbn.sweep(")
    assert "1 ran, 2 memoized" in widened and "(3, 'ran')" in widened
    assert "'6 values, largest 420, total 1080'" in cell_output(
        nb, "result = scaling_report.execute_in_process"
    )
    assert "1080" in cell_output(nb, "nbn.read_results(executed)")
    memoized = cell_output(nb, "again = scaling_report.execute_in_process")
    assert re.search(r"scale\s+memoized", memoized) and "succeeded" not in memoized
    changed = cell_output(nb, "changed = scaling_report.execute_in_process")
    assert re.search(r"measurements\s+memoized", changed) and re.search(
        r"scale\s+succeeded", changed
    )
    # nothing was written next to the notebooks
    assert sorted(p.name for p in (notebooks_copy / "data").iterdir()) == ["scale.ipynb"]


def test_05_scaling(notebooks_copy: Path) -> None:
    nb = run_tutorial(notebooks_copy, "05-scaling.ipynb")

    assert "total 1800" in cell_output(nb, "in_process = regional_sales.execute_in_process()")
    assert "multiprocess:" in cell_output(nb, "parallel = execute_job(")
    pids = re.findall(r"'(\w+)', (\d+)\)", cell_output(nb, "event.pid for event in parallel"))
    assert len(pids) == 5 and len({pid for _, pid in pids}) == 4, pids  # 4 workers at once
    assert "5/5 steps" in cell_output(nb, 'executor="job"')
    assert "total 1800" in cell_output(nb, "on_dask = execute_job(regional_sales_on_dask)")
    on_cluster = cell_output(nb, "cluster = LocalCluster(")
    assert on_cluster.count("total 1800") == 2


WRONG_ANSWERS = """
def wrong(check, answer):
    try:
        check(answer)
    except AssertionError as error:
        print("REJECTED:", error)
    else:
        print("ACCEPTED")

@op
def square(x: int) -> int:
    return x + x

@job
def my_job():
    square(add_one(start()))

wrong(check_exercise_1, my_job)

@op
def greet(context) -> str:
    return "Hello, world!"

@job
def greeting_job():
    greet()

wrong(check_exercise_2, greeting_job)
wrong(check_exercise_3, {"price", "revenue"})
wrong(check_exercise_3, {"price", "revenue", "report", "quantity"})

@asset
def warmest(temperatures: list) -> float:
    return min(temperatures)

wrong(check_exercise_4, [temperatures, warmest])
"""


def test_06_exercises_pass_as_shipped_and_checks_explain_wrong_answers(
    notebooks_copy: Path,
) -> None:
    path = notebooks_copy / "06-exercises.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(WRONG_ANSWERS))
    nbformat.write(nb, path)

    nb = run_tutorial(notebooks_copy, "06-exercises.ipynb")

    for number in (1, 2, 3, 4):
        assert f"Exercise {number} passed" in cell_output(nb, f"check_exercise_{number}(")
    text = cell_output(nb, "def wrong(check, answer)")
    rejected = text.split("REJECTED: ")[1:]
    assert "ACCEPTED" not in text and len(rejected) == 5, text
    assert "square should return 16" in rejected[0] and "got 8" in rejected[0]
    assert "'Hello, nbflow!'" in rejected[1]
    assert "These steps rerun too: ['report']" in rejected[2]
    assert "do not rerun: ['quantity']" in rejected[3]
    assert "warmest should be 20.5, got 9.0" in rejected[4]
