"""Side-by-side benchmark of nbflow and Dagster 1.7.16; writes bench/RESULTS.md.

Run from anywhere: ``python bench/run.py`` (or ``make -C bench bench``). The first run creates
``bench/.venv-dagster`` and installs ``bench/dagster-requirements.txt`` into it. Each workload
runs in a fresh process per side (``sides/nbflow_side.py`` with this Python,
``sides/dagster_side.py`` with the venv's), alternating nbflow and Dagster, several
repetitions; RESULTS.md reports medians, the nbflow/Dagster ratio per row, and whether each
budget of ARCHITECTURE.md §6 is met (with a profile of the nbflow side where it is not).
Then it runs ``floors.py``: nbflow against what a user could write by hand (a warm process
pool, plain ``dask.distributed``, xxh3 over buffers, pickle files, 1,000 against 20,000 ops).

Options: ``--reps N`` (default 5), ``--output PATH``, ``--only TEXT`` (workloads whose name
contains TEXT; for trying the harness, not for RESULTS.md).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import floors

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SIDES = BENCH / "sides"
VENV = BENCH / ".venv-dagster"
REQUIREMENTS = BENCH / "dagster-requirements.txt"
STAMP = VENV / "bench-requirements.txt"
DAGSTER_VERSION = "1.7.16"
SUBPROCESS_TIMEOUT_S = 1800

NBFLOW = "nbflow"
DAGSTER = "dagster"
SIDE_TITLES = {NBFLOW: "nbflow", DAGSTER: f"Dagster {DAGSTER_VERSION}"}

# Modules only nbflow's notebook layer may load; `import nbflow` must load none of them.
NOTEBOOK_ONLY = (
    "nbflow.notebook",
    "IPython",
    "ipykernel",
    "ipywidgets",
    "jupyter_client",
    "nbclient",
    "nbformat",
    "papermill",
    "pandas",
    "graphviz",
)

# Imports the package and nothing else before it; prints the import's seconds and what loaded.
IMPORT_SNIPPET = """\
import time
_cpu = time.process_time()
_started = time.perf_counter()
import {module}
_seconds = time.perf_counter() - _started
_cpu = time.process_time() - _cpu
import json, sys
_watch = {watch!r}
_loaded = sorted(m for m in sys.modules if any(m == w or m.startswith(w + ".") for w in _watch))
print(json.dumps({{"workload": "import", "seconds": {{"run": _seconds}},
                   "info": {{"watched_modules_loaded": _loaded, "cpu_seconds": _cpu}}}}))
"""

# ---------------------------------------------------------------- what runs


@dataclass(frozen=True)
class Spec:
    """One workload, run on the sides that have it.

    ``state`` names a folder the driver primes once per side (``prime:N``) and passes to
    every run; ``max_reps`` caps the repetitions of workloads that take Dagster long.
    """

    workload: str
    sides: tuple[str, ...] = (NBFLOW, DAGSTER)
    state: str | None = None
    max_reps: int | None = None


HEAVY = 3  # repetitions of workloads that take Dagster tens of seconds

SPECS = [
    Spec("startup"),
    Spec("import"),
    Spec("import_wall"),
    *(Spec(f"{shape}:{n}") for shape in ("chain", "fan") for n in (10, 100)),
    Spec("chain:500"),
    Spec("fan:500", max_reps=HEAVY),
    *(Spec(f"memo:{case}", sides=(NBFLOW,)) for case in ("first", "cached", "leaf", "root")),
    Spec("memo_fs:first", max_reps=HEAVY),
    *(Spec(f"memo_fs:{c}", state="100", max_reps=HEAVY) for c in ("cached", "leaf", "root")),
    Spec("list_versions:100", sides=(NBFLOW,)),
    Spec("list_versions:500", sides=(NBFLOW,)),
    Spec("list_versions_fs:100", state="100"),
    Spec("list_versions_fs:500", state="500"),
    Spec("materialize:100"),
    Spec("mp:default", max_reps=HEAVY),
    Spec("mp:forkserver", max_reps=HEAVY),
    Spec("peak_rss:500", max_reps=HEAVY),
    Spec("chain:1000", max_reps=HEAVY),
    Spec("fan:1000", max_reps=HEAVY),
    Spec("chain:5000", sides=(NBFLOW,)),
    Spec("fan:5000", sides=(NBFLOW,)),
]


@dataclass(frozen=True)
class Row:
    """One line of the results table: a measurement of each side, and nbflow's budget."""

    label: str
    nbflow: tuple[str, str]  # (workload, measurement name)
    dagster: tuple[str, str] | None
    unit: str = "s"
    steps: int | None = None  # shows ms per step
    budget: float | None = None
    note: str = ""


