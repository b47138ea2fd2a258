"""A run lists a storage folder once instead of failing one open per output not stored; a
listing may miss a newer file (then the output is computed again), never invent one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nbflow import In, Instance, SourceHashVersionStrategy, job, op
from nbflow.storage import folder_listing
from nbflow.storage import fs as fs_module
from nbflow.storage.folder_listing import LIST_AFTER, FolderListings, listing_folders


def _look(listings: FolderListings, folder: Path, name: str) -> bool:
    return listings.may_hold(os.fspath(folder), os.fspath(folder / name))


def _past_first_lookups(listings: FolderListings, folder: Path) -> None:
    for _ in range(LIST_AFTER):
        assert _look(listings, folder, "anything")  # not listed yet: look at the file


def test_a_folder_is_listed_after_a_few_lookups_and_answers_from_then_on(tmp_path: Path) -> None:
    (tmp_path / "kept.result@v1").write_bytes(b"x")
    (tmp_path / "nested_step").mkdir()
    listings = FolderListings()
    _past_first_lookups(listings, tmp_path)
    assert _look(listings, tmp_path, "kept.result@v1")
    assert not _look(listings, tmp_path, "missing.result@v1")
    assert listings.may_hold(os.fspath(tmp_path), os.fspath(tmp_path / "nested_step" / "o" / "v"))
    assert not listings.may_hold(os.fspath(tmp_path), os.fspath(tmp_path / "other" / "o" / "v"))


def test_what_this_process_writes_after_the_listing_is_looked_at(tmp_path: Path) -> None:
    listings = FolderListings()
    _past_first_lookups(listings, tmp_path)
    assert not _look(listings, tmp_path, "new.result@v1")
    listings.note(os.fspath(tmp_path), os.fspath(tmp_path / "new.result@v1"))
    assert _look(listings, tmp_path, "new.result@v1")


def test_paths_outside_the_folder_and_big_folders_are_always_looked_at(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(folder_listing, "MAX_ENTRIES", 3)
    for k in range(4):
        (tmp_path / f"v{k}").write_bytes(b"x")
    listings = FolderListings()
    _past_first_lookups(listings, tmp_path)
    assert _look(listings, tmp_path, "missing")  # too big to list
    assert listings.may_hold(os.fspath(tmp_path / "a"), os.fspath(tmp_path / "b" / "c"))


def test_a_missing_folder_holds_nothing(tmp_path: Path) -> None:
    listings = FolderListings()
    _past_first_lookups(listings, tmp_path / "none")
    assert not _look(listings, tmp_path / "none", "x")


def test_outside_a_run_nothing_is_listed() -> None:
    assert folder_listing.current_listings() is None
    with listing_folders() as listings:
        assert folder_listing.current_listings() is listings
    assert folder_listing.current_listings() is None


def _chain(n: int) -> object:
    @op
    def start() -> int:
        return 0

    ops = [start]
    for i in range(1, n):

        @op(name=f"add_{i}", ins={"x": In()})
        def add(x: int) -> int:
            return x + 1

        ops.append(add)

    @job(version_strategy=SourceHashVersionStrategy())
    def chain() -> None:
        value = ops[0]()
        for one in ops[1:]:
            value = one(value)

    return chain


def test_a_first_memoized_run_does_not_open_a_file_per_output_it_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = _chain(30)
    opened: list[str] = []
    real_open = fs_module.open_for_reading
    monkeypatch.setattr(
        fs_module, "open_for_reading", lambda path: opened.append(path) or real_open(path)
    )
    instance = Instance.local(tmp_path)
    first = chain.execute_in_process(instance=instance)  # type: ignore[attr-defined]
    assert first.output_for_node("add_29") == 29
    # before: each step was looked for twice (before the run and once its input was known),
    # at two places each: 120 failed opens
    assert len(opened) <= LIST_AFTER
    opened.clear()
    again = chain.execute_in_process(instance=instance)  # type: ignore[attr-defined]
    assert again.output_for_node("add_29") == 29
    assert again.get_step_success_events() == []  # all memoized
    assert opened  # stored values are still checked, each in its file
