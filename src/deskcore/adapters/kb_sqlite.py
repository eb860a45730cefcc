"""The SQLite knowledge-base sync store: synced copies and the run log in one file (KB5-KB8,
P7).

Standard library :mod:`sqlite3`, write-ahead logging, and a schema of its own: its tables
start with ``kb_`` and its version is a row of ``kb_schema`` (not ``PRAGMA user_version``,
which the ticket store owns), so the same file can also hold a
:class:`~deskcore.adapters.SQLiteTicketRepository`. Every write is one ``BEGIN IMMEDIATE``
transaction: a plan is applied all or nothing, and a run's key is claimed by one writer only,
even with several processes on the file.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from deskcore.adapters._kb import check_finished, check_plan, check_run, publish
from deskcore.adapters._records import dumps
from deskcore.adapters._sqlite_file import SQLiteFile
from deskcore.adapters._sqlite_file import statements as _statements
from deskcore.adapters._sqlite_file import translated as _translated
from deskcore.errors import NotFoundError, SchemaVersionError
from deskcore.models.kbsync import SyncedArticle, SyncRun
from deskcore.models.query import epoch_micros
from deskcore.models.schedule import Occurrence
from deskcore.policies.kbsync import SyncAction, SyncPlan, refuse_article_edit

__all__ = ["KB_MIGRATIONS", "KB_SCHEMA_VERSION", "SQLiteArticleTarget"]

KB_MIGRATIONS: tuple[str, ...] = (
    # 1: synced copies and the run log.
    """
    CREATE TABLE kb_synced_articles (
        target_id TEXT PRIMARY KEY,
        source_id TEXT NOT NULL,
        record    TEXT NOT NULL
    );
    CREATE INDEX kb_synced_by_source ON kb_synced_articles (source_id);

    CREATE TABLE kb_sync_runs (
        key           TEXT PRIMARY KEY,
        trigger       TEXT NOT NULL CHECK (trigger IN ('scheduled', 'manual')),
        schedule_id   TEXT,
        occurrence_us INTEGER,
        started_us    INTEGER NOT NULL,
        finished      INTEGER NOT NULL CHECK (finished IN (0, 1)),
        record        TEXT NOT NULL
    );
    CREATE INDEX kb_runs_by_schedule ON kb_sync_runs (schedule_id, occurrence_us);
    """,
)
"""Schema migrations of the sync store, in order: ``KB_MIGRATIONS[n]`` takes it from version
n to n + 1."""

KB_SCHEMA_VERSION = len(KB_MIGRATIONS)
"""The sync store's schema version this code writes (the ``kb_schema`` row)."""

_SCHEMA_TABLE = (
    "CREATE TABLE IF NOT EXISTS kb_schema (name TEXT PRIMARY KEY, version INTEGER NOT NULL)"
)


# -- records --------------------------------------------------------------------------------------


def _copy_record(copy: SyncedArticle) -> dict[str, Any]:
    return {
        "target_id": copy.target_id,
        "source_id": copy.source_id,
        "department_id": copy.department_id,
        "title": copy.title,
        "body": copy.body,
        "permission": copy.permission.value,
        "status": copy.status.value,
        "tag": copy.tag,
        "source_digest": copy.source_digest,
        "source_version": copy.source_version,
        "synced_at": copy.synced_at.isoformat(),
    }


def _parse_copy(record: dict[str, Any]) -> SyncedArticle:
    return SyncedArticle(**(record | {"synced_at": datetime.fromisoformat(record["synced_at"])}))


def _run_record(run: SyncRun) -> dict[str, Any]:
    occurrence = run.occurrence
    return {
        "key": run.key,
        "trigger": run.trigger.value,
        "started_at": run.started_at.isoformat(),
        "occurrence": None
        if occurrence is None
        else [occurrence.schedule_id, occurrence.local_date.isoformat(), occurrence.at.isoformat()],
        "finished_at": None if run.finished_at is None else run.finished_at.isoformat(),
        "counts": [run.created, run.updated, run.unchanged, run.orphaned, run.removed],
    }


