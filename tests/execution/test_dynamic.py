"""Dynamic outputs: ``DynamicOut``/``DynamicOutput``, ``.map`` and ``.collect``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from nbflow import (
    DynamicOut,
    DynamicOutput,
    Instance,
    Out,
    Output,
    SourceHashVersionStrategy,
    job,
    op,
)
from nbflow.errors import DynamicOutputError, InvalidDefinitionError, NbflowError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

NAMES = {"names": ["a", "b", "c"]}


@op(out=DynamicOut())
def files() -> Iterator[DynamicOutput]:
    for name in NAMES["names"]:
        yield DynamicOutput(name.upper() * (ord(name) - 96), mapping_key=name)


@op
def size(context: Any, x: str) -> int:
    context.log.info(context.get_mapping_key())
    return len(x)


@op
def double(x: int) -> int:
    return 2 * x


@op
def total(sizes: list) -> int:  # type: ignore[type-arg]
    return sum(sizes)


@job
def sizes_job() -> None:
    total(files().map(size).collect())


def _ran(result: Any) -> list[str]:
    return [e.step_key for e in result.all_events if e.event_type.name == "STEP_SUCCESS"]


def _skipped(result: Any) -> list[str]:
    return [e.step_key for e in result.all_events if e.event_type.name == "STEP_SKIPPED"]


def test_map_and_collect_run_one_step_per_mapping_key() -> None:
    result = sizes_job.execute_in_process()
    assert _ran(result) == ["files", "size[a]", "size[b]", "size[c]", "total"]
    assert result.output_for_node("total") == 6
    assert result.output_for_node("size") == {"a": 1, "b": 2, "c": 3}
    assert result.output_for_node("files") == {"a": "A", "b": "BB", "c": "CCC"}


def test_context_gives_the_mapping_key() -> None:
    seen: list[Any] = []

    @op
    def key_of(context: Any, x: str) -> str:
        seen.append(context.get_mapping_key())
        return x

    @job
    def keys_job() -> None:
        files().map(key_of)

    assert keys_job.execute_in_process().success
    assert seen == ["a", "b", "c"]


def test_map_a_chain_and_collect_in_yield_order() -> None:
    @op(out=DynamicOut())
    def backwards() -> Iterator[DynamicOutput]:
        for key in ["z", "y", "x"]:
            yield DynamicOutput(key, mapping_key=key)

    @op
    def gather(values: list) -> list:  # type: ignore[type-arg]
        return values

    @job
    def chain_job() -> None:
        gather(backwards().map(lambda x: double(size(x))).collect())

    result = chain_job.execute_in_process()
    assert result.output_for_node("gather") == [2, 2, 2]
    assert "double[z]" in _ran(result)
    assert list(result.output_for_node("double")) == ["z", "y", "x"]


def test_two_mappings_of_one_dynamic_output() -> None:
    @job
    def twice() -> None:
        dyn = files()
        total(dyn.map(size).collect())
        dyn.map(size)

    result = twice.execute_in_process()
    assert result.output_for_node("size_2") == {"a": 1, "b": 2, "c": 3}
    assert result.output_for_node("total") == 6


def test_returning_a_list_of_dynamic_outputs() -> None:
    @op(out=DynamicOut())
    def listed() -> list[DynamicOutput]:
        return [DynamicOutput(3, mapping_key="one"), DynamicOutput(4, mapping_key="two")]

    @job
    def listed_job() -> None:
        total(listed().map(double).collect())

    assert listed_job.execute_in_process().output_for_node("total") == 14


def test_empty_dynamic_output_maps_nothing_and_collects_an_empty_list() -> None:
    @op(out=DynamicOut())
    def nothing() -> Iterator[DynamicOutput]:
        yield from ()

    @op
    def count(values: list) -> int:  # type: ignore[type-arg]
        return len(values)

    @job
    def empty_job() -> None:
        count(nothing().map(double).collect())

    result = empty_job.execute_in_process()
    assert _ran(result) == ["nothing", "count"]
    assert result.output_for_node("count") == 0


def test_named_dynamic_outputs_of_a_multi_output_op() -> None:
    @op(out={"evens": DynamicOut(), "odds": DynamicOut(), "n": Out()})
    def split() -> Iterator[Any]:
        for i in range(4):
            yield DynamicOutput(i, mapping_key=f"k{i}", output_name="odds" if i % 2 else "evens")
        yield Output(4, "n")

    @job
    def split_job() -> None:
        evens, odds, _n = split()
        total(evens.map(double).collect())
        total(odds.collect())

    result = split_job.execute_in_process()
    assert result.output_for_node("total") == 4  # 2 * (0 + 2)
    assert result.output_for_node("total_2") == 4  # 1 + 3


@pytest.mark.parametrize("key", ["a-b", "", "a b", "x.y"])
def test_invalid_mapping_key_is_refused(key: str) -> None:
    with pytest.raises(DynamicOutputError, match="mapping_key"):
        DynamicOutput(1, mapping_key=key)
    assert issubclass(DynamicOutputError, NbflowError)


def test_repeated_mapping_key_fails_the_step() -> None:
    @op(out=DynamicOut())
    def twice_a() -> Iterator[DynamicOutput]:
        yield DynamicOutput(1, mapping_key="a")
        yield DynamicOutput(2, mapping_key="a")

    @job
    def repeated() -> None:
        twice_a().map(double)

    with pytest.raises(DynamicOutputError, match="'a' twice"):
        repeated.execute_in_process()


def test_plain_output_for_a_dynamic_out_names_the_fix() -> None:
    @op(out=DynamicOut())
    def plain() -> Iterator[Output]:
        yield Output(1)

    @job
    def plain_job() -> None:
        plain().map(double)

    with pytest.raises(DynamicOutputError, match="Fix: yield DynamicOutput"):
        plain_job.execute_in_process()


def test_dynamic_output_passed_as_a_plain_input_is_a_definition_error() -> None:
    with pytest.raises(InvalidDefinitionError, match=r"\.map"):

        @job
        def unmapped() -> None:
            size(files())


def test_second_memoized_run_skips_every_mapped_step(tmp_path: Path) -> None:
    @job(version_strategy=SourceHashVersionStrategy())
    def memo_job() -> None:
        total(files().map(size).collect())

    instance = Instance.local(tmp_path)
    first = memo_job.execute_in_process(instance=instance)
    assert _ran(first) == ["files", "size[a]", "size[b]", "size[c]", "total"]
    second = memo_job.execute_in_process(instance=instance)
    assert _ran(second) == []
    assert sorted(_skipped(second)) == ["files", "size[a]", "size[b]", "size[c]", "total"]
    assert second.output_for_node("total") == 6
    assert second.output_for_node("size") == {"a": 1, "b": 2, "c": 3}


def test_a_new_element_runs_only_its_mapped_step(tmp_path: Path) -> None:
    @job(version_strategy=SourceHashVersionStrategy())
    def memo_job() -> None:
        total(files().map(size).collect())

    instance = Instance.local(tmp_path)
    memo_job.execute_in_process(instance=instance)
    NAMES["names"] = ["a", "b", "c", "d"]
    try:
        again = memo_job.execute_in_process(instance=instance)
    finally:
        NAMES["names"] = ["a", "b", "c"]
    assert _ran(again) == ["files", "size[d]", "total"]
    assert again.output_for_node("total") == 10


@op(name="letters", out=DynamicOut())
def letters_before() -> Iterator[DynamicOutput]:
    yield DynamicOutput("A", mapping_key="a")
    yield DynamicOutput("BB", mapping_key="b")


@op(name="letters", out=DynamicOut())
def letters_after() -> Iterator[DynamicOutput]:
    # a new body: "a" yields the value stored before, "b" a new one
    yield DynamicOutput("a".upper(), mapping_key="a")
    yield DynamicOutput("BBBB", mapping_key="b")


def _letters_job(letters: Any) -> Any:
    @job(name="letters_job", version_strategy=SourceHashVersionStrategy())
    def letters_job() -> None:
        total(letters().map(size).collect())

    return letters_job


def test_an_element_with_the_stored_value_keeps_its_mapped_step_memoized(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path)
    first = _letters_job(letters_before).execute_in_process(instance=instance)
    assert first.output_for_node("total") == 3
    again = _letters_job(letters_after).execute_in_process(instance=instance)
    assert _ran(again) == ["letters", "size[b]", "total"]
    skipped = {e.step_key: e.data.detail for e in again.get_step_skipped_events()}
    assert skipped == {"size[a]": "upstream 'letters' re-ran; its value is unchanged"}
    assert again.output_for_node("size") == {"a": 1, "b": 4}
    assert again.output_for_node("total") == 5