def _engine_rows() -> list[Row]:
    rows = []
    for shape, title in (("chain", "chain"), ("fan", "fan-out/fan-in")):
        for n in (10, 100, 500):
            steps = n + 1 if shape == "chain" else 2 * n
            budget = 0.10 if (shape, n) == ("chain", 500) else None
            rows.append(
                Row(
                    f"execute_in_process, {title} of {n} ({steps} steps)",
                    (f"{shape}:{n}", "run"),
                    (f"{shape}:{n}", "run"),
                    steps=steps,
                    budget=budget,
                )
            )
    return rows


MEMO_LABELS = {
    "first": "first run",
    "cached": "fully cached re-run",
    "leaf": "leaf op config change",
    "root": "root op config change",
}

ROWS: list[Row] = [
    Row(
        "import (seconds inside `python -c`, nothing imported before)",
        ("import", "run"),
        ("import", "run"),
        budget=0.10,
        note="budget also: no notebook-only module loaded",
    ),
    Row(
        '`python -c "import X"`, whole process',
        ("import_wall", "run"),
        ("import_wall", "run"),
        note="includes interpreter start-up (row below)",
    ),
    Row('`python -c "pass"`, interpreter start-up', ("startup", "run"), ("startup", "run")),
    *_engine_rows(),
    *(
        Row(
            f"memoized chain of 100: {MEMO_LABELS[case]}",
            (f"memo:{case}", "run"),
            (f"memo_fs:{case}", "run"),
            budget=0.02 if case == "cached" else None,
            note="nbflow in memory; Dagster SQLite instance + versioned fs IO manager",
        )
        for case in ("first", "cached", "leaf", "root")
    ),
    *(
        Row(
            f"memoized chain of 100 on disk, both sides: {MEMO_LABELS[case]}",
            (f"memo_fs:{case}", "run"),
            (f"memo_fs:{case}", "run"),
            note="SQLite instance + versioned fs IO manager on both sides",
        )
        for case in ("first", "cached", "leaf", "root")
    ),
    *(
        Row(
            f"list_versions, chain of {n}",
            (f"list_versions:{n}", "run"),
            (f"list_versions_fs:{n}", "run"),
            budget=0.03 if n == 500 else None,
            note="nbflow in memory; Dagster: the CLI's memoized-plan logic, called in Python",
        )
        for n in (100, 500)
    ),
    *(
        Row(
            f"list_versions on disk, both sides, chain of {n}",
            (f"list_versions_fs:{n}", "run"),
            (f"list_versions_fs:{n}", "run"),
            note="SQLite instance + versioned fs IO manager on both sides",
        )
        for n in (100, 500)
    ),
    Row(
        "materialize_to_memory, chain of 100 assets",
        ("materialize:100", "run"),
        ("materialize:100", "run"),
        budget=0.03,
    ),
    Row(
        "multiprocess 8 ops x 0.5 s, max_concurrent 2, default start method, first run",
        ("mp:default", "first"),
        ("mp:default", "first"),
        budget=2.4,
        note="ideal 2.0 s; nbflow forkserver, Dagster spawn (the defaults)",
    ),
    Row(
        "multiprocess 8 x 0.5 s, max_concurrent 2, forkserver on both, first run",
        ("mp:forkserver", "first"),
        ("mp:forkserver", "first"),
        note="ideal 2.0 s",
    ),
    Row(
        "multiprocess 8 x 0.5 s, max_concurrent 2, forkserver on both, second run",
        ("mp:forkserver", "second"),
        ("mp:forkserver", "second"),
        note="ideal 2.0 s; same process as the first run",
    ),
    Row(
        "peak RSS of a process running the chain of 500 once",
        ("peak_rss:500", "run"),
        ("peak_rss:500", "run"),
        unit="MB",
        note="resource.getrusage ru_maxrss",
    ),
]

