"""The file operations of stored values at an fsspec URL (``s3://``, ``gs://``, ``memory://``,
``file://`` ...), the counterpart of :mod:`nbflow.storage.local_files` for local folders.

fsspec and the scheme's backend (s3fs, gcsfs ...) are imported when a URL is first used, never
by ``import nbflow``; a scheme whose backend is missing is a
:class:`~nbflow.errors.StorageBackendError` naming what to install, raised when the storage is
opened (as the run builds its IO managers, before any step runs).

Publishing a value is atomic on every file system:

- object stores whose uploads publish only when completed (``s3://``, ``gs://``): the value
  streams into one upload, completed once it is whole (a one-part or multipart upload; an
  object appears whole or not at all), and abandoned on an error. A killed writer leaves no
  object (at most an unfinished multipart upload, which no reader sees);
- any other file system (``file://``, ``memory://`` ...): the value is written to a temporary
  file ``.<name>.<random>.tmp`` beside its target, then moved over the target. Temporaries a
  killed writer left are removed on the first write to their folder once they are an hour old.

Listings are never cached (``use_listings_cache=False``): whether an output is stored is
asked of the store itself each time, so values written by other processes are seen.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from typing import IO, TYPE_CHECKING, Any

from nbflow.errors import StorageBackendError
from nbflow.storage.local_files import CORRUPT_SUFFIX, STALE_AFTER_SECONDS, TEMPORARY_SUFFIX

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*(?:::[A-Za-z][A-Za-z0-9+.\-]*)*://")
"""``scheme://`` (or a chain such as ``simplecache::s3://``): a URL, not a local folder."""

ONE_UPLOAD_PROTOCOLS = frozenset({"s3", "s3a", "gs", "gcs"})
"""Schemes whose files publish when their upload completes (streamed, no temporary key)."""

_LOCAL_PROTOCOLS = frozenset({"file", "local"})
_EXTRAS = {"s3": "nbflowkit[s3]", "s3a": "nbflowkit[s3]"}


def is_url(base_dir: str | os.PathLike[str]) -> bool:
    """Whether ``base_dir`` is a URL (``scheme://...``) rather than a local folder."""
    return isinstance(base_dir, str) and URL.match(base_dir) is not None


def _package_for(protocol: str, known: Mapping[str, Any]) -> str:
    """What to ``pip install`` for ``protocol``: nbflow's extra, else the backend's package."""
    entry = known.get(protocol)
    package = str(entry["class"]).split(".", 1)[0] if entry else "fsspec"
    return _EXTRAS.get(protocol, package)


def open_filesystem(url: str, storage_options: Mapping[str, Any] | None) -> tuple[Any, str]:
    """The fsspec file system of ``url`` and the path in it that ``url`` names.

    Raises:
        StorageBackendError: fsspec or the scheme's backend is not installed, or fsspec does
            not know the scheme.
    """
    protocol = url.split("://", 1)[0].split("::")[-1].lower()
    try:
        import fsspec
        from fsspec.registry import known_implementations
    except ImportError:
        package = _EXTRAS.get(protocol, "fsspec")
        raise StorageBackendError.build(url, "fsspec is not installed", package) from None
    try:
        fsspec.get_filesystem_class(protocol)
    except ImportError as exc:
        package = _package_for(protocol, known_implementations)
        raise StorageBackendError.build(url, str(exc), package) from None
    except ValueError:
        raise StorageBackendError.unknown(url, protocol) from None
    options: dict[str, Any] = {"use_listings_cache": False}
    if protocol in _LOCAL_PROTOCOLS:
        options["auto_mkdir"] = True
    options.update(storage_options or {})
    filesystem, path = fsspec.url_to_fs(url, **options)
    return filesystem, str(path).rstrip("/")


class UrlFiles:
    """Writing, reading, moving aside and removing stored files in one fsspec file system.

    Args:
        filesystem: the fsspec file system.
        protocol: its URL scheme, which decides how values are published (see the module doc).
    """

    def __init__(self, filesystem: Any, protocol: str) -> None:
        self.fs = filesystem
        self.one_upload = protocol in ONE_UPLOAD_PROTOCOLS

    @contextlib.contextmanager
    def write_atomically(self, path: str) -> Iterator[IO[bytes]]:
        """Open ``path`` for writing; publish it whole on success, not at all on an error."""
        if self.one_upload:
            handle = self.fs.open(path, "wb", autocommit=False)
            try:
                yield handle
                handle.close()
                handle.commit()
            except BaseException:
                with contextlib.suppress(Exception):
                    handle.discard()
                raise
            return
        folder, _, name = path.rpartition("/")
        self.fs.makedirs(folder, exist_ok=True)
        tmp = f"{folder}/.{name}.{secrets.token_hex(8)}{TEMPORARY_SUFFIX}"
        try:
            with self.fs.open(tmp, "wb") as handle:
                yield handle
                handle.flush()
                fileno = getattr(handle, "fileno", None)
                if callable(fileno):
                    with contextlib.suppress(OSError, ValueError, NotImplementedError):
                        os.fsync(fileno())
            self.fs.mv(tmp, path)
        except BaseException:
            with contextlib.suppress(Exception):
                self.fs.rm_file(tmp)
            raise

    def write_bytes(self, path: str, data: bytes) -> None:
        """Publish ``data`` as ``path`` atomically (one put on object stores)."""
        if self.one_upload:
            self.fs.pipe_file(path, data)
            return
        with self.write_atomically(path) as handle:
            handle.write(data)

    def read_bytes(self, path: str) -> bytes | None:
        """The content of ``path``; ``None`` if there is no such file."""
        try:
            return bytes(self.fs.cat_file(path))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def open_for_reading(self, path: str) -> IO[bytes]:
        """Open a published file for reading (``FileNotFoundError`` if there is none)."""
        handle: IO[bytes] = self.fs.open(path, "rb")
        return handle

    def remove(self, path: str) -> None:
        """Remove the file at ``path``, if there is one."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(path)

    def move_aside(self, path: str) -> str:
        """Move a damaged file to ``<path>.corrupt`` (replacing an older one); return that."""
        aside = path + CORRUPT_SUFFIX
        with contextlib.suppress(FileNotFoundError):
            self.fs.mv(path, aside)
        return aside

    def remove_stale_temporaries(
        self, folder: str, older_than: float = STALE_AFTER_SECONDS, now: float | None = None
    ) -> list[str]:
        """Remove the temporary files in ``folder`` left by killed writers: those not modified
        for ``older_than`` seconds (no lock tells a live writer here, so the age alone does).
        Object stores publishing in one upload leave none; nothing is listed there.

        Returns:
            The files removed.
        """
        if self.one_upload:
            return []
        deadline = (time.time() if now is None else now) - older_than
        try:
            names = self.fs.ls(folder, detail=False)
        except (FileNotFoundError, NotADirectoryError):
            return []
        removed: list[str] = []
        for found in names:
            name = str(found).rstrip("/").rpartition("/")[2]
            if not (name.startswith(".") and name.endswith(TEMPORARY_SUFFIX)):
                continue
            try:
                if self.fs.modified(found).timestamp() > deadline:
                    continue
                self.fs.rm_file(found)
            except (FileNotFoundError, NotImplementedError):
                continue
            removed.append(str(found))
        return removed
