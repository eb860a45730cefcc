"""Connector and notifier ports (P2), sketched: later capabilities give them richer types.

The host implements these around the network calls it owns. deskcore never calls them from
the pure core; only :mod:`deskcore.service` does, outside any unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from deskcore.models import ExternalReference, InboundMessage

__all__ = [
    "ArticleSource",
    "ArticleTarget",
    "ChatConnector",
    "CrmConnector",
    "Notifier",
    "SocialConnector",
]

Record = Mapping[str, object]
"""A plain record, until the capability that owns it defines a model."""


@runtime_checkable
class SocialConnector(Protocol):
    """A social tool's account: new posts, comments and private messages, and replies (S1)."""

    def fetch_new(self, cursor: str | None) -> tuple[Sequence[InboundMessage], str | None]:
        """Items that arrived after ``cursor``, and the cursor to pass next time."""
        ...

    def reply(self, to: ExternalReference, body: str) -> ExternalReference:
        """Post ``body`` as a reply to ``to``; returns the reference of the posted reply."""
        ...


@runtime_checkable
class ChatConnector(Protocol):
    """A live-chat tool: chat sessions and their transcripts (C1-C12)."""

    def fetch_chats(self, cursor: str | None) -> tuple[Sequence[Record], str | None]:
        """Chat sessions that changed after ``cursor``, and the next cursor."""
        ...

    def transcript(self, session: ExternalReference) -> Sequence[InboundMessage]:
        """The messages of one chat session, oldest first."""
        ...


@runtime_checkable
class CrmConnector(Protocol):
    """A CRM: leads and contacts found from, and added for, social profiles (R1-R5)."""

    def find_by_social_profile(self, network: str, handle: str) -> Record | None:
        """The lead or contact already linked to this profile, or ``None``."""
        ...

    def add_record(self, kind: str, fields: Record) -> str:
        """Create a lead or contact (``kind``); returns its id."""
        ...


@runtime_checkable
class ArticleSource(Protocol):
    """The helpdesk knowledge base that articles are synced from (KB1-KB10)."""

    def list_articles(self) -> Sequence[Record]:
        """Every article, with its category, permission and last change."""
        ...


@runtime_checkable
class ArticleTarget(Protocol):
    """The chat tool's article store that articles are synced into (KB1-KB10)."""

    def list_synced(self) -> Sequence[Record]:
        """Every article deskcore synced before, with its source id and state."""
        ...

    def apply(self, operations: Sequence[Record]) -> None:
        """Carry out a sync plan's create, update and remove operations."""
        ...


@runtime_checkable
class Notifier(Protocol):
    """Delivers notifications after a change is committed (N3)."""

    def send(self, notifications: Sequence[Record]) -> None:
        """Deliver rendered notifications to their recipients."""
        ...
