"""What changed between two code records: reasons that name the change, and a diff of the source.

Reasons (wording pinned by tests), in record order (decorators, helpers, classes, globals,
closures, defaults, packages)::

    op body changed
    helper 'clean' changed | added | removed
    class 'Cleaner' changed | added | removed
    decorator 'retry' changed | added | removed
    global 'RATE' changed (2 → 3)            (plain data: old and new value shown)
    closure 'factor' changed (2 → 5)
    default 'n' changed
    package 'pandas' changed (2.1.0 → 2.2.0)
    global 'conn' (sqlite3.Connection) not tracked      (see :func:`untracked_notes`)

State (globals the code modifies) is never named: it is not an input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nbflow.versioning.code_record import (
    CLASS,
    CLOSURE,
    DECORATOR,
    GLOBAL,
    HELPER,
    PACKAGE,
    STATE,
)

if TYPE_CHECKING:
    from nbflow.versioning.code_record import CodeRecord, CodeRef

BODY_CHANGED = "op body changed"
_VALUES_SHOWN = frozenset({GLOBAL, CLOSURE, PACKAGE})
_WITH_SOURCE = frozenset({HELPER, CLASS, DECORATOR})
MAX_DIFF_LINES = 200
"""A diff longer than this is cut, saying how many lines were left out."""


def code_changes(previous: CodeRecord, current: CodeRecord) -> list[str]:
    """Return the reasons naming what changed from ``previous`` to ``current``.

    Args:
        previous: the record stored with an output.
        current: the record of the code as it is now.

    Returns:
        Reasons, possibly empty (the records describe the same code).

    Examples:
        >>> from nbflow.versioning.code_record import CodeRecord, CodeRef
        >>> old = CodeRecord("f", "a", None, (CodeRef("global 'RATE'", "global", "1", "2"),))
        >>> new = CodeRecord("f", "a", None, (CodeRef("global 'RATE'", "global", "9", "3"),))
        >>> code_changes(old, new)
        ["global 'RATE' changed (2 → 3)"]
    """
    reasons: list[str] = []
    if previous.digest != current.digest:
        reasons.append(BODY_CHANGED)
    before = _inputs(previous)
    after = _inputs(current)
    for label, ref in after.items():
        old = before.get(label)
        if old is None:
            reasons.append(f"{label} added")
        elif (old.digest, old.tracked, old.kind) != (ref.digest, ref.tracked, ref.kind):
            reasons.append(_changed(old, ref))
    reasons += [f"{label} removed" for label in before if label not in after]
    return reasons


def untracked_notes(record: CodeRecord | None) -> list[str]:
    """Return one note per reference nbflow cannot see changes to, e.g.
    ``global 'conn' (sqlite3.Connection) not tracked``."""
    if record is None:
        return []
    return [f"{ref.label} ({ref.shown}) not tracked" for ref in record.untracked()]


def code_diff(previous: CodeRecord | None, current: CodeRecord | None, context: int = 2) -> str:
    """Return a unified diff of the source that changed from ``previous`` to ``current``.

    The op's body and every helper, class and decorator whose digest changed, was added or
    was removed, each under a header naming it. Empty when nothing with source changed.

    Args:
        previous: the record stored with an output (``None``: nothing to compare with).
        current: the record of the code as it is now.
        context: lines of context around each change.

    Returns:
        The diff text, cut at :data:`MAX_DIFF_LINES` lines.
    """
    if previous is None or current is None:
        return ""
    lines: list[str] = []
    if previous.digest != current.digest:
        lines += _diff(previous.source, current.source, f"op {current.function!r}", context)
    before = {r.label: r for r in previous.refs if r.kind in _WITH_SOURCE}
    after = {r.label: r for r in current.refs if r.kind in _WITH_SOURCE}
    for label in [*after, *(label for label in before if label not in after)]:
        old, new = before.get(label), after.get(label)
        if old is not None and new is not None and old.digest == new.digest:
            continue
        lines += _diff(
            old.source if old is not None else "",
            new.source if new is not None else "",
            label,
            context,
        )
    if len(lines) > MAX_DIFF_LINES:
        left = len(lines) - MAX_DIFF_LINES
        lines = [*lines[:MAX_DIFF_LINES], f"… ({left} more lines)"]
    return "\n".join(lines)


def _inputs(record: CodeRecord) -> dict[str, CodeRef]:
    return {ref.label: ref for ref in record.refs if ref.kind != STATE}


def _changed(old: CodeRef, new: CodeRef) -> str:
    if (
        new.kind in _VALUES_SHOWN
        and old.kind == new.kind
        and old.tracked
        and new.tracked
        and old.shown is not None
        and new.shown is not None
        and old.shown != new.shown
    ):
        return f"{new.label} changed ({old.shown} → {new.shown})"
    return f"{new.label} changed"


def _diff(before: str | None, after: str | None, label: str, context: int) -> list[str]:
    if before is None or after is None:
        return [f"--- stored {label}", f"+++ now {label}", "(source not recorded)"]
    import difflib  # diffs are asked for rarely

    return list(
        difflib.unified_diff(
            before.splitlines(),
            after.splitlines(),
            fromfile=f"stored {label}",
            tofile=f"now {label}",
            n=context,
            lineterm="",
        )
    )
