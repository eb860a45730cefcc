"""The webhook payload a host posts for one inbound message (P3, P6).

:class:`InboundMessageEvent` is the JSON shape; :func:`parse_inbound_event` parses it from
bytes, text or an already-decoded mapping, and :func:`deskcore.wire.to_inbound_message`
converts it into the domain's :class:`~deskcore.models.InboundMessage`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from deskcore.models import Direction, Visibility
from deskcore.wire._types import (
    MAX_INT64,
    Body,
    Code,
    DirectionField,
    FromList,
    Identifier,
    Label,
    Short,
    Size,
    Timestamp,
    VisibilityField,
    WireModel,
)

__all__ = [
    "MAX_ATTACHMENTS",
    "AttachmentPayload",
    "ContactPayload",
    "InboundMessageEvent",
    "ReferencePayload",
    "parse_inbound_event",
]

MAX_ATTACHMENTS = 100
"""Most attachments one inbound message may carry."""


class ReferencePayload(WireModel):
    """An external reference, ``network/account/kind/native_id`` (T6)."""

    network: Identifier
    """The platform: ``twitter``, ``facebook``, ``chat``, ``email``."""
    account: Identifier
    """The brand's channel account on that network (a page id, a mailbox)."""
    kind: Identifier
    """What the id names: ``tweet``, ``dm``, ``comment``, ``chat_session``, ``message``."""
    native_id: Identifier
    """The platform's own id."""


class ContactPayload(WireModel):
    """The customer who wrote (or was written to)."""

    id: Identifier
    """The host's id of the contact."""
    name: Label = ""
    """Display name."""
    email: Short | None = None
    """Email address, as the platform gave it (not checked further)."""
    phone: Short | None = None
    """Phone number, as the platform gave it (not checked further)."""
    account_id: Identifier | None = None
    """The customer organisation (取引先) the contact belongs to."""


class AttachmentPayload(WireModel):
    """A file that came with the message; the host has already stored its bytes."""

    name: Label
    """File name."""
    size: Size
    """Size in bytes, 0 or more."""
    content_type: Label = "application/octet-stream"
    """Media type."""
    storage_key: Label
    """Where the host stored the bytes."""


class InboundMessageEvent(WireModel):
    """One inbound message, as a host posts it: an email, a tweet, a chat line (P3, P6).

    Strict: wrong JSON types are errors, unknown fields are errors, ``sent_at`` must carry a
    UTC offset (T1), the body is at most 1,000,000 characters and there are at most 100
    attachments. Every failure is a pydantic ``ValidationError``.
    """

    reference: ReferencePayload
    """The message's own external reference; intake claims it, so a redelivery is a no-op."""
    conversation: ReferencePayload | None = None
    """The conversation the message belongs to (a chat session, a DM thread, an email thread)."""
    channel: Code
    """The channel code: ``email``, ``chat``, ``web``, ``phone``, ``facebook``, ``twitter`` or
    a host's own (lowercase letters, digits and ``_``, starting with a letter)."""
    contact: ContactPayload
    """Who wrote."""
    direction: DirectionField = Direction.INBOUND
    """``inbound`` (the customer wrote) or ``outbound`` (the brand replied on the platform)."""
    visibility: VisibilityField = Visibility.PUBLIC
    """``public`` or ``private``."""
    author_id: Identifier | None = None
    """The author when it is not the contact (an agent replying on the platform)."""
    author_name: Label = ""
    """The author's display name."""
    subject: Label = ""
    """The subject (emails); a new ticket without one takes the body's first line."""
    body: Body
    """The message text, at most 1,000,000 characters."""
    sent_at: Timestamp
    """When the message was sent: ISO 8601 with a UTC offset (T1)."""
    department_id: Identifier | None = None
    """The department for a new ticket; the desk's default when absent."""
    attachments: Annotated[
        tuple[AttachmentPayload, ...], FromList, Field(max_length=MAX_ATTACHMENTS)
    ] = ()
    """Files that came with the message, at most 100."""
    content_digest: Label | None = None
    """A digest of the content; computed from body and attachments when absent (P3)."""
    is_edit: bool = False
    """The platform reports this message as an edit of the one with the same reference."""
    ticket_number: Annotated[int, Field(ge=1, le=MAX_INT64)] | None = None
    """The ticket the message says it is about (a ``[#123]`` the host found in a subject);
    a merged-away number leads to its primary (M14)."""


def parse_inbound_event(data: bytes | bytearray | str | Mapping[str, Any]) -> InboundMessageEvent:
    """Parse one inbound message event at the edge (P6).

    Args:
        data: The request body as bytes or text (JSON), or a mapping already decoded from JSON
            (nested objects as ``dict``, arrays as ``list``, datetimes as ISO 8601 strings).

    Returns:
        The validated event.

    Raises:
        pydantic.ValidationError: The data is not valid JSON (including invalid escapes and
            lone surrogates) or does not match :class:`InboundMessageEvent`.
    """
    if isinstance(data, bytes | bytearray | str):
        return InboundMessageEvent.model_validate_json(data)
    # Strict validation wants a plain dict at the top; any other mapping is copied into one.
    return InboundMessageEvent.model_validate(dict(data) if isinstance(data, Mapping) else data)
