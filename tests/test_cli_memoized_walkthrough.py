"""Seed 002's walkthrough from the command line, run in a subprocess like a user would.

Each test works in a fresh copy of ``examples/memoized_development`` so ``./results``
lands in ``tmp_path``. The commands are the README's, through ``python -m nbflow``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "memoized_development"
TARGET = ["-m", "memoized_development.repo"]
OUTPUTS = ["emit_dog.result", "emit_tree.result", "emit_sentence.result"]


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A fresh copy of the example folder, without caches or results."""
    folder = tmp_path / "memoized_development"
    shutil.copytree(
        EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__", "results", "*.pyc")
    )
    return folder


def nbflow(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nbflow", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def table_rows(stdout: str) -> dict[str, list[str]]:
    """Rows of a printed table by their first cell (header and rule lines left out)."""
    lines = [line for line in stdout.splitlines() if line.startswith("|")]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines]
    return {row[0]: row[1:] for row in rows[2:]}


def list_versions(cwd: Path, config: str, *extra: str) -> dict[str, list[str]]:
    done = nbflow(cwd, "job", "list_versions", *TARGET, "-c", config, *extra)
    assert done.returncode == 0, done.stderr
    header = next(line for line in done.stdout.splitlines() if line.startswith("|"))
    assert [c.strip() for c in header.strip("|").split("|")][:3] == [
        "Step Output",
        "Version",
        "Status of Output",
    ]
    rows = table_rows(done.stdout)
    assert list(rows) == OUTPUTS
    return rows


def execute(cwd: Path, config: str) -> dict[str, list[str]]:
    done = nbflow(cwd, "job", "execute", *TARGET, "-c", config)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "of job 'my_job': success" in done.stdout
    return table_rows(done.stdout)


def statuses(rows: dict[str, list[str]]) -> dict[str, str]:
    return {output: cells[1] for output, cells in rows.items()}


def test_walkthrough(example: Path) -> None:
    before = list_versions(example, "california_config.yaml")
    first = execute(example, "california_config.yaml")
    after = list_versions(example, "california_config.yaml")
    maryland = list_versions(example, "maryland_config.yaml", "--reasons")
    maryland_run = execute(example, "maryland_config.yaml")
    back = execute(example, "california_config.yaml")

    assert statuses(before) == dict.fromkeys(OUTPUTS, "to-be-recomputed")
    assert {step: cells[0] for step, cells in first.items()} == {
        "emit_dog": "succeeded",
        "emit_tree": "succeeded",
        "emit_sentence": "succeeded",
    }
    assert statuses(after) == dict.fromkeys(OUTPUTS, "stored")
    # Outputs without upstream keep the version listed before the run; emit_sentence's is
    # final only once its inputs' values are known (they version it, for early cutoff).
    for output in ("emit_dog.result", "emit_tree.result"):
        assert after[output][0] == before[output][0]
    for output, (version, _status) in after.items():
        step_key, name = output.split(".")
        assert (example / "results" / step_key / name / version).is_file()

    assert statuses(maryland) == {
        "emit_dog.result": "stored",
        "emit_tree.result": "to-be-recomputed",
        "emit_sentence.result": "to-be-recomputed",
    }
    assert maryland["emit_dog.result"][0] == after["emit_dog.result"][0]
    assert maryland["emit_tree.result"][0] != after["emit_tree.result"][0]
    assert maryland["emit_sentence.result"][0] != after["emit_sentence.result"][0]
    assert "tree_species" in maryland["emit_tree.result"][2]
    assert "emit_tree.result" in maryland["emit_sentence.result"][2]

    dog_version = after["emit_dog.result"][0]
    assert maryland_run["emit_dog"][0] == "memoized"
    assert maryland_run["emit_dog"][2] == f"result@{dog_version[:8]}"
    assert maryland_run["emit_tree"][0] == "succeeded"
    assert maryland_run["emit_sentence"][0] == "succeeded"
    assert [cells[0] for cells in back.values()] == ["memoized"] * 3