SCALING = [(shape, n) for shape in ("chain", "fan") for n in (10, 100, 500, 1000, 5000)]

# What stands between a missed budget and its target, printed beside the verdict.
FLOORS = {
    "import": (
        "`import nbflow` loads what defining ops, graphs and jobs needs (the core definitions "
        "and config); assets, events, versioning, execution and storage load on first use. "
        "The module tree below shows where the time goes; `bench/import_time.py` sets it beside "
        "a bare interpreter. Interpreter start-up is reported separately and not counted."
    ),
    "chain:500": "per-step engine cost; see the profile below.",
    "memo:cached": "version computation and store look-up per step; see the profile below.",
    "list_versions:500": "version computation per output; see the profile below.",
    "materialize:100": "asset job build and run; see the profile below.",
    "mp:default": (
        "8 sleeps of 0.5 s at 2 at a time take 2.0 s at best; the rest is starting the fork "
        "server (with nbflow preloaded) and one process per step."
    ),
}

# ---------------------------------------------------------------- sides and processes


@dataclass
class Side:
    name: str
    python: Path
    script: Path
    env: dict[str, str]
    states: dict[str, Path] = field(default_factory=dict)


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("PYTHONPATH", "VIRTUAL_ENV", "DAGSTER_HOME", "NBFLOW_HOME", "PYTHONSTARTUP"):
        env.pop(name, None)
    return env


def _run(cmd: list[str], side: Side, cwd: Path) -> tuple[dict[str, Any], float]:
    """Runs ``cmd``; returns the JSON of its last stdout line and the process's wall time."""
    started = time.perf_counter()
    done = subprocess.run(
        cmd,
        cwd=cwd,
        env=side.env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-25:])
        raise RuntimeError(f"{shlex.join(cmd)} exited {done.returncode}:\n{tail}")
    lines = done.stdout.strip().splitlines()
    return (json.loads(lines[-1]) if lines else {}), wall


def run_workload(side: Side, workload: str, cwd: Path, profile: bool = False) -> dict[str, Any]:
    python = str(side.python)
    if workload == "startup":
        _, wall = _run([python, "-c", "pass"], side, cwd)
        return {"seconds": {"run": wall}, "info": {}}
    if workload == "import_wall":
        _, wall = _run([python, "-c", f"import {side.name}"], side, cwd)
        return {"seconds": {"run": wall}, "info": {}}
    if workload == "import":
        code = IMPORT_SNIPPET.format(module=side.name, watch=NOTEBOOK_ONLY)
        return _run([python, "-c", code], side, cwd)[0]
    cmd = [python, str(side.script), workload]
    spec = next(s for s in SPECS if s.workload == workload)
    if spec.state is not None:
        cmd += ["--state", str(side.states[spec.state])]
    if profile:
        cmd.append("--profile")
    return _run(cmd, side, cwd)[0]


def ensure_dagster_venv() -> Path:
    """``bench/.venv-dagster`` with the pinned requirements; (re)installed when they change."""
    python = VENV / "bin" / "python"
    wanted = REQUIREMENTS.read_text()
    if python.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return python
    log(f"installing Dagster {DAGSTER_VERSION} into {VENV.relative_to(REPO)} …")
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)], check=True
    )
    check = "import dagster, six; print(dagster.__version__)"
    version = subprocess.run(
        [str(python), "-c", check], capture_output=True, text=True, check=True
    ).stdout.strip()
    if version != DAGSTER_VERSION:
        raise SystemExit(f"{VENV} has Dagster {version}, expected {DAGSTER_VERSION}")
    STAMP.write_text(wanted)
    return python


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the run


@dataclass
class Samples:
    """Every measurement of every run: ``values[(side, workload, name)]``."""

    values: dict[tuple[str, str, str], list[float]] = field(default_factory=dict)
    info: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    loads: list[float] = field(default_factory=list)

    def add(self, side: str, workload: str, result: dict[str, Any]) -> None:
        info = result.get("info", {})
        values = dict(result.get("seconds", {}))
        if "cpu_seconds" in info:
            values["cpu"] = info["cpu_seconds"]
        for name, value in values.items():
            self.values.setdefault((side, workload, name), []).append(float(value))
        self.info[(side, workload)] = info
        self.loads.append(os.getloadavg()[0])

    def median(self, side: str, key: tuple[str, str] | None) -> float | None:
        if key is None:
            return None
        found = self.values.get((side, *key))
        return statistics.median(found) if found else None

    def count(self, side: str, key: tuple[str, str] | None) -> int:
        return len(self.values.get((side, *key), [])) if key else 0


