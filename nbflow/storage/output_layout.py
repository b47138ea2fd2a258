"""Where the files and manifests of versioned step outputs live in a local storage folder.

Two layouts:

- :class:`NestedLayout`, the layout users configure and read (a ``base_dir`` of their own):
  ``<base>/<step_key>/<output_name>/<version>``, its manifest beside it as
  ``<version>.manifest.json``;
- :class:`FlatLayout`, the instance's own storage folder:
  ``<base>/<step_key>.<output_name>@<version>``, temporary files in ``<base>/.tmp``,
  manifests in the instance's run history (its SQLite file), which the step's events go to
  anyway. A new step output costs one file and no
  folder: making two folders and two manifest files per output tripled the disk time of a
  first run of small steps. An output whose flat name would be too long for a file name is
  stored nested, and what nbflow 0.1.0 stored nested (values and manifest files) is still
  found.

In a flat name ``%``, ``.`` and ``@`` in the output name and version are written ``%25``,
``%2E`` and ``%40`` (plain names never have them), so the last ``@`` starts the version and
the last ``.`` before it the output name: two step outputs never share a file.

No file points to the latest manifest of a nested output (writing one cost a file per step):
the latest is the newest manifest file of the output. Manifest files are stamped with the exact
time they were written (see :mod:`nbflow.storage.local_files`), so manifests written within one
clock tick still order.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbflow.errors import UnsafeStorageKeyError
from nbflow.storage.local_files import atomic_write_bytes

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from nbflow.storage.manifests import ManifestStore

MANIFEST_SUFFIX = ".manifest.json"
"""A nested output's manifest is named ``<version>.manifest.json``."""

OLD_LATEST = ".latest.json"
"""The copy of the latest manifest nbflow 0.1.0 kept in each nested output folder; still read,
no longer written."""

FLAT_TEMPORARIES = ".tmp"
"""Folder of a flat store's temporary files (so cleaning them never lists the whole store)."""

_NAME_MAX = 255 - 40
"""Longest flat name (bytes): a file name may have 255, and the temporary file that becomes
it adds ``.``, ``.<pid>-<count>`` and ``.tmp`` (see :mod:`nbflow.storage.local_files`)."""
_DRIVES = os.sep != "/"
"""Whether a part without a separator may still be absolute (a Windows drive such as ``C:``);
elsewhere an absolute part has a ``/``, which is refused anyway."""
_ESCAPES = str.maketrans({"%": "%25", ".": "%2E", "@": "%40"})


def check_parts(parts: Sequence[str]) -> None:
    """Refuse a storage key with a part that could leave the storage folder (empty, ``.``,
    ``..``, or with a path separator or NUL)."""
    bad = [
        p
        for p in parts
        if not p
        or p in (".", "..")
        or "/" in p
        or "\\" in p
        or "\0" in p
        or (_DRIVES and os.path.isabs(p))
    ]
    if bad:
        raise UnsafeStorageKeyError(
            f"Storage key {list(parts)!r} has unsafe parts {bad!r}: a part may not be empty, "
            "'.', '..', or contain a path separator. Fix: use plain names for steps, outputs "
            "and asset keys."
        )


