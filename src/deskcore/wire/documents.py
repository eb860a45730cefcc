"""The ticket document: a full export of a :class:`~deskcore.models.Ticket` as JSON (P6).

Encoding choices (the JSON shape is a public format; ``schema_version`` names it):

- datetimes are ISO 8601 strings with their UTC offset, which the round trip keeps (a
  ``+09:00`` time comes back as ``+09:00``). A :mod:`zoneinfo` zone name is not kept in
  JSON, only the offset it had at that instant;
- the total on-hold time is an integer count of microseconds (``on_hold_microseconds``):
  exact, which an ISO 8601 duration or a float of seconds is not;
- channels and classifications are their code strings;
- the thread is a list of items told apart by ``kind``: ``message``, ``comment`` or
  ``attachment``.

Limits are those of the domain models, so every valid ticket exports, except for one the
domain does not have: integers (number, version, sizes, on-hold time) must fit in 64 bits. The
number of thread items is not capped here: a host importing documents caps the request size.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from deskcore.models import Priority, TicketStatus, Visibility
from deskcore.wire._types import (
    MAX_INT64,
    Body,
    Code,
    DirectionField,
    FromList,
    Identifier,
    Label,
    PriorityField,
    Size,
    StatusField,
    Timestamp,
    VisibilityField,
    WireModel,
)
from deskcore.wire.inbound import ReferencePayload

__all__ = [
    "AttachmentDocument",
    "CommentDocument",
    "CustomFieldValue",
    "MessageDocument",
    "RevisionDocument",
    "StatusRecordDocument",
    "ThreadItemDocument",
    "TicketDocument",
    "parse_ticket_document",
]

MAX_CUSTOM_TEXT_LENGTH = 100_000
"""Longest string a custom field may hold (as in :class:`~deskcore.models.Ticket`)."""

TICKET_SCHEMA_VERSION: Literal[1] = 1
"""The version of the ticket document format."""


def _check_printable(value: str) -> str:
    if not value.isprintable():
        raise PydanticCustomError(
            "custom_field_name", "A custom field name must be printable (no control characters)"
        )
    return value


CustomFieldName = Annotated[
    str, StringConstraints(min_length=1, max_length=255), AfterValidator(_check_printable)
]
"""A custom field's name: 1 to 255 printable characters, as the domain requires."""

CustomFieldValue: TypeAlias = (
    Annotated[str, StringConstraints(max_length=MAX_CUSTOM_TEXT_LENGTH)] | int | float | bool | None
)
"""A custom field's value: a JSON scalar (a string of at most 100,000 characters, an integer,
a finite number, a boolean or null). Integers stay integers and floats stay floats."""


class AttachmentDocument(WireModel):
    """A file on a ticket: a thread item of its own, or attached to a message (T5)."""

    kind: Literal["attachment"]
    """Always ``attachment``."""
    id: Identifier
    """The item's id, unique on the ticket."""
    origin_ticket_id: Identifier
    """The ticket the item was first added to (provenance after merges, M7)."""
    name: Label
    """File name."""
    size: Size
    """Size in bytes, 0 or more."""
    content_type: Label = "application/octet-stream"
    """Media type."""
    storage_key: Label
    """Where the host stored the bytes."""
    created_at: Timestamp
    """When the file was added."""


class RevisionDocument(WireModel):
    """An earlier version of an edited message (P3)."""

    body: Body
    """What the message said before the edit."""
    content_digest: Label
    """The digest of that earlier content."""
    replaced_at: Timestamp
    """When the edit replaced it."""


class StatusRecordDocument(WireModel):
    """One status change in a ticket's history (SL7)."""

    at: Timestamp
    """When the status changed."""
    from_status: StatusField
    """The status before."""
    to_status: StatusField
    """The status after."""
    reason: Identifier = "agent"
    """Why (``agent``, ``reopened_by_customer``...)."""


class MessageDocument(WireModel):
    """A message to or from the customer (T5)."""

    kind: Literal["message"]
    """Always ``message``."""
    id: Identifier
    """The item's id, unique on the ticket."""
    origin_ticket_id: Identifier
    """The ticket the item was first added to (provenance after merges, M7)."""
    direction: DirectionField
    """``inbound`` or ``outbound``."""
    visibility: VisibilityField = Visibility.PUBLIC
    """``public`` or ``private``."""
    author_id: Identifier
    """Who wrote it: the contact or an agent."""
    author_name: Label = ""
    """The author's display name."""
    body: Body
    """The current text."""
    channel: Code
    """The channel code the message went through."""
    sent_at: Timestamp
    """When it was sent; the thread is ordered by this."""
    external_ref: ReferencePayload | None = None
    """The message's id on its platform."""
    content_digest: Label | None = None
    """The content digest; computed from body and attachments when absent."""
    attachments: Annotated[tuple[AttachmentDocument, ...], FromList] = ()
    """Files attached to the message."""
    revisions: Annotated[tuple[RevisionDocument, ...], FromList] = ()
    """Earlier versions, oldest first."""
    in_reply_to: Identifier | None = None
    """The thread item this message answers."""


