"""Versions of ops, resources, values and step outputs, and why an output must be recomputed."""

from __future__ import annotations

from nbflow.versioning.code_changes import code_changes, code_diff, untracked_notes
from nbflow.versioning.code_record import CodeRecord, CodeRef
from nbflow.versioning.code_version import source_version
from nbflow.versioning.code_walk import CodeWalk, code_record
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
    "code_record",
    "config_fingerprints",
    "explain",
    "fingerprint",
    "hash_parts",
    "register_fingerprint",
    "source_version",
    "untracked_notes",
    "validate_version",
]
