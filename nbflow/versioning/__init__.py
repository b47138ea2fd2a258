"""Versions of ops, resources, values and step outputs, and why an output must be recomputed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbflow._lazy_exports import LazyExports

if TYPE_CHECKING:
    from nbflow.versioning.code_changes import code_changes, code_diff, untracked_notes
    from nbflow.versioning.code_record import CodeRecord, CodeRef
    from nbflow.versioning.code_version import source_version
    from nbflow.versioning.code_walk import CodeWalk
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

# Every name loads on first use: defining ops stays cheap, and reading code (walking functions,
# their helpers and globals, and diffing them) loads only when versions are computed. The
# functions named like their modules (``code_changes``, ``fingerprint``) stay the functions;
# ``code_record`` is the submodule (the function lives in ``code_walk``).
_EXPORTS = LazyExports(
    __name__,
    {
        "code_changes": "nbflow.versioning.code_changes",
        "code_diff": "nbflow.versioning.code_changes",
        "untracked_notes": "nbflow.versioning.code_changes",
        "CodeRecord": "nbflow.versioning.code_record",
        "CodeRef": "nbflow.versioning.code_record",
        "source_version": "nbflow.versioning.code_version",
        "CodeWalk": "nbflow.versioning.code_walk",
        "OUTPUT_VERSION_FORMAT": "nbflow.versioning.data_version",
        "SOURCE_ASSET_SOURCE": "nbflow.versioning.data_version",
        "VALUE_SOURCE": "nbflow.versioning.data_version",
        "VersionParts": "nbflow.versioning.data_version",
        "config_fingerprints": "nbflow.versioning.data_version",
        "fingerprint": "nbflow.versioning.fingerprint",
        "register_fingerprint": "nbflow.versioning.fingerprint",
        "canonical": "nbflow.versioning.hashing",
        "hash_parts": "nbflow.versioning.hashing",
        "NEVER_RUN": "nbflow.versioning.staleness",
        "OUTPUT_MISSING": "nbflow.versioning.staleness",
        "explain": "nbflow.versioning.staleness",
        "OpVersionContext": "nbflow.versioning.strategy",
        "ResourceVersionContext": "nbflow.versioning.strategy",
        "SourceHashVersionStrategy": "nbflow.versioning.strategy",
        "VersionStrategy": "nbflow.versioning.strategy",
        "validate_version": "nbflow.versioning.strategy",
    },
)


def __getattr__(name: str) -> Any:
    return _EXPORTS.load(name)


def __dir__() -> list[str]:
    return _EXPORTS.listing(globals())


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
