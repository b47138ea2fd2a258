"""``version_table``, ``compare_configs`` and ``result_frame``: seed 002's job as DataFrames."""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest

import nbflow.notebook as nbn
from nbflow import MEMOIZED_RUN_TAG, JobDefinition, Out, Output, job, op
from nbflow import versioned_filesystem_io_manager as versioned_fs
from nbflow.errors import MissingVersionError
from nbflow.execution.views.graph_dot import STATUS_STYLES
from nbflow.storage import clear_memoized_values

seed_002: Any = importlib.import_module("seed_002")

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

OUTPUTS = ["emit_dog.result", "emit_tree.result", "emit_sentence.result"]


@pytest.fixture(autouse=True)
def fresh_memo() -> Iterator[None]:
    clear_memoized_values()
    yield
    clear_memoized_values()


@pytest.fixture
def my_job() -> JobDefinition:
    """Seed 002's dogs-and-trees job, with fixed versions instead of file hashes."""
    return seed_002.dogs_and_trees(resource_defs={"io_manager": versioned_fs})


def seed_config(tree: str, base_dir: Path) -> dict[str, Any]:
    return {
        "ops": {
            "emit_dog": {"config": {"dog_breed": "poodle"}},
            "emit_tree": {"config": {"tree_species": tree}},
        },
        "resources": {"io_manager": {"config": {"base_dir": str(base_dir)}}},
    }


