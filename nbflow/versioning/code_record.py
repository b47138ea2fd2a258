"""What an op's code version is made of: its body and every reference it reaches, as a record.

A :class:`CodeRecord` is built by the code walk (:mod:`nbflow.versioning.code_walk`) for
``SourceHashVersionStrategy`` and stored, as JSON, in the manifest of every output of the op,
so "why must this run again" can name the helper, global or package that changed and show a
diff of the source (:mod:`nbflow.versioning.code_changes`).

Each reference (:class:`CodeRef`) has a label that reads well in a sentence (``helper
'clean'``, ``global 'RATE'``, ``closure 'factor'``, ``default 'n'``, ``decorator 'retry'``,
``package 'pandas'``), a kind, a digest of its own content (not of what it reaches: what it
reaches is listed as references of the same record), and, where useful, a short shown value
(data), the distribution version (packages) or type name (not tracked), and the source text
(functions, classes, decorators). The record's ``version`` is a hash of the body digest and of
(label, kind, digest, tracked) of every reference, in label order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbflow.versioning.hashing import hash_parts

if TYPE_CHECKING:
    from collections.abc import Mapping

#: Domain tag of code versions, also the ``format`` of a record's JSON.
CODE_RECORD_FORMAT = "nbflow.code.v1"

# Kinds of reference, in the order they are listed.
DECORATOR = "decorator"
HELPER = "helper"
CLASS = "class"
GLOBAL = "global"
CLOSURE = "closure"
DEFAULT = "default"
PACKAGE = "package"
STATE = "state"
"""A global or closure variable the code modifies (appends to, assigns, stores into): state,
versioned by its type only and never named in reasons."""

KINDS = (DECORATOR, HELPER, CLASS, GLOBAL, CLOSURE, DEFAULT, PACKAGE, STATE)
_RANK = {kind: rank for rank, kind in enumerate(KINDS)}
_LENGTH = 40


@dataclass(frozen=True, slots=True)
class CodeRef:
    """One thing an op's result depends on, besides its own body.

    Attributes:
        label: how it is named in reasons, e.g. ``"helper 'clean'"``.
        kind: one of :data:`KINDS`.
        digest: a digest of its own content (the source of a function, the fingerprint of a
            value, the version of a package, the type of what is not tracked).
        shown: a short text for reasons: the value's repr (data), the version (packages),
            the type name (not tracked).
        source: the source text of a function, class or decorator, for diffs.
        tracked: ``False`` when nbflow cannot see changes to it (only its type counts).
    """

    label: str
    kind: str
    digest: str
    shown: str | None = None
    source: str | None = None
    tracked: bool = True

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable form (see :meth:`from_json`)."""
        out: dict[str, Any] = {"label": self.label, "kind": self.kind, "digest": self.digest}
        if self.shown is not None:
            out["shown"] = self.shown
        if self.source is not None:
            out["source"] = self.source
        if not self.tracked:
            out["tracked"] = False
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CodeRef:
        """Rebuild a reference written by :meth:`to_json`.

        Raises:
            TypeError: a field has the wrong type.
            KeyError: a required field is missing.
        """
        return cls(
            label=_str(data["label"]),
            kind=_str(data["kind"]),
            digest=_str(data["digest"]),
            shown=_optional_str(data.get("shown")),
            source=_optional_str(data.get("source")),
            tracked=bool(data.get("tracked", True)),
        )


@dataclass(frozen=True, slots=True)
class CodeRecord:
    """An op's body and everything it reaches in user code, with the version derived from them.

    Attributes:
        function: the qualified name of the op's function (the innermost one under its
            decorators).
        digest: the digest of the function's own body (formatting and comments excluded).
        source: the function's source text, for diffs.
        refs: what the body reaches, sorted by kind (:data:`KINDS` order), then label.
        version: 40 hex characters from ``digest`` and every reference.
    """

    function: str
    digest: str
    source: str | None
    refs: tuple[CodeRef, ...]
    version: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        by_label = sorted(self.refs, key=_label)
        refs = tuple(sorted(by_label, key=_rank))
        object.__setattr__(self, "refs", refs)
        # One part per reference: kind and digest have no ':', so the label is what follows.
        parts = [f"{r.kind}:{'1' if r.tracked else '0'}:{r.digest}:{r.label}" for r in by_label]
        version = hash_parts(CODE_RECORD_FORMAT, "body", self.digest, "refs", *parts)
        object.__setattr__(self, "version", version[:_LENGTH])

    def untracked(self) -> tuple[CodeRef, ...]:
        """The references nbflow cannot see changes to (state excluded)."""
        return tuple(ref for ref in self.refs if not ref.tracked and ref.kind != STATE)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable form (see :meth:`from_json`)."""
        return {
            "format": CODE_RECORD_FORMAT,
            "version": self.version,
            "function": self.function,
            "digest": self.digest,
            "source": self.source,
            "refs": [ref.to_json() for ref in self.refs],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CodeRecord:
        """Rebuild a record written by :meth:`to_json`.

        Raises:
            ValueError: another format, or a stored version that does not match the parts.
            TypeError: a field has the wrong type.
            KeyError: a required field is missing.
        """
        if data.get("format") != CODE_RECORD_FORMAT:
            raise ValueError(f"code record format {data.get('format')!r} is not read here")
        record = cls(
            function=_str(data["function"]),
            digest=_str(data["digest"]),
            source=_optional_str(data.get("source")),
            refs=tuple(CodeRef.from_json(ref) for ref in data["refs"]),
        )
        stored = data.get("version")
        if stored is not None and stored != record.version:
            raise ValueError(f"code record says version {stored!r} but its parts give another")
        return record


def _label(ref: CodeRef) -> str:
    return ref.label


def _rank(ref: CodeRef) -> int:
    return _RANK.get(ref.kind, len(KINDS))


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a str, got {type(value).__name__}")
    return value


def _optional_str(value: object) -> str | None:
    return None if value is None else _str(value)
