"""Reference implementations of the ports (P7).

:class:`InMemoryTicketRepository` is for tests and demos; :class:`SQLiteTicketRepository`
is the embedded default. Both pass :class:`deskcore.testing.contracts.TicketRepositoryContract`.
The SQLite adapter is imported only when first used, so ``import deskcore.adapters`` stays
light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deskcore.adapters.memory import InMemoryTicketRepository, InMemoryUnitOfWork

if TYPE_CHECKING:
    from deskcore.adapters.sqlite import SQLiteTicketRepository, SQLiteUnitOfWork

__all__ = [
    "InMemoryTicketRepository",
    "InMemoryUnitOfWork",
    "SQLiteTicketRepository",
    "SQLiteUnitOfWork",
]


def __getattr__(name: str) -> Any:
    if name in {"SQLiteTicketRepository", "SQLiteUnitOfWork"}:
        from deskcore.adapters import sqlite

        return getattr(sqlite, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
