"""Checks on definition tags: JSON round trip, and seed-system tag names that nbflow renames."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from nbflow.errors import NbflowWarning

if TYPE_CHECKING:
    from collections.abc import Mapping

_SEED_TAGS = {"dagster/priority": "nbflow/priority"}
"""Tag names of the seed system and the nbflow tag that means the same."""


def tag_problems(tags: Mapping[str, Any]) -> list[str]:
    """One problem per tag whose value does not come back equal from ``json.loads(json.dumps())``.

    Args:
        tags: the tags as the user wrote them.

    Returns:
        Problem strings, each with a fix; empty when every tag round-trips.
    """
    if not tags:
        return []
    import json  # loads only when there are tags to check

    problems: list[str] = []
    for key, value in tags.items():
        try:
            same = json.loads(json.dumps(value)) == value
        except (TypeError, ValueError):
            same = False
        if not same:
            problems.append(
                f"tags[{key!r}] is {type(value).__name__} {value!r:.60}, which does not survive a "
                "JSON round trip. Fix: use str, int, float, bool, None, lists and str-keyed dicts."
            )
    return problems


def warn_seed_tags(owner: str, tags: Mapping[str, Any]) -> None:
    """Warn when ``tags`` use a seed-system tag name whose nbflow name differs."""
    for seed_name, nbflow_name in _SEED_TAGS.items():
        if seed_name in tags:
            warnings.warn(
                f"{owner} has tag {seed_name!r}, which nbflow does not read; "
                f"{nbflow_name!r} is meant. Fix: tags={{{nbflow_name!r}: ...}}.",
                NbflowWarning,
                stacklevel=4,
            )
