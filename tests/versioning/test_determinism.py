"""Versions are identical in fresh interpreters with different hash seeds."""

from __future__ import annotations

import contextlib
import io
import linecache
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import dataclasses, enum, linecache
from nbflow.versioning import (
    VALUE_SOURCE, VersionParts, canonical, config_fingerprints, fingerprint, source_version,
)

class Mode(enum.Enum):
    FAST = 1
    SLOW = 2

@dataclasses.dataclass
class Spec:
    name: str
    tags: frozenset

value = {
    **{f"key_{i}": [i, float(i) / 7, str(i), {f"s{i}", f"t{i}", i}] for i in range(200)},
    "words": {"oak", "elm", "ash", "birch", "pine", "fir", "yew", "beech"},
    "frozen": frozenset(range(50)),
    (1, "a"): Mode.SLOW,
    "spec": Spec("x", frozenset({"p", "q", "r"})),
}
source = "def emit_tree():\\n    return {'species': 'oak'}\\n"
linecache.cache["<ipython-input-1-seed>"] = (len(source), None, [source], "<ipython-input-1-seed>")
namespace = {"__name__": "cell"}
exec(compile(source, "<ipython-input-1-seed>", "exec"), namespace)
parts = VersionParts.build(
    op_version=source_version(namespace["emit_tree"]),
    output_name="result",
    config=config_fingerprints({"tree_species": "oak", "sizes": {3, 1, 2}, "mode": Mode.FAST}),
    resources={f"r{i}": f"v{i}" for i in range(20)} | {"log": None},
    inputs={"tree": ("emit_tree.result", "a" * 40), "n": (VALUE_SOURCE, fingerprint(value))},
)
print(canonical({"words": value["words"], "frozen": value["frozen"]}))
print(fingerprint(value))
print(parts.version)
"""


def _run(seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_two_fresh_interpreters_agree() -> None:
    outputs = {_run(seed) for seed in ("0", "1", "4242")}
    assert len(outputs) == 1
    canonical_line, fingerprint_line, version_line = outputs.pop().splitlines()
    assert canonical_line.startswith("d2{s5:wordse8{s3:ashs3:elm")
    assert len(fingerprint_line) == 40
    assert len(version_line) == 40


def test_fresh_interpreter_agrees_with_this_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # The same script in this process: no state of this interpreter may leak into versions.
    monkeypatch.setitem(linecache.cache, "<ipython-input-1-seed>", (0, None, [], ""))
    namespace: dict[str, object] = {"__name__": "__main__"}
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(SCRIPT, "<determinism-script>", "exec"), namespace)
    assert buffer.getvalue() == _run("7")


DATA_SCRIPT = """
import numpy as np, pandas as pd
from nbflow.versioning import fingerprint

rng = np.random.default_rng(7)
frame = pd.DataFrame({
    "x": rng.normal(size=1000),
    "n": np.arange(1000, dtype="int64"),
    "word": [f"w{i % 37}" for i in range(1000)],
    "kind": pd.Categorical([("a", "b", "c")[i % 3] for i in range(1000)]),
    "at": pd.date_range("2026-01-01", periods=1000, freq="h", tz="Europe/Paris"),
})
values = {
    "array": rng.integers(0, 1000, size=(300, 7)),
    "float32 array": rng.random(5000).astype("float32"),
    "frame": frame,
    "series": frame["word"],
    "indexed frame": frame.set_index("word"),
    "nested": {"frames": [frame.head(3), frame.tail(2)], "array": np.arange(5), "t": (1, "a")},
}
for name, value in values.items():
    print(name, fingerprint(value))
"""


def _run_data(seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", DATA_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_arrays_and_frames_fingerprint_alike_in_fresh_interpreters() -> None:
    outputs = {_run_data(seed) for seed in ("0", "99")}
    assert len(outputs) == 1
    lines = outputs.pop().splitlines()
    fingerprints = [line.rsplit(" ", 1)[1] for line in lines]
    assert len(lines) == 6 and len(set(fingerprints)) == 6  # each value its own
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(DATA_SCRIPT, "<determinism-data>", "exec"), {"__name__": "__main__"})
    assert buffer.getvalue().splitlines() == lines  # and this interpreter agrees
