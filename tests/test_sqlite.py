"""What only the SQLite repository has: files, schema versions, WAL, driver errors, caching."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import attrs
import pytest

from deskcore import (
    ConcurrencyError,
    SchemaVersionError,
    StorageError,
    TicketQuery,
    TicketStatus,
)
from deskcore.adapters import SQLiteTicketRepository
from deskcore.adapters.sqlite import MIGRATIONS, SCHEMA_VERSION
from deskcore.testing.contracts import sample_ticket


def test_P7_a_new_file_gets_the_current_schema_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite3"
    with SQLiteTicketRepository(path) as repo:
        assert repo.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        raw.close()


def test_P7_opening_again_keeps_the_data_and_migrates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite3"
    with SQLiteTicketRepository(path) as repo:
        stored = repo.add(sample_ticket("t1", 1, refs=("conv",)))
    with SQLiteTicketRepository(path) as again:
        assert again.get("t1") == stored
        assert again.schema_version() == SCHEMA_VERSION


def test_P7_a_version_2_file_is_migrated_with_its_statuses_filled_in(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    raw = sqlite3.connect(path)
    raw.executescript(MIGRATIONS[0] + MIGRATIONS[1] + "PRAGMA user_version = 2;")
    raw.close()
    # Write tickets as version 2 stored them: the record alone carries the status.
    with SQLiteTicketRepository(path) as repo:
        repo.add(sample_ticket("t1", 1))
        closed = repo.add(sample_ticket("t2", 2))
        repo.save(attrs.evolve(closed, status=TicketStatus.CLOSED, closed_at=closed.created_at))
    raw = sqlite3.connect(path)
    raw.executescript("ALTER TABLE tickets DROP COLUMN status; PRAGMA user_version = 2;")
    raw.close()
    with SQLiteTicketRepository(path) as upgraded:
        assert upgraded.schema_version() == SCHEMA_VERSION
        closed_ids = [t.id for t in upgraded.search(TicketQuery(statuses={"closed"}))]
        assert closed_ids == ["t2"]
        assert upgraded.count(TicketQuery(statuses={"open"})) == 1


def test_P5_a_schema_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(SchemaVersionError) as info:
        SQLiteTicketRepository(path)
    assert info.value.code == "schema_version"
    assert info.value.details["found"] == SCHEMA_VERSION + 1


def test_P5_a_file_that_is_not_a_database_raises_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"this is not a database, just some text " * 100)
    with pytest.raises(StorageError) as info:
        SQLiteTicketRepository(path)
    assert isinstance(info.value.__cause__, sqlite3.DatabaseError)


def test_P5_a_closed_repository_raises_storage_error(tmp_path: Path) -> None:
    repo = SQLiteTicketRepository(tmp_path / "desk.sqlite3")
    repo.close()
    repo.close()  # closing twice is harmless
    with pytest.raises(StorageError):
        repo.get("t1")
    with pytest.raises(StorageError):
        repo.add(sample_ticket("t1", 1))


def test_P3_two_connections_never_serve_a_stale_cached_ticket(tmp_path: Path) -> None:
    """The parsed-ticket cache is keyed by version, so another writer's change is seen."""
    path = tmp_path / "desk.sqlite3"
    with SQLiteTicketRepository(path) as first, SQLiteTicketRepository(path) as second:
        stored = first.add(sample_ticket("t1", 1, item_refs=("m1",)))
        assert first.get("t1") == stored  # now cached in `first`
        changed = second.save(attrs.evolve(second.get("t1"), subject="changed elsewhere"))
        assert first.get("t1") == changed
        with pytest.raises(ConcurrencyError):
            first.save(attrs.evolve(stored, subject="stale"))
        assert second.get("t1") == changed


def test_P7_a_rolled_back_write_does_not_reach_the_cache(tmp_path: Path) -> None:
    with SQLiteTicketRepository(tmp_path / "desk.sqlite3", cache_size=2) as repo:
        stored = repo.add(sample_ticket("t1", 1))
        with repo.unit_of_work() as uow:
            uow.tickets.save(attrs.evolve(stored, subject="never committed"))
        assert repo.get("t1") == stored
        for n in range(2, 6):  # more tickets than the cache holds
            repo.add(sample_ticket(f"t{n}", n))
        assert [t.id for t in repo.search(TicketQuery(limit=10))] == [
            "t5",
            "t4",
            "t3",
            "t2",
            "t1",
        ]
