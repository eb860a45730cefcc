"""What the SQLite stores share: one connection per store, opened in WAL mode and migrated
on first use, guarded by a lock, closed once; driver errors translated at the boundary."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self

from deskcore.errors import StorageError

__all__ = ["SQLiteFile", "statements", "translated"]


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Turn driver errors into :class:`StorageError` at the adapter boundary."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StorageError(f"SQLite failed to {action}: {exc}", action=action) from exc


def statements(script: str) -> Iterator[str]:
    """Split a migration script into statements (they contain no ';' inside literals)."""
    for statement in script.split(";"):
        if statement.strip():
            yield statement


class SQLiteFile:
    """An open database file: the connection, its lock and its lifecycle.

    Subclasses migrate their own tables in :meth:`_migrate`, called once the connection is
    configured; a failure there closes the connection again.
    """

    _name = "store"
    """What the store is called in errors (``the repository is closed``)."""

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = os.fspath(path)
        self._lock = threading.RLock()
        with translated("open the database"):
            db = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        self._db: sqlite3.Connection | None = db
        try:
            with translated("configure the database"):
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = NORMAL")
                db.execute("PRAGMA foreign_keys = ON")
                db.execute("PRAGMA cache_size = -16000")
                db.execute("PRAGMA wal_autocheckpoint = 4000")
            self._migrate(db)
        except BaseException:
            db.close()
            raise

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Bring the store's tables to the current schema."""
        raise NotImplementedError

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise StorageError(f"the {self._name} is closed", action="use")
        return self._db

    def close(self) -> None:
        """Close the database connection. Further calls raise :class:`StorageError`."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