def _parse_run(record: dict[str, Any]) -> SyncRun:
    occurrence = record["occurrence"]
    finished_at = record["finished_at"]
    created, updated, unchanged, orphaned, removed = record["counts"]
    return SyncRun(
        key=record["key"],
        trigger=record["trigger"],
        started_at=datetime.fromisoformat(record["started_at"]),
        occurrence=None
        if occurrence is None
        else Occurrence(
            schedule_id=occurrence[0],
            local_date=date.fromisoformat(occurrence[1]),
            at=datetime.fromisoformat(occurrence[2]),
        ),
        finished_at=None if finished_at is None else datetime.fromisoformat(finished_at),
        created=created,
        updated=updated,
        unchanged=unchanged,
        orphaned=orphaned,
        removed=removed,
    )


def _run_row(run: SyncRun) -> tuple[Any, ...]:
    occurrence = run.occurrence
    return (
        run.key,
        run.trigger.value,
        None if occurrence is None else occurrence.schedule_id,
        None if occurrence is None else epoch_micros(occurrence.at),
        epoch_micros(run.started_at),
        int(run.finished),
        dumps(_run_record(run)),
    )


# -- the store ------------------------------------------------------------------------------------


class SQLiteArticleTarget(SQLiteFile):
    """Synced copies and the run log in one SQLite file: an
    :class:`~deskcore.ports.ArticleTarget` and a :class:`~deskcore.ports.SyncRunLog`, safe
    to share between threads and processes.

    Args:
        path: The database file; created, and the sync store's tables migrated, on first
            use. It may be the ticket store's file.
        timeout: Seconds to wait for another process's write lock before failing with
            :class:`~deskcore.errors.StorageError`.

    Raises:
        SchemaVersionError: The file's sync schema is newer than this version understands.
        StorageError: The file cannot be opened or is not a database.
    """

    _name = "article store"

    def _migrate(self, db: sqlite3.Connection) -> None:
        with _translated("migrate the sync schema"):
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(_SCHEMA_TABLE)
                row = db.execute("SELECT version FROM kb_schema WHERE name = 'kb_sync'").fetchone()
                version = 0 if row is None else int(row[0])
                if version > KB_SCHEMA_VERSION:
                    raise SchemaVersionError(
                        f"the database has sync schema version {version}; this deskcore "
                        f"understands up to {KB_SCHEMA_VERSION}",
                        found=version,
                        supported=KB_SCHEMA_VERSION,
                    )
                for target in range(version + 1, KB_SCHEMA_VERSION + 1):
                    for statement in _statements(KB_MIGRATIONS[target - 1]):
                        db.execute(statement)
                    db.execute(
                        "INSERT INTO kb_schema (name, version) VALUES ('kb_sync', ?)"
                        " ON CONFLICT (name) DO UPDATE SET version = excluded.version",
                        (target,),
                    )
                db.commit()
            except BaseException:
                db.rollback()
                raise

    def schema_version(self) -> int:
        """The sync schema version of the open database."""
        with self._reading("read the schema version") as db:
            (version,) = db.execute(
                "SELECT version FROM kb_schema WHERE name = 'kb_sync'"
            ).fetchone()
        return int(version)

    @contextmanager
    def _reading(self, action: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = self._connection()
            with _translated(action):
                db.execute("BEGIN")
            try:
                with _translated(action):
                    yield db
            finally:
                with _translated(action):
                    db.rollback()

    @contextmanager
    def _writing(self, action: str) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction: committed if the block succeeds, else rolled
        back, so a failed call writes nothing."""
        with self._lock:
            db = self._connection()
            with _translated(action):
                db.execute("BEGIN IMMEDIATE")
            try:
                with _translated(action):
                    yield db
            except BaseException:
                with _translated(action):
                    db.rollback()
                raise
            with _translated(action):
                db.commit()

    # -- ArticleTarget ------------------------------------------------------------------------

    def list_synced(self) -> list[SyncedArticle]:
        """Every synced copy, by target id."""
        with self._reading("list synced articles") as db:
            rows = db.execute("SELECT record FROM kb_synced_articles ORDER BY target_id").fetchall()
        return [_parse_copy(json.loads(record)) for (record,) in rows]

    def get(self, target_id: str) -> SyncedArticle:
        """One copy, for a preview (KB7)."""
        with self._reading("load a synced article") as db:
            row = db.execute(
                "SELECT record FROM kb_synced_articles WHERE target_id = ?", (target_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError("synced article", target_id)
        return _parse_copy(json.loads(row[0]))

    def apply(self, plan: SyncPlan) -> list[SyncedArticle]:
        """Carry out ``plan`` in one transaction, all or nothing (KB8)."""
        written: list[SyncedArticle] = []
        with self._writing("apply a sync plan") as db:
            stored = [row[0] for row in db.execute("SELECT target_id FROM kb_synced_articles")]
            check_plan(plan, stored)
            for op in plan.operations:
                if op.action is SyncAction.CREATE:
                    db.execute(
                        "INSERT INTO kb_synced_articles (target_id, source_id, record)"
                        " VALUES (?, ?, ?)",
                        (op.target_id, op.source_id, dumps(_copy_record(op.article))),
                    )
                    written.append(op.article)
                elif op.action is SyncAction.UPDATE:
                    db.execute(
                        "UPDATE kb_synced_articles SET source_id = ?, record = ?"
                        " WHERE target_id = ?",
                        (op.source_id, dumps(_copy_record(op.article)), op.target_id),
                    )
                    written.append(op.article)
                elif op.action is SyncAction.REMOVE:
                    db.execute(
                        "DELETE FROM kb_synced_articles WHERE target_id = ?", (op.target_id,)
                    )
        return written

    def publish(self, target_id: str) -> SyncedArticle:
        """Publish a copy, as an admin does in the chat tool (KB4)."""
        with self._writing("publish a synced article") as db:
            row = db.execute(
                "SELECT record FROM kb_synced_articles WHERE target_id = ?", (target_id,)
            ).fetchone()
            if row is None:
                raise NotFoundError("synced article", target_id)
            published = publish(_parse_copy(json.loads(row[0])))
            db.execute(
                "UPDATE kb_synced_articles SET record = ? WHERE target_id = ?",
                (dumps(_copy_record(published)), target_id),
            )
        return published

    def edit(
        self, target_id: str, *, title: str | None = None, body: str | None = None
    ) -> SyncedArticle:
        """Refused: synced copies are read-only (KB7)."""
        refuse_article_edit(self.get(target_id))

    # -- SyncRunLog ---------------------------------------------------------------------------

    def claim_run(self, run: SyncRun) -> bool:
        """Record ``run`` under its key, unless the key is recorded already."""
        check_run(run)
        with self._writing("claim a sync run") as db:
            try:
                db.execute(
                    "INSERT INTO kb_sync_runs (key, trigger, schedule_id, occurrence_us,"
                    " started_us, finished, record) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    _run_row(run),
                )
            except sqlite3.IntegrityError:
                return False
        return True

    def finish_run(self, run: SyncRun) -> SyncRun:
        """Store the finished ``run`` over its claim."""
        check_finished(run)
        with self._writing("finish a sync run") as db:
            changed = db.execute(
                "UPDATE kb_sync_runs SET trigger = ?, schedule_id = ?, occurrence_us = ?,"
                " started_us = ?, finished = ?, record = ? WHERE key = ?",
                (*_run_row(run)[1:], run.key),
            ).rowcount
            if changed == 0:
                raise NotFoundError("sync run", run.key)
        return run

    def release_run(self, key: str) -> None:
        """Forget the unfinished run under ``key``."""
        with self._writing("release a sync run") as db:
            db.execute("DELETE FROM kb_sync_runs WHERE key = ? AND finished = 0", (key,))

    def last_scheduled_run(self, schedule_id: str) -> SyncRun | None:
        """The scheduled run of ``schedule_id`` with the latest occurrence."""
        with self._reading("read the run log") as db:
            row = db.execute(
                "SELECT record FROM kb_sync_runs WHERE schedule_id = ? AND trigger = 'scheduled'"
                " ORDER BY occurrence_us DESC, key DESC LIMIT 1",
                (schedule_id,),
            ).fetchone()
        return None if row is None else _parse_run(json.loads(row[0]))

    def runs(self) -> list[SyncRun]:
        """Every run, oldest first."""
        with self._reading("read the run log") as db:
            rows = db.execute("SELECT record FROM kb_sync_runs ORDER BY started_us, key").fetchall()
        return [_parse_run(json.loads(record)) for (record,) in rows]
