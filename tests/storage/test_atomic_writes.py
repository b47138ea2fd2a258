"""Atomic storage: a crash mid-write never leaves an output that ``has_output`` accepts, and
concurrent writers of one version leave one complete value.

These tests use real processes: one is SIGKILLed while it writes, several write the same
file at once. The killed writer writes through a throttled file object (a slow disk) so
the kill lands mid-write every time; everything else is nbflow's own code.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from typing import TYPE_CHECKING, Any

import pytest

from nbflow import InputContext, OutputContext
from nbflow.errors import OutputNotFoundError
from nbflow.storage import FilesystemIOManager
from nbflow.storage.local_files import atomic_write_bytes

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

BIG = 200 * 1024 * 1024  # a 200 MB value
CHUNK = 4 * 1024 * 1024

SLOW_DISK = f"""
import os, time

_real_fdopen = os.fdopen


class SlowFile:
    # Writes in {CHUNK}-byte chunks with a pause between them, like a slow disk.
    def __init__(self, handle):
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()

    def flush(self):
        self.handle.flush()

    def fileno(self):
        return self.handle.fileno()

    def write(self, data):
        view = memoryview(data)
        for start in range(0, len(view), {CHUNK}):
            self.handle.write(view[start:start + {CHUNK}])
            self.handle.flush()
            time.sleep(0.02)
        return len(view)


def slow_fdopen(fd, *args, **kwargs):
    return SlowFile(_real_fdopen(fd, *args, **kwargs))


os.fdopen = slow_fdopen
"""

KILLED_WRITER = SLOW_DISK + textwrap.dedent(
    """
    import sys
    from nbflow import OutputContext
    from nbflow.storage import FilesystemIOManager

    manager = FilesystemIOManager(sys.argv[1])
    context = OutputContext(step_key="big", name="result", version="v1")
    manager.handle_output(context, b"x" * {big})
    print("finished")
    """
).format(big=BIG)


def out_ctx(version: str = "v1") -> OutputContext:
    return OutputContext(step_key="big", name="result", version=version)


def tmp_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.tmp")) if folder.exists() else []


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.002)


def kill_mid_write(
    script: str,
    folder: Path,
    processes: list[subprocess.Popen[bytes]],
    temporaries: Callable[[], list[Path]],
) -> subprocess.Popen[bytes]:
    """Run the writer ``script`` on ``folder`` and SIGKILL it once one of its
    ``temporaries()`` holds a chunk; the killed process, its output not read yet."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    processes.append(proc)

    def partly_written() -> bool:
        if proc.poll() is not None:
            pytest.fail(f"writer ended before it was killed: {proc.communicate()!r}")
        return any(p.stat().st_size >= CHUNK for p in temporaries())

    wait_for(partly_written, 20, "the writer's temporary file")
    os.kill(proc.pid, signal.SIGKILL)
    return proc


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Child processes of a test; any still running at the end are killed (by their pid)."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- a writer killed mid-write ------------------------------------------------------------


@pytest.mark.parametrize("previous", [None, "old value"], ids=["fresh", "overwrite"])
def test_writer_killed_mid_write_leaves_no_output(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]], previous: str | None
) -> None:
    manager = FilesystemIOManager(tmp_path)
    folder = tmp_path / "big" / "result"
    final = folder / "v1"
    if previous is not None:
        manager.handle_output(out_ctx(), previous)
    proc = kill_mid_write(KILLED_WRITER, tmp_path, processes, lambda: tmp_files(folder))
    stdout, _ = proc.communicate(timeout=10)

    assert proc.returncode == -signal.SIGKILL
    assert b"finished" not in stdout
    [leftover] = tmp_files(folder)
    assert 0 < leftover.stat().st_size < BIG  # it really was killed mid-write
    if previous is None:
        assert not final.exists()
        assert not manager.has_output(out_ctx())
        with pytest.raises(OutputNotFoundError):
            manager.load_input(InputContext(name="x", step_key="d", upstream_output=out_ctx()))
    else:
        assert manager.has_output(out_ctx())
        assert pickle.loads(final.read_bytes()) == previous  # the old value, whole
    # A leftover temporary file does not stop the next write.
    manager.handle_output(out_ctx(), "rewritten")
    assert pickle.loads(final.read_bytes()) == "rewritten"


def test_write_failing_mid_way_cleans_up(tmp_path: Path) -> None:
    # A real failure, unpatched: the file size limit makes write() fail with EFBIG.
    script = textwrap.dedent(
        """
        import resource, sys
        from pathlib import Path
        from nbflow.storage.local_files import atomic_write_bytes

        resource.setrlimit(resource.RLIMIT_FSIZE, (1024 * 1024, 1024 * 1024))
        try:
            atomic_write_bytes(Path(sys.argv[1]) / "out", b"x" * (8 * 1024 * 1024))
        except OSError as exc:
            print("failed", exc.errno)
        """
    )

    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, timeout=30
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == b"failed"
    assert list(tmp_path.iterdir()) == []  # no final file, no temporary file


def test_exception_during_write_cleans_up_and_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out"
    atomic_write_bytes(path, b"old")

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError("disk went away")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk went away"):
        atomic_write_bytes(path, b"new")
    monkeypatch.undo()

    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert path.read_bytes() == b"old"


