"""A persistent instance persists: memoized outputs go to its storage folder by default.

Every run here is a separate Python process, as a user's would be: the first stores the
outputs in ``<instance>/storage`` (the files ``fs_io_manager`` writes), a later one finds
them, skips every step as memoized, and ``list_versions`` (API and CLI) says ``stored``.
Ephemeral instances keep values in memory, and an ``io_manager`` given by the user wins.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import pytest

from nbflow import Instance, job, mem_io_manager, op
from nbflow.storage import clear_memoized_values

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

FLOW = """
import json
import sys

from nbflow import Instance, SourceHashVersionStrategy, job, list_versions, op


@op
def numbers():
    return [1, 2, 3]


@op
def total(xs):
    return sum(xs)


@job(version_strategy=SourceHashVersionStrategy())
def flow():
    total(numbers())


if __name__ == "__main__":
    mode, root = sys.argv[1], sys.argv[2]
    report = {}
    if mode == "run":
        result = flow.execute_in_process(instance=Instance.local(root))
        report["ran"] = sorted(e.step_key for e in result.get_step_success_events())
        report["memoized"] = sorted(
            e.step_key for e in result.get_step_skipped_events() if e.data.memoized
        )
        report["total"] = result.output_for_node("total")
    rows = list_versions(flow, instance=Instance.local(root))
    report["versions"] = {r.step_output: [r.version, r.status] for r in rows}
    print("REPORT", json.dumps(report))
"""


def run_script(folder: Path, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "flow.py", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "NBFLOW_HOME"},
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("REPORT "))
    return json.loads(line.removeprefix("REPORT "))  # type: ignore[no-any-return]


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_second_process_finds_every_output_stored_by_the_first(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(textwrap.dedent(FLOW))
    home = tmp_path / "home"

    first = run_script(tmp_path, "run", str(home))

    assert first["ran"] == ["numbers", "total"]
    assert first["memoized"] == []
    assert first["total"] == 6
    versions = {k: v[0] for k, v in first["versions"].items()}
    assert {k: v[1] for k, v in first["versions"].items()} == {
        "numbers.result": "stored",
        "total.result": "stored",
    }
    storage = home / "storage"  # flat: one file per output, manifests in runs.db
    assert files_under(storage) == sorted(f"{k}@{v}" for k, v in versions.items())
    assert pickle.loads((storage / f"numbers.result@{versions['numbers.result']}").read_bytes())
    assert pickle.loads((storage / f"total.result@{versions['total.result']}").read_bytes()) == 6

    listed = run_script(tmp_path, "list", str(home))
    assert listed["versions"] == first["versions"]

    second = run_script(tmp_path, "run", str(home))

    assert second["ran"] == []
    assert second["memoized"] == ["numbers", "total"]
    assert second["total"] == 6  # loaded from the instance's storage folder
    assert second["versions"] == first["versions"]


def nbflow_cli(cwd: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NBFLOW_HOME": os.fspath(home)}
    return subprocess.run(
        [sys.executable, "-m", "nbflow", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def table(stdout: str) -> dict[str, list[str]]:
    lines = [line for line in stdout.splitlines() if line.startswith("|")]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines[2:]]
    return {row[0]: row[1:] for row in rows}


def test_the_cli_stores_in_nbflow_home_and_sees_it_from_the_next_command(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(textwrap.dedent(FLOW))
    home = tmp_path / "home"
    target = ("-f", "flow.py", "-j", "flow")

    first = nbflow_cli(tmp_path, home, "job", "execute", *target)
    assert first.returncode == 0, first.stderr
    listed = nbflow_cli(tmp_path, home, "job", "list_versions", *target)
    second = nbflow_cli(tmp_path, home, "job", "execute", *target)
    assert second.returncode == 0, second.stderr
    run_id = second.stdout.split()[1]
    shown = nbflow_cli(tmp_path, home, "runs", "show", run_id)

    assert listed.returncode == 0, listed.stderr
    assert {k: v[1] for k, v in table(listed.stdout).items()} == {
        "numbers.result": "stored",
        "total.result": "stored",
    }
    assert {k: v[0] for k, v in table(first.stdout).items()} == {
        "numbers": "succeeded",
        "total": "succeeded",
    }
    assert {k: v[0] for k, v in table(second.stdout).items()} == {
        "numbers": "memoized",
        "total": "memoized",
    }
    assert shown.returncode == 0, shown.stderr
    assert {k: v[0] for k, v in table(shown.stdout).items()} == {
        "numbers": "memoized",
        "total": "memoized",
    }
    assert list((home / "storage").glob("total.result@*"))


# --- where values go when not to the instance's folder ------------------------------------------


@pytest.fixture
def fresh_memo() -> Iterator[None]:
    clear_memoized_values()
    yield
    clear_memoized_values()


@op(version="1")
def one() -> int:
    return 1


@job(tags={"nbflow/is_memoized_run": "true"})
def memoized_one() -> None:
    one()


@job
def plain_one() -> None:
    one()


def test_a_run_that_is_not_memoized_writes_nothing_to_a_persistent_instance(
    tmp_path: Path,
) -> None:
    result = plain_one.execute_in_process(instance=Instance.local(tmp_path))

    assert result.output_for_node("one") == 1
    assert not (tmp_path / "storage").exists()


@pytest.mark.usefixtures("fresh_memo")
def test_an_io_manager_given_by_the_user_wins_over_the_instance_folder(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path)
    memoized_one.execute_in_process(instance=instance, resources={"io_manager": mem_io_manager})

    again = memoized_one.execute_in_process(
        instance=instance, resources={"io_manager": mem_io_manager}
    )

    assert not (tmp_path / "storage").exists()
    assert [e.step_key for e in again.get_step_skipped_events()] == ["one"]  # from memory


@pytest.mark.usefixtures("fresh_memo")
def test_an_ephemeral_instance_keeps_memoized_values_in_memory() -> None:
    instance = Instance.ephemeral()

    memoized_one.execute_in_process(instance=instance)

    assert not (instance.root / "storage").exists()
