"""The API reference in docs/api.md lists every public name, as the code says it."""

from __future__ import annotations

import runpy
from pathlib import Path

import nbflow

ROOT = Path(__file__).parent.parent


def _generator() -> dict[str, object]:
    return runpy.run_path(str(ROOT / "scripts" / "api_reference.py"))


def test_the_checked_in_reference_is_what_the_code_says() -> None:
    expected = _generator()["render"]()
    assert (ROOT / "docs" / "api.md").read_text() == expected, (
        "docs/api.md is out of date. Fix: python scripts/api_reference.py > docs/api.md"
    )


def test_every_public_name_is_listed_with_a_summary() -> None:
    rows = _generator()["entries"]()
    listed = {name: text for _, name, text in rows}
    assert set(nbflow.__all__) <= set(listed)
    assert {"errors.InvalidSubsetError", "errors.TypeCheckError"} <= set(listed)
    missing = sorted(name for name, text in listed.items() if not text)
    assert not missing, f"public names without a docstring: {missing}"
