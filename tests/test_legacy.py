"""``nbflow.legacy``: seed 002's example, written against the older API, runs with only its
imports changed, and memoizes.

The seed's files are written out verbatim (imports aside) into ``tmp_path`` as the package
``memoized_development`` with its ``solids`` folder; each solid is versioned by the hash of
its own file, as in the seed.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import pytest

from nbflow import MEMOIZED_RUN_TAG, JobDefinition, ResourceDefinition, list_versions
from nbflow.errors import DefinitionError
from nbflow.legacy import InputDefinition, ModeDefinition, OutputDefinition, pipeline, solid
from nbflow.storage import clear_memoized_values

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

SEED_FILES = {
    "memoized_development/__init__.py": "",
    "memoized_development/solids/__init__.py": "",
    # Imports changed: dagster -> nbflow.legacy / nbflow; `repository` is not needed.
    "memoized_development/repo.py": """
        from nbflow.legacy import ModeDefinition, pipeline
        from nbflow import versioned_filesystem_io_manager
        from nbflow import MEMOIZED_RUN_TAG
        from memoized_development.solids.dog import emit_dog
        from memoized_development.solids.sentence import emit_sentence
        from memoized_development.solids.tree import emit_tree


        @pipeline(
            mode_defs=[
                ModeDefinition("memoized", resource_defs={"io_manager": versioned_filesystem_io_manager}),
            ],
            tags={MEMOIZED_RUN_TAG: "true"},
        )
        def my_pipeline():
            return emit_sentence(emit_dog(), emit_tree())
        """,
    "memoized_development/solids/solid_utils.py": """
        import hashlib


        def get_hash_for_file(path):
            h = hashlib.new("md5")
            with open(path, "rb") as f:
                data = f.read()
            h.update(data)
            digest = h.hexdigest()
            return digest
        """,
    "memoized_development/solids/dog.py": """
        from nbflow.legacy import solid
        from memoized_development.solids.solid_utils import get_hash_for_file


        @solid(version=get_hash_for_file(__file__), config_schema={"dog_breed": str})
        def emit_dog(context):
            breed = context.solid_config["dog_breed"]
            return breed
        """,
    "memoized_development/solids/tree.py": """
        from nbflow.legacy import solid
        from memoized_development.solids.solid_utils import get_hash_for_file


        @solid(version=get_hash_for_file(__file__), config_schema={"tree_species": str})
        def emit_tree(context):
            species = context.solid_config["tree_species"]
            return "tree", species
        """,
    "memoized_development/solids/sentence.py": """
        from nbflow.legacy import InputDefinition, solid
        from memoized_development.solids.solid_utils import get_hash_for_file


        @solid(
            version=get_hash_for_file(__file__),
            input_defs=[InputDefinition("dog_breed"), InputDefinition("tree_species")],
        )
        def emit_sentence(_context, dog_breed, tree_species):
            return f"{dog_breed} is a breed of dog, while {tree_species} is a species of tree."
        """,
    "config/california_config.yaml": """
        solids:
          emit_dog:
            config:
              dog_breed: poodle
          emit_tree:
            config:
              tree_species: douglas_fir
        resources:
          io_manager:
            config:
              base_dir: "./results"
        """,
    "config/maryland_config.yaml": """
        solids:
          emit_dog:
            config:
              dog_breed: poodle
          emit_tree:
            config:
              tree_species: red_maple
        resources:
          io_manager:
            config:
              base_dir: "./results"
        """,
}


def forget_seed_package() -> None:
    for name in [m for m in sys.modules if m.split(".")[0] == "memoized_development"]:
        del sys.modules[name]


@pytest.fixture(autouse=True)
def fresh_memo() -> Iterator[None]:
    clear_memoized_values()
    yield
    clear_memoized_values()


@pytest.fixture
def seed_folder(tmp_path: Path) -> Path:
    for name, text in SEED_FILES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return tmp_path


@pytest.fixture
def my_pipeline(seed_folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[JobDefinition]:
    """The seed's pipeline, imported from its files; cwd is the seed folder (./results)."""
    monkeypatch.chdir(seed_folder)
    monkeypatch.syspath_prepend(str(seed_folder))
    forget_seed_package()
    try:
        yield importlib.import_module("memoized_development.repo").my_pipeline
    finally:
        forget_seed_package()


