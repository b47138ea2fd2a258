"""Shared fixtures: a call log that proves what ran and in which order, and a fresh instance."""

from __future__ import annotations

import pytest

from nbflow import Instance


@pytest.fixture
def call_log() -> list[str]:
    """An empty list that ops, resources and hooks append to; tests assert on its contents."""
    return []


@pytest.fixture
def tmp_instance() -> Instance:
    """A fresh in-memory instance, so runs and events of one test never leak into another."""
    return Instance.ephemeral()
