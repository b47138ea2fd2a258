"""What shipping a notebook job's module text with each Dask step costs.

A job defined in notebook cells reaches Dask workers as a snapshot module. Before, the
pointer named a file on the client's disk (workers imported it from a folder on their
``sys.path``); now the pointer also carries the module's text, made into a module in memory
once per worker process. Both sides run the same 50-step chain, defined in one module, on
one LocalCluster (2 worker processes, 1 thread each), alternating, several times.

Prints one JSON object per measurement:

- ``request``: the serialized step request (bytes) and the time to encode it in the client
  and decode it on the worker, per step, for each side and two module sizes (the chain's
  own module, and the same with 200 KB more definitions, a big notebook);
- ``run``: wall time per step of the 50-step run for each side (median of the runs), and
  the difference.

Run: ``python bench/dask_module_source.py [--reps N]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from nbflow import Instance, execute_job
from nbflow.execution.executors.module_source import ModuleSource
from nbflow.execution.executors.reconstruct import ReconstructableJob
from nbflow.execution.executors.step_request import StepRequest, decode_request, encode_request
from nbflow.storage.run import Run

STEPS = 50


def chain_module(steps: int, padding_kb: int = 0) -> str:
    """A module like a notebook snapshot: ``steps`` ops in a chain and ``build_job``."""
    lines = ["from nbflow import job, op", "from nbflow.dask import dask_executor", ""]
    for i in range(steps):
        lines += [
            "",
            "@op",
            f"def step_{i}(value=0):",
            f'    """Step {i}."""',
            "    return value + 1",
        ]
    lines += [
        "",
        "",
        "@job(executor_def=dask_executor)",
        "def build_job():",
        "    value = step_0()",
    ]
    lines += [f"    value = step_{i}(value)" for i in range(1, steps)]
    text = "\n".join(lines) + "\n"
    filler = "\n\ndef unused_{0}(rows):\n    return [row * {0} for row in rows if row > {0}]\n"
    while len(text) < padding_kb * 1024:
        text += filler.format(len(text))
    return text


def pointers(text: str, folder: Path) -> dict[str, ReconstructableJob]:
    """The two ways the job travels: the file's folder, or the module's text."""
    name = f"bench_snapshot_{uuid.uuid4().hex[:12]}"
    (folder / f"{name}.py").write_text(text, encoding="utf-8")
    file_pointer = ReconstructableJob("build_job", module_name=name, working_directory=str(folder))
    source = ModuleSource.of(name, text)
    return {
        "file": file_pointer,
        "source": ReconstructableJob("build_job", name, module_source=source),
    }


def request_costs(pointer: ReconstructableJob, reps: int = 200) -> dict[str, float]:
    """Size of one step's request, and the time to encode and decode it."""
    request = StepRequest(
        step_key="step_1",
        job=pointer,
        op_selection=None,
        run=Run(run_id=uuid.uuid4().hex, job_name="build_job"),
        run_config={"execution": {"config": {"address": "tcp://127.0.0.1:8786"}}},
        version_parts={},
        instance_root=tempfile.gettempdir(),
        manifests=None,
        retries_enabled=True,
    )
    encoded = encode_request(request)
    started = time.perf_counter()
    for _ in range(reps):
        encode_request(request)
    encode = (time.perf_counter() - started) / reps
    started = time.perf_counter()
    for _ in range(reps):
        decode_request(encoded)
    decode = (time.perf_counter() - started) / reps
    return {"bytes": len(encoded), "encode_us": encode * 1e6, "decode_us": decode * 1e6}


def per_step_seconds(pointer: ReconstructableJob, address: str, base_dir: str) -> float:
    config: dict[str, Any] = {
        "execution": {"config": {"address": address}},
        "resources": {"io_manager": {"config": {"base_dir": base_dir}}},
    }
    started = time.perf_counter()
    result = execute_job(pointer, run_config=config, instance=Instance.ephemeral())
    seconds = time.perf_counter() - started
    assert result.success and result.output_for_node(f"step_{STEPS - 1}") == STEPS
    return seconds / STEPS


def run_sides(sides: dict[str, ReconstructableJob], address: str, folder: Path, reps: int) -> None:
    """Run the chain ``reps`` times per side, alternating; print the per-step medians."""
    values = str(folder / "values")
    module_kb = round(len(sides["source"].module_source.text) / 1024, 1)  # type: ignore[union-attr]
    times: dict[str, list[float]] = {side: [] for side in sides}
    for pointer in sides.values():  # warm up: each worker imports or compiles the module
        per_step_seconds(pointer, address, values)
    for _ in range(reps):
        for side, pointer in sides.items():
            times[side].append(per_step_seconds(pointer, address, values))
    medians = {side: statistics.median(seconds) * 1000 for side, seconds in times.items()}
    record = {"measure": "run", "module_kb": module_kb, "steps": STEPS, "reps": reps}
    for side, median in medians.items():
        print(json.dumps({**record, "side": side, "per_step_ms": round(median, 2)}))
    difference = round(medians["source"] - medians["file"], 2)
    print(json.dumps({**record, "source_minus_file_per_step_ms": difference}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    import dask
    import distributed

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sys.path.insert(0, str(folder))  # the "file" side, here and on the workers
        for padding in (0, 200):
            text = chain_module(STEPS, padding)
            for side, pointer in pointers(text, folder).items():
                costs = request_costs(pointer)
                record = {"measure": "request", "side": side, "module_kb": len(text) / 1024}
                print(json.dumps({**record, **{k: round(v, 1) for k, v in costs.items()}}))
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
            cluster = distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            )
        try:
            for padding in (0, 200):
                text = chain_module(STEPS, padding)
                run_sides(pointers(text, folder), cluster.scheduler_address, folder, args.reps)
        finally:
            cluster.close()


if __name__ == "__main__":
    main()
