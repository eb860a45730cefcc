"""Domain events (P4): what changed, as values a host can store or publish.

Every event names the ticket it concerns and the instant it happened (``at``, the ``now``
the change was made with). ``name`` is a stable string for logs and message buses.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, TypeAlias

import attrs

from deskcore.models._validate import aware, fixed_offset, identifier
from deskcore.models.enums import TicketStatus
from deskcore.models.refs import ExternalReference

__all__ = [
    "ArticleSynced",
    "DomainEvent",
    "FirstResponseRecorded",
    "ItemAppended",
    "ItemRevised",
    "ReferenceConflict",
    "StatusChanged",
    "TicketCreated",
    "TicketMerged",
    "TicketRestored",
    "TicketTrashed",
]


@attrs.frozen(kw_only=True)
class _Event:
    name: ClassVar[str]

    ticket_id: str = attrs.field(validator=identifier)
    at: datetime = attrs.field(converter=fixed_offset, validator=aware)


@attrs.frozen(kw_only=True)
class TicketCreated(_Event):
    """A ticket was created."""

    name: ClassVar[str] = "ticket.created"

    number: int
    reference: ExternalReference | None = None


@attrs.frozen(kw_only=True)
class ItemAppended(_Event):
    """A thread item was added to a ticket."""

    name: ClassVar[str] = "ticket.item_appended"

    item_id: str
    reference: ExternalReference | None = None


@attrs.frozen(kw_only=True)
class ItemRevised(_Event):
    """An edited message was stored as a new revision of the same item (P3)."""

    name: ClassVar[str] = "ticket.item_revised"

    item_id: str
    revision: int


@attrs.frozen(kw_only=True)
class StatusChanged(_Event):
    """A ticket's status changed (L1), with the reason (``reopened_by_customer``, ``agent``)."""

    name: ClassVar[str] = "ticket.status_changed"

    from_status: TicketStatus
    to_status: TicketStatus
    reason: str


@attrs.frozen(kw_only=True)
class FirstResponseRecorded(_Event):
    """The first public agent reply was recorded (L4)."""

    name: ClassVar[str] = "ticket.first_response_recorded"

    item_id: str


@attrs.frozen(kw_only=True)
class ReferenceConflict(_Event):
    """An event reused a claimed external reference with different content (P3).

    Nothing was written: the host decides (a platform reusing ids, a bug upstream).
    """

    name: ClassVar[str] = "intake.reference_conflict"

    reference: ExternalReference
    stored_digest: str | None
    received_digest: str


@attrs.frozen(kw_only=True)
class TicketMerged(_Event):
    """Tickets were merged into this one (M12, M15); ``journal_id`` names the journal entry."""

    name: ClassVar[str] = "ticket.merged"

    merged_ticket_ids: tuple[str, ...]
    journal_id: str


@attrs.frozen(kw_only=True)
class TicketTrashed(_Event):
    """A ticket went to the trash; ``merged_into`` is set when a merge put it there (M6)."""

    name: ClassVar[str] = "ticket.trashed"

    merged_into: str | None = None


@attrs.frozen(kw_only=True)
class TicketRestored(_Event):
    """A ticket came back from the trash, taking its own references back (M3, M14)."""

    name: ClassVar[str] = "ticket.restored"

    was_merged_into: str | None = None


DomainEvent: TypeAlias = (
    TicketCreated
    | ItemAppended
    | ItemRevised
    | StatusChanged
    | FirstResponseRecorded
    | ReferenceConflict
    | TicketMerged
    | TicketTrashed
    | TicketRestored
)
"""Any ticket event. The knowledge-base sync has its own: :class:`ArticleSynced`."""


@attrs.frozen(kw_only=True)
class ArticleSynced:
    """A sync wrote a copy of a helpdesk article in the chat tool: created, updated or
    removed it (KB8, P4).

    Attributes:
        source_id: The helpdesk article.
        target_id: The copy in the chat tool.
        action: ``create``, ``update`` or ``remove``.
        reason: Why, as the plan's reason code.
        run_key: The run that wrote it (an occurrence key or a sync-now key).
        at: When.
    """

    name: ClassVar[str] = "kb.article_synced"

    source_id: str = attrs.field(validator=identifier)
    target_id: str = attrs.field(validator=identifier)
    action: str = attrs.field(validator=identifier)
    reason: str = attrs.field(validator=identifier)
    run_key: str = attrs.field(validator=identifier)
    at: datetime = attrs.field(converter=fixed_offset, validator=aware)