class NestedLayout:
    """``<base>/<step_key>/<output_name>/<version>``, manifests in files beside the values."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self._base = os.fspath(base)

    def _folder(self, step_key: str, output_name: str) -> str:
        return f"{self._base}{os.sep}{step_key}{os.sep}{output_name}"

    def value_path(self, step_key: str, output_name: str, version: str) -> str:
        """Where a version of a step output is written."""
        check_parts((step_key, output_name, version))
        return f"{self._folder(step_key, output_name)}{os.sep}{version}"

    def value_paths(self, step_key: str, output_name: str, version: str) -> list[str]:
        """Where a version of a step output may be stored, in the order to look."""
        return [NestedLayout.value_path(self, step_key, output_name, version)]

    def temporaries(self, path: Path) -> Path:
        """The folder of the temporary file that becomes ``path`` (on its file system)."""
        return path.parent

    def record_manifest(self, step_key: str, output_name: str, manifest: Mapping[str, Any]) -> None:
        """Write ``<version>.manifest.json`` beside the value; not flushed to disk on its own
        (a manifest lost in a machine crash costs a recomputation, never a wrong value)."""
        path = NestedLayout.value_path(self, step_key, output_name, str(manifest["version"]))
        data = json.dumps(manifest, sort_keys=True).encode()
        atomic_write_bytes(Path(path + MANIFEST_SUFFIX), data, durable=False, stamp=True)

    def manifest_for(
        self, step_key: str, output_name: str, version: str
    ) -> Mapping[str, Any] | None:
        path = NestedLayout.value_path(self, step_key, output_name, version)
        return read_manifest(path + MANIFEST_SUFFIX)

    def latest_manifest(self, step_key: str, output_name: str) -> Mapping[str, Any] | None:
        """The newest manifest file of the output (see the module doc)."""
        check_parts((step_key, output_name))
        newest = _newest_manifest_file(self._folder(step_key, output_name))
        return None if newest is None else read_manifest(newest)


class FlatLayout(NestedLayout):
    """``<base>/<step_key>.<output_name>@<version>``, manifests in ``history``; what is stored
    nested is found too."""

    def __init__(self, base: Path, history: ManifestStore) -> None:
        super().__init__(base)
        self.history = history
        self._temporaries = base / FLAT_TEMPORARIES

    def _flat(self, step_key: str, output_name: str, version: str) -> str | None:
        check_parts((step_key, output_name, version))
        name = f"{step_key}.{output_name.translate(_ESCAPES)}@{version.translate(_ESCAPES)}"
        if len(name) > _NAME_MAX // 4 and len(os.fsencode(name)) > _NAME_MAX:
            return None  # too long for a file name: stored nested
        return f"{self._base}{os.sep}{name}"

    def value_path(self, step_key: str, output_name: str, version: str) -> str:
        flat = self._flat(step_key, output_name, version)
        return flat if flat is not None else super().value_path(step_key, output_name, version)

    def value_paths(self, step_key: str, output_name: str, version: str) -> list[str]:
        nested = super().value_paths(step_key, output_name, version)
        flat = self._flat(step_key, output_name, version)
        return nested if flat is None else [flat, *nested]

    def temporaries(self, path: Path) -> Path:
        if os.fspath(path).rpartition(os.sep)[0] == self._base:
            return self._temporaries
        return path.parent

    def record_manifest(self, step_key: str, output_name: str, manifest: Mapping[str, Any]) -> None:
        """Keep ``manifest`` in the run history (durable as its events are)."""
        check_parts((step_key, output_name, str(manifest["version"])))
        self.history.record_manifest(step_key, output_name, manifest)

    def manifest_for(
        self, step_key: str, output_name: str, version: str
    ) -> Mapping[str, Any] | None:
        lookup = getattr(self.history, "manifest_for", None)
        found = lookup(step_key, output_name, version) if callable(lookup) else None
        return found if found is not None else super().manifest_for(step_key, output_name, version)

    def latest_manifest(self, step_key: str, output_name: str) -> Mapping[str, Any] | None:
        found = self.history.latest_manifest(step_key, output_name)
        return found if found is not None else super().latest_manifest(step_key, output_name)


def read_manifest(path: str) -> Mapping[str, Any] | None:
    """The manifest in the file at ``path``; ``None`` if there is none or it is unreadable."""
    try:
        with open(path, "rb") as handle:
            loaded = json.loads(handle.read())
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _newest_manifest_file(folder: str) -> str | None:
    """The newest manifest file in a nested output folder (by modification time; the
    pointer nbflow 0.1.0 kept first among files of the same time, as it was written last)."""
    try:
        entries = os.scandir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return None
    newest: tuple[int, bool, str] | None = None
    with entries:
        for entry in entries:
            name = entry.name
            pointer = name == OLD_LATEST
            if not pointer and (name.startswith(".") or not name.endswith(MANIFEST_SUFFIX)):
                continue
            try:
                found = (entry.stat().st_mtime_ns, pointer, entry.path)
            except OSError:
                continue
            if newest is None or found[:2] > newest[:2]:
                newest = found
    return None if newest is None else newest[2]