def run_all(sides: dict[str, Side], specs: list[Spec], reps: int, cwd: Path) -> Samples:
    samples = Samples()
    for spec in specs:
        if spec.state is None:
            continue
        for name in spec.sides:
            side = sides[name]
            if spec.state not in side.states:
                folder = cwd / f"state-{name}-{spec.state}"
                folder.mkdir()
                log(f"[prime] {name} chain of {spec.state}")
                _run(
                    [
                        str(side.python),
                        str(side.script),
                        f"prime:{spec.state}",
                        "--state",
                        str(folder),
                    ],
                    side,
                    cwd,
                )
                side.states[spec.state] = folder
    for rep in range(reps):
        for spec in specs:
            if rep >= min(reps, spec.max_reps or reps):
                continue
            for name in spec.sides:
                started = time.perf_counter()
                result = run_workload(sides[name], spec.workload, cwd)
                samples.add(name, spec.workload, result)
                took = time.perf_counter() - started
                log(f"[rep {rep + 1}/{reps}] {name:7} {spec.workload:22} {took:7.2f} s wall")
    return samples


# ---------------------------------------------------------------- the report


def fmt(value: float | None, unit: str = "s") -> str:
    if value is None:
        return "—"
    if unit == "MB":
        return f"{value:.0f} MB"
    if value < 1:
        return f"{value * 1000:.3g} ms"
    return f"{value:.3g} s"


def fmt_ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or theirs is None or theirs == 0:
        return "—"
    ratio = ours / theirs
    if ratio >= 1:
        return f"{ratio:.2g}"
    inverse = 1 / ratio
    return f"{ratio:.2g} (1/{inverse:.0f})" if inverse >= 10 else f"{ratio:.2g} (1/{inverse:.2g})"


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return "?"


def _python_version(python: Path) -> str:
    code = "import sys; print(sys.version.split()[0])"
    return subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def _pinned(name: str) -> str:
    for line in REQUIREMENTS.read_text().splitlines():
        if line.lower().startswith(name.lower() + "=="):
            return line.split("==", 1)[1]
    return "?"


@dataclass
class Context:
    command: str
    started: datetime.datetime
    wall_seconds: float
    load: str
    reps: int
    dagster_python: Path


def _load_summary(before: float, during: list[float]) -> str:
    if not during:
        return f"{before:.1f} before the run"
    return (
        f"{before:.1f} before the run; during it (after each measurement) median "
        f"{statistics.median(during):.1f}, range {min(during):.1f} to {max(during):.1f}, on "
        f"{os.cpu_count()} cores"
    )


def _header(context: Context) -> list[str]:
    import nbflow

    dirty = " (with uncommitted changes)" if _git("status", "--porcelain") else ""
    deps = ", ".join(f"{n} {_pinned(n)}" for n in ("pydantic", "SQLAlchemy", "pendulum", "grpcio"))
    return [
        "# nbflow vs Dagster 1.7.16, side by side",
        "",
        f"Generated by `{context.command}` on "
        f"{context.started.strftime('%Y-%m-%d %H:%M UTC')} in {context.wall_seconds / 60:.1f} min. "
        "Do not edit by hand: run the command again.",
        "",
        f"- Machine: {os.cpu_count()} cores ({_cpu_model()}), {_memory_gib()} memory, "
        f"{platform.platform()}. One-minute load average {context.load}: other work shares "
        "this machine, so wall times include waiting for a core; medians absorb part of it, "
        "and the budget lines also give the CPU time of nbflow's measured call.",
        f"- nbflow {nbflow.__version__} at commit {_git('rev-parse', '--short', 'HEAD')}{dirty}, "
        f"Python {platform.python_version()} ({sys.executable}).",
        f"- Dagster {DAGSTER_VERSION} (with {deps}; all pins in `bench/dagster-requirements.txt`), "
        f"Python {_python_version(context.dagster_python)} in `bench/.venv-dagster`.",
        f"- Each workload ran in a fresh process per side, nbflow then Dagster, repeated "
        f"{context.reps} times (rows marked † at most {HEAVY} times: they take Dagster tens "
        "of seconds). Values are medians; inside a process, cheap runs are repeated up to 3 times "
        "(median taken) after a warm-up run of a 2-op job of the same kind.",
        "- Ratio is nbflow / Dagster: below 1 means nbflow is faster (or smaller).",
        "",
    ]


