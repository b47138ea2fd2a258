"""What a run pays before its first step for 500 ops: run-config validation and version parts.

Prints one JSON object per workload with the best of the repetitions in milliseconds.
Run: ``python bench/planning.py``.
"""

from __future__ import annotations

import json
import time

from nbflow.config import Field, Noneable, Shape
from nbflow.versioning import VALUE_SOURCE, VersionParts, config_fingerprints

OPS = 500
REPEAT = 20


def best_ms(fn) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(REPEAT):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 3)


def config_schema() -> Shape:
    op_config = {
        "a": Field(int, default_value=1),
        "b": Field(str, default_value="x"),
        "c": Noneable(float),
    }
    return Shape({f"op{i}": {"config": op_config} for i in range(OPS)})


def version_parts() -> None:
    config = config_fingerprints({"tree_species": "oak", "n": 3, "sizes": [1, 2]})
    upstream = "e" * 40
    for index in range(OPS):
        VersionParts.build(
            op_version="a" * 40,
            output_name="result",
            config=config,
            resources={"db": "v1", "io_manager": None},
            inputs={"tree": (f"step_{index}.result", upstream), "n": (VALUE_SOURCE, upstream)},
        )


def main() -> None:
    schema = config_schema()
    given = {f"op{i}": {"config": {"a": i, "b": "y", "c": 1.5}} for i in range(OPS)}
    workloads = {
        "validate run config (all given)": lambda: schema.validate(given, ("root",), []),
        "validate run config (defaults filled)": lambda: schema.validate({}, ("root",), []),
        "build version parts": version_parts,
    }
    for name, fn in workloads.items():
        print(json.dumps({"workload": name, "ops": OPS, "best_ms": best_ms(fn)}))


if __name__ == "__main__":
    main()
