"""``AssetKey``: the multi-part name of an asset."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nbflow.errors import DefinitionError

MAX_PART_BYTES = 255
"""Longest asset-key part, in UTF-8 bytes (each part is a file or folder name in storage)."""


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class AssetKey:
    """A multi-part asset name, e.g. ``AssetKey(["warehouse", "orders"])``."""

    path: tuple[str, ...]

    def __init__(self, path: str | Sequence[str]) -> None:
        parts = (path,) if isinstance(path, str) else tuple(path)
        if not parts or not all(isinstance(p, str) and p for p in parts):
            raise DefinitionError(
                f"AssetKey({path!r}) is invalid: expected a non-empty string or a non-empty list "
                "of non-empty strings. Fix: AssetKey('orders') or "
                "AssetKey(['warehouse', 'orders'])."
            )
        unsafe = [p for p in parts if p in (".", "..") or any(c in p for c in "/\\\0")]
        if unsafe:
            raise DefinitionError(
                f"AssetKey({path!r}) has parts {unsafe!r} that could name a place outside the "
                "storage folder: a part may not be '.' or '..' or contain '/', '\\' or NUL. "
                "Fix: give each part as a plain name, e.g. AssetKey(['warehouse', 'orders'])."
            )
        too_long = [p for p in parts if len(p.encode("utf-8", "surrogatepass")) > MAX_PART_BYTES]
        if too_long:
            sizes = ", ".join(f"{len(p.encode('utf-8', 'surrogatepass')):,}" for p in too_long)
            raise DefinitionError(
                f"AssetKey has parts of {sizes} bytes: each part names a file or folder in "
                f"storage, so it may be at most {MAX_PART_BYTES} UTF-8 bytes. "
                "Fix: shorter parts, e.g. AssetKey(['warehouse', 'orders'])."
            )
        if not all(_is_utf8(p) for p in parts):
            raise DefinitionError(
                f"AssetKey({path!r}) has parts with characters that are not valid UTF-8 (lone "
                "surrogates, e.g. from a non-UTF-8 file name). Fix: plain text parts."
            )
        object.__setattr__(self, "path", parts)

    @classmethod
    def from_coercible(cls, value: CoercibleToAssetKey) -> AssetKey:
        return value if isinstance(value, AssetKey) else cls(value)

    def to_user_string(self) -> str:
        return "/".join(self.path)

    def with_prefix(self, prefix: str | Sequence[str]) -> AssetKey:
        head = (prefix,) if isinstance(prefix, str) else tuple(prefix)
        return AssetKey((*head, *self.path))

    def __str__(self) -> str:
        return self.to_user_string()


CoercibleToAssetKey = AssetKey | str | Sequence[str]
"""What may stand for an asset key: an ``AssetKey``, ``"name"`` or ``["prefix", "name"]``."""
