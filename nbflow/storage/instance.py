"""``Instance``: where runs, their events and (by default) stored outputs are kept."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbflow.errors import RunIdInUseError, StorageError
from nbflow.storage.manifests import PROCESS_MANIFESTS
from nbflow.storage.run_storage import InMemoryRunStorage as InMemoryRunStorage
from nbflow.storage.run_storage import RunStorage as RunStorage
from nbflow.storage.url_files import is_url, open_filesystem

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

    from nbflow.events import Event
    from nbflow.storage.manifests import ManifestStore
    from nbflow.storage.run import Run
    from nbflow.storage.runs_filter import RunsFilter

_log = logging.getLogger("nbflow")


HOME_ENV_VAR = "NBFLOW_HOME"
"""Environment variable naming the folder of the default persistent instance."""

STORAGE_ENV_VAR = "NBFLOW_STORAGE"
"""Environment variable naming where ``Instance.get()`` stores outputs by default: a URL
(``s3://bucket/prefix``, ``gs://...``, ``file:///...``) or a folder; unset, the instance's own
``storage`` folder."""

DEFAULT_HOME = ".nbflow"
"""Folder of the default persistent instance, relative to the working directory, when
``$NBFLOW_HOME`` is not set."""

RUNS_DB = "runs.db"
"""File name of a persistent instance's run history (runs, events, version manifests)."""


def default_home() -> tuple[Path, str]:
    """The folder of ``Instance.get()`` and where that choice comes from.

    Returns:
        The absolute folder (``$NBFLOW_HOME``, else ``./.nbflow`` of the working directory)
        and a few words on why it is that one, e.g. ``"from $NBFLOW_HOME"``.
    """
    home = os.environ.get(HOME_ENV_VAR, "").strip()
    if home:
        return Path(home).expanduser().absolute(), f"from ${HOME_ENV_VAR}"
    return (
        Path(DEFAULT_HOME).absolute(),
        f"{DEFAULT_HOME} of the working directory; set ${HOME_ENV_VAR} to use one folder "
        "everywhere",
    )


def _kept_storage(storage: str | os.PathLike[str] | None) -> str | None:
    """``storage`` as kept: a URL as given, a folder made absolute; ``None`` stays ``None``."""
    if storage is None:
        return None
    if is_url(storage):
        return str(storage).rstrip("/")
    return os.fspath(Path(storage).expanduser().absolute())


class Instance:
    """Where runs, events and, by default, stored outputs live.

    ``Instance.ephemeral()`` keeps everything in memory (the default for in-process runs).
    ``Instance.get()`` and ``Instance.local(path)`` keep them in a folder: runs, events and
    version manifests in ``<root>/runs.db`` (SQLite), outputs of filesystem IO managers under
    ``<root>/storage``, unless ``storage`` names another place: a folder or an fsspec URL
    (``s3://bucket/prefix``, ``gs://...``), with ``storage_options`` for its file system
    (``endpoint_url``, ``key``, ``secret`` ...). Runs, events and manifests of local folders stay
    in ``runs.db``; values (and their manifests) at a URL stay at the URL, so step processes and
    Dask workers on other machines find them.

    To watch a run as it goes, give its id to the entry point (``execute_in_process(run_id=...)``,
    ``execute_job(..., run_id=...)``, ``materialize*(..., run_id=...)``) and register a
    callback with :meth:`add_event_listener` before it starts.
    """

    def __init__(
        self,
        run_storage: RunStorage,
        root: Path | None = None,
        manifests: ManifestStore = PROCESS_MANIFESTS,
        storage: str | os.PathLike[str] | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.run_storage = run_storage
        self.manifests = manifests
        self._root = root
        self._storage = _kept_storage(storage)
        self.storage_options: dict[str, Any] = dict(storage_options or {})
        """Options of the fsspec file system of a URL ``storage`` (``{}`` otherwise)."""
        self._persistent = root is not None
        self._origin = ""
        self._listeners: dict[str, tuple[Callable[[Event], None], ...]] = {}
        self._listeners_lock = threading.Lock()
        self._holders: dict[str, Callable[[], None]] = {}  # run id -> stores its held events

    @classmethod
    def ephemeral(cls) -> Instance:
        """An instance that keeps runs and events in memory."""
        return cls(InMemoryRunStorage())

    @classmethod
    def local(
        cls,
        path: str | os.PathLike[str],
        storage: str | os.PathLike[str] | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> Instance:
        """A persistent instance in folder ``path`` (created on first write).

        Args:
            path: the instance's folder (runs, events, manifests of local values).
            storage: where outputs are stored by default: a URL such as
                ``s3://bucket/prefix`` or a folder; ``None``: ``<path>/storage``.
            storage_options: options of the URL's fsspec file system (``endpoint_url``,
                ``key``, ``secret``, ``anon`` ...); the backend's environment variables
                (``AWS_ENDPOINT_URL`` ...) apply as usual.

        Raises:
            StorageBackendError: ``storage`` is a URL whose backend is not installed (the
                error names the package to install); nothing is written.
        """
        from nbflow.storage.sqlite import SqliteRunStorage

        root = Path(path).expanduser().absolute()
        if root.exists() and not root.is_dir():
            raise StorageError(
                f"Cannot use {root} as an nbflow instance folder: it is a file, expected a "
                "folder. Fix: pass (or set NBFLOW_HOME to) a folder path; nbflow creates it "
                "if it does not exist."
            )
        if storage is not None and is_url(storage):  # its backend, before anything runs
            open_filesystem(str(storage), storage_options)
        runs = SqliteRunStorage(root / RUNS_DB)
        instance = cls(
            runs,
            root=root,
            manifests=runs.manifests,
            storage=storage,
            storage_options=storage_options,
        )
        instance.end_abandoned_runs()
        return instance

    @classmethod
    def get(cls) -> Instance:
        """The default persistent instance: folder ``$NBFLOW_HOME``, else ``./.nbflow``;
        outputs stored at ``$NBFLOW_STORAGE`` (a URL or a folder) when it is set.

        ``./.nbflow`` is relative to the working directory, so a notebook and a terminal in
        different folders keep different histories; set ``$NBFLOW_HOME`` to share one. The
        instance's repr says which folder it is and why.
        """
        root, origin = default_home()
        instance = cls.local(root, storage=os.environ.get(STORAGE_ENV_VAR, "").strip() or None)
        instance._origin = origin
        return instance

    @property
    def is_persistent(self) -> bool:
        return self._persistent

    @property
    def root(self) -> Path:
        """The instance's folder (a fresh temporary folder for an ephemeral instance, removed
        when the instance is garbage-collected or the process exits)."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="nbflow-"))
            weakref.finalize(self, shutil.rmtree, self._root, ignore_errors=True)
        return self._root

    @property
    def storage_dir(self) -> str:
        """Default ``base_dir`` of filesystem IO managers: ``storage`` (a URL or a folder),
        else ``<root>/storage``."""
        return self._storage if self._storage is not None else os.fspath(self.root / "storage")

    @property
    def local_storage_dir(self) -> str:
        """A folder on this machine for files kept beside stored outputs (executed notebooks):
        :attr:`storage_dir` when it is a folder, else ``<root>/storage``."""
        if self._storage is not None and not is_url(self._storage):
            return self._storage
        return os.fspath(self.root / "storage")

    def add_run(self, run: Run) -> None:
        self.run_storage.add_run(run)

    def add_new_run(self, run: Run) -> None:
        """Record ``run``, a run about to start.

        Raises:
            RunIdInUseError: a run with its id is recorded already (that record is left as
                it was).
        """
        if not self.run_storage.add_new_run(run):
            where = os.fspath(self.root / RUNS_DB) if self._persistent else "this instance"
            raise RunIdInUseError.build(run.run_id, where)

    def end_abandoned_runs(self) -> list[Run]:
        """End the runs left ``STARTED`` by a process that died (killed, crashed, power loss).

        Each becomes ``FAILURE`` with a ``RUN_FAILURE`` event naming the dead process, and
        :attr:`Run.abandoned <nbflow.storage.run.Run.abandoned>` says why. A run's owner is gone
        when its pid is no longer running on this host, or, for a run of another host, when
        its heartbeat is older than
        :data:`~nbflow.storage.run_owner.STALE_AFTER_SECONDS`. ``Instance.local`` and
        ``Instance.get`` call it on opening; an unreadable history is left for the first
        real use to report.

        Returns:
            The runs it ended.
        """
        try:
            return self.run_storage.end_abandoned_runs()
        except StorageError as exc:
            _log.debug("Could not check %r for abandoned runs: %s", self, exc)
            return []

    def update_run(self, run: Run) -> None:
        self.run_storage.update_run(run)

    def get_run(self, run_id: str) -> Run | None:
        return self.run_storage.get_run(run_id)

    def get_run_by_id(self, run_id: str) -> Run | None:
        """The run ``run_id``, or ``None`` if this instance has none by that id."""
        return self.get_run(run_id)

    def storage_directory(self) -> str:
        """The folder filesystem IO managers store outputs in by default (``storage_dir``)."""
        return self.storage_dir

    def __enter__(self) -> Instance:
        return self

    def __exit__(self, *exc: object) -> None:
        """Nothing to release: connections close with the process; folders stay."""

    def get_runs(self, limit: int | None = None, filters: RunsFilter | None = None) -> list[Run]:
        """Recorded runs, newest first.

        Args:
            limit: at most this many (all when ``None``).
            filters: only the runs that pass this :class:`~nbflow.storage.runs_filter.RunsFilter`
                (job, statuses, recorded before a time).
        """
        return self.run_storage.get_runs(limit, filters)

    def delete_run(self, run_id: str) -> bool:
        """Forget run ``run_id``: its record and its events. Stored outputs stay.

        Returns:
            Whether the instance had a run by that id.
        """
        return self.run_storage.delete_run(run_id)

    def get_runs_with_id_prefix(self, prefix: str, limit: int | None = None) -> list[Run]:
        """Runs whose id starts with ``prefix``, newest first."""
        return self.run_storage.get_runs_with_id_prefix(prefix, limit)

    def handle_event(self, event: Event) -> None:
        """Store ``event``, then hand it to the listeners of its run."""
        self.run_storage.store_event(event)
        if self._listeners:
            self.tell_listeners(event)

    def record_events(self, events: Sequence[Event], *, tell_listeners: bool = True) -> None:
        """Store events of a running run in one transaction (on persistent instances), then
        hand them to the listeners of their run, in order (unless ``tell_listeners`` is
        false: the run told them as it emitted them).

        A failure to store is logged (logger ``nbflow``, level ERROR) instead of raised, so
        it never hides the error of the user's own code."""
        if not events:
            return
        try:
            self.run_storage.store_events(events)
        except Exception as exc:
            kinds = ", ".join(event.event_type.name for event in events)
            _log.error(
                "Could not record the %s %s of run %s (%s); the run goes on, its stored "
                "history misses %s.",
                kinds,
                "event" if len(events) == 1 else "events",
                events[0].run_id,
                exc,
                "this event" if len(events) == 1 else "these events",
                exc_info=not isinstance(exc, StorageError),
            )
        if tell_listeners and self._listeners:
            for event in events:
                self.tell_listeners(event)

    @contextlib.contextmanager
    def holding_events(self, run_id: str, store_held: Callable[[], None]) -> Iterator[None]:
        """Inside, run ``run_id`` holds events back; :meth:`get_events` of that run calls
        ``store_held`` first, so a reader in this process sees every event emitted."""
        self._holders[run_id] = store_held
        try:
            yield
        finally:
            self._holders.pop(run_id, None)

    def joining_writes(self) -> contextlib.AbstractContextManager[None]:
        """Inside, version manifests recorded in this instance's run history wait to be
        written with the next events (see ``RunStorage.joining_writes``)."""
        return self.run_storage.joining_writes()

    def store_events(self, events: Iterable[Event]) -> None:
        """Store several events at once (one transaction on persistent instances), then
        hand each to the listeners of its run."""
        events = list(events)
        self.run_storage.store_events(events)
        if self._listeners:
            for event in events:
                self.tell_listeners(event)

    def add_event_listener(self, run_id: str, callback: Callable[[Event], None]) -> None:
        """Call ``callback(event)`` with every event of run ``run_id`` this instance keeps.

        Events come in the order the run emits them, as it emits them, on the thread that
        emits them: the one that runs the job, or a thread of the op's own (events of step
        processes, e.g. under the multiprocess executor, are handed on as the run receives
        them). The run stores them in groups, within ``HOLD_SECONDS`` (see
        :mod:`nbflow.execution.engine.event_batch`). Register before the run starts
        to see all of them: pass the same ``run_id`` to the entry point. A callback that
        raises is logged as a warning (logger ``nbflow``) and never stops the run.

        Args:
            run_id: the run to watch.
            callback: takes one :class:`~nbflow.events.Event`; keep it cheap.

        Example:
            >>> instance = Instance.ephemeral()
            >>> seen = []
            >>> instance.add_event_listener("my-run", seen.append)
            >>> my_job.execute_in_process(instance=instance, run_id="my-run")
        """
        with self._listeners_lock:
            self._listeners[run_id] = (*self._listeners.get(run_id, ()), callback)

    def remove_event_listener(self, run_id: str, callback: Callable[[Event], None]) -> None:
        """Stop calling ``callback`` for run ``run_id`` (nothing happens if it was not added)."""
        with self._listeners_lock:
            kept = list(self._listeners.get(run_id, ()))
            if callback in kept:
                kept.remove(callback)
            if kept:
                self._listeners[run_id] = tuple(kept)
            else:
                self._listeners.pop(run_id, None)

    def tell_listeners(self, event: Event) -> None:
        """Hand ``event`` to the listeners of its run (a listener that raises is logged)."""
        for callback in self._listeners.get(event.run_id, ()):
            try:
                callback(event)
            except Exception:
                _log.warning(
                    "Event listener %r of run %s raised on %s; the run goes on.",
                    callback,
                    event.run_id,
                    event.event_type.name,
                    exc_info=True,
                )

    def get_events(self, run_id: str) -> list[Event]:
        """The stored events of run ``run_id``, in order (a run going on in this process
        stores those it holds first)."""
        store_held = self._holders.get(run_id)
        if store_held is not None:
            store_held()
        return self.run_storage.get_events(run_id)

    def __repr__(self) -> str:
        if not self._persistent:
            return "<Instance ephemeral>"
        stored = f", outputs at {self._storage}" if self._storage is not None else ""
        if self._origin:
            return f"<Instance {os.fspath(self.root)} (persistent, {self._origin}{stored})>"
        return f"<Instance {os.fspath(self.root)}{stored}>"
