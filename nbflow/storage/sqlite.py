"""Runs, their events and version manifests in one SQLite file (``<root>/runs.db``).

The file is opened in WAL mode with ``synchronous=NORMAL`` and a busy timeout, and every write
is a ``BEGIN IMMEDIATE`` transaction: several processes can write to one file at once, each
waiting its turn instead of failing with "database is locked". Each process keeps one connection
per file, shared by every storage object on that file and guarded by a lock, so threads can use
it too; a process that forked (or was spawned with a pickled storage) opens its own.

Reading never creates anything: asking an instance that has never run anything for its runs
returns nothing and leaves no file behind. A file that is not an nbflow SQLite database is never
changed: every operation raises :class:`~nbflow.errors.StorageError` naming the file and the fix.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from nbflow.errors import StorageError
from nbflow.events import Event, EventType
from nbflow.storage import event_codec
from nbflow.storage.run import Run, RunStatus
from nbflow.storage.run_owner import abandoned_because
from nbflow.storage.run_storage import RunStorage

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

    from nbflow.storage.runs_filter import RunsFilter

T = TypeVar("T")

_log = logging.getLogger("nbflow")

_FILES = ("", "-wal", "-shm")

SCHEMA_VERSION = 1
"""Stored in ``PRAGMA user_version``; a file with a higher number was written by a newer nbflow."""

DEFAULT_TIMEOUT = 60.0
"""Seconds a write waits for other writers before giving up."""

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS runs (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL UNIQUE,
        job_name TEXT NOT NULL,
        status TEXT NOT NULL,
        tags TEXT NOT NULL,
        run_config TEXT NOT NULL,
        op_selection TEXT,
        start_time REAL,
        end_time REAL,
        created_at REAL NOT NULL,
        parent_run_id TEXT,
        root_run_id TEXT,
        owner_pid INTEGER,
        owner_host TEXT,
        heartbeat REAL,
        abandoned TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        job_name TEXT NOT NULL,
        step_key TEXT,
        event_type TEXT NOT NULL,
        timestamp REAL NOT NULL,
        message TEXT NOT NULL,
        pid INTEGER NOT NULL,
        payload TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS events_by_run ON events (run_id, id)",
    """CREATE TABLE IF NOT EXISTS manifests (
        id INTEGER PRIMARY KEY,
        step_key TEXT NOT NULL,
        output_name TEXT NOT NULL,
        version TEXT NOT NULL,
        manifest TEXT NOT NULL,
        recorded_at REAL NOT NULL,
        UNIQUE (step_key, output_name, version)
    )""",
    "CREATE INDEX IF NOT EXISTS manifests_latest ON manifests (step_key, output_name, id)",
)

_COLUMNS = {
    "runs": {
        "id", "run_id", "job_name", "status", "tags", "run_config", "op_selection",
        "start_time", "end_time", "created_at",
    },
    "events": {
        "id", "run_id", "job_name", "step_key", "event_type", "timestamp", "message", "pid",
        "payload",
    },
    "manifests": {"id", "step_key", "output_name", "version", "manifest", "recorded_at"},
}  # fmt: skip

_ADDED_RUN_COLUMNS = {
    "parent_run_id": "TEXT",
    "root_run_id": "TEXT",
    "owner_pid": "INTEGER",
    "owner_host": "TEXT",
    "heartbeat": "REAL",
    "abandoned": "TEXT",
}
"""Columns of ``runs`` added since files were first written: added to a file that lacks
them when it is opened (its runs are kept)."""

_RUN_COLUMNS = (
    "run_id, job_name, status, tags, run_config, op_selection, start_time, end_time, "
    "parent_run_id, root_run_id, owner_pid, owner_host, heartbeat, abandoned"
)

_INSERT_RUN = (
    f"INSERT INTO runs ({_RUN_COLUMNS}, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

# The heartbeat only moves forward: a record written from an older copy of the run keeps it.
_UPSERT_RUN = (
    f"{_INSERT_RUN} "
    "ON CONFLICT (run_id) DO UPDATE SET job_name = excluded.job_name, status = excluded.status, "
    "tags = excluded.tags, run_config = excluded.run_config, "
    "op_selection = excluded.op_selection, start_time = excluded.start_time, "
    "end_time = excluded.end_time, parent_run_id = excluded.parent_run_id, "
    "root_run_id = excluded.root_run_id, owner_pid = excluded.owner_pid, "
    "owner_host = excluded.owner_host, abandoned = excluded.abandoned, "
    "heartbeat = CASE WHEN runs.heartbeat IS NULL OR excluded.heartbeat > runs.heartbeat "
    "THEN excluded.heartbeat ELSE runs.heartbeat END"
)

_INSERT_EVENT = (
    "INSERT INTO events (run_id, job_name, step_key, event_type, timestamp, message, pid, "
    "payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)

_SELECT_EVENTS = (
    "SELECT run_id, job_name, step_key, event_type, timestamp, message, pid, payload "
    "FROM events WHERE run_id = ? ORDER BY id"
)

_SELECT_EVENTS_OF_TYPES = (
    "SELECT run_id, job_name, step_key, event_type, timestamp, message, pid, payload "
    "FROM events WHERE run_id = ? AND event_type IN ({marks}) ORDER BY id"
)


# --- one connection per file per process --------------------------------------------------


_INHERITED: list[sqlite3.Connection] = []
"""Connections a forked child got from its parent: never used, never closed (closing them in
the child could disturb the parent's locks), only kept from the garbage collector."""


_ORPHANED: list[sqlite3.Connection] = []
"""Connections to a run history that was deleted or replaced under them: never used again,
never closed (closing could remove the new file's ``-wal``/``-shm`` by name)."""

_FileId = tuple[int, int]


def _file_id(path: str) -> _FileId | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


class _Database:
    """This process's connection to one SQLite file, opened on first use.

    Before each use it checks the file is still the one it opened (device and inode of the
    file and of its ``-wal``): a history deleted (e.g. with its folder) or replaced while a
    long-lived process (a notebook kernel) holds the connection is opened anew, its schema
    created again, instead of writes going into a deleted file. Inside
    :meth:`joining_writes` (a run) it checks on the first use only: a run writes once
    per step, and the two ``stat`` calls of each check cost as much as the write.
    """

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self._ids: dict[str, _FileId | None] = {}
        self._joining = 0  # open joining_writes() scopes
        self._joined: list[Callable[[sqlite3.Connection], object]] = []
        self._checked_in_scope = False  # the file was checked inside the open scopes

    def _after_fork(self) -> None:
        if self._pid == os.getpid():
            return
        if self._conn is not None:
            _INHERITED.append(self._conn)
        self._conn = None
        self._lock = threading.RLock()
        self._pid = os.getpid()
        self._joining = 0
        self._joined = []  # the parent writes its own
        self._checked_in_scope = False

    # -- opening --------------------------------------------------------------------------

    def _connection(self, create: bool) -> sqlite3.Connection | None:
        if self._conn is not None and not self._checked_in_scope:
            self._check_same_file(self._conn)
            self._checked_in_scope = self._joining > 0 and self._conn is not None
        if self._conn is None:
            if not create and not self.path.exists():
                return None
            self._conn = self._open()
            self._ids = {suffix: _file_id(f"{self.path}{suffix}") for suffix in _FILES}
        return self._conn

    def _check_same_file(self, conn: sqlite3.Connection) -> None:
        """Let go of ``conn`` if the file (or its ``-wal``) is not the one it opened."""
        now = {suffix: _file_id(f"{self.path}{suffix}") for suffix in ("", "-wal")}
        if now[""] == self._ids[""] and (
            self._ids["-wal"] is None or now["-wal"] == self._ids["-wal"]
        ):
            if self._ids["-wal"] is None:
                self._ids["-wal"] = now["-wal"]
            return
        if now[""] == self._ids[""]:
            # Only the -wal file went: copy what it held (still open here) into the file,
            # then close, which also drops the -shm index that described the lost file.
            what = "its -wal file was deleted"
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        else:
            what = "it was deleted" if now[""] is None else "it was replaced by another file"
            if now[""] is None:  # our leftover -wal/-shm would be read into a new file
                now["-shm"] = _file_id(f"{self.path}-shm")
                for suffix in ("-wal", "-shm"):
                    if self._ids[suffix] is not None and now[suffix] == self._ids[suffix]:
                        with contextlib.suppress(OSError):
                            os.unlink(f"{self.path}{suffix}")
            _ORPHANED.append(conn)
        self._conn = None
        _log.warning(
            "The run history %s changed on disk (%s); nbflow opens it anew.", self.path, what
        )

    def _open(self) -> sqlite3.Connection:
        if self.path.is_dir():
            raise StorageError(
                f"The run history {self.path} is a folder, expected an SQLite file. Fix: move "
                "that folder away, or set NBFLOW_HOME to another folder."
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"Cannot create the folder of the run history {self.path}: {exc.strerror}. "
                "Expected a folder nbflow can write. Fix: set NBFLOW_HOME to a writable folder "
                "(or pass a writable path to Instance.local)."
            ) from None
        try:
            conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise self._error(exc, "open") from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            # Check what the file holds before changing anything in it (even its journal mode).
            version = self._retry_busy(lambda: self._check_contents(conn))
            self._retry_busy(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone())
            conn.execute("PRAGMA synchronous = NORMAL")
            if version < SCHEMA_VERSION:
                self._retry_busy(lambda: self._create_schema(conn))
            else:
                self._retry_busy(lambda: self._add_run_columns(conn))
        except BaseException as exc:
            conn.close()
            if isinstance(exc, sqlite3.Error):
                raise self._error(exc, "open") from None
            raise
        return conn

    def _check_contents(self, conn: sqlite3.Connection) -> int:
        """The file's schema version, after checking it is an nbflow run history (or empty)."""
        conn.execute("BEGIN")  # one consistent snapshot, even while another process creates it
        try:
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            tables = {
                row[0]: row[1]
                for row in conn.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%'"
                )
            }
            columns = {
                table: {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                for table in _COLUMNS
                if table in tables
            }
        finally:
            conn.execute("COMMIT")
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"The run history {self.path} has schema version {version}, written by a newer "
                f"nbflow; this nbflow reads version {SCHEMA_VERSION}. The file was not changed. "
                "Fix: upgrade nbflow, or set NBFLOW_HOME to another folder."
            )
        if version == 0 and tables:
            raise StorageError(
                f"{self.path} is an SQLite file but not an nbflow run history: it holds the "
                f"tables {sorted(tables)} and no nbflow schema version. The file was not changed. "
                "Fix: move it aside (or set NBFLOW_HOME to another folder) so nbflow can start "
                "a new history there."
            )
        for table, found in columns.items():
            missing = sorted(_COLUMNS[table] - found)
            if missing:
                raise StorageError(
                    f"{self.path} is not a usable nbflow run history: its table {table!r} lacks "
                    f"the columns {missing}. The file was not changed. Fix: move it aside (or set "
                    "NBFLOW_HOME to another folder) so nbflow can start a new history there."
                )
        return int(version)

    @staticmethod
    def _create_schema(conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    @staticmethod
    def _add_run_columns(conn: sqlite3.Connection) -> None:
        """Add the ``runs`` columns an older file lacks, keeping its runs."""
        found = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
        if found >= _ADDED_RUN_COLUMNS.keys():
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            found = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
            for column, kind in _ADDED_RUN_COLUMNS.items():
                if column not in found:
                    conn.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    # -- use --------------------------------------------------------------------------------

    def write(self, action: str, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one ``BEGIN IMMEDIATE`` transaction, waiting for other writers;
        the writes joined so far (see :meth:`write_joined`) go first, in the same one."""
        self._after_fork()
        with self._lock:
            conn = self._connection(create=True)
            assert conn is not None
            joined, self._joined = self._joined, []

            def transaction() -> T:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for earlier in joined:
                        earlier(conn)
                    result = fn(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                return result

            try:
                return self._retry_busy(transaction)
            except sqlite3.Error as exc:
                raise self._error(exc, action) from None

    def write_joined(self, action: str, fn: Callable[[sqlite3.Connection], object]) -> None:
        """Run ``fn`` now in a transaction of its own, or, inside :meth:`joining_writes`, in
        the next transaction of this file (saving one: each costs tens of microseconds and
        a few pages of the ``-wal`` file). Only for records whose loss is harmless (version
        manifests): if that next transaction fails, they are lost with it."""
        self._after_fork()
        with self._lock:
            if self._joining:
                self._joined.append(fn)
                return
        self.write(action, fn)

    @contextlib.contextmanager
    def joining_writes(self, action: str) -> Iterator[None]:
        """Inside, :meth:`write_joined` writes wait for the next write (or read) of this
        file; at the end, those still waiting are written."""
        self._after_fork()
        with self._lock:
            self._joining += 1
        try:
            yield
        finally:
            with self._lock:
                self._joining -= 1
                waiting = bool(self._joined) and not self._joining
                self._checked_in_scope = self._checked_in_scope and self._joining > 0
            if waiting:
                self.write(action, lambda conn: None)

    def read(self, action: str, fn: Callable[[sqlite3.Connection], T], missing: T) -> T:
        """``fn``'s answer from the file, or ``missing`` when there is no file yet; joined
        writes that wait are written first."""
        self._after_fork()
        if self._joined:
            self.write(action, lambda conn: None)
        with self._lock:
            try:
                conn = self._connection(create=False)
                if conn is None:
                    return missing
                return self._retry_busy(lambda: fn(conn))
            except sqlite3.Error as exc:
                raise self._error(exc, action) from None

    def _retry_busy(self, fn: Callable[[], T]) -> T:
        """``fn()``, again after a short pause while SQLite says the file is busy.

        The busy timeout already makes SQLite wait for locks; this covers the few places it
        does not (changing the journal mode, recovering a WAL file another process left).
        """
        deadline = time.monotonic() + self.timeout
        pause = 0.001
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def _error(self, exc: sqlite3.Error, action: str) -> StorageError:
        text = str(exc)
        if _is_busy(exc):
            return StorageError(
                f"Could not {action} the run history {self.path}: another process kept it locked "
                f"for more than {self.timeout:.0f} s (SQLite: {text}). Expected writers to hold "
                "it for milliseconds. Fix: stop the process that holds it (a stuck run, or an "
                "sqlite3 shell with an open transaction), then retry."
            )
        if isinstance(exc, sqlite3.OperationalError) and (
            "unable to open" in text or "readonly" in text or "read-only" in text
        ):
            return StorageError(
                f"Could not {action} the run history {self.path}: {text}. Expected a file nbflow "
                "can read and write, in a folder it can write. Fix: check the permissions of "
                "the file and its folder, or set NBFLOW_HOME to a folder you can write."
            )
        corrupt = "malformed" in text or "not a database" in text or "corrupt" in text
        if corrupt or type(exc) is sqlite3.DatabaseError:
            return StorageError(
                f"The run history {self.path} is not a readable SQLite database ({text}); "
                f"could not {action} it. nbflow left the file as it is. Fix: move it aside, "
                f"e.g. `mv {self.path} {self.path}.broken`, and nbflow starts a new history "
                "there (or set NBFLOW_HOME to another folder); `sqlite3 <file> .recover` may "
                "rescue old runs from the moved file."
            )
        return StorageError(f"Could not {action} the run history {self.path}: SQLite: {text}.")


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


_REGISTRY: weakref.WeakValueDictionary[str, _Database] = weakref.WeakValueDictionary()
_REGISTRY_LOCK = threading.Lock()


def _reset_registry_lock() -> None:
    global _REGISTRY_LOCK
    _REGISTRY_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_registry_lock)


def _database(path: Path, timeout: float) -> _Database:
    """The one :class:`_Database` of ``path`` in this process (the first ``timeout`` asked
    for holds while any storage object uses the file)."""
    key = os.fspath(path)
    with _REGISTRY_LOCK:
        database = _REGISTRY.get(key)
        if database is None:
            database = _Database(path, timeout)
            _REGISTRY[key] = database
        return database


def _resolve(path: str | os.PathLike[str]) -> Path:
    return Path(path).expanduser().absolute()


# --- run storage ---------------------------------------------------------------------------


def _text(value: str | None) -> str | bytes | None:
    """``value`` as SQLite can keep it: text, or, when it holds lone surrogates (which UTF-8
    cannot encode), their ``surrogatepass`` bytes stored as a BLOB (the type tags them)."""
    if value is None or value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass")
    return value


def _untext(value: Any) -> Any:
    """The text :func:`_text` stored."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogatepass")
    return value


def _run_row(run: Run) -> tuple[Any, ...]:
    return (
        run.run_id,
        _text(run.job_name),
        run.status.value,
        event_codec.dumps(dict(run.tags)),
        event_codec.dumps(dict(run.run_config)),
        None if run.op_selection is None else event_codec.dumps(list(run.op_selection)),
        run.start_time,
        run.end_time,
        run.parent_run_id,
        run.root_run_id,
        run.owner_pid,
        run.owner_host,
        run.heartbeat_time,
        run.abandoned,
        time.time(),
    )


def _run_from_row(row: tuple[Any, ...]) -> Run:
    run_id, job_name, status, tags, run_config, op_selection, start_time, end_time = row[:8]
    parent_run_id, root_run_id, owner_pid, owner_host, heartbeat, abandoned = row[8:]
    return Run(
        run_id=run_id,
        job_name=_untext(job_name),
        run_config=event_codec.loads(run_config),
        tags=event_codec.loads(tags),
        op_selection=None if op_selection is None else event_codec.loads(op_selection),
        status=RunStatus(status),
        start_time=start_time,
        end_time=end_time,
        parent_run_id=parent_run_id,
        root_run_id=root_run_id,
        owner_pid=owner_pid,
        owner_host=owner_host,
        heartbeat_time=heartbeat,
        abandoned=_untext(abandoned),
    )


def _filter_clause(filters: RunsFilter | None) -> tuple[str, list[Any]]:
    """The ``WHERE`` clause (with a leading space, or empty) and its arguments."""
    if filters is None:
        return "", []
    conditions: list[str] = []
    args: list[Any] = []
    if filters.job_name is not None:
        conditions.append("job_name = ?")
        args.append(filters.job_name)
    if filters.statuses:
        conditions.append(f"status IN ({', '.join('?' * len(filters.statuses))})")
        args.extend(status.value for status in filters.statuses)
    if filters.created_before is not None:
        conditions.append("created_at < ?")
        args.append(filters.created_before)
    return (f" WHERE {' AND '.join(conditions)}" if conditions else ""), args


def _event_row(event: Event) -> tuple[Any, ...]:
    return (
        event.run_id,
        _text(event.job_name),
        _text(event.step_key),
        event.event_type.name,
        event.timestamp,
        _text(event.message),
        event.pid,
        event_codec.dumps_payload(event.data),
    )


def _event_fields(
    event_type: str,
    job_name: str,
    step_key: str | None,
    message: str,
    timestamp: float,
    pid: int,
    run_id: str,
    payload: str | None,
) -> tuple[Any, ...]:
    kind, known = event_codec.event_type_from_name(event_type)
    job_name, step_key, message = _untext(job_name), _untext(step_key), _untext(message)
    if not known:
        message = f"[{event_type}] {message}".rstrip()
    data = event_codec.loads_payload(payload)
    return (kind, job_name, step_key, message, data, timestamp, pid, run_id)


def _events(rows: Iterable[tuple[Any, ...]]) -> list[Event]:
    return [
        Event(*_event_fields(event_type, job_name, step_key, message, timestamp, pid, rid, data))
        for rid, job_name, step_key, event_type, timestamp, message, pid, data in rows
    ]


class SqliteRunStorage(RunStorage):
    """Runs and events in an SQLite file, shared safely by threads and processes.

    Args:
        path: the database file (``<instance root>/runs.db``); its folder is created on the
            first write.
        timeout: seconds a write waits for other writers before raising ``StorageError``.
    """

    def __init__(self, path: str | os.PathLike[str], timeout: float = DEFAULT_TIMEOUT) -> None:
        self._path = _resolve(path)
        self._timeout = timeout
        self._db = _database(self._path, timeout)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def manifests(self) -> SqliteManifestStore:
        """Version manifests kept in the same file."""
        return SqliteManifestStore(self._path, self._timeout)

    def __getstate__(self) -> dict[str, Any]:
        return {"path": os.fspath(self._path), "timeout": self._timeout}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self.__init__(state["path"], state["timeout"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"SqliteRunStorage({os.fspath(self._path)!r})"

    # -- runs -----------------------------------------------------------------------------

    keeps_heartbeat = True

    def add_run(self, run: Run) -> None:
        row = _run_row(run)
        self._db.write("record a run in", lambda conn: conn.execute(_UPSERT_RUN, row))

    def add_new_run(self, run: Run) -> bool:
        row = _run_row(run)

        def insert(conn: sqlite3.Connection) -> bool:
            # In the write transaction: no other process can take the id in between.
            taken = conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run.run_id,)).fetchone()
            if taken is not None:
                return False
            conn.execute(_INSERT_RUN, row)
            return True

        return self._db.write("record a run in", insert)

    def heartbeat(self, run_ids: Iterable[str], at: float) -> None:
        ids = list(run_ids)
        if not ids or not self._path.exists():
            return  # a deleted history is not brought back by a heartbeat
        sql = (
            f"UPDATE runs SET heartbeat = ? WHERE status = 'STARTED' "
            f"AND run_id IN ({', '.join('?' * len(ids))})"
        )
        self._db.write("keep the heartbeat of runs in", lambda conn: conn.execute(sql, (at, *ids)))

    def end_abandoned_runs(self) -> list[Run]:
        def started(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return conn.execute(
                "SELECT run_id, job_name, owner_pid, owner_host, heartbeat FROM runs "
                "WHERE status = 'STARTED' AND owner_pid IS NOT NULL"
            ).fetchall()

        now = time.time()
        none: list[tuple[Any, ...]] = []
        candidates = self._db.read("list the running runs of", started, none)
        ended: list[Run] = []
        for run_id, job_name, pid, host, heartbeat in candidates:
            reason = abandoned_because(pid, host, heartbeat, now)
            if reason is not None and self._end_abandoned(run_id, _untext(job_name), pid, reason):
                run = self.get_run(run_id)
                if run is not None:
                    ended.append(run)
        return ended

    def _end_abandoned(self, run_id: str, job_name: str, pid: int, reason: str) -> bool:
        now = time.time()
        message = f"Run of {job_name!r} was abandoned: {reason}. nbflow marked it failed."
        event = Event(
            EventType.RUN_FAILURE, job_name, None, message, None, now, os.getpid(), run_id
        )

        def end(conn: sqlite3.Connection) -> bool:
            # Only if still STARTED by the same owner: two processes sweeping at once end it once.
            changed = conn.execute(
                "UPDATE runs SET status = ?, end_time = ?, abandoned = ? "
                "WHERE run_id = ? AND status = 'STARTED' AND owner_pid = ?",
                (RunStatus.FAILURE.value, now, _text(reason), run_id, pid),
            ).rowcount
            if changed:
                conn.execute(_INSERT_EVENT, _event_row(event))
            return bool(changed)

        return self._db.write("end an abandoned run in", end)

    def update_run(self, run: Run) -> None:
        row = _run_row(run)
        self._db.write("update a run in", lambda conn: conn.execute(_UPSERT_RUN, row))

    def get_run(self, run_id: str) -> Run | None:
        def query(conn: sqlite3.Connection) -> Run | None:
            row = conn.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ?", (run_id,)
            ).fetchone()
            return None if row is None else _run_from_row(row)

        return self._db.read("read a run from", query, None)

    def get_runs(self, limit: int | None = None, filters: RunsFilter | None = None) -> list[Run]:
        where, args = _filter_clause(filters)
        sql = f"SELECT {_RUN_COLUMNS} FROM runs{where} ORDER BY id DESC LIMIT ?"
        args.append(-1 if limit is None else max(limit, 0))

        def query(conn: sqlite3.Connection) -> list[Run]:
            return [_run_from_row(row) for row in conn.execute(sql, args).fetchall()]

        return self._db.read("list the runs of", query, [])

    def delete_run(self, run_id: str) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            conn.execute("DELETE FROM events WHERE run_id = ?", (run_id,))
            return conn.execute("DELETE FROM runs WHERE run_id = ?", (run_id,)).rowcount > 0

        if not self._db.path.exists():
            return False  # nothing recorded: leave no file behind
        return self._db.write("delete a run from", delete)

    def get_runs_with_id_prefix(self, prefix: str, limit: int | None = None) -> list[Run]:
        def query(conn: sqlite3.Connection) -> list[Run]:
            # A range on the unique index: every id that starts with ``prefix`` sorts between.
            rows = conn.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id >= ? AND run_id < ? "
                "ORDER BY id DESC LIMIT ?",
                (prefix, prefix + "\U0010ffff", -1 if limit is None else max(limit, 0)),
            ).fetchall()
            return [_run_from_row(row) for row in rows if row[0].startswith(prefix)]

        return self._db.read("look up runs in", query, [])

    # -- events ---------------------------------------------------------------------------

    def joining_writes(self) -> contextlib.AbstractContextManager[None]:
        """Inside, version manifests recorded in this file are written with the next events
        (one transaction instead of two)."""
        return self._db.joining_writes("store version manifests in")

    def store_event(self, event: Event) -> None:
        row = _event_row(event)
        self._db.write("store an event in", lambda conn: conn.execute(_INSERT_EVENT, row))

    def store_events(self, events: Iterable[Event]) -> None:
        rows = [_event_row(event) for event in events]
        if rows:
            self._db.write("store events in", lambda conn: conn.executemany(_INSERT_EVENT, rows))

    def get_events(self, run_id: str) -> list[Event]:
        def query(conn: sqlite3.Connection) -> list[Event]:
            return _events(conn.execute(_SELECT_EVENTS, (run_id,)).fetchall())

        return self._db.read("read events from", query, [])

    def get_events_of_types(self, run_id: str, event_types: Iterable[EventType]) -> list[Event]:
        names = sorted({kind.name for kind in event_types})
        if not names:
            return []
        sql = _SELECT_EVENTS_OF_TYPES.format(marks=", ".join("?" * len(names)))

        def query(conn: sqlite3.Connection) -> list[Event]:
            return _events(conn.execute(sql, (run_id, *names)).fetchall())

        return self._db.read("read events from", query, [])


