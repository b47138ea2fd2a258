"""Why small values are written by a helper process: 200 small atomic writes (temporary file,
write, ``fsync``, rename) beside a thread that is busy in Python, done

- by a thread of the same process (what the run's writer threads did), and
- by nbflow's value writer process (what the run does now),

against the same writes alone in one thread. A thread of the busy process must win the
interpreter lock back after each system call; the helper process has a lock of its own.

Run: ``python bench/value_writer.py [rounds]`` (default 5); prints medians in ms.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from nbflow.storage.local_files import atomic_write_bytes
from nbflow.storage.value_writer import PendingWrite, ValueWriter

WRITES = 200


def busy(stop: threading.Event) -> None:
    total = 0
    while not stop.is_set():
        for i in range(1000):
            total += i


def in_thread(folder: Path) -> None:
    def work() -> None:
        for k in range(WRITES):
            atomic_write_bytes(folder / f"v{k}", b"x" * 64, temporaries=folder)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()


Write = Callable[[Path], None]


def in_helper(writer: ValueWriter) -> Write:
    def write(folder: Path) -> None:
        writes = [
            PendingWrite(folder / f"v{k}", str(folder / f"v{k}"), b"x" * 64, folder, "v")
            for k in range(WRITES)
        ]
        for one in writes:
            writer.submit(one)
        for one in writes:
            writer.wait(one)

    return write


def timed(write: Write, folder: Path, beside_busy: bool) -> float:
    folder.mkdir()
    stop = threading.Event()
    spinner = threading.Thread(target=busy, args=(stop,))
    if beside_busy:
        spinner.start()
    start = time.perf_counter()
    write(folder)
    elapsed = time.perf_counter() - start
    stop.set()
    if beside_busy:
        spinner.join()
    shutil.rmtree(folder)
    return elapsed


def main(rounds: int = 5) -> None:
    writer = ValueWriter()
    writer.start()
    sides: dict[str, tuple[Write, bool]] = {
        "one thread, nothing else running": (in_thread, False),
        "a thread beside a busy thread": (in_thread, True),
        "the helper process beside a busy thread": (in_helper(writer), True),
    }
    found: dict[str, list[float]] = {name: [] for name in sides}
    where = os.environ.get("BENCH_DIR")
    with tempfile.TemporaryDirectory(prefix="nbflow-value-writer-", dir=where) as base:
        count = 0
        for round_ in range(rounds):
            names = list(sides) if round_ % 2 == 0 else list(reversed(sides))
            for name in names:
                write, beside_busy = sides[name]
                count += 1
                found[name].append(timed(write, Path(base) / str(count), beside_busy))
    writer.close()
    print(f"{WRITES} small atomic writes with fsync, median of {rounds}:")
    for name, times in found.items():
        print(f"  {name:42s} {statistics.median(times) * 1000:8.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
