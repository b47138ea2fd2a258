"""Steps in fresh processes when another library started the fork server first.

Python has one ``forkserver`` per process. Before nbflow had a fork server of its own, a
library that started the standard one first (a ``ProcessPoolExecutor`` with the
``forkserver`` context, say) took away nbflow's preload: every step process imported nbflow
and the job again (8.29 s against 1.45 s for 200 tiny ops). Measured here, each side in a
fresh interpreter, alternating: 200 tiny independent ops, 2 at a time, one process per step
(``process_per_step``, where the fork server matters most), after a ``ProcessPoolExecutor``
started the standard fork server, against the same run with nothing started before.

Prints one JSON object per side and one ``floor_row`` line (``floor_row.py``).
Run: ``python bench/fork_server.py [repeats]`` (default 3).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

from floor_row import emit

OPS = 200
REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 3

SIDE = """
import multiprocessing, sys, time
from concurrent.futures import ProcessPoolExecutor
from nbflow import execute_job, job, multiprocess_executor, op, reconstructable

def make(i):
    @op(name=f"tiny_{{i}}")
    def tiny():
        return i
    return tiny

ops = [make(i) for i in range({ops})]

@job(executor_def=multiprocess_executor)
def tiny_ops():
    for one in ops:
        one()

if __name__ == "__main__":
    if {other_first}:
        pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver"))
        pool.submit(abs, -1).result()
    config = {{"execution": {{"config": {{"max_concurrent": 2, "process_per_step": True}}}}}}
    started = time.perf_counter()
    result = execute_job(reconstructable(tiny_ops), run_config=config)
    assert result.success
    print(time.perf_counter() - started)
"""


def side(other_first: bool, folder: str) -> float:
    script = f"{folder}/side_{int(other_first)}.py"
    with open(script, "w") as handle:
        handle.write(SIDE.format(ops=OPS, other_first=other_first))
    done = subprocess.run(
        [sys.executable, script], capture_output=True, text=True, check=True, cwd=folder
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    import tempfile

    times: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory(prefix="nbflow-fork-server-") as folder:
        for round_ in range(REPEATS):
            for other_first in (True, False) if round_ % 2 == 0 else (False, True):
                times[other_first].append(side(other_first, folder))
    after_other = statistics.median(times[True])
    alone = statistics.median(times[False])
    print(json.dumps({"after_other_s": round(after_other, 3), "alone_s": round(alone, 3)}))
    emit(
        f"multiprocess, {OPS} tiny ops, process per step, another library's fork server "
        "started first",
        after_other,
        alone,
        "s",
        "the same run with nothing started first",
        target=1.2,
    )


if __name__ == "__main__":
    main()
