"""Observable source assets: their data version is part of the versions of what reads them."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from nbflow import (
    MEMOIZED_RUN_TAG,
    AssetIn,
    AssetKey,
    DataVersion,
    EventType,
    Instance,
    IOManager,
    ObserveContext,
    SourceAsset,
    StaticPartitionsDefinition,
    asset,
    fs_io_manager,
    io_manager,
    list_versions,
    materialize,
    observable_source_asset,
)
from nbflow.definitions.asset_job import build_asset_job
from nbflow.errors import InvalidDefinitionError, VersioningError
from nbflow.storage import clear_memoized_values

MEMO = {MEMOIZED_RUN_TAG: "true"}


@pytest.fixture(autouse=True)
def _fresh_memory() -> None:
    clear_memoized_values()


@pytest.fixture
def instance(tmp_path: Path) -> Instance:
    return Instance.local(tmp_path / "home")


class TextFiles(IOManager):
    """Loads a source asset from ``<folder>/<last key part>.txt``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def handle_output(self, context: Any, obj: Any) -> None:
        raise AssertionError("source assets are never stored")

    def load_input(self, context: Any) -> str:
        return (self.folder / f"{context.upstream_output.asset_key.path[-1]}.txt").read_text()


def text_files(folder: Path) -> Any:
    @io_manager
    def files(_: Any) -> TextFiles:
        return TextFiles(folder)

    return files


def pipeline(folder: Path, call_log: list[str], observations: list[str]) -> list[Any]:
    @observable_source_asset(io_manager_key="files")
    def words() -> DataVersion:
        observations.append("words")
        return DataVersion(hashlib.sha256((folder / "words.txt").read_bytes()).hexdigest())

    @asset(code_version="1")
    def count(words: str) -> int:
        call_log.append("count")
        return len(words.split())

    @asset(code_version="1")
    def doubled(count: int) -> int:
        call_log.append("doubled")
        return count * 2

    return [words, count, doubled]


def test_changed_source_data_re_executes_its_readers_and_their_downstream(
    tmp_path: Path, instance: Instance, call_log: list[str]
) -> None:
    (tmp_path / "words.txt").write_text("a b c")
    observations: list[str] = []
    assets = pipeline(tmp_path, call_log, observations)
    resources = {"files": text_files(tmp_path)}

    first = materialize(assets, instance=instance, resources=resources, tags=MEMO)
    assert first.asset_value("doubled") == 6 and call_log == ["count", "doubled"]

    call_log.clear()
    again = materialize(assets, instance=instance, resources=resources, tags=MEMO)
    assert call_log == []  # same data: both memoized
    assert again.asset_value("doubled") == 6
    assert len(again.filter_events(EventType.STEP_SKIPPED)) == 2

    (tmp_path / "words.txt").write_text("a b c d")
    changed = materialize(assets, instance=instance, resources=resources, tags=MEMO)
    assert call_log == ["count", "doubled"]
    assert changed.asset_value("doubled") == 8
    assert observations == ["words"] * 3  # once per run, before it


def test_the_version_table_says_the_source_changed(
    tmp_path: Path, instance: Instance, call_log: list[str]
) -> None:
    (tmp_path / "words.txt").write_text("one two")
    assets = pipeline(tmp_path, call_log, [])
    resources = {"files": text_files(tmp_path)}
    materialize(assets, instance=instance, resources=resources, tags=MEMO)
    stored_like_materialize = {**resources, "io_manager": fs_io_manager}
    job_def = build_asset_job("words_job", assets, resource_defs=stored_like_materialize)
    assert {row.status for row in list_versions(job_def, instance=instance)} == {"stored"}

    (tmp_path / "words.txt").write_text("one two three")
    rows = {row.step_output: row for row in list_versions(job_def, instance=instance)}
    assert rows["count.result"].status == "to-be-recomputed"
    assert rows["count.result"].reasons == ("data of source asset 'words' changed",)
    assert rows["doubled.result"].status == "to-be-recomputed"
    assert rows["doubled.result"].reasons == ("upstream 'count.result' changed",)


