"""Events per second into the SQLite run history, stored one by one and in batches.

Each event is stored the way runs store them (``Instance.handle_event``: one ``BEGIN
IMMEDIATE`` transaction per event), or through ``store_events`` (one transaction per batch).
Prints one JSON object per workload. Run: ``python bench/sqlite_events.py [N]``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from nbflow.events import ErrorInfo, Event, EventType, StepFailureData, StepOutputData
from nbflow.storage.sqlite import SqliteRunStorage


def make_events(n: int, run_id: str) -> list[Event]:
    payloads = [
        None,
        StepOutputData("result", "a" * 64, {"rows": 10}),
        StepFailureData(ErrorInfo("RuntimeError", "boom", "Traceback ...")),
    ]
    return [
        Event(
            EventType.STEP_OUTPUT,
            "bench_job",
            f"op_{i % 100}",
            f"event {i}",
            payloads[i % len(payloads)],
            run_id=run_id,
        )
        for i in range(n)
    ]


def report(workload: str, n: int, seconds: float) -> None:
    print(
        json.dumps(
            {
                "workload": workload,
                "events": n,
                "seconds": round(seconds, 4),
                "events_per_s": round(n / seconds),
            }
        ),
        flush=True,
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with tempfile.TemporaryDirectory(prefix="nbflow-bench-") as folder:
        storage = SqliteRunStorage(Path(folder) / "runs.db")
        storage.store_events(make_events(10, "warm-up"))

        events = make_events(n, "one-by-one")
        started = time.perf_counter()
        for event in events:
            storage.store_event(event)
        report("store_event (one transaction each)", n, time.perf_counter() - started)

        for batch in (100, 1_000, 10_000):
            events = make_events(n, f"batched-{batch}")
            started = time.perf_counter()
            for i in range(0, n, batch):
                storage.store_events(events[i : i + batch])
            report(f"store_events (batches of {batch})", n, time.perf_counter() - started)

        started = time.perf_counter()
        read = storage.get_events("one-by-one")
        report("get_events (read back one run)", len(read), time.perf_counter() - started)


if __name__ == "__main__":
    main()