# --- manifests -----------------------------------------------------------------------------


class SqliteManifestStore:
    """Version manifests (see :mod:`nbflow.storage.manifests`) in the run history's file."""

    def __init__(self, path: str | os.PathLike[str], timeout: float = DEFAULT_TIMEOUT) -> None:
        self._path = _resolve(path)
        self._timeout = timeout
        self._db = _database(self._path, timeout)

    @property
    def path(self) -> Path:
        return self._path

    def __getstate__(self) -> dict[str, Any]:
        return {"path": os.fspath(self._path), "timeout": self._timeout}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self.__init__(state["path"], state["timeout"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"SqliteManifestStore({os.fspath(self._path)!r})"

    def record_manifest(self, step_key: str, output_name: str, manifest: Mapping[str, Any]) -> None:
        """Keep ``manifest`` as the latest of this step output. While a run holds its events
        (see ``SqliteRunStorage.joining_writes``) it is written with the next of them."""
        version = str(manifest.get("version", ""))
        text = event_codec.dumps(dict(manifest))
        recorded_at = time.time()

        def write(conn: sqlite3.Connection) -> None:
            # Delete, then insert: the newest id marks the latest manifest.
            conn.execute(
                "DELETE FROM manifests WHERE step_key = ? AND output_name = ? AND version = ?",
                (step_key, output_name, version),
            )
            conn.execute(
                "INSERT INTO manifests (step_key, output_name, version, manifest, recorded_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (step_key, output_name, version, text, recorded_at),
            )

        self._db.write_joined("record a version manifest in", write)

    def latest_manifest(self, step_key: str, output_name: str) -> Mapping[str, Any] | None:
        return self._one(
            "SELECT manifest FROM manifests WHERE step_key = ? AND output_name = ? "
            "ORDER BY id DESC LIMIT 1",
            (step_key, output_name),
        )

    def manifest_for(
        self, step_key: str, output_name: str, version: str
    ) -> Mapping[str, Any] | None:
        return self._one(
            "SELECT manifest FROM manifests WHERE step_key = ? AND output_name = ? "
            "AND version = ? ORDER BY id DESC LIMIT 1",
            (step_key, output_name, version),
        )

    def _one(self, sql: str, args: tuple[str, ...]) -> Mapping[str, Any] | None:
        def query(conn: sqlite3.Connection) -> Mapping[str, Any] | None:
            row = conn.execute(sql, args).fetchone()
            if row is None:
                return None
            loaded = event_codec.loads(row[0])
            return loaded if isinstance(loaded, dict) else None

        return self._db.read("read a version manifest from", query, None)
