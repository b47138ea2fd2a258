"""Versions of ops, resources, values and step outputs, and why an output must be recomputed."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nbflow.versioning.data_version import (
    OUTPUT_VERSION_FORMAT,
    SOURCE_ASSET_SOURCE,
    VALUE_SOURCE,
    VersionParts,
    config_fingerprints,
)
from nbflow.versioning.fingerprint import fingerprint, register_fingerprint
from nbflow.versioning.hashing import canonical, hash_parts
from nbflow.versioning.staleness import NEVER_RUN, OUTPUT_MISSING, explain
from nbflow.versioning.strategy import (
    OpVersionContext,
    ResourceVersionContext,
    SourceHashVersionStrategy,
    VersionStrategy,
    validate_version,
)

if TYPE_CHECKING:
    from nbflow.versioning.code_changes import code_changes, code_diff, untracked_notes
    from nbflow.versioning.code_record import CodeRecord, CodeRef
    from nbflow.versioning.code_version import source_version
    from nbflow.versioning.code_walk import CodeWalk

# Reading code (walking functions, their helpers and globals, and diffing them) loads on first
# use: defining ops stays cheap. (``code_record`` the function lives in ``code_walk``: here the
# name is the submodule ``nbflow.versioning.code_record``.)
_LAZY = {
    "code_changes": "nbflow.versioning.code_changes",
    "code_diff": "nbflow.versioning.code_changes",
    "untracked_notes": "nbflow.versioning.code_changes",
    "CodeRecord": "nbflow.versioning.code_record",
    "CodeRef": "nbflow.versioning.code_record",
    "source_version": "nbflow.versioning.code_version",
    "CodeWalk": "nbflow.versioning.code_walk",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nbflow.versioning' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "NEVER_RUN",
    "OUTPUT_MISSING",
    "OUTPUT_VERSION_FORMAT",
    "SOURCE_ASSET_SOURCE",
    "VALUE_SOURCE",
    "CodeRecord",
    "CodeRef",
    "CodeWalk",
    "OpVersionContext",
    "ResourceVersionContext",
    "SourceHashVersionStrategy",
    "VersionParts",
    "VersionStrategy",
    "canonical",
    "code_changes",
    "code_diff",
    "config_fingerprints",
    "explain",
    "fingerprint",
    "hash_parts",
    "register_fingerprint",
    "source_version",
    "untracked_notes",
    "validate_version",
]
