"""Connector and notifier ports (P2), sketched: later capabilities give them richer types.

The host implements these around the network calls it owns. deskcore never calls them from
the pure core; only :mod:`deskcore.service` does, outside any unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from deskcore.models import ExternalReference, InboundMessage
from deskcore.models.social import SocialItem

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
    """A social tool's connected accounts: new posts, comments, mentions and private messages,
    a private conversation's messages, and replies (S1, S5).

    deskcore calls it only from :mod:`deskcore.service`, outside any unit of work; the host
    owns the network calls, paging and rate limits. Items come as
    :class:`~deskcore.models.SocialItem` values (parse webhook JSON with
    ``deskcore.wire.parse_social_item``).
    """

    def fetch_new(self, cursor: str | None) -> tuple[Sequence[SocialItem], str | None]:
        """Items that arrived after ``cursor`` (``None``: from the start the host chooses), in
        any of the four sources (S1), and the cursor to pass next time."""
        ...

    def fetch_conversation(
        self, conversation: ExternalReference, since: datetime | None
    ) -> Sequence[SocialItem]:
        """The messages of one private conversation (its :attr:`SocialItem.conversation_key
        <deskcore.models.SocialItem.conversation_key>`) posted at or after ``since`` (all of
        them when ``None``): what the periodic append check reads (S5)."""
        ...

    def reply(self, to: ExternalReference, text: str) -> ExternalReference:
        """Post ``text`` as a reply to the item ``to`` (publicly to a public item, privately in
        a private conversation); returns the reference of the posted reply, so the reply found
        again by a later fetch is recognised as already on the ticket."""
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