def _budget_cell(row: Row, ours: float | None, watched: list[str]) -> str:
    if row.budget is None:
        return ""
    met = ours is not None and ours <= row.budget and not watched
    return f"≤ {fmt(row.budget, row.unit)} {'met' if met else '**MISSED**'}"


def _capped(row: Row) -> bool:
    """Whether a side of ``row`` ran fewer repetitions (a workload that takes Dagster long)."""
    workloads = {row.nbflow[0], row.dagster[0] if row.dagster else ""}
    return any(s.max_reps for s in SPECS if s.workload in workloads)


def _main_table(samples: Samples) -> list[str]:
    lines = [
        f"| workload | nbflow | {SIDE_TITLES[DAGSTER]} | nbflow/Dagster | per step "
        "(nbflow / Dagster) | nbflow budget | note |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    watched = samples.info.get((NBFLOW, "import"), {}).get("watched_modules_loaded", [])
    for row in ROWS:
        ours = samples.median(NBFLOW, row.nbflow)
        theirs = samples.median(DAGSTER, row.dagster)
        if ours is None and theirs is None:
            continue
        dagger = " †" if _capped(row) else ""
        per_step = ""
        if row.steps and ours is not None and theirs is not None:
            per_step = f"{ours * 1e3 / row.steps:.3f} / {theirs * 1e3 / row.steps:.2f} ms"
        budget = _budget_cell(row, ours, watched if row.nbflow[0] == "import" else [])
        cells = [
            row.label + dagger,
            fmt(ours, row.unit),
            fmt(theirs, row.unit),
            fmt_ratio(ours, theirs),
            per_step,
            budget,
            row.note,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _scaling_table(samples: Samples) -> list[str]:
    lines = [
        "## How cost grows with the number of ops",
        "",
        "The in-process chain and fan-out/fan-in from the table above, extended to 1,000 and "
        "5,000 ops. Dagster stops at 1,000: at its per-step cost, 5,000 ops would take it one "
        "to three minutes per run. A flat per-step "
        "column means the cost per step does not grow with the job.",
        "",
        "| shape | ops | steps | nbflow | nbflow per step | Dagster | Dagster per step | "
        "nbflow/Dagster |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for shape, n in SCALING:
        key = (f"{shape}:{n}", "run")
        ours = samples.median(NBFLOW, key)
        theirs = samples.median(DAGSTER, key)
        if ours is None:
            continue
        steps = n + 1 if shape == "chain" else 2 * n
        lines.append(
            f"| {shape} | {n:,} | {steps:,} | {fmt(ours)} | {ours * 1e3 / steps:.3f} ms | "
            f"{fmt(theirs) if theirs is not None else 'not run'} | "
            f"{f'{theirs * 1e3 / steps:.2f} ms' if theirs is not None else '—'} | "
            f"{fmt_ratio(ours, theirs)} |"
        )
    return lines


def _checks(samples: Samples) -> list[str]:
    """What the runs did, so a wrong setup shows (memoized runs must skip steps)."""
    lines = ["## What the runs did", ""]
    for side in (NBFLOW, DAGSTER):
        parts = []
        for workload in (
            "memo:first",
            "memo:cached",
            "memo:leaf",
            "memo:root",
            *(f"memo_fs:{c}" for c in ("first", "cached", "leaf", "root")),
        ):
            info = samples.info.get((side, workload))
            if info and "steps_executed" in info:
                parts.append(f"{workload} {info['steps_executed']}")
        if parts:
            lines.append(f"- {SIDE_TITLES[side]}, steps executed of 101: " + ", ".join(parts) + ".")
        for n in (100, 500):
            for workload in (f"list_versions:{n}", f"list_versions_fs:{n}"):
                info = samples.info.get((side, workload))
                if info and "outputs" in info:
                    lines.append(
                        f"- {SIDE_TITLES[side]} `{workload}`: {info['outputs']} outputs listed, "
                        f"{info['stored']} stored."
                    )
        info = samples.info.get((side, "peak_rss:500"))
        if info:
            lines.append(
                f"- {SIDE_TITLES[side]} peak RSS right after imports: "
                f"{info['after_import_mb']:.0f} MB."
            )
        info = samples.info.get((side, "import"))
        if info is not None and side == NBFLOW:
            loaded = info.get("watched_modules_loaded") or []
            lines.append(
                "- `import nbflow` loaded notebook-only modules: "
                + (", ".join(loaded) if loaded else "none")
                + "."
            )
    return [*lines, ""]


NOTES = """\
## How each row is measured

- **import**: `python -c` that reads the clock, imports the package, reads it again; nothing is
  imported before (ARCHITECTURE's 0.55 s for `import dagster` is this measurement). The
  whole-process rows add the interpreter's own start-up.
- **execute_in_process**: jobs built from the same op graph on both sides (`bench/workloads.py`
  for nbflow, its mirror in `sides/dagster_side.py`): `source` then N `step` ops (chain), or
  `source` fanned out to N `step` ops folded back pairwise by `add` ops (fan). Dagster runs on
  its default ephemeral instance and logs to stderr (captured), as a user gets by default.
- **memoized chain of 100**: ops with `version="1"` (nbflow) / `code_version="1"` (Dagster) and a
  `seed` config; run tag `MEMOIZED_RUN_TAG`. nbflow memoizes in memory by default (the
  notebook case: the re-run happens in the same process as the first run). Dagster 1.7.16
  memoizes only with a persistent instance, so its rows use a SQLite `DagsterInstance` in a
  temporary folder and `versioned_filesystem_io_manager`; the stored first run was made by an
  earlier process (`prime:100`) and each measured process works on a copy of it. The "on disk,
  both sides" rows run nbflow the same way (`Instance.local` + `versioned_filesystem_io_manager`).
  Leaf change: new config for the last op (1 step re-runs); root change: new config for the
  first op (all 101 re-run).
- **list_versions**: nbflow `list_versions(job, run_config)`. Dagster 1.7.16 has no Python
  function for it; `dagster job list_versions` builds
  `create_execution_plan(job, run_config, instance_ref, tags={MEMOIZED_RUN_TAG: "true"})` and
  tabulates `step_output_versions` against `step_keys_to_execute`. The benchmark calls that same
  logic in Python (no CLI process, no loading the job from a file, no printing), on the primed
  SQLite instance.
- **materialize_to_memory**: a chain of 100 `@asset`s, each reading the one before.
  ARCHITECTURE's 0.87 s was measured on Dagster 1.13.29; this row is what 1.7.16 gives.
- **multiprocess**: `execute_job` of 8 independent ops sleeping 0.5 s with `max_concurrent: 2`
  (ideal 2.0 s). Dagster gets a reconstructable job (`ReconstructableJob.for_file` on
  `sides/dagster_jobs.py`) and a SQLite instance, which its multiprocess executor requires.
  Default start methods differ (nbflow: forkserver with nbflow preloaded; Dagster: spawn), so a
  forkserver row on both is added. The first run in a process includes starting the process
  machinery; the budget is checked against it.
- **peak RSS**: `ru_maxrss` of a fresh process that imported the package, built the chain of
  500 and ran it once in process.
"""


def _verdicts(samples: Samples, profiles: dict[str, str]) -> list[str]:
    lines = ["## Budgets (ARCHITECTURE.md §6)", ""]
    watched = samples.info.get((NBFLOW, "import"), {}).get("watched_modules_loaded", [])
    for row in ROWS:
        if row.budget is None:
            continue
        ours = samples.median(NBFLOW, row.nbflow)
        theirs = samples.median(DAGSTER, row.dagster)
        if ours is None:
            continue
        extra = watched if row.nbflow[0] == "import" else []
        met = ours is not None and ours <= row.budget and not extra
        verdict = "met" if met else "**MISSED**"
        line = (
            f"- {row.label}: nbflow {fmt(ours, row.unit)} against ≤ {fmt(row.budget, row.unit)} "
            f"— {verdict} (Dagster {fmt(theirs, row.unit)})."
        )
        cpu = samples.median(NBFLOW, (row.nbflow[0], "cpu"))
        if cpu is not None and row.nbflow[1] == "run":
            line += f" CPU time of nbflow's measured call: {fmt(cpu)}"
            line += " (within the budget)." if cpu <= row.budget else "."
        if extra:
            line += f" Notebook-only modules loaded: {', '.join(extra)}."
        if not met:
            line += f" Floor: {FLOORS.get(row.nbflow[0], 'see the profile below.')}"
            line += _floor_detail(row.nbflow[0], samples)
        lines.append(line)
    lines.append("")
    for workload, text in profiles.items():
        lines += [
            f"### Profile of the nbflow side: `{workload}` (missed budget)",
            "",
            "```",
            text.rstrip(),
            "```",
            "",
        ]
    return lines


def _floor_detail(workload: str, samples: Samples) -> str:
    """Measured facts behind a floor, where the side reports them."""
    info = samples.info.get((NBFLOW, workload), {})
    if workload == "mp:default" and "first" in info:
        first, second = info["first"], info.get("second", {})
        again = samples.median(NBFLOW, ("mp:default", "second"))
        return (
            f" In the last run the first step process was up "
            f"{first['first_process_up_ms']:.0f} ms after the call (the fork server starting: "
            "a fresh interpreter importing nbflow's step-process code), then each step process "
            f"started in {first['median_start_ms']:.0f} ms (median). The second run in the same "
            f"process, with the server up, takes {fmt(again)} (median; in the last run the first "
            f"process was up after {second.get('first_process_up_ms', float('nan')):.0f} ms)."
        )
    return ""


def missed_workloads(samples: Samples) -> list[str]:
    watched = samples.info.get((NBFLOW, "import"), {}).get("watched_modules_loaded", [])
    missed = []
    for row in ROWS:
        if row.budget is None:
            continue
        ours = samples.median(NBFLOW, row.nbflow)
        extra = watched if row.nbflow[0] == "import" else []
        if ours is not None and (ours > row.budget or extra):
            missed.append(row.nbflow[0])
    return missed


def profile_missed(side: Side, workloads: list[str], cwd: Path) -> dict[str, str]:
    """A cProfile (or ``-X importtime``) of the nbflow side for each missed budget."""
    profiles = {}
    for workload in workloads:
        log(f"[profile] nbflow {workload}")
        if workload == "import":
            done = subprocess.run(
                [str(side.python), "-X", "importtime", "-c", "import nbflow"],
                cwd=cwd,
                env=side.env,
                capture_output=True,
                text=True,
                check=True,
            )
            profiles[workload] = _import_tree(done.stderr)
        else:
            result = run_workload(side, workload, cwd, profile=True)
            text = result.get("info", {}).get("profile", "")
            lines = text.splitlines()
            if workload.startswith("mp:"):
                # The parent mostly waits; what it waits for is the fork server's imports.
                cut = next((i for i, x in enumerate(lines) if "--- by own time" in x), len(lines))
                lines = [*lines[: min(cut, 30)], "", *_fork_server_preload(side, cwd).splitlines()]
            profiles[workload] = "\n".join(lines[:75])
    return profiles


def _import_tree(importtime: str, roots: tuple[str, ...] = ("nbflow",), top: int = 30) -> str:
    """The modules that importing ``roots`` loads (not the interpreter's start-up), costliest
    first by cumulative time, from ``-X importtime`` output (a module's line follows the lines
    of what it imported, which are indented deeper)."""
    rows = [line for line in importtime.splitlines() if line.startswith("import time:")]
    if not rows:
        return importtime
    chosen: list[str] = []
    for end, line in enumerate(rows):
        name = line.split("|")[2]
        if name.startswith("  ") or name.strip().split(".")[0] not in roots:
            continue
        start = end
        while start > 1 and rows[start - 1].split("|")[2].startswith("   "):
            start -= 1
        chosen += rows[start : end + 1]
    tree = sorted(chosen, key=lambda r: int(r.split("|")[1]), reverse=True)
    return "\n".join([rows[0], *tree[:top]])


def _fork_server_preload(side: Side, cwd: Path) -> str:
    """What nbflow's fork server imports before the first step process can start, timed."""
    ask = (
        "from nbflow.execution.executors.multiprocess import PRELOAD_MODULES as m; "
        "print(','.join(m))"
    )
    found = subprocess.run(
        [str(side.python), "-c", ask], cwd=cwd, env=side.env, capture_output=True, text=True
    )
    modules = found.stdout.strip() or "nbflow.execution.executors.step_process,cloudpickle"
    code = f"import {modules}"
    started = time.perf_counter()
    subprocess.run([str(side.python), "-c", code], cwd=cwd, env=side.env, check=True)
    wall = time.perf_counter() - started
    done = subprocess.run(
        [str(side.python), "-X", "importtime", "-c", code],
        cwd=cwd,
        env=side.env,
        capture_output=True,
        text=True,
        check=True,
    )
    roots = tuple(sorted({m.split(".")[0] for m in modules.split(",")}))
    return (
        f"The fork server is a fresh interpreter that imports {modules}: `python -c "
        f'"{code}"` takes {fmt(wall)} here (start-up included). Its imports, costliest first:\n\n'
        f"{_import_tree(done.stderr, roots, top=25)}"
    )


def write_results(
    path: Path,
    context: Context,
    samples: Samples,
    profiles: dict[str, str],
    floor_lines: list[str],
) -> None:
    lines = [
        *_header(context),
        *_main_table(samples),
        "",
        *_verdicts(samples, profiles),
        *_scaling_table(samples),
        "",
        *floor_lines,
        "",
        *_checks(samples),
        NOTES,
    ]
    path.write_text("\n".join(lines))


def replace_floors(path: Path, floor_lines: list[str], argv: list[str]) -> None:
    """Put ``floor_lines`` in place of the floors section of the report at ``path``, and say
    in its header when and by which command that section was made."""
    text = path.read_text()
    start = text.index(floor_lines[0])
    end = text.index("\n## ", start + len(floor_lines[0]))
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = shlex.join(["python", "bench/run.py", *argv])
    note = f'The section "Against hand-written floors" was made again by `{command}` on {when}.'
    lines = [line for line in text[:start].splitlines() if not line.startswith("The section ")]
    head = "\n".join([*lines[:3], note, *lines[3:]])
    path.write_text(head + "\n" + "\n".join(floor_lines) + "\n" + text[end:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions per workload")
    parser.add_argument("--output", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument("--only", help="run only workloads whose name contains this")
    parser.add_argument(
        "--floors-only",
        action="store_true",
        help="run only floors.py and replace that section of an existing --output",
    )
    args = parser.parse_args()
    if args.floors_only:
        replace_floors(args.output, floors.section(args.only, log=log), sys.argv[1:])
        log(f"wrote {args.output}")
        return

    started_at = datetime.datetime.now(datetime.UTC)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    dagster_python = ensure_dagster_venv()
    specs = [s for s in SPECS if not args.only or args.only in s.workload]
    with tempfile.TemporaryDirectory(prefix="nbflow-bench-") as scratch:
        cwd = Path(scratch)
        (cwd / "dagster_home").mkdir()
        (cwd / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        nbflow_env = _clean_env() | {"NBFLOW_HOME": str(cwd / "nbflow_home")}
        dagster_env = _clean_env() | {"DAGSTER_HOME": str(cwd / "dagster_home")}
        sides = {
            NBFLOW: Side(NBFLOW, Path(sys.executable), SIDES / "nbflow_side.py", nbflow_env),
            DAGSTER: Side(DAGSTER, dagster_python, SIDES / "dagster_side.py", dagster_env),
        }
        samples = run_all(sides, specs, args.reps, cwd)
        profiles = profile_missed(sides[NBFLOW], missed_workloads(samples), cwd)
    floor_lines = floors.section(args.only, log=log)
    command = shlex.join(["python", "bench/run.py", *sys.argv[1:]])
    context = Context(
        command=command,
        started=started_at,
        wall_seconds=time.perf_counter() - started,
        load=_load_summary(load_before, samples.loads),
        reps=args.reps,
        dagster_python=dagster_python,
    )
    write_results(args.output, context, samples, profiles, floor_lines)
    log(f"wrote {args.output}")


if __name__ == "__main__":
    main()
