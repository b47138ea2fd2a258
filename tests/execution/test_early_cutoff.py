"""Early cutoff: a step whose upstream re-ran but produced the value stored before stays
memoized; one whose upstream produced a different value runs. In every executor, and across
processes through the manifests that record value fingerprints."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from nbflow import (
    MEMOIZED_RUN_TAG,
    Instance,
    execute_job,
    fs_io_manager,
    job,
    list_versions,
    multiprocess_executor,
    op,
)
from nbflow.events import EventType
from nbflow.storage import clear_memoized_values
from nbflow.versioning import fingerprint
from nbflow.versioning.output_fingerprint import MAX_ELEMENTS, output_fingerprint

cutoff_jobs: Any = importlib.import_module("cutoff_jobs")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def run(tmp_path: Path, executor: Any = None, **config: Any) -> Any:
    job_def = cutoff_jobs.chain(executor)
    run_config = cutoff_jobs.run_config(tmp_path, **config)
    if executor is None:
        return job_def.execute_in_process(run_config=run_config)
    return execute_job(job_def, run_config=run_config, instance=Instance.local(tmp_path / "i"))


def skip_details(result: Any) -> dict[str, str]:
    return {e.step_key: e.data.detail for e in result.get_step_skipped_events()}


def test_a_rerun_that_returns_the_stored_value_leaves_downstream_memoized(tmp_path: Path) -> None:
    run(tmp_path)
    cutoff_jobs.take_ran(tmp_path)

    result = run(tmp_path, salt=1)  # source's version changes, its value does not

    assert cutoff_jobs.take_ran(tmp_path) == ["source"]
    assert skip_details(result) == {
        "double": "upstream 'source' re-ran; its value is unchanged",
        "report": "",
        "independent": "",
    }
    assert result.output_for_node("report") == "2"
    summaries = {s.step_key: s for s in result.step_summaries()}
    assert summaries["double"].status == "memoized"
    assert summaries["double"].detail.endswith("(upstream 'source' re-ran; its value is unchanged)")
    skipped = {e.step_key: e.message for e in result.get_step_skipped_events()}
    assert "memoized (upstream 'source' re-ran; its value is unchanged)" in skipped["double"]
    config = cutoff_jobs.run_config(tmp_path, salt=1)
    rows = list_versions(cutoff_jobs.chain(), config)
    assert {r.status for r in rows} == {"stored"}


def test_a_rerun_that_returns_a_new_value_reruns_downstream(tmp_path: Path) -> None:
    run(tmp_path)
    cutoff_jobs.take_ran(tmp_path)

    result = run(tmp_path, value=5, salt=1)

    assert cutoff_jobs.take_ran(tmp_path) == ["double", "report", "source"]
    assert result.output_for_node("report") == "10"


def test_a_lost_upstream_value_recomputed_differently_reruns_its_consumers(
    tmp_path: Path,
) -> None:
    """Soundness: a stored consumer is reused only if its upstream's value is the same."""
    source_file = tmp_path / "source.txt"
    ran: list[str] = []

    @op(version="1")
    def read_source() -> str:  # not deterministic: its version does not see the file
        ran.append("read_source")
        return source_file.read_text()

    @op(version="1")
    def shout(text: str) -> str:
        ran.append("shout")
        return text.upper()

    @job(resource_defs={"io_manager": fs_io_manager}, tags={MEMOIZED_RUN_TAG: "true"})
    def reading() -> None:
        shout(read_source())

    config = {"resources": {"io_manager": {"config": {"base_dir": str(tmp_path / "v")}}}}
    source_file.write_text("one")
    reading.execute_in_process(run_config=config)
    source_file.write_text("two")
    again = reading.execute_in_process(run_config=config)
    for stored in (tmp_path / "v" / "read_source" / "result").iterdir():
        if not stored.name.endswith(".json"):
            stored.unlink()  # the value is lost; its manifest remains
    ran.clear()

    result = reading.execute_in_process(run_config=config)

    assert skip_details(again) == {"read_source": "", "shout": ""}
    assert ran == ["read_source", "shout"]
    assert result.output_for_node("shout") == "TWO"


def test_values_too_large_to_fingerprint_fall_back_to_versions(tmp_path: Path) -> None:
    big = list(range(MAX_ELEMENTS + 1))
    assert output_fingerprint(big) is None
    run(tmp_path, value=big)
    cutoff_jobs.take_ran(tmp_path)

    run(tmp_path, value=big, salt=1)

    assert cutoff_jobs.take_ran(tmp_path) == ["double", "report", "source"]


def test_dataframes_are_cut_off_by_content() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"x": range(1000), "s": [f"r{i}" for i in range(1000)]})
    made: list[str] = []

    def frames(load_version: str) -> Any:
        @op(name="load", version=load_version)
        def load() -> Any:
            made.append("load")
            return frame.copy()

        @op(version="1")
        def total(df: Any) -> int:
            made.append("total")
            return int(df["x"].sum())

        @job(name="frames", tags={MEMOIZED_RUN_TAG: "true"})
        def frames_job() -> None:
            total(load())

        return frames_job

    clear_memoized_values()
    frames("1").execute_in_process()
    made.clear()
    result = frames("2").execute_in_process()

    assert made == ["load"]
    assert result.output_for_node("total") == sum(range(1000))
    assert output_fingerprint(frame) == fingerprint(frame.copy())


def test_cutoff_in_step_processes_and_across_interpreters(tmp_path: Path) -> None:
    """Fingerprints travel from step processes in events and persist in manifests."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(FIXTURES)!r})
        from pathlib import Path
        import cutoff_jobs
        from nbflow import Instance, execute_job, multiprocess_executor
        folder = Path({str(tmp_path)!r})
        salt = int(sys.argv[1])
        result = execute_job(
            cutoff_jobs.chain(multiprocess_executor),
            run_config=cutoff_jobs.run_config(folder, salt=salt),
            instance=Instance.local(folder / "i"),
        )
        print({{e.step_key: e.data.detail for e in result.get_step_skipped_events()}})
        """
    )

    def interpreter(salt: int) -> str:
        done = subprocess.run(
            [sys.executable, "-c", script, str(salt)], capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    first = interpreter(0)
    assert cutoff_jobs.take_ran(tmp_path) == ["double", "independent", "report", "source"]
    second = interpreter(1)

    assert first == "{}"
    assert cutoff_jobs.take_ran(tmp_path) == ["source"]
    assert second == str(
        {
            "independent": "",
            "double": "upstream 'source' re-ran; its value is unchanged",
            "report": "",
        }
    )


def test_multiprocess_runs_record_fingerprints_from_the_step_process(tmp_path: Path) -> None:
    result = run(tmp_path, multiprocess_executor)
    outputs = {
        e.step_key: e.data.value_fingerprint for e in result.filter_events(EventType.STEP_OUTPUT)
    }
    assert outputs["source"] == fingerprint(1)
    assert outputs["double"] == fingerprint(2)
    assert os.getpid() not in {e.pid for e in result.filter_events(EventType.STEP_OUTPUT)}
