"""Filesystem IO managers: each output streamed to its own file, written atomically.

Versioned outputs live at ``<base_dir>/<step_key>/<output_name>/<version>``, their manifests
beside them as ``<version>.manifest.json``; unversioned ones at
``<base_dir>/<run_id>/<step_key>/<output_name>``. The instance's own storage folder (the
default ``base_dir`` of a persistent instance) is flat instead:
``<base_dir>/<step_key>.<output_name>@<version>``, manifests in the instance's run history
(see :mod:`nbflow.storage.output_layout`).

Formats. Plain numpy arrays are stored as ``.npy``, pandas DataFrames that Parquet gives back
unchanged as Parquet (when pyarrow is installed), anything else as a pickle; values stream
into the file and out of it (see :mod:`nbflow.storage.value_formats`). With the config
``mmap_arrays: true`` stored arrays load memory-mapped and read-only.

Integrity. Every file ends with a record of its format, size and xxh3-128 checksum, written in
the same atomic write as the value (see :mod:`nbflow.storage.stored_record`); the version
manifest of the output gets a copy. ``has_output`` accepts a file only when that record is
whole and matches the file's size; loading checks the checksum while the value streams in and
returns nothing from a damaged file: it is moved aside (``*.corrupt``) and
:class:`~nbflow.errors.CorruptOutputError` says its step will be recomputed. A memory-mapped
array is checked in full the first time this process maps that file.

Durability. A value is flushed to disk before it is published; its manifest is written after
it, without a flush of its own (a file, or a row of the run history with ``synchronous=NORMAL``):
a manifest lost in a machine crash only costs the next run a recomputation, never a wrong
value. Temporary files left by killed writers are removed on the
first write to their folder, once they are an hour old and unlocked.

A URL ``base_dir`` (``s3://``, ``gs://``, ``memory://``, ``file://`` ...) is stored through fsspec
with the same layout, records and manifests (see :mod:`nbflow.storage.url_io_manager`).

``instance_files_io_manager`` is the default IO manager of memoized runs and asset jobs on a
persistent instance: the same files in the instance's storage folder, except that a value
pickle cannot store serves its own run from memory instead of failing the step (see
:mod:`nbflow.storage.not_kept`).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path, PurePath
from typing import IO, TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from nbflow.config import Field, Noneable
from nbflow.definitions.io_manager import (
    InputContext,
    IOManagerDefinition,
    MemoizableIOManager,
    OutputContext,
)
from nbflow.errors import CorruptOutputError, OutputNotFoundError, StorageUrlError
from nbflow.storage.array_format import NPY, map_array
from nbflow.storage.checksum_io import HashingReader, HashingWriter
from nbflow.storage.folder_listing import current_listings
from nbflow.storage.frame_format import PARQUET, read_frame
from nbflow.storage.local_files import (
    move_aside,
    open_for_reading,
    remove,
    remove_stale_temporaries,
    write_atomically,
)
from nbflow.storage.manifests import PROCESS_MANIFESTS
from nbflow.storage.not_kept import forget_not_kept, not_kept_reason, note_not_kept
from nbflow.storage.output_layout import FlatLayout, NestedLayout, check_parts
from nbflow.storage.stored_record import StoredRecord, is_whole_plain_pickle, read_record
from nbflow.storage.url_files import is_url
from nbflow.storage.value_formats import PICKLE, choose_format, read_value, write_value
from nbflow.storage.write_behind import Spool, current, wait_for_write

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from nbflow.storage.manifests import ManifestStore
    from nbflow.storage.url_io_manager import InstanceUrlIOManager, UrlIOManager

_P = TypeVar("_P", bound=PurePath)


def safe_join(base: _P, parts: Sequence[str]) -> _P:
    """``base / parts...``, refusing any part that could leave ``base``."""
    check_parts(parts)
    return base.joinpath(*parts)


class FilesystemIOManager(MemoizableIOManager):
    """Stores each output in a file under ``base_dir``; memoizable by version.

    Args:
        base_dir: the storage folder.
        mmap_arrays: load stored numpy arrays memory-mapped, read-only.
        parquet_frames: store DataFrames as Parquet (where it gives them back unchanged)
            instead of pickle; smaller (60 % of pickle's size for ``bench/io.py``'s numeric
            frame) and, there, a faster round trip.
        history: the manifest store of the instance whose own storage folder ``base_dir``
            is (its run history): then the folder is laid out flat and manifests go to
            ``history`` (see :mod:`nbflow.storage.output_layout`).

    Write-through: in the process that stored a value, a run hands it to its consumers
    directly instead of reading the file back (``write_through``). A subclass that overrides
    ``load_input`` turns this off, unless it sets ``write_through = True`` itself.
    """

    write_through: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "load_input" in vars(cls) and "write_through" not in vars(cls):
            cls.write_through = False

    def __init__(
        self,
        base_dir: str | os.PathLike[str],
        mmap_arrays: bool = False,
        parquet_frames: bool = False,
        history: ManifestStore | None = None,
    ) -> None:
        if is_url(os.fspath(base_dir)):
            raise StorageUrlError.build(os.fspath(base_dir))
        self.base_dir = Path(base_dir)
        self.layout = (
            NestedLayout(self.base_dir) if history is None else FlatLayout(self.base_dir, history)
        )
        self.mmap_arrays = mmap_arrays
        self.parquet_frames = parquet_frames
        self._cleaned: set[Path] = set()  # folders whose stale temporaries were removed
        self._records: OrderedDict[tuple[str, str, str], StoredRecord] = OrderedDict()
        self._behind: dict[tuple[str, str, str], Path] = {}  # versioned outputs written behind
        self._mapped: dict[tuple[Path, int, int, int], str] = {}  # checked mapped files

    def path_for(self, context: OutputContext) -> Path:
        """Where the output ``context`` describes is stored (or will be)."""
        if context.asset_key is None and context.version is not None:
            return Path(self.layout.value_path(context.step_key, context.name, context.version))
        return safe_join(self.base_dir, context.get_identifier())

    def stored_paths(self, context: OutputContext) -> list[str] | list[Path]:
        """Where the output ``context`` describes may be stored, in the order to look."""
        if context.asset_key is None and context.version is not None:
            return self.layout.value_paths(context.step_key, context.name, context.version)
        return [self.path_for(context)]

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        path = self.path_for(context)
        self._remember(context, self._store(context, path, obj))

    def _store(self, context: OutputContext, path: Path, obj: object) -> StoredRecord:
        """Store the output ``context`` describes at ``path``; return its record.

        Inside a run that writes behind (:mod:`nbflow.storage.write_behind`), when this
        manager reads its own files (``write_through``): a value pickled in fewer than
        ``SPOOL_LIMIT`` bytes is pickled here and its file written by the writer process; a
        larger one, or one stored as ``.npy`` or Parquet, is written here and its file flushed
        and published by the writer process.
        """
        temporaries = self.temporaries_for(context, path)
        listings = current_listings()
        if listings is not None:
            listings.note(os.fspath(self.base_dir), os.fspath(path))
        writes = current()
        if writes is None or not self.write_through:
            return self.write_value(path, obj, temporaries)
        what = f"{context.step_key}.{context.name}"
        self._settle(path)  # an earlier write of the same file lands first

        def hand_over(written: Path) -> None:  # a file written here: published behind
            writes.publish(path, written, what)

        value_format, reason = choose_format(obj, self.parquet_frames)
        if value_format != PICKLE:
            record = self.write_value(path, obj, temporaries, hand_over)
            self._written_behind(context, path)
            return record
        self._clean(temporaries)
        spool = Spool(path, temporaries, hand_over=hand_over)
        try:
            sink = HashingWriter(cast("IO[bytes]", spool))
            write_value(PICKLE, obj, sink)
            record = StoredRecord(PICKLE, sink.size, sink.hexdigest(), reason)
            spool.write(record.encode())
        except BaseException as exc:
            spool.abandon(exc)
            raise
        if spool.spilled:
            spool.finish()
        else:
            writes.submit(path, spool.buffer, temporaries, what)
        self._written_behind(context, path)
        return record

    def _written_behind(self, context: OutputContext, path: Path) -> None:
        """The value of ``context`` is being written behind the run: its manifest waits."""
        if context.version is not None:
            self._behind[(context.step_key, context.name, context.version)] = path

    def _settle(self, path: str | os.PathLike[str]) -> None:
        """Wait for a write of ``path`` still going on behind a run, if any."""
        wait_for_write(path)

    def _clean(self, temporaries: Path) -> None:
        """Remove the stale temporaries in ``temporaries``, the first time it is written."""
        if temporaries not in self._cleaned:
            remove_stale_temporaries(temporaries)
            self._cleaned.add(temporaries)

    def temporaries_for(self, context: OutputContext, path: Path) -> Path:
        """The folder of the temporary file that becomes ``path``, the output of ``context``
        (a flat store's versioned step outputs have a folder of their own)."""
        if context.asset_key is None and context.version is not None:
            return self.layout.temporaries(path)
        return path.parent

    def write_value(
        self,
        path: Path,
        obj: object,
        temporaries: Path | None = None,
        hand_over: Callable[[Path], None] | None = None,
    ) -> StoredRecord:
        """Store ``obj`` at ``path`` in the format its type calls for; return its record.

        A DataFrame that pyarrow fails to write is pickled instead (the reason is recorded).
        The temporary file is made in ``temporaries`` (by default beside ``path``); with
        ``hand_over``, it is handed to that once written, to be flushed and published there.
        """
        temporaries = path.parent if temporaries is None else temporaries
        self._clean(temporaries)
        value_format, reason = choose_format(obj, self.parquet_frames)
        try:
            return _write(path, obj, value_format, reason, temporaries, hand_over)
        except Exception as exc:
            if value_format != PARQUET:
                raise
            reason = f"not stored as Parquet: pyarrow failed ({type(exc).__name__}: {exc})"
            return _write(path, obj, PICKLE, reason, temporaries, hand_over)

    def _remember(self, context: OutputContext, record: StoredRecord) -> None:
        """Keep the record of a versioned output for its manifest, written after it."""
        if context.version is None:
            return
        self._records[(context.step_key, context.name, context.version)] = record
        while len(self._records) > _PENDING_RECORDS:
            self._behind.pop(self._records.popitem(last=False)[0], None)

    def load_input(self, context: InputContext) -> Any:
        upstream = context.upstream_output
        if upstream is None:
            raise OutputNotFoundError(
                f"Input {context.step_key}.{context.name} has no upstream output to load."
            )
        for path in self.stored_paths(upstream):
            self._settle(path)
            try:
                handle = open_for_reading(path)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                continue
            with handle:
                return self._read(handle, Path(path), f"{upstream.step_key}.{upstream.name}")
        raise OutputNotFoundError(
            f"Output {upstream.step_key}.{upstream.name} is not stored at "
            f"{self.path_for(upstream)}. Fix: run the upstream step first (or the whole job)."
        )

    def _read(self, handle: IO[bytes], path: Path, what: str) -> Any:
        """The value in the open file ``handle``, checked against its record."""
        size = handle.seek(0, os.SEEK_END)
        record = read_record(handle, size)
        if isinstance(record, str):
            if not is_whole_plain_pickle(handle, size):
                raise _damaged(what, path, record)
            return _read_plain_pickle(handle, size, path, what)
        handle.seek(0)
        if record.format == PARQUET:
            frame = read_frame(handle, record.size, record.checksum)
            if frame is None:
                raise _damaged(what, path, _MISMATCH)
            return frame
        if record.format == NPY and self.mmap_arrays:
            self._check_whole(handle, path, what, record)
            return map_array(path)
        source = HashingReader(handle, record.size)
        try:
            value = read_value(record.format, source)
        except Exception as exc:
            if source.finish() != record.checksum:
                raise _damaged(what, path, _MISMATCH) from exc
            raise
        if source.finish() != record.checksum:
            raise _damaged(what, path, _MISMATCH)
        return value

    def _check_whole(self, handle: IO[bytes], path: Path, what: str, record: StoredRecord) -> None:
        """Check the checksum of a memory-mapped array's file before it is mapped (once per
        process and file)."""
        identity = os.fstat(handle.fileno())
        key = (path, identity.st_ino, identity.st_mtime_ns, identity.st_size)
        if self._mapped.get(key) == record.checksum:
            return
        if HashingReader(handle, record.size).finish() != record.checksum:
            raise _damaged(what, path, _MISMATCH)
        self._mapped[key] = record.checksum

    def has_output(self, context: OutputContext) -> bool:
        """Whether the output is stored whole: its file ends with a record that matches it."""
        paths = [os.fspath(path) for path in self.stored_paths(context)]
        listings = current_listings()
        if listings is not None:
            folder = os.fspath(self.base_dir)
            paths = [path for path in paths if listings.may_hold(folder, path)]
        return any(self.stored_record(path) is not None for path in paths)

    def stored_record(self, path: str | Path) -> StoredRecord | None:
        """The record of the value stored at ``path``; ``None`` if none is stored whole."""
        self._settle(path)
        try:
            handle = open_for_reading(path)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        with handle:
            size = handle.seek(0, os.SEEK_END)
            record = read_record(handle, size)
            if isinstance(record, str) and is_whole_plain_pickle(handle, size):
                return StoredRecord(PICKLE, size, "", "written without nbflow's record")
        return record if isinstance(record, StoredRecord) else None

    def record_manifest(self, step_key: str, output_name: str, manifest: Mapping[str, Any]) -> None:
        """Keep ``manifest`` once, where the layout keeps manifests; it becomes the latest.

        The manifest gets the value's stored record (format, size, checksum) when this
        manager stored it. It is not flushed to disk on its own (see the module doc). Of a
        value written behind the run, it is recorded once the value's file is published.
        """
        key = (step_key, output_name, str(manifest["version"]))
        record = self._records.pop(key, None)
        if record is not None:
            manifest = {**manifest, STORED_KEY: record.to_json()}
        behind = self._behind.pop(key, None)
        writes = current()
        if behind is not None and writes is not None:
            record_it = self.layout.record_manifest
            if writes.then(behind, lambda: record_it(step_key, output_name, manifest)):
                return
        self.layout.record_manifest(step_key, output_name, manifest)

    def latest_manifest(self, step_key: str, output_name: str) -> Mapping[str, Any] | None:
        return self.layout.latest_manifest(step_key, output_name)

    def manifest_for(
        self, step_key: str, output_name: str, version: str
    ) -> Mapping[str, Any] | None:
        return self.layout.manifest_for(step_key, output_name, version)


STORED_KEY = "stored"
"""Manifest key of the stored value's record: ``format``, ``size``, ``xxh3_128``, ``reason``."""

_PENDING_RECORDS = 4096
_MISMATCH = "its checksum does not match the one recorded when it was written"


def _write(
    path: Path,
    obj: object,
    value_format: str,
    reason: str | None,
    temporaries: Path,
    hand_over: Callable[[Path], None] | None = None,
) -> StoredRecord:
    with write_atomically(path, temporaries=temporaries, hand_over=hand_over) as handle:
        sink = HashingWriter(handle)
        write_value(value_format, obj, sink)
        record = StoredRecord(value_format, sink.size, sink.hexdigest(), reason)
        handle.write(record.encode())
    return record


def _read_plain_pickle(handle: IO[bytes], size: int, path: Path, what: str) -> Any:
    """A pickle written by another program: loaded unchecked, but whole or not at all."""
    handle.seek(0)
    source = HashingReader(handle, size)
    try:
        value = read_value(PICKLE, source)
    except Exception as exc:
        raise _damaged(what, path, f"it does not unpickle ({type(exc).__name__})") from exc
    if source.left:
        raise _damaged(what, path, "it holds more than one pickle")
    return value


def _damaged(what: str, path: Path, problem: str) -> CorruptOutputError:
    """Move the damaged file at ``path`` aside, and the error that says so."""
    aside = move_aside(path)
    return CorruptOutputError.build(what, os.fspath(path), problem, os.fspath(aside))


class InstanceFilesIOManager(FilesystemIOManager):
    """A :class:`FilesystemIOManager` that never fails on a value pickle cannot store: that
    value serves the downstream steps of its own run from memory, is not written, and its
    step runs again next time (the user is warned once)."""

    write_through: ClassVar[bool] = True

    def __init__(
        self,
        base_dir: str | os.PathLike[str],
        history: ManifestStore | None = None,
        **options: bool,
    ) -> None:
        super().__init__(base_dir, history=history, **options)
        self.unkept: dict[Path, Any] = {}

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        path = self.path_for(context)
        try:
            record = self._store(context, path, obj)
        except OSError:
            raise
        except Exception as exc:  # anything pickle raises: the value cannot be kept
            for stored in self.stored_paths(context):
                self._settle(stored)
                remove(Path(stored))  # an older value must not stand in for this one
            self.unkept[path] = obj
            slot = ("files", os.fspath(self.base_dir), context.step_key, context.name)
            note_not_kept(context, ("files", os.fspath(path)), slot, exc)
            return
        self._remember(context, record)
        self.unkept.pop(path, None)
        forget_not_kept(("files", os.fspath(path)))

    def load_input(self, context: InputContext) -> Any:
        upstream = context.upstream_output
        if upstream is not None and self.path_for(upstream) in self.unkept:
            return self.unkept[self.path_for(upstream)]
        return super().load_input(context)

    def missing_reason(self, context: OutputContext) -> str | None:
        """Why an output is not stored, when this process tried and could not."""
        return not_kept_reason(("files", os.fspath(self.path_for(context))))


def _build(init_context: Any) -> FilesystemIOManager | UrlIOManager:
    config = init_context.resource_config
    base_dir, storage_options = _where(init_context)
    if is_url(base_dir):  # fsspec storage, in its own module: loaded only for a URL
        from nbflow.storage.url_io_manager import UrlIOManager

        return UrlIOManager(base_dir, storage_options=storage_options, **_options(config))
    history = _own_history(init_context, base_dir)
    return FilesystemIOManager(base_dir, history=history, **_options(config))


def _own_history(init_context: Any, base_dir: str) -> ManifestStore | None:
    """The manifest store of the run history of the instance whose own storage folder
    ``base_dir`` is, when that instance is persistent; else ``None`` (nested layout)."""
    instance = getattr(init_context, "instance", None)
    if instance is None or not instance.is_persistent or instance.manifests is PROCESS_MANIFESTS:
        return None
    own = os.path.abspath(instance.storage_dir) == os.path.abspath(base_dir)
    return instance.manifests if own else None


def _where(init_context: Any) -> tuple[str, dict[str, Any]]:
    """The ``base_dir`` of the config, else the instance's storage; and the fsspec options
    (the instance's for its own storage, overridden by the config's)."""
    config = init_context.resource_config
    own = dict(config.get("storage_options") or {})
    if config.get("base_dir"):
        return config["base_dir"], own
    instance = init_context.instance
    return instance.storage_dir, {**instance.storage_options, **own}


def _options(config: Any) -> dict[str, bool]:
    return {
        "mmap_arrays": bool(config.get("mmap_arrays")),
        "parquet_frames": bool(config.get("parquet_frames")),
    }


_CONFIG = {
    "base_dir": Field(Noneable(str), default_value=None, description="Storage folder."),
    "mmap_arrays": Field(
        bool,
        default_value=False,
        description="Load stored numpy arrays memory-mapped, read-only.",
    ),
    "parquet_frames": Field(
        bool,
        default_value=False,
        description="Store DataFrames as Parquet (needs pyarrow) instead of pickle.",
    ),
    "storage_options": Field(
        Noneable(dict),
        default_value=None,
        description="Options of the fsspec file system when base_dir is a URL (endpoint_url, "
        "key, secret, anon...).",
    ),
}

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


def _build_instance_files(init_context: Any) -> InstanceFilesIOManager | InstanceUrlIOManager:
    config = init_context.resource_config
    base_dir, storage_options = _where(init_context)
    if is_url(base_dir):
        from nbflow.storage.url_io_manager import InstanceUrlIOManager

        options = _options(config)
        return InstanceUrlIOManager(base_dir, storage_options=storage_options, **options)
    history = _own_history(init_context, base_dir)
    return InstanceFilesIOManager(base_dir, history, **_options(config))


instance_files_io_manager = IOManagerDefinition(
    _build_instance_files,
    config_schema=_CONFIG,
    description="Pickles outputs to files (default folder: the instance's storage folder); "
    "values pickle cannot store serve their own run only.",
)
