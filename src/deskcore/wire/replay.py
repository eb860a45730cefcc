"""The replay stream and its settings document (P6): what ``deskcore replay`` reads.

A replay stream is JSON Lines: one :data:`ReplayEntry` object a line, UTF-8. Each entry names
its ``kind`` and the time ``at`` which the host received it (the time the desk acts at):

``message``
    An inbound message (:class:`~deskcore.wire.InboundMessageEvent`): an email, a chat
    line, a tweet, a web form. Intake is idempotent (P3).
``social_item``
    A social item (:class:`~deskcore.wire.SocialItemEvent`) for the automatic social rules
    (S2, S4, S6, H2-H4); needs ``social`` settings.
``chat``
    A chat and what just happened to it (C1-C7); needs ``chat`` settings.
``status``
    An agent changes the status of the ticket that a conversation (or a ticket number)
    names (L1).

:class:`ReplaySettingsDocument` holds the settings a replay runs with: the desk's, and those
of the social rules, the chat integration and the service levels, each optional.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeAlias

import attrs
from pydantic import Field, TypeAdapter, model_validator

from deskcore.models import (
    ChatEvent,
    ChatSession,
    ChatSettings,
    DepartmentMapping,
    DeskSettings,
    ExternalReference,
    Priority,
    SlaSettings,
    SocialSettings,
    TicketStatus,
)
from deskcore.wire._types import (
    MAX_INT64,
    Code,
    Identifier,
    Label,
    PriorityField,
    Short,
    StatusField,
    Timestamp,
    WireModel,
)
from deskcore.wire.chat import ChatIntegrationDocument
from deskcore.wire.codecs import to_inbound_message
from deskcore.wire.inbound import InboundMessageEvent, ReferencePayload
from deskcore.wire.sla import SlaSettingsDocument
from deskcore.wire.social import SocialItemEvent, SocialSettingsDocument

__all__ = [
    "MAX_TRANSCRIPT_LINES",
    "ChatEntry",
    "ChatSessionPayload",
    "DeskSettingsPayload",
    "MessageEntry",
    "ReplayEntry",
    "ReplaySettings",
    "ReplaySettingsDocument",
    "SocialItemEntry",
    "StatusEntry",
    "parse_replay_entry",
    "parse_replay_settings",
    "reference_of",
]

MAX_TRANSCRIPT_LINES = 10_000
"""Most transcript lines one chat entry may carry."""


def reference_of(payload: ReferencePayload) -> ExternalReference:
    """The domain reference of a reference payload."""
    return ExternalReference(payload.network, payload.account, payload.kind, payload.native_id)


class MessageEntry(WireModel):
    """An inbound message received at ``at``."""

    kind: Literal["message"]
    at: Timestamp
    """When the host received it: the time the desk files it at (T1)."""
    message: InboundMessageEvent
    """The message."""


class SocialItemEntry(WireModel):
    """A social item fetched at ``at``, for the automatic social rules."""

    kind: Literal["social_item"]
    at: Timestamp
    """When the host fetched it (T1)."""
    item: SocialItemEvent
    """The item."""


class ChatSessionPayload(WireModel):
    """A chat as the chat tool reports it (:class:`~deskcore.models.ChatSession`)."""

    reference: ReferencePayload
    """The chat session's reference; it claims the ticket made from the chat (C7)."""
    visitor_name: Label = ""
    """The visitor's display name."""
    visitor_email: Short | None = None
    """The email address the visitor gave, if any (C5)."""
    visitor_phone: Short | None = None
    """The visitor's phone number, if any."""
    department_id: Identifier
    """The chat tool's department of the chat."""
    started_at: Timestamp
    """When the chat began (T1)."""
    answered_by: Identifier | None = None
    """The agent who answered; absent while unanswered or when missed."""
    answered_at: Timestamp | None = None
    """When the agent answered; set exactly when ``answered_by`` is."""
    ended_at: Timestamp | None = None
    """When the chat ended."""
    missed: bool = False
    """The chat ended with no agent answering."""
    transcript: Annotated[
        tuple[InboundMessageEvent, ...], Field(max_length=MAX_TRANSCRIPT_LINES)
    ] = ()
    """The chat's lines, oldest first, at most 10,000. Each line's ``conversation`` and
    ``department_id`` are the chat's own when it is filed (the session's reference, the
    department the conversion decides); what a line says for them is not used."""

    def to_session(self) -> ChatSession:
        """The domain chat session.

        Raises:
            InvalidModelError: The fields contradict each other (answered and missed, an
                answer without a time).
        """
        return ChatSession(
            reference=reference_of(self.reference),
            visitor_name=self.visitor_name,
            visitor_email=self.visitor_email,
            visitor_phone=self.visitor_phone,
            department_id=self.department_id,
            started_at=self.started_at,
            answered_by=self.answered_by,
            answered_at=self.answered_at,
            ended_at=self.ended_at,
            missed=self.missed,
            transcript=tuple(to_inbound_message(line) for line in self.transcript),
        )


