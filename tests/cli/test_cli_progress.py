"""``nbflow job execute`` shows the run as it goes: step lines before the run ends, a live
line on a terminal, ``--quiet``, ``--json``, failed steps' tracebacks and Ctrl-C.

The CLI runs as a real subprocess with ``NBFLOW_HOME`` in a temporary folder.
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from nbflow import EventType, Instance, RunStatus
from nbflow.storage.event_codec import loads_event

JOBS = """
    import os
    import time
    from pathlib import Path

    from nbflow import SourceHashVersionStrategy, job, op

    @op
    def first():
        return 1

    @op
    def wait_for_go(x):
        deadline = time.monotonic() + 60
        while not Path(os.environ["GO_FILE"]).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return x + 1

    @op
    def sleepy(x):
        time.sleep(60)
        return x

    @op
    def last(x):
        return x

    @op
    def boom(x):
        raise ValueError("boom at the user's line")

    @job
    def gated():
        last(wait_for_go(first()))

    @job
    def slow():
        last(sleepy(first()))

    @job
    def broken():
        boom(first())

    @job
    def quick():
        last(first())

    @job(version_strategy=SourceHashVersionStrategy())
    def stored():
        last(first())
"""

BOOM_LINE = next(
    i for i, line in enumerate(textwrap.dedent(JOBS).splitlines(), 1) if "raise ValueError" in line
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "jobs.py").write_text(textwrap.dedent(JOBS))
    return tmp_path


def _env(folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "NBFLOW_HOME": os.fspath(folder / "home"),
        "GO_FILE": os.fspath(folder / "go"),
    }


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Python then installs its own handler


def start(folder: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "nbflow", "job", "execute", "-f", "jobs.py", *args],
        cwd=folder,
        env=_env(folder),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )


def execute(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nbflow", "job", "execute", "-f", "jobs.py", *args],
        cwd=folder,
        env=_env(folder),
        capture_output=True,
        text=True,
        timeout=120,
    )


def read_until(proc: subprocess.Popen[str], fragment: str) -> list[str]:
    """Lines of ``proc``'s stdout up to the first that holds ``fragment``."""
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if fragment in line:
            return lines
    raise AssertionError(f"{fragment!r} never printed; got {lines}")


def test_step_lines_appear_while_the_run_goes_on(folder: Path) -> None:
    proc = start(folder, "-j", "gated")
    try:
        seen = read_until(proc, "wait_for_go: started")
        running = proc.poll() is None
        (folder / "go").touch()
        rest, err = proc.communicate(timeout=120)
    finally:
        proc.kill()

    assert running, "the run ended before the step lines were read"
    assert seen[0].startswith("Run ") and seen[0].endswith("of job 'gated': started")
    assert seen[1:] == ["  first: started", seen[2], "  wait_for_go: started"]
    assert seen[2].startswith("  first: succeeded in ") and seen[2].endswith(" ms")
    assert "  wait_for_go: succeeded in " in rest
    assert "  last: started" in rest
    assert proc.returncode == 0, err


def test_memoized_steps_say_so(folder: Path) -> None:
    execute(folder, "-j", "stored")
    done = execute(folder, "-j", "stored")

    assert done.returncode == 0, done.stderr
    assert "  first: memoized" in done.stdout.splitlines()
    assert "  last: memoized" in done.stdout.splitlines()


def test_json_prints_one_parseable_event_per_line_and_nothing_else(folder: Path) -> None:
    done = execute(folder, "-j", "quick", "--json")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    events = [loads_event(line) for line in lines]
    assert all(isinstance(json.loads(line), dict) for line in lines)
    kinds = [(e.event_type, e.step_key) for e in events]
    assert (EventType.STEP_START, "first") in kinds
    assert (EventType.STEP_SUCCESS, "last") in kinds
    assert kinds[0] == (EventType.RUN_START, None)
    assert kinds[-1] == (EventType.RUN_SUCCESS, None)


def test_quiet_prints_the_summary_and_no_step_lines(folder: Path) -> None:
    done = execute(folder, "-j", "quick", "--quiet")

    assert done.returncode == 0, done.stderr
    assert "started" not in done.stdout
    assert not [line for line in done.stdout.splitlines() if line.startswith("  ")]
    assert done.stdout.splitlines()[0].endswith("of job 'quick': success")


def test_a_failed_step_prints_the_users_traceback(folder: Path) -> None:
    done = execute(folder, "-j", "broken")

    assert done.returncode == 1
    assert "  boom: FAILED after " in done.stdout
    user_frame = f'File "{folder / "jobs.py"}", line {BOOM_LINE}, in boom'
    assert user_frame in done.stdout
    assert 'raise ValueError("boom at the user\'s line")' in done.stdout
    assert "ValueError: boom at the user's line" in done.stdout
    assert "nbflow" + os.sep + "execution" not in done.stdout
    assert "nbflow frames left out; --full-traceback shows them" in done.stdout


def test_full_traceback_keeps_nbflows_frames(folder: Path) -> None:
    done = execute(folder, "-j", "broken", "--full-traceback", "--quiet")

    assert done.returncode == 1
    assert f"line {BOOM_LINE}, in boom" in done.stdout
    assert os.path.join("nbflow", "execution", "engine", "step.py") in done.stdout
    assert "left out" not in done.stdout


def test_ctrl_c_cancels_the_run_in_one_line(folder: Path) -> None:
    proc = start(folder, "-j", "slow")
    try:
        seen = read_until(proc, "sleepy: started")
        time.sleep(0.2)  # inside time.sleep of the op
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    run_id = seen[0].split()[1]

    assert proc.returncode == 130
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert f"Run {run_id} of job 'slow' canceled (Ctrl-C)" in err
    instance = Instance.local(folder / "home")
    run = instance.get_run(run_id)
    assert run is not None and run.status is RunStatus.CANCELED
    kinds = [(e.event_type, e.step_key) for e in instance.get_events(run_id)]
    assert (EventType.RUN_CANCELED, None) in kinds
    assert (EventType.STEP_FAILURE, "sleepy") in kinds
    assert (EventType.STEP_SKIPPED, "last") in kinds
    assert "  last: skipped (run canceled)" in rest


def _read_terminal(fd: int, seconds: float, until: bytes | None = None) -> bytes:
    """What the program writes to terminal ``fd`` for ``seconds`` (or until ``until``, or
    until the program closes it)."""
    output = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (until is None or until not in output):
        if select.select([fd], [], [], 0.1)[0]:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the program ended and closed the terminal
                break
            if not chunk:
                break
            output += chunk
    return output


def test_on_a_terminal_a_live_progress_line_is_drawn(folder: Path) -> None:
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbflow", "job", "execute", "-f", "jobs.py", "-j", "gated"],
        cwd=folder,
        env={**_env(folder), "TERM": "xterm-256color", "COLUMNS": "100"},
        stdout=child,
        stderr=subprocess.PIPE,
    )
    os.close(child)
    try:
        output = _read_terminal(main, 60, until=b"wait_for_go: started")
        output += _read_terminal(main, 0.5)  # the live line redraws while the step waits
        (folder / "go").touch()
        output += _read_terminal(main, 60)
        proc.wait(timeout=60)
    finally:
        proc.kill()
        os.close(main)

    text = output.decode(errors="replace")
    assert proc.returncode == 0
    assert "\x1b[" in text  # rich's control codes redraw the line in place
    assert "job 'gated': wait_for_go" in text and "1/3" in text  # the live line
    assert "  wait_for_go: started" in text
    assert ": success" in text
