"""IO managers that store outputs at an fsspec URL: ``s3://bucket/prefix``, ``gs://...``,
``memory://...``, ``file:///...``, anything fsspec knows.

The layout, formats, records and manifests are those of the local filesystem IO managers
(:mod:`nbflow.storage.fs`): versioned outputs at ``<base_dir>/<step_key>/<output_name>/<version>``
with ``<version>.manifest.json`` and ``.latest.json`` beside them, unversioned ones at
``<base_dir>/<run_id>/<step_key>/<output_name>``; each stored object ends with its
:class:`~nbflow.storage.stored_record.StoredRecord` (format, size, xxh3-128 checksum).
``has_output`` accepts an object only when that record is whole and matches its size; loading
checks the checksum while the value streams in, and a damaged object is moved aside
(``*.corrupt``) with a :class:`~nbflow.errors.CorruptOutputError` saying its step will be
recomputed.

Publishing is atomic (see :mod:`nbflow.storage.url_files`); the manifest is written after the
value, so a manifest never names a value that is not stored whole. Arrays and Parquet frames
are read into memory (``mmap_arrays`` maps only files of local folders).

``fs_io_manager``, ``versioned_filesystem_io_manager`` and ``instance_files_io_manager`` build
these managers when ``base_dir`` is a URL; fsspec options (``endpoint_url``, ``key``,
``secret``, ``anon`` ...) go in their ``storage_options`` config, and the backend's own
environment variables (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID`` ...) apply as usual.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from pathlib import PurePosixPath
from typing import IO, TYPE_CHECKING, Any

from nbflow.definitions.io_manager import InputContext, MemoizableIOManager, OutputContext
from nbflow.errors import CorruptOutputError, OutputNotFoundError
from nbflow.storage.checksum_io import HashingReader, HashingWriter
from nbflow.storage.frame_format import PARQUET, frame_from_parquet
from nbflow.storage.fs import STORED_KEY, safe_join
from nbflow.storage.not_kept import forget_not_kept, not_kept_reason, note_not_kept
from nbflow.storage.stored_record import StoredRecord, is_whole_plain_pickle, read_record
from nbflow.storage.url_files import URL, UrlFiles, open_filesystem
from nbflow.storage.value_formats import PICKLE, choose_format, read_value, write_value

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

_LATEST = ".latest.json"
_PENDING_RECORDS = 4096
_MISMATCH = "its checksum does not match the one recorded when it was written"
_NOT_FOUND = (FileNotFoundError, IsADirectoryError, NotADirectoryError)


class UrlIOManager(MemoizableIOManager):
    """Stores each output as an object (file) under the URL ``base_dir``; memoizable by version.

    Args:
        base_dir: the storage URL, e.g. ``s3://bucket/prefix`` or ``memory://scratch``.
        mmap_arrays: accepted for the same config as local folders; values at a URL are
            always read into memory.
        parquet_frames: store DataFrames as Parquet (where it gives them back unchanged).
        storage_options: options of the fsspec file system (``endpoint_url``, ``key``,
            ``secret``, ``anon`` ...).

    Raises:
        StorageBackendError: fsspec or the scheme's backend is not installed, or the scheme
            is unknown (raised here, before anything is stored).
    """

    def __init__(
        self,
        base_dir: str,
        mmap_arrays: bool = False,
        parquet_frames: bool = False,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.base_dir = base_dir
        self.mmap_arrays = mmap_arrays
        self.parquet_frames = parquet_frames
        self.storage_options = dict(storage_options or {})
        protocol = base_dir.split("://", 1)[0].split("::")[-1] if URL.match(base_dir) else "file"
        filesystem, self.root = open_filesystem(base_dir, self.storage_options)
        self.files = UrlFiles(filesystem, protocol.lower())
        self.process_local = protocol.lower() == "memory"
        """A ``memory://`` file system lives in this process: no other process sees it."""
        self._cleaned: set[str] = set()  # folders whose stale temporaries were removed
        self._records: OrderedDict[tuple[str, str, str], StoredRecord] = OrderedDict()

    def _join(self, parts: Sequence[str]) -> str:
        return str(safe_join(PurePosixPath(self.root), parts))

    def url_of(self, path: str) -> str:
        """The URL of a path in this manager's file system, spelled as ``base_dir`` is."""
        if path.startswith(self.root):
            return self.base_dir.rstrip("/") + path[len(self.root) :]
        return str(self.files.fs.unstrip_protocol(path))

    def path_for(self, context: OutputContext) -> str:
        """Where the output ``context`` describes is stored (a path in the file system)."""
        return self._join(context.get_identifier())

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        self._remember(context, self.write_value(self.path_for(context), obj))

    def write_value(self, path: str, obj: object) -> StoredRecord:
        """Store ``obj`` at ``path`` in the format its type calls for; return its record.

        A DataFrame that pyarrow fails to write is pickled instead (the reason is recorded).
        """
        folder = path.rpartition("/")[0]
        if folder not in self._cleaned:
            self.files.remove_stale_temporaries(folder)
            self._cleaned.add(folder)
        value_format, reason = choose_format(obj, self.parquet_frames)
        try:
            return self._write(path, obj, value_format, reason)
        except Exception as exc:
            if value_format != PARQUET:
                raise
            reason = f"not stored as Parquet: pyarrow failed ({type(exc).__name__}: {exc})"
            return self._write(path, obj, PICKLE, reason)

    def _write(self, path: str, obj: object, value_format: str, reason: str | None) -> StoredRecord:
        with self.files.write_atomically(path) as handle:
            sink = HashingWriter(handle)
            write_value(value_format, obj, sink)
            record = StoredRecord(value_format, sink.size, sink.hexdigest(), reason)
            handle.write(record.encode())
        return record

    def _remember(self, context: OutputContext, record: StoredRecord) -> None:
        """Keep the record of a versioned output for its manifest, written after it."""
        if context.version is None:
            return
        self._records[(context.step_key, context.name, context.version)] = record
        while len(self._records) > _PENDING_RECORDS:
            self._records.popitem(last=False)

    def load_input(self, context: InputContext) -> Any:
        upstream = context.upstream_output
        if upstream is None:
            raise OutputNotFoundError(
                f"Input {context.step_key}.{context.name} has no upstream output to load."
            )
        path = self.path_for(upstream)
        try:
            handle = self.files.open_for_reading(path)
        except _NOT_FOUND:
            raise OutputNotFoundError(
                f"Output {upstream.step_key}.{upstream.name} is not stored at "
                f"{self.url_of(path)}. Fix: run the upstream step first (or the whole job)."
            ) from None
        with handle:
            return self._read(handle, path, f"{upstream.step_key}.{upstream.name}")

    def _read(self, handle: IO[bytes], path: str, what: str) -> Any:
        """The value in the open file ``handle``, checked against its record."""
        size = handle.seek(0, os.SEEK_END)
        record = read_record(handle, size)
        if isinstance(record, str):
            if not is_whole_plain_pickle(handle, size):
                raise self._damaged(what, path, record)
            return self._read_plain_pickle(handle, size, path, what)
        handle.seek(0)
        source = HashingReader(handle, record.size)
        if record.format == PARQUET:
            data = source.read()
            if source.finish() != record.checksum:
                raise self._damaged(what, path, _MISMATCH)
            return frame_from_parquet(data)
        try:
            value = read_value(record.format, source)
        except Exception as exc:
            if source.finish() != record.checksum:
                raise self._damaged(what, path, _MISMATCH) from exc
            raise
        if source.finish() != record.checksum:
            raise self._damaged(what, path, _MISMATCH)
        return value

    def _read_plain_pickle(self, handle: IO[bytes], size: int, path: str, what: str) -> Any:
        """A pickle written by another program: loaded unchecked, but whole or not at all."""
        handle.seek(0)
        source = HashingReader(handle, size)
        try:
            value = read_value(PICKLE, source)
        except Exception as exc:
            problem = f"it does not unpickle ({type(exc).__name__})"
            raise self._damaged(what, path, problem) from exc
        if source.left:
            raise self._damaged(what, path, "it holds more than one pickle")
        return value

    def _damaged(self, what: str, path: str, problem: str) -> CorruptOutputError:
        """Move the damaged object at ``path`` aside, and the error that says so."""
        aside = self.files.move_aside(path)
        return CorruptOutputError.build(what, self.url_of(path), problem, self.url_of(aside))

    def has_output(self, context: OutputContext) -> bool:
        """Whether the output is stored whole: its object ends with a record that matches it."""
        return self.stored_record(self.path_for(context)) is not None

    def stored_record(self, path: str) -> StoredRecord | None:
        """The record of the value stored at ``path``; ``None`` if none is stored whole."""
        try:
            handle = self.files.open_for_reading(path)
        except _NOT_FOUND:
            return None
        with handle:
            size = handle.seek(0, os.SEEK_END)
            record = read_record(handle, size)
            if isinstance(record, str) and is_whole_plain_pickle(handle, size):
                return StoredRecord(PICKLE, size, "", "written without nbflow's record")
        return record if isinstance(record, StoredRecord) else None

    def record_manifest(self, step_key: str, output_name: str, manifest: Mapping[str, Any]) -> None:
        """Write ``<version>.manifest.json`` beside the value, then ``.latest.json``; each in
        one atomic put, after the value they describe."""
        name = f"{manifest['version']}.manifest.json"
        path = self._join([step_key, output_name, name])
        record = self._records.pop((step_key, output_name, str(manifest["version"])), None)
        if record is not None:
            manifest = {**manifest, STORED_KEY: record.to_json()}
        data = json.dumps(manifest, sort_keys=True).encode()
        self.files.write_bytes(path, data)
        self.files.write_bytes(self._join([step_key, output_name, _LATEST]), data)

    def latest_manifest(self, step_key: str, output_name: str) -> Mapping[str, Any] | None:
        return self._read_manifest(self._join([step_key, output_name, _LATEST]))

    def manifest_for(
        self, step_key: str, output_name: str, version: str
    ) -> Mapping[str, Any] | None:
        name = f"{version}.manifest.json"
        return self._read_manifest(self._join([step_key, output_name, name]))

    def _read_manifest(self, path: str) -> Mapping[str, Any] | None:
        data = self.files.read_bytes(path)
        if data is None:
            return None
        try:
            loaded = json.loads(data)
        except ValueError:
            return None
        return loaded if isinstance(loaded, dict) else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_dir!r})"


