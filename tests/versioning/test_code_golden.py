"""Golden transitive code versions, identical in fresh interpreters with different hash seeds.

``tests/fixtures/code_golden.py`` is fixed; its versions are pinned here. A change to one of
them changes which stored outputs nbflow reuses: it is a reviewed, changelogged event.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"

SCRIPT = """
import code_golden as m
from nbflow.versioning import CodeWalk
walk = CodeWalk()
for name in ("base", "clean", "emit", "scale_three"):
    print(name, walk.record(getattr(m, name)).version)
print("labels", [ref.label for ref in walk.record(m.emit).refs])
"""

GOLDEN = {
    "base": "feff7b248cf824dfd4d8f405cea55c00cf755fa0",
    "clean": "a206dd1096dbd4b744df17486f653219f072fc23",
    "emit": "aaa2b7fa9301511f21a78c77ce5eb78638d09c0e",
    "scale_three": "8217c5e34ff9785569a9d2488adfd94be741fb24",
}


def _run(seed: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": f"{ROOT}{os.pathsep}{FIXTURES}"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    return dict(line.split(" ", 1) for line in done.stdout.splitlines())


def test_versions_agree_across_hash_seeds_and_match_the_golden_ones() -> None:
    first, second = _run("0"), _run("4242")
    assert first == second
    assert {name: first[name] for name in GOLDEN} == GOLDEN
    assert first["labels"] == repr(
        [
            "decorator 'retry'",
            "helper 'base'",
            "helper 'clean'",
            "class 'Cleaner'",
            "class 'Mode'",
            "class 'Spec'",
            "global 'LIMITS'",
            "global 'RATE'",
            "global 'SPEC'",
            "global 'TAGS'",
            "closure 'times' of decorator 'retry'",
            "default 'n'",
        ]
    )


def test_this_interpreter_agrees() -> None:
    import code_golden

    from nbflow.versioning.code_walk import code_record

    assert code_record(code_golden.emit).version == _run("1")["emit"]