class TestVersionTable:
    def test_before_a_run_every_output_is_to_be_recomputed(
        self, my_job: JobDefinition, tmp_path: Path
    ) -> None:
        table = nbn.version_table(my_job, seed_config("douglas_fir", tmp_path))

        assert isinstance(table, pd.DataFrame)
        assert list(table.columns) == ["Step Output", "Version", "Status of Output", "Reasons"]
        assert list(table["Step Output"]) == OUTPUTS
        assert set(table["Status of Output"]) == {"to-be-recomputed"}
        assert set(table["Reasons"]) == {"never run"}
        assert all(len(v) == 40 for v in table["Version"]), "the frame keeps whole versions"

    def test_after_a_run_outputs_are_stored_and_a_change_says_why(
        self, my_job: JobDefinition, tmp_path: Path
    ) -> None:
        california = seed_config("douglas_fir", tmp_path)
        my_job.execute_in_process(run_config=california)

        stored = nbn.version_table(my_job, california)
        changed = nbn.version_table(my_job, seed_config("red_maple", tmp_path))

        assert set(stored["Status of Output"]) == {"stored"}
        assert set(stored["Reasons"]) == {""}
        rows = changed.set_index("Step Output")
        assert list(rows["Status of Output"]) == ["stored", "to-be-recomputed", "to-be-recomputed"]
        assert rows.loc["emit_tree.result", "Reasons"] == "config key 'tree_species' changed"
        assert rows.loc["emit_sentence.result", "Reasons"] == "upstream 'emit_tree.result' changed"

    def test_it_displays_as_a_coloured_table_with_short_versions(
        self, my_job: JobDefinition, tmp_path: Path
    ) -> None:
        table = nbn.version_table(my_job, seed_config("douglas_fir", tmp_path))

        html = table._repr_html_()

        assert html is not None
        assert STATUS_STYLES["to-be-recomputed"].fill in html
        assert table["Version"][0][:12] + "…" in html
        assert table["Version"][0] not in html

    def test_a_table_whose_styling_fails_still_shows(
        self, my_job: JobDefinition, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        table = nbn.version_table(my_job, seed_config("douglas_fir", tmp_path))

        def fail(self: object) -> None:
            raise ImportError("jinja2 is missing")

        monkeypatch.setattr(type(table), "styled", fail)

        html = table._repr_html_()
        assert html is not None and "emit_dog.result" in html

    def test_derived_frames_are_plain_dataframes(
        self, my_job: JobDefinition, tmp_path: Path
    ) -> None:
        table = nbn.version_table(my_job, seed_config("douglas_fir", tmp_path))

        assert type(table.head(1)) is pd.DataFrame

    def test_an_unversioned_job_has_no_table(self) -> None:
        @op
        def plain() -> int:
            return 1

        @job
        def unversioned() -> None:
            plain()

        with pytest.raises(MissingVersionError, match="plain"):
            nbn.version_table(unversioned)


class TestCompareConfigs:
    def test_california_and_maryland_differ_in_the_tree_and_the_sentence(
        self, my_job: JobDefinition, tmp_path: Path
    ) -> None:
        california = seed_config("douglas_fir", tmp_path)
        maryland = seed_config("red_maple", tmp_path)
        my_job.execute_in_process(run_config=california)

        table = nbn.compare_configs(my_job, california, maryland, names=("california", "maryland"))

        assert list(table.columns) == [
            "Step Output",
            "Version (california)",
            "Status (california)",
            "Version (maryland)",
            "Status (maryland)",
            "Changes",
            "Reasons",
        ]
        rows = table.set_index("Step Output")
        assert list(rows["Changes"]) == [False, True, True]
        assert (
            rows.loc["emit_dog.result", "Version (california)"]
            == rows.loc["emit_dog.result", "Version (maryland)"]
        )
        assert list(rows["Status (california)"]) == ["stored"] * 3
        assert list(rows["Status (maryland)"]) == ["stored", "to-be-recomputed", "to-be-recomputed"]
        assert list(rows["Reasons"]) == [
            "",
            "config key 'tree_species' changed",
            "upstream 'emit_tree.result' changed",
        ]
        html = table._repr_html_()
        assert html is not None and STATUS_STYLES["stored"].fill in html

    def test_two_names_are_needed(self, my_job: JobDefinition, tmp_path: Path) -> None:
        config = seed_config("douglas_fir", tmp_path)

        with pytest.raises(ValueError, match="expected two names, one per config"):
            nbn.compare_configs(my_job, config, config, names=("only",))


class TestResultFrame:
    def test_a_memoized_rerun_lists_each_step_with_its_version(
        self, my_job: JobDefinition, tmp_path: Path
    ) -> None:
        california = seed_config("douglas_fir", tmp_path)
        first = my_job.execute_in_process(run_config=california)
        second = my_job.execute_in_process(run_config=seed_config("red_maple", tmp_path))

        frame = nbn.result_frame(second)

        assert list(frame.columns) == [
            "step",
            "status",
            "duration",
            "time_saved",
            "memoized",
            "version",
            "note",
        ]
        assert list(frame["step"]) == ["emit_dog", "emit_tree", "emit_sentence"]
        assert list(frame["status"]) == ["memoized", "succeeded", "succeeded"]
        assert list(frame["memoized"]) == [True, False, False]
        assert re.fullmatch(r"\d+(\.\d)? ms", frame["duration"][1])
        assert frame["note"][0] == "stored value reused"
        dog_version = nbn.result_frame(first)["version"][0]
        assert frame["version"][0] == dog_version and len(dog_version) == 40
        assert frame["version"][1] != nbn.result_frame(first)["version"][1]

    def test_a_failed_run_says_what_failed_and_what_did_not_run(self) -> None:
        @op
        def one() -> int:
            return 1

        @op
        def boom(x: int) -> int:
            raise KeyError("missing column")

        @op
        def after(x: int) -> int:
            return x

        @job
        def failing() -> None:
            after(boom(one()))

        frame = nbn.result_frame(failing.execute_in_process(raise_on_error=False))

        assert list(frame["status"]) == ["succeeded", "failed", "skipped"]
        assert "missing column" in frame["note"][1]
        assert frame["version"].isna().all()
        html = frame._repr_html_()
        assert html is not None and STATUS_STYLES["failed"].fill in html

    def test_several_outputs_list_each_version(self) -> None:
        @op(version="3", out={"a": Out(), "b": Out()})
        def pair() -> Any:
            yield Output(1, "a")
            yield Output(2, "b")

        @job(tags={MEMOIZED_RUN_TAG: "true"})
        def pairing() -> None:
            pair()

        version = nbn.result_frame(pairing.execute_in_process())["version"][0]

        assert version.startswith("a=") and ", b=" in version