class ChatEntry(WireModel):
    """What just happened to a chat, at ``at``."""

    kind: Literal["chat"]
    at: Timestamp
    """When the chat tool reported it (T1)."""
    event: Literal["started", "answered", "ended", "missed", "email_added"]
    """What happened: ``started``, ``answered``, ``ended``, ``missed`` or ``email_added``."""
    chat: ChatSessionPayload
    """The chat as it is now."""

    def chat_event(self) -> ChatEvent:
        """The domain chat event."""
        return ChatEvent(self.event)


class StatusEntry(WireModel):
    """An agent sets the status of a ticket, named by a conversation or a ticket number."""

    kind: Literal["status"]
    at: Timestamp
    """When the agent changed it (T1)."""
    conversation: ReferencePayload | None = None
    """The conversation whose ticket it is (a chat session, a DM thread, an email thread)."""
    ticket_number: Annotated[int, Field(ge=1, le=MAX_INT64)] | None = None
    """The ticket's number, instead of ``conversation``."""
    status: StatusField
    """The new status: ``open``, ``on_hold``, ``escalated`` or ``closed``."""
    reason: Code = "agent"
    """Why, as a code (``agent`` by default)."""

    @model_validator(mode="after")
    def _one_ticket(self) -> StatusEntry:
        if (self.conversation is None) == (self.ticket_number is None):
            raise ValueError("name the ticket by exactly one of conversation and ticket_number")
        return self

    def target_status(self) -> TicketStatus:
        """The new status."""
        return self.status


ReplayEntry: TypeAlias = Annotated[
    MessageEntry | SocialItemEntry | ChatEntry | StatusEntry, Field(discriminator="kind")
]
"""One line of a replay stream, told apart by its ``kind``."""

_ENTRY: TypeAdapter[MessageEntry | SocialItemEntry | ChatEntry | StatusEntry] = TypeAdapter(
    ReplayEntry
)


def parse_replay_entry(
    data: bytes | bytearray | str | Mapping[str, Any],
) -> MessageEntry | SocialItemEntry | ChatEntry | StatusEntry:
    """Parse one line of a replay stream (P6).

    Raises:
        pydantic.ValidationError: The line is not valid JSON, names no known ``kind``, or
            does not match that kind's model; the error's ``loc`` starts with the kind.
    """
    if isinstance(data, bytes | bytearray | str):
        return _ENTRY.validate_json(data)
    return _ENTRY.validate_python(dict(data) if isinstance(data, Mapping) else data)


class DeskSettingsPayload(WireModel):
    """How the desk files new tickets (:class:`~deskcore.models.DeskSettings`)."""

    default_department_id: Identifier
    """The department of intake that names none."""
    default_priority: PriorityField = Priority.MEDIUM
    """The priority of tickets intake creates."""


@attrs.frozen(kw_only=True)
class ReplaySettings:
    """The domain settings a replay runs with (from :class:`ReplaySettingsDocument`).

    Attributes:
        desk: How the desk files new tickets.
        social: The social rules; ``None`` when the stream has no social items.
        chat: The chat integration; ``None`` when the stream has no chats.
        chat_departments: The chat integration's department mapping (with ``chat``).
        service_levels: The service levels; ``None`` for none.
    """

    desk: DeskSettings
    social: SocialSettings | None = None
    chat: ChatSettings | None = None
    chat_departments: DepartmentMapping = attrs.field(factory=DepartmentMapping)
    service_levels: SlaSettings | None = None


class ReplaySettingsDocument(WireModel):
    """The settings of a replay, as one JSON document (P6).

    Example::

        {"schema_version": 1,
         "desk": {"default_department_id": "support"},
         "social": {"rules": [...]},
         "chat": {"owner_id": "admin-1", "departments": [...]},
         "service_levels": {"calendars": [...], "policies": [...]}}
    """

    schema_version: Literal[1] = 1
    """The document format's version."""
    desk: DeskSettingsPayload
    """How the desk files new tickets."""
    social: SocialSettingsDocument | None = None
    """The social rules, for ``social_item`` entries."""
    chat: ChatIntegrationDocument | None = None
    """The chat integration, for ``chat`` entries."""
    service_levels: SlaSettingsDocument | None = None
    """The service levels."""

    def to_settings(self) -> ReplaySettings:
        """The domain settings."""
        return ReplaySettings(
            desk=DeskSettings(
                default_department_id=self.desk.default_department_id,
                default_priority=self.desk.default_priority,
            ),
            social=None if self.social is None else self.social.to_settings(),
            chat=None if self.chat is None else self.chat.to_settings(),
            chat_departments=DepartmentMapping() if self.chat is None else self.chat.to_mapping(),
            service_levels=None
            if self.service_levels is None
            else self.service_levels.to_settings(),
        )


def parse_replay_settings(
    data: bytes | bytearray | str | Mapping[str, Any],
) -> ReplaySettingsDocument:
    """Parse the settings document of a replay (P6).

    Raises:
        pydantic.ValidationError: The document is not valid JSON or does not match
            :class:`ReplaySettingsDocument`; each error names where.
    """
    if isinstance(data, bytes | bytearray | str):
        return ReplaySettingsDocument.model_validate_json(data)
    return ReplaySettingsDocument.model_validate(dict(data) if isinstance(data, Mapping) else data)
