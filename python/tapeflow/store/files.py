"""Opening a store file: checked before anything is read from it or written to it, and held by one process.

A file is refused, with :class:`~tapeflow.errors.StoreError` naming it and the reason, when it is not an SQLite file
or is another program's database, was written by a newer tapeflow, is damaged (``PRAGMA quick_check``), holds another
market's data, or is the store of another running process. A refused file is only ever read: it is opened
read-only for the checks, so nothing in it is overwritten.

Writing needs a writable file and directory (SQLite's write-ahead log lives beside the file); when they are not
writable the store still starts (see :mod:`tapeflow.store.writer`), and reads what the file holds.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from pathlib import Path

from tapeflow.errors import StoreError
from tapeflow.store.schema import APPLICATION_ID, SCHEMA_VERSION, migrate

__all__ = ["FileLock", "check_file", "connect_reader", "connect_writer"]

_MAGIC = b"SQLite format 3\x00"


def _refuse(path: Path, reason: str, why: str) -> StoreError:
    return StoreError(f"store {str(path)!r} refused: {why}", path=str(path), reason=reason)


def check_file(path: Path, market: str | None, *, locked: bool = False) -> int:
    """The schema version of the store at ``path`` (0: no store there yet, or an empty file) of ``market``
    (``None``: any market).

    ``locked``: the caller holds the file's :class:`FileLock`, so no tapeflow writes it meanwhile; a cleanly closed
    file (no write-ahead log beside it) is then read as immutable, which leaves nothing beside it.

    Raises:
        StoreError: the file is refused (the reason says why).
    """
    try:
        with path.open("rb") as f:
            head = f.read(len(_MAGIC))
    except FileNotFoundError:
        return 0
    except OSError as e:
        raise _refuse(path, "unreadable", f"it cannot be read ({e.strerror or e})") from e
    if not head:
        return 0
    if head != _MAGIC:
        raise _refuse(path, "not_a_store", "it is not an SQLite database, so not a tapeflow store")
    try:
        conn = connect_reader(path, immutable=locked and not Path(f"{path}-wal").exists())
    except sqlite3.Error as e:
        raise _refuse(path, "unreadable", f"SQLite cannot open it ({e})") from e
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if app_id != APPLICATION_ID:
            if app_id == 0 and version == 0 and not conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                return 0  # an empty SQLite file: nothing to lose
            raise _refuse(path, "not_a_store", "it is another program's SQLite database, not a tapeflow store")
        if version > SCHEMA_VERSION:
            raise _refuse(
                path,
                "newer_schema",
                f"it was written by a newer tapeflow (schema version {version}; this one reads up to "
                f"{SCHEMA_VERSION}): upgrade tapeflow, or use another file",
            )
        problems = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
        if problems != ["ok"]:
            raise _refuse(path, "corrupt", f"SQLite finds it damaged: {'; '.join(problems)}")
        if version >= 1:
            row = conn.execute("SELECT value FROM meta WHERE key = 'market'").fetchone()
            if row is not None and market is not None and row[0] != market:
                raise _refuse(path, "other_market", f"it holds {row[0]} data, not {market}: use one file per market")
        return int(version)
    except sqlite3.DatabaseError as e:  # "file is not a database", "database disk image is malformed"...
        raise _refuse(path, "corrupt", f"SQLite cannot read it ({e})") from e
    finally:
        conn.close()


def connect_reader(path: Path, *, immutable: bool = False) -> sqlite3.Connection:
    """A read-only connection (it never writes the file). ``immutable``: nobody writes the file meanwhile, so SQLite
    need not share its write-ahead log index (and creates nothing beside it); a cleanly closed file in a directory
    that cannot be written is read so too."""
    uri = path.absolute().as_uri()
    if immutable:
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    try:
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, check_same_thread=False)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    return conn


def connect_writer(path: Path, market: str, *, checked: bool = False) -> sqlite3.Connection:
    """The writing connection (autocommit; transactions are explicit): write-ahead log, migrated to the current
    schema, with the file's market recorded.

    Raises:
        sqlite3.Error: the file or its directory cannot be written (the caller retries later).
        StoreError: the file changed into one that is refused since it was checked (``checked``: it was checked
            just now).
    """
    if not checked:
        check_file(path, market)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
    try:
        # WAL: readers (queries, exports) never block the writer; NORMAL: a commit survives the process being
        # killed (the log is in the OS's cache), only a power cut may lose the last commits.
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        migrate(conn)
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('market', ?)", (market,))
    except BaseException:
        conn.close()
        raise
    return conn


class FileLock:
    """An exclusive ``flock`` on the store file for this process's lifetime of the store, so two processes never
    write one store (``tapeflow watch`` and ``tapeflow serve`` default to the same file). ``flock`` locks are
    separate from SQLite's own (POSIX) locks; the descriptor is closed only after every SQLite connection of the
    store, since closing any descriptor of a file drops the process's POSIX locks on it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Takes the lock; ``False`` if the file cannot be opened or created (a read-only place: nothing can write
        it then, so there is nothing to guard).

        Raises:
            StoreError: another process holds it (reason ``"in_use"``).
        """
        if self._fd is not None:
            return True
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            try:
                fd = os.open(self.path, os.O_RDONLY)
            except OSError:
                return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _refuse(
                self.path, "in_use", "another process uses it as its store (stop it, or give this one another file)"
            ) from None
        self._fd = fd
        return True

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