class InstanceUrlIOManager(UrlIOManager):
    """A :class:`UrlIOManager` that never fails on a value pickle cannot store: that value
    serves the downstream steps of its own run from memory, is not written, and its step runs
    again next time (the user is warned once). What ``instance_files_io_manager`` builds for
    a URL ``base_dir``."""

    def __init__(self, base_dir: str, **options: Any) -> None:
        super().__init__(base_dir, **options)
        self.unkept: dict[str, Any] = {}

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        path = self.path_for(context)
        address = ("url", self.url_of(path))
        try:
            record = self.write_value(path, obj)
        except OSError:
            raise
        except Exception as exc:  # anything pickle raises: the value cannot be kept
            self.files.remove(path)  # an older value must not stand in for this one
            self.unkept[path] = obj
            slot = ("url", self.base_dir, context.step_key, context.name)
            note_not_kept(context, address, slot, exc)
            return
        self._remember(context, record)
        self.unkept.pop(path, None)
        forget_not_kept(address)

    def load_input(self, context: InputContext) -> Any:
        upstream = context.upstream_output
        if upstream is not None and self.path_for(upstream) in self.unkept:
            return self.unkept[self.path_for(upstream)]
        return super().load_input(context)

    def missing_reason(self, context: OutputContext) -> str | None:
        """Why an output is not stored, when this process tried and could not."""
        return not_kept_reason(("url", self.url_of(self.path_for(context))))