def test_unpicklable_value_writes_nothing(tmp_path: Path) -> None:
    manager = FilesystemIOManager(tmp_path)

    with pytest.raises((pickle.PicklingError, TypeError, AttributeError)):
        manager.handle_output(out_ctx(), lambda: None)

    assert not manager.has_output(out_ctx())
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_atomic_write_creates_folders_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "c"

    atomic_write_bytes(path, b"one")
    atomic_write_bytes(path, b"two")

    assert path.read_bytes() == b"two"
    assert sorted(p.name for p in path.parent.iterdir()) == ["c"]


@pytest.mark.parametrize("umask", [0o022, 0o077], ids=["022", "077"])
def test_stored_files_get_the_permissions_of_a_plain_write(tmp_path: Path, umask: int) -> None:
    # Outputs in a shared base_dir must be as readable as any file the user writes.
    previous = os.umask(umask)
    try:
        FilesystemIOManager(tmp_path).handle_output(out_ctx(), "value")
        FilesystemIOManager(tmp_path).record_manifest("big", "result", {"version": "v1"})
    finally:
        os.umask(previous)

    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "big" / "result").iterdir()}
    assert modes == dict.fromkeys(["v1", "v1.manifest.json"], 0o666 & ~umask)


# --- concurrent writers of the same version ------------------------------------------------

WRITERS = 4
WRITES = 25
VALUE_SIZE = 1024 * 1024

CONCURRENT_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from nbflow import OutputContext
    from nbflow.storage import FilesystemIOManager

    base_dir, writer, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    manager = FilesystemIOManager(base_dir)
    context = OutputContext(step_key="shared", name="result", version="v1")
    value = (writer, bytes([writer]) * {size})
    manifest = {{"version": "v1", "writer": writer, "padding": "p" * 100000}}
    while not go.exists():
        time.sleep(0.001)
    for _ in range({writes}):
        manager.handle_output(context, value)
        manager.record_manifest("shared", "result", manifest)
    """
).format(size=VALUE_SIZE, writes=WRITES)


def check_complete(value: Any) -> int:
    writer, payload = value
    assert payload == bytes([writer]) * VALUE_SIZE
    return int(writer)


def test_concurrent_writers_of_one_version_leave_one_complete_value(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    base_dir = tmp_path / "store"
    go = tmp_path / "go"
    for writer in range(WRITERS):
        processes.append(
            subprocess.Popen(
                [sys.executable, "-c", CONCURRENT_WRITER, str(base_dir), str(writer), str(go)],
                stderr=subprocess.PIPE,
            )
        )
    manager = FilesystemIOManager(base_dir)
    folder = base_dir / "shared" / "result"
    final = folder / "v1"
    manifest = folder / "v1.manifest.json"
    go.touch()

    reads = 0
    seen: set[int] = set()
    while any(p.poll() is None for p in processes):
        if final.exists():  # every read sees a whole value, never a part
            seen.add(check_complete(pickle.loads(final.read_bytes())))
            reads += 1
        if manifest.exists():  # and a whole manifest
            assert json.loads(manifest.read_bytes())["version"] == "v1"
    errors = [p.communicate()[1] for p in processes]

    assert [p.returncode for p in processes] == [0] * WRITERS, errors
    assert manager.has_output(OutputContext(step_key="shared", name="result", version="v1"))
    assert check_complete(pickle.loads(final.read_bytes())) in range(WRITERS)
    assert reads > 0 and seen <= set(range(WRITERS))
    assert tmp_files(folder) == []  # every writer renamed or removed its temporary file
    assert sorted(p.name for p in folder.iterdir()) == ["v1", "v1.manifest.json"]
    assert manager.latest_manifest("shared", "result")["writer"] in range(WRITERS)


# --- several processes run the same memoized job at once ---------------------------------------

JOB_MODULE = textwrap.dedent(
    """
    import os
    from nbflow import MEMOIZED_RUN_TAG, job, op, versioned_filesystem_io_manager


    @op(version="1")
    def numbers():
        return list(range(100_000))


    @op(version="1")
    def total(numbers):
        return sum(numbers)


    @job(
        resource_defs={"io_manager": versioned_filesystem_io_manager},
        tags={MEMOIZED_RUN_TAG: "true"},
    )
    def summing():
        total(numbers())
    """
)

RUN_JOB = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path

    sys.path.insert(0, sys.argv[1])
    from shared_job import summing

    go = Path(sys.argv[3])
    while not go.exists():
        time.sleep(0.001)
    config = {"resources": {"io_manager": {"config": {"base_dir": sys.argv[2]}}}}
    result = summing.execute_in_process(run_config=config)
    assert result.success
    assert result.output_for_node("total") == sum(range(100_000))
    print("ok")
    """
)


def test_processes_running_one_memoized_job_at_once_agree(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    (tmp_path / "shared_job.py").write_text(JOB_MODULE)
    base_dir = tmp_path / "results"
    go = tmp_path / "go"
    for _ in range(3):
        processes.append(
            subprocess.Popen(
                [sys.executable, "-c", RUN_JOB, str(tmp_path), str(base_dir), str(go)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        )
    go.touch()
    outcomes = [p.communicate(timeout=60) for p in processes]

    assert [p.returncode for p in processes] == [0, 0, 0], outcomes
    assert [out.strip() for out, _ in outcomes] == [b"ok"] * 3
    leftovers = [p for p in base_dir.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    stored = sorted(str(p.relative_to(base_dir)) for p in base_dir.rglob("*") if p.is_file())
    assert len([s for s in stored if not s.endswith(".json")]) == 2  # one value per output
