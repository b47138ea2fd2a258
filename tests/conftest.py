"""Shared fixtures: a call log that proves what ran and in which order, a fresh instance, and
a real S3 server (``moto_s3``, ``s3_base_dir``: see ``tests/fixtures/s3_server.py``).

``tests/fixtures`` goes on ``sys.path`` here, so that tests and the step processes they
start import its job modules (``mp_jobs``, ``live_jobs`` …) by name.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from nbflow import Instance

if TYPE_CHECKING:
    from collections.abc import Iterator

FIXTURES = Path(__file__).resolve().parent / "fixtures"
if str(FIXTURES) not in sys.path:
    sys.path.insert(0, str(FIXTURES))

from s3_server import moto_s3, s3_base_dir  # noqa: E402  (a real S3 server, for any test)

__all__ = ["moto_s3", "s3_base_dir"]


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The byte counts of the array buffers fingerprinted, in order (no digest of an
    immutable array kept from before the test, none kept after it)."""
    from nbflow.versioning import array_fingerprint
    from nbflow.versioning.immutable_arrays import IMMUTABLE_DIGESTS

    sizes: list[int] = []
    real = array_fingerprint.buffer_digest

    def counting(raw: Any) -> str:
        sizes.append(memoryview(raw).nbytes)
        return real(raw)

    monkeypatch.setattr(array_fingerprint, "buffer_digest", counting)
    IMMUTABLE_DIGESTS.clear()
    yield sizes
    IMMUTABLE_DIGESTS.clear()


@pytest.fixture
def call_log() -> list[str]:
    """An empty list that ops, resources and hooks append to; tests assert on its contents."""
    return []


@pytest.fixture
def tmp_instance() -> Instance:
    """A fresh in-memory instance, so runs and events of one test never leak into another."""
    return Instance.ephemeral()


# --- markers for the fast loop (`make test-fast` deselects them; CI runs everything) ---------

_MARKED_PATHS: tuple[tuple[str, str], ...] = (
    ("notebook_kernel/", "kernel"),
    ("notebook/test_notebook_kernel.py", "kernel"),
    ("notebook_live/test_live_kernel.py", "kernel"),
    ("notebook_ops/", "kernel"),
    ("tutorials/test_notebooks.py", "kernel"),
    ("tutorials/test_browser.py", "browser"),
    ("notebook_browser/", "browser"),
    ("tutorials/test_binder.py", "binder"),
    ("dask/", "dask"),
    ("tutorials/test_notebooks.py::test_05_scaling", "dask"),
    ("notebook_kernel/test_kernel_jobs.py::test_execute_job_runs_cell_defined_ops_on_dask", "dask"),
    ("notebook_live/test_live_view.py::test_dask_run_", "dask"),
    ("execution/test_remote_tracebacks.py::test_a_dask_worker_", "dask"),
)
"""Test-id prefixes (below ``tests/``) and the marker their tests get."""

_SLOW: tuple[str, ...] = (
    "versioning/test_properties.py::test_dict_key_order_never_changes_canonical_or_fingerprint",
    "config/test_config_properties.py::test_array_problems_match_exactly_the_non_int_items",
)
"""Test-id prefixes (below ``tests/``) of other tests that take more than about five seconds."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the slow groups by where they live, rather than decorating every test."""
    root = Path(__file__).resolve().parent
    for item in items:
        if not item.path.resolve().is_relative_to(root):
            continue
        test_id = item.path.resolve().relative_to(root).as_posix()
        test_id += item.nodeid[item.nodeid.index("::") :] if "::" in item.nodeid else ""
        for prefix, marker in _MARKED_PATHS:
            if test_id.startswith(prefix):
                item.add_marker(marker)
        if test_id.startswith(_SLOW):
            item.add_marker("slow")
