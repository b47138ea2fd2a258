"""Transitive code versions across processes: a job in a module file, edited between runs.

Every run is a fresh ``python`` process with a persistent instance (``Instance.local``) and
the filesystem IO manager, as a user's script would be. Between runs the module file is
edited: a helper one op calls, or a global another op reads. Only the op that reaches the
edit runs again; the others stay memoized (the positive control), and ``list_versions`` and
``nbflow job list_versions --reasons --diff`` name the change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

JOB = """
from nbflow import SourceHashVersionStrategy, fs_io_manager, job, op

RATE = 2


def clean(xs):
    return [x for x in xs if x is not None]


def tidy(xs):
    return sorted(x for x in xs if x is not None)


@op
def load():
    return [3, None, 1, 2]


@op
def cleaned(xs):
    return clean(xs)


@op
def scaled(xs):
    return [x * RATE for x in xs if x is not None]


@op
def tidied(xs):
    return tidy(xs)


@job(version_strategy=SourceHashVersionStrategy(), resource_defs={"io_manager": fs_io_manager})
def pipeline():
    rows = load()
    cleaned(rows)
    scaled(rows)
    tidied(rows)
"""

RUN = """
import json, sys
from nbflow import Instance, list_versions
import code_job
instance = Instance.local(sys.argv[1])
if sys.argv[2] == "run":
    result = code_job.pipeline.execute_in_process(instance=instance)
    ran = sorted(event.step_key for event in result.get_step_success_events())
    values = {step: result.output_for_node(step) for step in ("cleaned", "scaled", "tidied")}
    print(json.dumps({"ran": ran, "values": values}))
else:
    rows = list_versions(code_job.pipeline, instance=instance)
    print(json.dumps({row.step_output: [row.status, list(row.reasons)] for row in rows}))
"""


class Project:
    """A folder with the job module, its runner and a persistent instance."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.instance = folder / "home"
        (folder / "code_job.py").write_text(JOB)
        (folder / "runner.py").write_text(textwrap.dedent(RUN))

    def edit(self, old: str, new: str) -> None:
        path = self.folder / "code_job.py"
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new))

    def _python(self, *args: str) -> str:
        env = {
            **os.environ,
            "PYTHONPATH": f"{ROOT}{os.pathsep}{self.folder}",
            "NBFLOW_HOME": str(self.instance),
        }
        done = subprocess.run(
            [sys.executable, *args], cwd=self.folder, env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    def run(self) -> dict[str, object]:
        result: dict[str, object] = json.loads(self._python("runner.py", str(self.instance), "run"))
        return result

    def versions(self) -> dict[str, list[object]]:
        rows: dict[str, list[object]] = json.loads(
            self._python("runner.py", str(self.instance), "list")
        )
        return rows

    def cli(self, *args: str) -> str:
        return self._python("-m", "nbflow", "job", "list_versions", "-f", "code_job.py", *args)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    made = Project(tmp_path)
    first = made.run()
    assert first["ran"] == ["cleaned", "load", "scaled", "tidied"]
    assert made.run()["ran"] == []  # a new process reuses everything
    return made


def test_helper_edit_reruns_only_the_step_that_calls_it(project: Project) -> None:
    project.edit("return [x for x in xs if x is not None]", "return [x for x in xs if x]")

    rows = project.versions()
    assert rows["cleaned.result"] == ["to-be-recomputed", ["helper 'clean' changed"]]
    assert {key: row[0] for key, row in rows.items() if key != "cleaned.result"} == {
        "load.result": "stored",
        "scaled.result": "stored",
        "tidied.result": "stored",
    }

    again = project.run()
    assert again["ran"] == ["cleaned"]
    assert again["values"] == {"cleaned": [3, 1, 2], "scaled": [6, 2, 4], "tidied": [1, 2, 3]}
    assert project.run()["ran"] == []


def test_global_edit_reruns_only_the_step_that_reads_it(project: Project) -> None:
    project.edit("RATE = 2", "RATE = 3")

    rows = project.versions()
    assert rows["scaled.result"] == ["to-be-recomputed", ["global 'RATE' changed (2 → 3)"]]

    again = project.run()
    assert again["ran"] == ["scaled"]
    assert again["values"]["scaled"] == [9, 3, 6]  # type: ignore[index]


def test_cli_prints_reasons_and_the_diff_of_the_helper(project: Project) -> None:
    project.edit("return sorted(x for x in xs if x is not None)", "return sorted(xs, key=str)")

    out = project.cli("--reasons", "--diff")

    table, _, diffs = out.partition("Code changes of step 'tidied':")
    assert "helper 'tidy' changed" in table
    assert "| tidied.result" in table
    assert "--- stored helper 'tidy'\n+++ now helper 'tidy'" in diffs
    assert "-    return sorted(x for x in xs if x is not None)" in diffs
    assert "+    return sorted(xs, key=str)" in diffs
    assert "Code changes of step 'cleaned'" not in out


def test_cli_says_when_no_code_changed(project: Project) -> None:
    assert "No code changes since the stored outputs." in project.cli("--diff")
