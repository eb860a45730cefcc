"""Reference implementations of the ports (P7).

:class:`InMemoryTicketRepository` is for tests and demos; :class:`SQLiteTicketRepository`
is the embedded default. Both pass :class:`deskcore.testing.contracts.TicketRepositoryContract`.
For the knowledge-base sync, :class:`InMemoryArticleSource` holds source articles, and
:class:`InMemoryArticleTarget` and :class:`SQLiteArticleTarget` hold synced copies and the
run log; both targets pass :class:`deskcore.testing.kb_contracts.ArticleTargetContract` and
:class:`deskcore.testing.kb_contracts.SyncRunLogContract`. :class:`InMemoryCrm` is the
reference CRM; it passes :class:`deskcore.testing.crm_contracts.CrmConnectorContract`. The
SQLite adapters are imported only when first used, so ``import deskcore.adapters`` stays
light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deskcore.adapters.crm_memory import InMemoryCrm
from deskcore.adapters.kb_memory import InMemoryArticleSource, InMemoryArticleTarget
from deskcore.adapters.memory import InMemoryTicketRepository, InMemoryUnitOfWork

if TYPE_CHECKING:
    from deskcore.adapters.kb_sqlite import SQLiteArticleTarget
    from deskcore.adapters.sqlite import SQLiteTicketRepository, SQLiteUnitOfWork

__all__ = [
    "InMemoryArticleSource",
    "InMemoryArticleTarget",
    "InMemoryCrm",
    "InMemoryTicketRepository",
    "InMemoryUnitOfWork",
    "SQLiteArticleTarget",
    "SQLiteTicketRepository",
    "SQLiteUnitOfWork",
]


def __getattr__(name: str) -> Any:
    if name in {"SQLiteTicketRepository", "SQLiteUnitOfWork"}:
        from deskcore.adapters import sqlite

        return getattr(sqlite, name)
    if name == "SQLiteArticleTarget":
        from deskcore.adapters import kb_sqlite

        return kb_sqlite.SQLiteArticleTarget
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