def seed_config(seed_folder: Path, name: str) -> dict[str, Any]:
    import yaml

    loaded = yaml.safe_load((seed_folder / "config" / f"{name}_config.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def outcome(result: Any) -> dict[str, str]:
    return {s.step_key: s.status for s in result.step_summaries()}


def test_seed_002_example_runs_and_memoizes(my_pipeline: JobDefinition, seed_folder: Path) -> None:
    california = seed_config(seed_folder, "california")
    maryland = seed_config(seed_folder, "maryland")

    before = list_versions(my_pipeline, california)
    first = my_pipeline.execute_in_process(run_config=california)
    after = list_versions(my_pipeline, california)
    changed = {r.step_output: r.status for r in list_versions(my_pipeline, maryland)}
    second = my_pipeline.execute_in_process(run_config=maryland)
    third = my_pipeline.execute_in_process(run_config=california)

    assert [r.status for r in before] == ["to-be-recomputed"] * 3
    assert first.success
    assert first.output_for_node("emit_sentence") == (
        "poodle is a breed of dog, while ('tree', 'douglas_fir') is a species of tree."
    )
    assert [r.status for r in after] == ["stored"] * 3
    assert (seed_folder / "results" / "emit_dog" / "result" / after[0].version).is_file()
    assert changed == {
        "emit_dog.result": "stored",
        "emit_tree.result": "to-be-recomputed",
        "emit_sentence.result": "to-be-recomputed",
    }
    assert outcome(second) == {
        "emit_dog": "memoized",
        "emit_tree": "succeeded",
        "emit_sentence": "succeeded",
    }
    assert second.output_for_node("emit_sentence") == (
        "poodle is a breed of dog, while ('tree', 'red_maple') is a species of tree."
    )
    assert set(outcome(third).values()) == {"memoized"}
    assert third.output_for_node("emit_dog") == "poodle"


def test_solids_are_versioned_by_their_files(my_pipeline: JobDefinition, seed_folder: Path) -> None:
    import hashlib

    versions = {node.name: node.definition.version for node in my_pipeline.graph_def.nodes.values()}

    for name, module in [("emit_dog", "dog"), ("emit_tree", "tree"), ("emit_sentence", "sentence")]:
        path = seed_folder / "memoized_development" / "solids" / f"{module}.py"
        assert versions[name] == hashlib.md5(path.read_bytes()).hexdigest()


def test_ops_key_works_for_a_pipeline_too(my_pipeline: JobDefinition, seed_folder: Path) -> None:
    config = seed_config(seed_folder, "california")
    config["ops"] = config.pop("solids")

    result = my_pipeline.execute_in_process(run_config=config)

    assert result.output_for_node("emit_dog") == "poodle"


def test_seed_002_from_the_command_line_with_mode(seed_folder: Path) -> None:
    def run(*args: str) -> str:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "nbflow",
                "pipeline",
                *args,
                "-m",
                "memoized_development.repo",
                "--mode",
                "memoized",
            ],
            cwd=seed_folder,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("execute", "-c", "./config/california_config.yaml")
    listed = run("list_versions", "-c", "./config/maryland_config.yaml")

    rows = {
        cells[0]: cells[2]
        for cells in (
            [c.strip() for c in line.strip("|").split("|")]
            for line in listed.splitlines()[2:]
            if line.startswith("|")
        )
    }
    assert rows == {
        "emit_dog.result": "stored",
        "emit_tree.result": "to-be-recomputed",
        "emit_sentence.result": "to-be-recomputed",
    }


# --- the legacy names themselves ---------------------------------------------------------


def test_solid_config_and_call_log_memoization(call_log: list[str]) -> None:
    @solid(version="1", config_schema={"n": int})
    def configured(context: Any) -> int:
        call_log.append("configured")
        assert context.solid_config == context.op_config
        return context.solid_config["n"]

    @solid(version="1", input_defs=[InputDefinition("x", int)])
    def doubled(_context: Any, x: int) -> int:
        call_log.append("doubled")
        return x * 2

    @pipeline(tags={MEMOIZED_RUN_TAG: "true"})
    def legacy_job() -> None:
        doubled(configured())

    run_config = {"solids": {"configured": {"config": {"n": 21}}}}
    first = legacy_job.execute_in_process(run_config=run_config)
    second = legacy_job.execute_in_process(run_config=run_config)

    assert first.output_for_node("doubled") == second.output_for_node("doubled") == 42
    assert call_log == ["configured", "doubled"]


def test_bare_solid_output_definitions_and_defaults() -> None:
    @solid
    def one(_context: Any) -> int:
        return 1

    @solid(output_defs=[OutputDefinition(int, "total")])
    def add(_context: Any, x: int, y: int = 2) -> int:
        return x + y

    @solid(input_defs=[InputDefinition("x", default_value=5)])
    def given_default(_context: Any, x: int) -> int:
        return x

    @pipeline
    def shapes() -> None:
        add(one())
        given_default()

    result = shapes.execute_in_process()

    assert result.output_for_node("add", "total") == 3
    assert result.output_for_node("given_default") == 5


def test_mode_resources_become_job_resources() -> None:
    @solid(required_resource_keys={"greeting"})
    def greet(context: Any) -> str:
        return f"{context.resources.greeting}, world"

    @pipeline(
        mode_defs=[
            ModeDefinition(
                "default", resource_defs={"greeting": ResourceDefinition.hardcoded_resource("hi")}
            )
        ]
    )
    def greeting_pipeline() -> None:
        greet()

    assert greeting_pipeline.execute_in_process().output_for_node("greet") == "hi, world"


def test_several_modes_are_refused_with_the_fix() -> None:
    @solid
    def noop(_context: Any) -> None:
        return None

    with pytest.raises(
        DefinitionError,
        match=r"pipeline got 2 modes; nbflow jobs have one set of resources\. "
        r"Fix: define one job per mode",
    ):

        @pipeline(mode_defs=[ModeDefinition("a"), ModeDefinition("b")])
        def two_modes() -> None:
            noop()
