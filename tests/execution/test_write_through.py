"""Write-through: a value just stored by a filesystem IO manager reaches its consumers in the
same process without being read back; everything else is still loaded through load_input."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbflow import Field, InputContext, IOManagerDefinition, SourceHashVersionStrategy, job, op
from nbflow.storage import FilesystemIOManager

if TYPE_CHECKING:
    from pathlib import Path


class CountingIOManager(FilesystemIOManager):
    """Counts the loads; keeps write-through on, as its load_input returns what it stored."""

    write_through = True

    def __init__(self, base_dir: Path) -> None:
        super().__init__(base_dir)
        self.loads = 0

    def load_input(self, context: InputContext) -> Any:
        self.loads += 1
        return super().load_input(context)


class ChangingIOManager(FilesystemIOManager):
    """Overrides load_input without saying anything about write-through."""

    def load_input(self, context: InputContext) -> Any:
        return ("loaded", super().load_input(context))


def build(manager: FilesystemIOManager, seen: list[Any]) -> Any:
    produced = {"rows": [1, 2, 3]}

    @op
    def make() -> dict[str, list[int]]:
        return produced

    @op(config_schema={"n": Field(int, default_value=0)})
    def use(context: Any, make: Any) -> int:
        seen.append(make)
        return 1

    @job(
        resource_defs={"io_manager": IOManagerDefinition.hardcoded_io_manager(manager)},
        version_strategy=SourceHashVersionStrategy(),
    )
    def pipeline() -> None:
        use(make())

    return pipeline, produced


def test_a_just_stored_value_is_handed_over_without_a_load(tmp_path: Path) -> None:
    manager = CountingIOManager(tmp_path)
    seen: list[Any] = []
    pipeline, produced = build(manager, seen)

    result = pipeline.execute_in_process()

    assert result.success
    assert manager.loads == 0
    assert seen[0] is produced  # the object itself, not a copy read from the file
    assert (tmp_path / "make" / "result").is_dir()  # and it was stored all the same
    loaded = [e for e in result.all_events if e.event_type_value == "LOADED_INPUT"]
    assert len(loaded) == 1 and "in memory" in loaded[0].message


def test_a_stored_value_not_produced_by_the_run_is_loaded(tmp_path: Path) -> None:
    manager = CountingIOManager(tmp_path)
    seen: list[Any] = []
    pipeline, produced = build(manager, seen)
    assert pipeline.execute_in_process().success

    # a config change re-runs "use" only; "make" is memoized, its value read from the file
    result = pipeline.execute_in_process(run_config={"ops": {"use": {"config": {"n": 1}}}})

    assert result.success
    assert manager.loads == 1
    assert seen[1] == produced and seen[1] is not produced


def test_a_subclass_that_changes_load_input_is_always_asked(tmp_path: Path) -> None:
    seen: list[Any] = []
    pipeline, produced = build(ChangingIOManager(tmp_path), seen)

    assert pipeline.execute_in_process().success

    assert ChangingIOManager.write_through is False
    assert seen == [("loaded", produced)]
