"""Dynamic outputs on the multiprocess executor: each mapped step ``op[key]`` runs in its own
step process, which expands the plan's template for that key itself."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import pytest

from nbflow import (
    DynamicOut,
    DynamicOutput,
    EventType,
    Instance,
    SourceHashVersionStrategy,
    execute_job,
    job,
    op,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

process_check: Any = importlib.import_module("process_check")


@pytest.fixture(autouse=True)
def no_process_left_behind() -> Any:
    yield
    assert process_check.leftover_processes() == []


@op(out=DynamicOut())
def words() -> Iterator[DynamicOutput]:
    for key in ["z", "a", "m"]:
        yield DynamicOutput(key * (ord(key) % 4 + 1), mapping_key=key)


@op
def measured(context: Any, word: str) -> list:  # type: ignore[type-arg]
    return [context.get_mapping_key(), len(word), os.getpid()]


@op
def gathered(values: list) -> list:  # type: ignore[type-arg]
    return [[key, n] for key, n, _pid in values]


@job(version_strategy=SourceHashVersionStrategy())
def words_job() -> None:
    gathered(words().map(measured).collect())


def _keys(result: Any, kind: EventType) -> list[str]:
    return [str(e.step_key) for e in result.filter_events(kind)]


def test_each_mapped_step_runs_in_a_step_process(tmp_path: Path) -> None:
    result = execute_job(words_job, instance=Instance.local(tmp_path))
    assert result.success
    measures = result.output_for_node("measured")
    assert list(measures) == ["z", "a", "m"]
    assert {k: v[:2] for k, v in measures.items()} == {"z": ["z", 3], "a": ["a", 2], "m": ["m", 2]}
    pids = {v[2] for v in measures.values()}
    assert os.getpid() not in pids
    assert result.output_for_node("gathered") == [["z", 3], ["a", 2], ["m", 2]]
    in_process = words_job.execute_in_process()
    assert in_process.output_for_node("gathered") == result.output_for_node("gathered")


def test_second_run_on_a_persistent_instance_skips_every_mapped_step(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path)
    first = execute_job(words_job, instance=instance)
    ran = _keys(first, EventType.STEP_SUCCESS)
    assert ran[0] == "words" and ran[-1] == "gathered"
    assert sorted(ran[1:-1]) == ["measured[a]", "measured[m]", "measured[z]"]
    second = execute_job(words_job, instance=instance)
    assert second.success
    assert _keys(second, EventType.STEP_SUCCESS) == []
    assert sorted(_keys(second, EventType.STEP_SKIPPED)) == [
        "gathered",
        "measured[a]",
        "measured[m]",
        "measured[z]",
        "words",
    ]
    assert second.output_for_node("gathered") == [["z", 3], ["a", 2], ["m", 2]]


_SCRIPT = """
from nbflow import DynamicOut, DynamicOutput, execute_job, job, op

OFFSET = 10

@op(out=DynamicOut())
def parts():
    for i in range(3):
        yield DynamicOutput(i, mapping_key=f"p{i}")

@op
def shifted(context, i):
    return [context.get_mapping_key(), i + OFFSET]

@op
def listed(values):
    return values

@job
def script_job():
    listed(parts().map(shifted).collect())

result = execute_job(script_job)
print(result.output_for_node("listed"))
print(sorted(e.step_key for e in result.all_events if e.event_type.name == "STEP_WORKER_STARTED"))
"""


def test_a_job_sent_by_value_runs_its_mapped_steps(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-"],
        input=textwrap.dedent(_SCRIPT),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "[['p0', 10], ['p1', 11], ['p2', 12]]"
    assert lines[1] == str(sorted(["parts", "shifted[p0]", "shifted[p1]", "shifted[p2]", "listed"]))


@op(name="pair", out=DynamicOut())
def pair_before() -> Iterator[DynamicOutput]:
    yield DynamicOutput("same", mapping_key="kept")
    yield DynamicOutput("old", mapping_key="changed")


@op(name="pair", out=DynamicOut())
def pair_after() -> Iterator[DynamicOutput]:
    # a new body: "kept" yields the value stored before, "changed" a new one
    yield DynamicOutput("sa" + "me", mapping_key="kept")
    yield DynamicOutput("newer", mapping_key="changed")


@op
def word_length(word: str) -> int:
    return len(word)


@job(name="pair_job", version_strategy=SourceHashVersionStrategy())
def pair_job_before() -> None:
    pair_before().map(word_length)


@job(name="pair_job", version_strategy=SourceHashVersionStrategy())
def pair_job_after() -> None:
    pair_after().map(word_length)


def test_early_cutoff_holds_per_element_across_step_processes(tmp_path: Path) -> None:
    instance = Instance.local(tmp_path)
    assert execute_job(pair_job_before, instance=instance).success
    again = execute_job(pair_job_after, instance=instance)
    assert sorted(_keys(again, EventType.STEP_SUCCESS)) == ["pair", "word_length[changed]"]
    skipped = {e.step_key: e.data.detail for e in again.get_step_skipped_events()}
    assert skipped == {"word_length[kept]": "upstream 'pair' re-ran; its value is unchanged"}
    assert again.output_for_node("word_length") == {"kept": 4, "changed": 5}
