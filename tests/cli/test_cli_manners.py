"""The command line's manners: --version, did-you-mean, completion, job list, run options
(--config-json, --op-selection, --executor, --partition), scaffold-config, asset materialize,
import errors as one line, new and example.

Most commands run in this process through click's ``CliRunner`` (fast); the executor and the
end-to-end checks run ``python -m nbflow`` in a subprocess, as a user would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import nbflow
from nbflow.cli.app import build_cli

JOBS = """
import os
from nbflow import Field, StaticPartitionsDefinition, job, multiprocess_executor, op


@op(config_schema={"n": Field(int, default_value=2, description="how many"),
                   "label": Field(str, description="what to call it")})
def make(context):
    return [context.op_config["label"]] * context.op_config["n"]


@op
def count(items):
    print(f"COUNT={len(items)}")
    return len(items)


@op
def pid():
    with open(os.environ["PID_FILE"], "a") as handle:
        handle.write(f"{os.getpid()}\\n")


@job(description="counts made items")
def counting():
    count(make())


@job(executor_def=multiprocess_executor)
def elsewhere():
    pid()
    pid.alias("again")()


@op
def on_a_dask_worker():
    from distributed import get_worker

    return get_worker().address  # raises ValueError outside a Dask worker


@job
def dasky():
    on_a_dask_worker()


@op
def which(context):
    print(f"PARTITION={context.partition_key}")


@job(partitions_def=StaticPartitionsDefinition(["red", "blue"]))
def colours():
    which()
"""

ASSETS = """
from nbflow import asset


@asset
def raw():
    return 3