class CommentDocument(WireModel):
    """A comment on a ticket: an agent's note, public or private (T5)."""

    kind: Literal["comment"]
    """Always ``comment``."""
    id: Identifier
    """The item's id, unique on the ticket."""
    origin_ticket_id: Identifier
    """The ticket the item was first added to (provenance after merges, M7)."""
    visibility: VisibilityField = Visibility.PRIVATE
    """``public`` or ``private``."""
    author_id: Identifier
    """The agent who wrote it."""
    author_name: Label = ""
    """The author's display name."""
    body: Body
    """The comment's text."""
    created_at: Timestamp
    """When it was written."""


ThreadItemDocument: TypeAlias = Annotated[
    MessageDocument | CommentDocument | AttachmentDocument, Field(discriminator="kind")
]
"""One thread item, told apart by its ``kind``."""


class TicketDocument(WireModel):
    """A full export of a ticket, thread included (T2, P6).

    Convert with :func:`deskcore.wire.ticket_to_document` and
    :func:`deskcore.wire.ticket_from_document`; the round trip is exact. The domain's
    invariants across fields (``closed_at`` set exactly when closed, thread order, unique
    references) are checked when the document becomes a :class:`~deskcore.models.Ticket`.
    """

    schema_version: Literal[1] = TICKET_SCHEMA_VERSION
    """The version of this document format."""
    id: Identifier
    """The ticket's id."""
    number: Annotated[int, Field(ge=1, le=MAX_INT64)]
    """The human-facing ticket number."""
    department_id: Identifier
    """The department (部門) the ticket belongs to."""
    subject: Label = ""
    """The subject."""
    status: StatusField = TicketStatus.OPEN
    """``open``, ``on_hold``, ``escalated`` or ``closed``."""
    priority: PriorityField = Priority.MEDIUM
    """``high``, ``medium`` or ``low``."""
    classification: Code | None = None
    """The classification code (``question``, ``problem``, ... or the host's own)."""
    channel: Code
    """The channel code the ticket came through."""
    contact_id: Identifier
    """The customer."""
    account_id: Identifier | None = None
    """The customer organisation."""
    product_name: Label | None = None
    """The product the ticket is about."""
    assignee_id: Identifier | None = None
    """The agent in charge."""
    created_at: Timestamp
    """When the ticket was created."""
    first_responded_at: Timestamp | None = None
    """When the first public agent reply was sent (L4)."""
    on_hold_microseconds: Size = 0
    """Total time spent on hold before the current hold, in microseconds (L4)."""
    on_hold_since: Timestamp | None = None
    """When the current hold began; set exactly when the status is ``on_hold``."""
    closed_at: Timestamp | None = None
    """When the ticket was closed; set exactly when the status is ``closed``."""
    custom_fields: dict[CustomFieldName, CustomFieldValue] = Field(default_factory=dict)
    """Custom fields: names to JSON scalars."""
    thread: Annotated[tuple[ThreadItemDocument, ...], FromList] = ()
    """Messages, comments and attachments, in creation-time order."""
    external_refs: Annotated[tuple[ReferencePayload, ...], FromList] = ()
    """The ticket's own external references (a chat session, a conversation)."""
    ceded_refs: Annotated[tuple[ReferencePayload, ...], FromList] = ()
    """References of merged-in items given back to a restored ticket; held, not claimed."""
    merged_into: Identifier | None = None
    """The ticket this one was merged into."""
    trashed_at: Timestamp | None = None
    """When the ticket was put in the trash."""
    status_log: Annotated[tuple[StatusRecordDocument, ...], FromList] = ()
    """The status changes, oldest first (SL7); empty for a ticket stored without them."""
    version: Size = 0
    """The stored version, for optimistic concurrency."""

    def __hash__(self) -> int:
        # The generated hash would hash ``custom_fields``, a dict. Equal documents have equal
        # ids, numbers and versions, so this agrees with ``==``.
        return hash((self.id, self.number, self.version))


def parse_ticket_document(data: bytes | bytearray | str | Mapping[str, Any]) -> TicketDocument:
    """Parse a ticket document from JSON or from a mapping decoded from JSON (P6).

    Args:
        data: The document as bytes or text (JSON), or a mapping decoded from JSON.

    Returns:
        The validated document.

    Raises:
        pydantic.ValidationError: The data is not valid JSON or not a valid ticket document.
    """
    if isinstance(data, bytes | bytearray | str):
        return TicketDocument.model_validate_json(data)
    return TicketDocument.model_validate(dict(data) if isinstance(data, Mapping) else data)
