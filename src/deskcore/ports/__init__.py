"""Ports: the protocols a host implements to plug deskcore into its world (P2).

deskcore ships reference implementations in :mod:`deskcore.adapters` (in memory, SQLite),
and a contract suite in :mod:`deskcore.testing.contracts` to check a host's own.
"""

from deskcore.ports.connectors import (
    ArticleSource,
    ArticleTarget,
    ChatConnector,
    CrmConnector,
    Notifier,
    SocialConnector,
    SyncRunLog,
)
from deskcore.ports.repository import TicketRepository, TicketStore, UnitOfWork
from deskcore.ports.runtime import Clock, IdGenerator

__all__ = [
    "ArticleSource",
    "ArticleTarget",
    "ChatConnector",
    "Clock",
    "CrmConnector",
    "IdGenerator",
    "Notifier",
    "SocialConnector",
    "SyncRunLog",
    "TicketRepository",
    "TicketStore",
    "UnitOfWork",
]
