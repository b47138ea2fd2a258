"""Filesystem IO managers: each output pickled to its own file, written atomically.

Versioned outputs live at ``<base_dir>/<step_key>/<output_name>/<version>``; unversioned
ones at ``<base_dir>/<run_id>/<step_key>/<output_name>``.

``instance_files_io_manager`` is the default IO manager of memoized runs and asset jobs on a
persistent instance: the same files in the instance's storage folder, except that a value
pickle cannot store serves its own run from memory instead of failing the step (see
:mod:`nbflow.storage.not_kept`).
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbflow.config import Field, Noneable
from nbflow.definitions.io_manager import (
    InputContext,
    IOManagerDefinition,
    MemoizableIOManager,
    OutputContext,
)
from nbflow.errors import OutputNotFoundError, UnsafeStorageKeyError
from nbflow.storage._atomic import atomic_write_bytes
from nbflow.storage.not_kept import forget_not_kept, not_kept_reason, note_not_kept

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


_LATEST = ".latest.json"


def safe_join(base: Path, parts: Sequence[str]) -> Path:
    """``base / parts...``, refusing any part that could leave ``base``."""
    bad = [
        p
        for p in parts
        if not p or p in (".", "..") or "/" in p or "\\" in p or "\0" in p or os.path.isabs(p)
    ]
    if bad:
        raise UnsafeStorageKeyError(
            f"Storage key {list(parts)!r} has unsafe parts {bad!r}: a part may not be empty, "
            "'.', '..', or contain a path separator. Fix: use plain names for steps, outputs "
            "and asset keys."
        )
    return base.joinpath(*parts)


class FilesystemIOManager(MemoizableIOManager):
    """Pickles each output to a file under ``base_dir``; memoizable by version."""

    def __init__(self, base_dir: str | os.PathLike[str]) -> None:
        self.base_dir = Path(base_dir)

    def path_for(self, context: OutputContext) -> Path:
        return safe_join(self.base_dir, context.get_identifier())

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        atomic_write_bytes(self.path_for(context), pickle.dumps(obj, protocol=5))

    def load_input(self, context: InputContext) -> Any:
        upstream = context.upstream_output
        if upstream is None:
            raise OutputNotFoundError(
                f"Input {context.step_key}.{context.name} has no upstream output to load."
            )
        path = self.path_for(upstream)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise OutputNotFoundError(
                f"Output {upstream.step_key}.{upstream.name} is not stored at {path}. "
                "Fix: run the upstream step first (or the whole job)."
            ) from None
        return pickle.loads(data)

    def has_output(self, context: OutputContext) -> bool:
        return self.path_for(context).is_file()

    def record_manifest(self, step_key: str, output_name: str, manifest: Mapping[str, Any]) -> None:
        """Write ``<version>.manifest.json`` beside the value, and ``.latest.json``."""
        folder = safe_join(self.base_dir, [step_key, output_name])
        data = json.dumps(manifest, sort_keys=True).encode()
        atomic_write_bytes(safe_join(folder, [f"{manifest['version']}.manifest.json"]), data)
        atomic_write_bytes(folder / _LATEST, data)

    def latest_manifest(self, step_key: str, output_name: str) -> Mapping[str, Any] | None:
        return _read_manifest(safe_join(self.base_dir, [step_key, output_name, _LATEST]))

    def manifest_for(
        self, step_key: str, output_name: str, version: str
    ) -> Mapping[str, Any] | None:
        name = f"{version}.manifest.json"
        return _read_manifest(safe_join(self.base_dir, [step_key, output_name, name]))


def _read_manifest(path: Path) -> Mapping[str, Any] | None:
    try:
        loaded = json.loads(path.read_bytes())
    except (FileNotFoundError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


class InstanceFilesIOManager(FilesystemIOManager):
    """A :class:`FilesystemIOManager` that never fails on a value pickle cannot store: that
    value serves the downstream steps of its own run from memory, is not written, and its
    step runs again next time (the user is warned once)."""

    def __init__(self, base_dir: str | os.PathLike[str]) -> None:
        super().__init__(base_dir)
        self.unkept: dict[Path, Any] = {}

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        path = self.path_for(context)
        try:
            data = pickle.dumps(obj, protocol=5)
        except Exception as exc:  # anything pickle raises: the value cannot be kept
            path.unlink(missing_ok=True)  # an older value must not stand in for this one
            self.unkept[path] = obj
            slot = ("files", os.fspath(self.base_dir), context.step_key, context.name)
            note_not_kept(context, ("files", os.fspath(path)), slot, exc)
            return
        self.unkept.pop(path, None)
        atomic_write_bytes(path, data)
        forget_not_kept(("files", os.fspath(path)))

    def load_input(self, context: InputContext) -> Any:
        upstream = context.upstream_output
        if upstream is not None and self.path_for(upstream) in self.unkept:
            return self.unkept[self.path_for(upstream)]
        return super().load_input(context)

    def missing_reason(self, context: OutputContext) -> str | None:
        """Why an output is not stored, when this process tried and could not."""
        return not_kept_reason(("files", os.fspath(self.path_for(context))))


def _build(init_context: Any) -> FilesystemIOManager:
    base_dir = init_context.resource_config.get("base_dir")
    return FilesystemIOManager(base_dir or init_context.instance.storage_dir)


_CONFIG = {"base_dir": Field(Noneable(str), default_value=None, description="Storage folder.")}

fs_io_manager = IOManagerDefinition(
    _build,
    config_schema=_CONFIG,
    description="Pickles outputs to files (default folder: the instance's storage folder).",
)

versioned_filesystem_io_manager = IOManagerDefinition(
    _build,
    config_schema=_CONFIG,
    description="Pickles outputs to <base_dir>/<step_key>/<output_name>/<version>.",
)


def _build_instance_files(init_context: Any) -> InstanceFilesIOManager:
    base_dir = init_context.resource_config.get("base_dir")
    return InstanceFilesIOManager(base_dir or init_context.instance.storage_dir)


instance_files_io_manager = IOManagerDefinition(
    _build_instance_files,
    config_schema=_CONFIG,
    description="Pickles outputs to files (default folder: the instance's storage folder); "
    "values pickle cannot store serve their own run only.",
)
