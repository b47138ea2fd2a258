"""Why a step output must be computed again: a pure diff of two version records.

Reasons, in this order (every wording is pinned by tests)::

    never run
    code changed (op version a1b2c3 → d4e5f6)
        or, when both records carry the op's code record, what changed in the code:
        op body changed | helper 'clean' changed | global 'RATE' changed (2 → 3) | ...
        (see :mod:`nbflow.versioning.code_changes`)
    config key 'x' changed | added | removed      (non-dict config: config changed | ...)
    upstream 'emit_tree.result' changed
    data of source asset 'raw/orders' changed
    input 'n' value changed
    input 'n' now comes from upstream 'a.result'
    input 'n' is now given as a value
    input 'n' added | removed
    resource 'db' changed | added | removed
    resource 'db' has no version and is not memoized
    global 'conn' (sqlite3.Connection) not tracked
    output name changed ('a' → 'b')

:data:`OUTPUT_MISSING` is reported by the caller, which is the one that asks storage.
"""

from __future__ import annotations

from nbflow.versioning.code_changes import code_changes, untracked_notes
from nbflow.versioning.data_version import SOURCE_ASSET_SOURCE, VALUE_SOURCE, VersionParts

#: Reason given when there is no record of a previous run of the output.
NEVER_RUN = "never run"

#: Reason given (by the caller) when the IO manager does not have the output.
OUTPUT_MISSING = "output missing"

_SHORT = 6
_SOURCE_ASSET = SOURCE_ASSET_SOURCE.format(key="")


def explain(previous: VersionParts | None, current: VersionParts) -> list[str]:
    """Return the reasons an output recorded as ``previous`` must be recomputed as ``current``.

    An empty list means nothing changed. Unversioned resources and code nbflow does not
    track (:func:`~nbflow.versioning.code_changes.untracked_notes`) of ``current`` are always
    listed, even when nothing changed, because changes to them never change the version.

    Args:
        previous: the record stored with the output, or ``None`` if there is none.
        current: the record for the upcoming run.

    Returns:
        Human-readable reasons, most fundamental first.

    Examples:
        >>> old = VersionParts.build(op_version="1", output_name="result")
        >>> explain(old, VersionParts.build(op_version="2", output_name="result"))
        ['code changed (op version 1 → 2)']
    """
    if previous is None:
        return [NEVER_RUN, *_unversioned(current), *untracked_notes(current.code)]
    reasons: list[str] = []
    if previous.op_version != current.op_version:
        reasons += _code(previous, current)
    reasons += _config(dict(previous.config), dict(current.config))
    reasons += _inputs(previous, current)
    reasons += _resources(previous, current)
    reasons += _unversioned(current)
    reasons += untracked_notes(current.code)
    if previous.output_name != current.output_name:
        reasons.append(f"output name changed ({previous.output_name!r} → {current.output_name!r})")
    return reasons


def _code(previous: VersionParts, current: VersionParts) -> list[str]:
    if previous.code is not None and current.code is not None:
        named = code_changes(previous.code, current.code)
        if named:
            return named
    return [
        f"code changed (op version {previous.op_version[:_SHORT]} → {current.op_version[:_SHORT]})"
    ]


def _config(before: dict[str, str], after: dict[str, str]) -> list[str]:
    reasons = []
    for key in sorted(before.keys() | after.keys()):
        what = f"config key {key!r}" if key else "config"
        if key not in after:
            reasons.append(f"{what} removed")
        elif key not in before:
            reasons.append(f"{what} added")
        elif before[key] != after[key]:
            reasons.append(f"{what} changed")
    return reasons


def _inputs(previous: VersionParts, current: VersionParts) -> list[str]:
    before = {name: (source, version) for name, source, version in previous.inputs}
    after = {name: (source, version) for name, source, version in current.inputs}
    reasons = []
    for name in sorted(before.keys() | after.keys()):
        if name not in after:
            reasons.append(f"input {name!r} removed")
            continue
        if name not in before:
            reasons.append(f"input {name!r} added")
            continue
        (old_source, old_version), (source, version) = before[name], after[name]
        if old_source != source:
            if source == VALUE_SOURCE:
                reasons.append(f"input {name!r} is now given as a value")
            else:
                reasons.append(f"input {name!r} now comes from upstream {source!r}")
        elif old_version != version:
            if source == VALUE_SOURCE:
                reasons.append(f"input {name!r} value changed")
            elif source.startswith(_SOURCE_ASSET):
                reasons.append(f"data of source asset {source[len(_SOURCE_ASSET) :]!r} changed")
            else:
                reasons.append(f"upstream {source!r} changed")
    return reasons


def _resources(previous: VersionParts, current: VersionParts) -> list[str]:
    before: dict[str, str | None] = dict(previous.resources)
    before.update(dict.fromkeys(previous.unversioned_resources))
    after: dict[str, str | None] = dict(current.resources)
    after.update(dict.fromkeys(current.unversioned_resources))
    reasons = []
    for key in sorted(before.keys() | after.keys()):
        if key not in after:
            reasons.append(f"resource {key!r} removed")
        elif key not in before:
            reasons.append(f"resource {key!r} added")
        elif before[key] != after[key] and after[key] is not None:
            reasons.append(f"resource {key!r} changed")
    return reasons


def _unversioned(current: VersionParts) -> list[str]:
    return [
        f"resource {key!r} has no version and is not memoized"
        for key in current.unversioned_resources
    ]