def test_versions_agree_across_processes_and_with_legacy_flags(example: Path) -> None:
    plain = list_versions(example, "california_config.yaml")
    legacy = nbflow(
        example,
        "pipeline",
        "list_versions",
        *TARGET,
        "-c",
        "./california_config.yaml",
        "--mode",
        "memoized",
    )

    assert legacy.returncode == 0, legacy.stderr
    assert table_rows(legacy.stdout) == plain


def test_run_tag_false_from_the_command_line_runs_everything(example: Path) -> None:
    execute(example, "california_config.yaml")

    done = nbflow(
        example,
        "job",
        "execute",
        *TARGET,
        "-c",
        "california_config.yaml",
        "--tags",
        '{"nbflow/is_memoized_run": "false"}',
    )

    assert done.returncode == 0, done.stderr
    assert [cells[0] for cells in table_rows(done.stdout).values()] == ["succeeded"] * 3


# --- errors: one clear line on stderr, a non-zero exit, never a traceback -----------------------


def assert_clean_error(done: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert done.returncode != 0
    assert done.stderr.startswith("error: ")
    for text in expected:
        assert text in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_missing_config_file(example: Path) -> None:
    done = nbflow(example, "job", "list_versions", *TARGET, "-c", "nowhere.yaml")

    assert_clean_error(done, "Cannot read config file nowhere.yaml", "No such file")


def test_missing_python_file(example: Path) -> None:
    done = nbflow(example, "job", "execute", "-f", "missing_repo.py")

    assert_clean_error(done, "No such file: missing_repo.py")


def test_missing_module(example: Path) -> None:
    done = nbflow(example, "job", "execute", "-m", "memoized_development.nope")

    assert_clean_error(done, "Cannot import module 'memoized_development.nope'")


def test_unknown_job_name_suggests_the_close_one(example: Path) -> None:
    done = nbflow(
        example, "job", "execute", *TARGET, "-j", "my_jbo", "-c", "california_config.yaml"
    )

    assert_clean_error(
        done, "No job named 'my_jbo'", "Did you mean 'my_job'?", "Jobs there: ['my_job']"
    )
    assert not (example / "results").exists()


def test_bad_yaml(example: Path) -> None:
    (example / "bad.yaml").write_text("ops: [\n  emit_dog: {\n")

    done = nbflow(example, "job", "execute", *TARGET, "-c", "bad.yaml")

    assert_clean_error(done, "Config file bad.yaml is not valid YAML")


def test_yaml_that_is_not_a_mapping(example: Path) -> None:
    (example / "list.yaml").write_text("- a\n- b\n")

    done = nbflow(example, "job", "list_versions", *TARGET, "-c", "list.yaml")

    assert_clean_error(done, "Config file list.yaml must hold a mapping at the top level")


@pytest.mark.parametrize("command", ["execute", "list_versions"])
def test_invalid_config_lists_the_problems(example: Path, command: str) -> None:
    (example / "invalid.yaml").write_text(
        "ops:\n  emit_dog:\n    config:\n      dog_breed: 3\n"
        "resources:\n  io_manager:\n    config:\n      base_dir: ./results\n"
    )

    done = nbflow(example, "job", command, *TARGET, "-c", "invalid.yaml")

    assert_clean_error(
        done,
        "Run config for job 'my_job' is invalid (2 problems)",
        "root:ops:emit_dog:config:dog_breed: expected String, got 3 (int)",
        "root:ops:emit_tree:config: missing required field 'tree_species' (String)",
    )
    assert not (example / "results").exists()


def test_memoized_job_without_versions_names_the_op(example: Path) -> None:
    (example / "unversioned.py").write_text(
        "from nbflow import MEMOIZED_RUN_TAG, job, op\n\n\n"
        "@op\ndef plain():\n    return 1\n\n\n"
        '@job(tags={MEMOIZED_RUN_TAG: "true"})\ndef unversioned_job():\n    plain()\n'
    )

    for command in ("execute", "list_versions"):
        done = nbflow(example, "job", command, "-f", "unversioned.py")

        assert_clean_error(done, "op 'plain' has no version", "version_strategy")


def test_invalid_tags(example: Path) -> None:
    done = nbflow(
        example, "job", "execute", *TARGET, "-c", "california_config.yaml", "--tags", "[1]"
    )

    assert_clean_error(done, "--tags must be a JSON object")
