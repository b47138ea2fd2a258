"""Write Python source to a module file and import it under a fresh name (for code-walk tests).

Labels in code records are relative to the op's module, so the same source imported under two
names gives the same versions: tests compare a module with an edited copy of it.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from itertools import count
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path
    from types import ModuleType

_numbers = count()


def load_module(folder: Path, source: str, name: str | None = None) -> ModuleType:
    """Write ``source`` (dedented) to ``folder/<name>.py`` and import it as ``<name>``."""
    name = name or f"nbflow_code_test_{next(_numbers)}"
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def versions(module: ModuleType, names: list[str]) -> dict[str, str]:
    """The transitive code version of each named function of ``module``."""
    from nbflow.versioning import CodeWalk

    walk = CodeWalk()
    return {name: walk.record(getattr(module, name)).version for name in names}


def labels(fn: Any) -> list[str]:
    """The labels of every reference of ``fn``'s code record."""
    from nbflow.versioning.code_walk import code_record

    return [ref.label for ref in code_record(fn).refs]
