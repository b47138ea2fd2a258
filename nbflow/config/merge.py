"""Deep merge of config mappings: the one rule for layering run config, later layers winning."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``top`` laid over it, nested mappings merged key by key.

    Where both sides hold a mapping under the same key the two are merged; anything else in
    ``top`` replaces what ``base`` holds. Neither argument is changed.

    Args:
        base: the lower layer (defaults, a job's config, earlier files).
        top: the layer that wins.

    Returns:
        A new dict; the nested mappings it merged are new dicts too.
    """
    merged = dict(base)
    for key, value in top.items():
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = deep_merge(below, value)
        else:
            merged[key] = value
    return merged