def test_a_plain_source_asset_is_versioned_by_its_key(
    tmp_path: Path, instance: Instance, call_log: list[str]
) -> None:
    (tmp_path / "words.txt").write_text("a b")

    @asset(code_version="1")
    def count(words: str) -> int:
        call_log.append("count")
        return len(words.split())

    assets = [SourceAsset("words", io_manager_key="files"), count]
    resources = {"files": text_files(tmp_path)}
    materialize(assets, instance=instance, resources=resources, tags=MEMO)
    (tmp_path / "words.txt").write_text("a b c")
    stale = materialize(assets, instance=instance, resources=resources, tags=MEMO)
    assert call_log == ["count"]  # nothing tells nbflow the data changed
    assert stale.asset_value("count") == 2


def test_the_observe_function_may_take_a_context_with_key_and_partition(
    tmp_path: Path,
    instance: Instance,
) -> None:
    seen: list[tuple[AssetKey, str | None]] = []
    regions = StaticPartitionsDefinition(["eu", "us"])

    def observe(context: ObserveContext) -> str:
        seen.append((context.asset_key, context.partition_key))
        return f"v-{context.partition_key}"

    source = SourceAsset(["raw", "sales"], io_manager_key="files", observe_fn=observe)
    (tmp_path / "sales.txt").write_text("10 20")

    @asset(code_version="1", partitions_def=regions, ins={"sales": AssetIn(key=["raw", "sales"])})
    def total(sales: str) -> int:
        return sum(int(x) for x in sales.split())

    result = materialize(
        [source, total],
        instance=instance,
        resources={"files": text_files(tmp_path)},
        partition_key="us",
        tags=MEMO,
    )
    assert result.asset_value("total") == 30
    assert seen == [(AssetKey(["raw", "sales"]), "us")]


@pytest.mark.parametrize(
    ("observe", "message"),
    [
        (lambda: 1 / 0, r"Observing source asset 'words' failed: ZeroDivisionError"),
        (lambda: 42, r"returned 42; expected DataVersion\(str\) or a non-empty str"),
        (lambda: "", r"returned ''; expected DataVersion"),
    ],
)
def test_a_failing_observation_stops_the_run_before_anything_runs(
    tmp_path: Path, instance: Instance, call_log: list[str], observe: Any, message: str
) -> None:
    @asset(code_version="1")
    def count(words: str) -> int:
        call_log.append("count")
        return len(words.split())

    source = SourceAsset("words", io_manager_key="files", observe_fn=observe)
    with pytest.raises(VersioningError, match=message):
        materialize(
            [source, count], instance=instance, resources={"files": text_files(tmp_path)}, tags=MEMO
        )
    assert call_log == []


def test_bad_data_versions_and_observe_functions_are_refused_when_defined() -> None:
    with pytest.raises(InvalidDefinitionError, match="expected a non-empty str"):
        DataVersion("")
    with pytest.raises(InvalidDefinitionError, match="observe_fn is 'nope', not a function"):
        SourceAsset("words", observe_fn="nope")  # type: ignore[arg-type]


def test_observation_is_skipped_when_nothing_is_memoized(
    tmp_path: Path, instance: Instance
) -> None:
    observations: list[str] = []

    @observable_source_asset(io_manager_key="files", key=["raw", "words"])
    def words() -> str:
        observations.append("observed")
        return "v1"

    @asset(ins={"words": AssetIn(key=["raw", "words"])})
    def count(words: str) -> int:  # not memoized: no tag, no strategy
        return len(words.split())

    (tmp_path / "words.txt").write_text("a b c")
    files = {"files": text_files(tmp_path)}
    result = materialize([words, count], instance=instance, resources=files)
    assert result.asset_value("count") == 3
    assert observations == []
    assert words.key == AssetKey(["raw", "words"])
