"""Shared fixtures: a call log that proves what ran and in which order, and a fresh instance.

``tests/fixtures`` goes on ``sys.path`` here, so that tests and the step processes they
start import its job modules (``mp_jobs``, ``live_jobs`` …) by name.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from nbflow import Instance

FIXTURES = Path(__file__).resolve().parent / "fixtures"
if str(FIXTURES) not in sys.path:
    sys.path.insert(0, str(FIXTURES))


@pytest.fixture
def call_log() -> list[str]:
    """An empty list that ops, resources and hooks append to; tests assert on its contents."""
    return []


@pytest.fixture
def tmp_instance() -> Instance:
    """A fresh in-memory instance, so runs and events of one test never leak into another."""
    return Instance.ephemeral()
