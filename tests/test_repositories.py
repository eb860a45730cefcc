"""The reference repositories against the shared contract suite (P7)."""

from __future__ import annotations

import itertools

from deskcore.adapters import InMemoryTicketRepository, SQLiteTicketRepository
from deskcore.testing.contracts import TicketRepositoryContract

_files = itertools.count()


class TestInMemoryTicketRepository(TicketRepositoryContract):
    """P7: the in-memory repository passes the contract."""

    def make_repository(self) -> InMemoryTicketRepository:
        return InMemoryTicketRepository()


class TestSQLiteTicketRepository(TicketRepositoryContract):
    """P7: the SQLite repository passes the same contract."""

    def make_repository(self) -> SQLiteTicketRepository:
        return SQLiteTicketRepository(self.tmp_path / f"desk-{next(_files)}.sqlite3")