@asset
def doubled(raw):
    print(f"DOUBLED={raw * 2}")
    return raw * 2
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "jobs.py").write_text(textwrap.dedent(JOBS))
    (tmp_path / "assets.py").write_text(textwrap.dedent(ASSETS))
    monkeypatch.setenv("NBFLOW_HOME", os.fspath(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_cli(), list(args), prog_name="nbflow")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def nbflow_process(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nbflow", *args],
        cwd=cwd,
        env={**os.environ, "NBFLOW_HOME": os.fspath(cwd / "home"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out == f"nbflow {nbflow.__version__}\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["jbo"], "No such command 'jbo'. Did you mean 'job'?"),
        (["job", "exeute"], "No such command 'exeute'. Did you mean 'execute'?"),
        (["runs", "list", "--limt", "3"], "No such option '--limt'. Did you mean '--limit'?"),
    ],
    ids=["command", "subcommand", "option"],
)
def test_typos_get_a_suggestion_without_internal_names(args: list[str], expected: str) -> None:
    code, _, err = run(*args)
    assert code == 2
    assert expected in err
    assert "group" not in err and "Traceback" not in err


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_shell_script(shell: str) -> None:
    code, out, _ = run("completion", shell)
    assert code == 0
    assert "_NBFLOW_COMPLETE" in out and f"{shell}_complete" in out


def test_completion_through_the_environment_variable_completes_commands(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nbflow"],
        env={
            **os.environ,
            "_NBFLOW_COMPLETE": "bash_complete",
            "COMP_WORDS": "nbflow jo",
            "COMP_CWORD": "1",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "plain,job" in done.stdout.splitlines()


def test_job_list_names_jobs_and_points_at_assets(folder: Path) -> None:
    code, out, _ = run("job", "list", "-f", "jobs.py")
    assert code == 0
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ")}
    assert set(rows) == {"Job", "counting", "elsewhere", "dasky", "colours"}
    assert "multiprocess" in rows["elsewhere"] and "counts made items" in rows["counting"]

    code, out, _ = run("job", "list", "-f", "assets.py")
    assert code == 0
    assert "defines no jobs" in out and "Assets: doubled, raw" in out


def test_a_file_with_only_assets_suggests_materialize(folder: Path) -> None:
    code, _, err = run("job", "execute", "-f", "assets.py")
    assert code == 2
    assert "has no jobs, only assets" in err
    assert "nbflow asset materialize -f assets.py" in err and "define_asset_job" in err


def test_config_json_merges_over_yaml_and_op_selection_runs_only_those_ops(folder: Path) -> None:
    (folder / "run.yaml").write_text("ops: {make: {config: {label: a, n: 5}}}\n")
    code, out, err = run(
        "job",
        "execute",
        "-f",
        "jobs.py",
        "-j",
        "counting",
        "--executor",
        "in_process",
        "-c",
        "run.yaml",
        "--config-json",
        '{"ops": {"make": {"config": {"n": 4}}}}',
    )
    assert code == 0, err
    assert "COUNT=4" in out

    code, out, err = run(
        "job",
        "execute",
        "-f",
        "jobs.py",
        "-j",
        "counting",
        "--executor",
        "in_process",
        "--op-selection",
        "count",
        "--config-json",
        '{"ops": {"count": {"inputs": {"items": [1, 2, 3]}}}}',
    )
    assert code == 0, err
    steps = [line.split("|")[1].strip() for line in out.splitlines() if line.startswith("| ")]
    assert steps == ["Step", "count"] and "COUNT=3" in out

    code, _, err = run("job", "execute", "-f", "jobs.py", "-j", "counting", "--config-json", "[1]")
    assert code == 2 and "--config-json must be a JSON object" in err


def test_partition_key_reaches_the_run(folder: Path) -> None:
    code, out, err = run(
        "job",
        "execute",
        "-f",
        "jobs.py",
        "-j",
        "colours",
        "--executor",
        "in_process",
        "--partition",
        "blue",
    )
    assert code == 0, err
    assert "PARTITION=blue" in out


def test_scaffold_config_fills_defaults_and_marks_required_fields(folder: Path) -> None:
    code, out, _ = run("job", "scaffold-config", "-f", "jobs.py", "-j", "counting")
    assert code == 0
    lines = out.splitlines()
    assert "      n: 2  # Int: how many" in lines
    assert "      label:  # REQUIRED String: what to call it" in lines
    assert yaml.safe_load(out) == {"ops": {"make": {"config": {"n": 2, "label": None}}}}

    # filled in, the skeleton is the job's run config
    (folder / "run.yaml").write_text(out.replace("label:", "label: x"))
    code, out, err = run(
        "job", "execute", "-f", "jobs.py", "-j", "counting", "--executor", "in_process",
        "-c", "run.yaml",
    )  # fmt: skip
    assert code == 0, err
    assert "COUNT=2" in out


def test_asset_materialize_select_runs_the_selected_assets(folder: Path) -> None:
    code, out, err = run("asset", "materialize", "-f", "assets.py")
    assert code == 0, err
    assert "DOUBLED=6" in out
    code, out, err = run("asset", "materialize", "-f", "assets.py", "--select", "doubled")
    assert code == 0, err
    steps = [line.split("|")[1].strip() for line in out.splitlines() if line.startswith("| ")]
    assert steps == ["Step", "doubled"]
    code, _, err = run("asset", "materialize", "-f", "assets.py", "--select", "dubled")
    assert code == 2 and "Did you mean 'doubled'?" in err


@pytest.mark.parametrize(
    ("source", "line", "expected"),
    [
        ("x = 1\nimport not_installed_anywhere_xyz\n", 2, "imports 'not_installed_anywhere_xyz'"),
        ("x = 1\n\ndef f(:\n    pass\n", 3, "syntax error"),
        ("x = 1\nraise ValueError('bad value at import')\n", 2, "ValueError: bad value at import"),
    ],
    ids=["import-error", "syntax-error", "exception"],
)
def test_an_import_failure_is_one_line_with_file_and_line(
    tmp_path: Path, source: str, line: int, expected: str
) -> None:
    (tmp_path / "broken.py").write_text(source)
    done = nbflow_process(tmp_path, "job", "execute", "-f", "broken.py")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    [error] = done.stderr.strip().splitlines()
    assert f"broken.py:{line}" in error and expected in error


def test_the_jobs_own_executor_runs_steps_in_other_processes(folder: Path) -> None:
    pids = folder / "pids.txt"
    done = nbflow_process(
        folder, "job", "execute", "-f", "jobs.py", "-j", "elsewhere", PID_FILE=os.fspath(pids)
    )
    assert done.returncode == 0, done.stderr
    seen = pids.read_text().split()
    assert len(set(seen)) == 2  # each step in a process of its own
    assert "again: succeeded" in done.stdout

    pids.unlink()
    done = nbflow_process(
        folder,
        "job",
        "execute",
        "-f",
        "jobs.py",
        "-j",
        "elsewhere",
        "--executor",
        "in_process",
        PID_FILE=os.fspath(pids),
    )
    assert done.returncode == 0, done.stderr
    assert len(set(pids.read_text().split())) == 1


@pytest.mark.dask
def test_executor_option_runs_the_steps_on_dask(folder: Path) -> None:
    done = nbflow_process(folder, "job", "execute", "-f", "jobs.py", "-j", "dasky", "-q")
    assert done.returncode == 1  # the job's own executor: step processes, not Dask workers
    done = nbflow_process(
        folder, "job", "execute", "-f", "jobs.py", "-j", "dasky", "-q", "--executor", "dask"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "on_a_dask_worker | succeeded" in done.stdout


def test_new_project_runs_with_job_execute_and_example_quickstart_runs(tmp_path: Path) -> None:
    done = nbflow_process(tmp_path, "new", "proj")
    assert done.returncode == 0, done.stderr
    project = tmp_path / "proj"
    [module] = sorted(p.name for p in project.glob("*.py"))[:1]
    done = nbflow_process(project, "job", "execute", "-f", module)
    assert done.returncode == 0, done.stderr
    assert ": success" in done.stdout

    done = nbflow_process(tmp_path, "new", "proj")
    assert done.returncode == 2 and "already exists" in done.stderr

    done = nbflow_process(tmp_path, "example", "quickstart")
    assert done.returncode == 0, done.stderr
    assert "': success" in done.stdout  # the job's name is the example's own
