"""Live chats handed over by the chat tool, and the integration's settings (C1-C12)."""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from deskcore.errors import InvalidModelError
from deskcore.models import enums
from deskcore.models._validate import (
    aware,
    fixed_offset,
    identifier,
    instance_of,
    lenient,
    member,
    optional_aware,
    optional_fixed_offset,
    optional_identifier,
    optional_text,
    text,
    tuple_of,
)
from deskcore.models.enums import TicketStatus
from deskcore.models.intake import InboundMessage
from deskcore.models.refs import ExternalReference

__all__ = [
    "ChatEvent",
    "ChatSession",
    "ChatSettings",
    "ConvertWhen",
    "ConvertWhich",
    "LinkState",
    "LookupScope",
]

_label = text(1000)


_optional_label = optional_text(1000)


class ConvertWhich(enum.StrEnum):
    """Which chats convert automatically (C1)."""

    ALL = "all"
    ATTENDED = "attended"
    MISSED = "missed"
    NONE = "none"


class ConvertWhen(enum.StrEnum):
    """When an attended chat converts (C2); a missed chat always converts when it ends."""

    ON_ANSWER = "on_answer"
    ON_END = "on_end"


class LinkState(enum.StrEnum):
    """Whether the integration's owner still links the two accounts (C11)."""

    LINKED = "linked"
    NEEDS_RELINK = "needs_relink"


class LookupScope(enum.StrEnum):
    """Which helpdesk departments ticket lookups from a chat cover (C8)."""

    ALL_DEPARTMENTS = "all_departments"
    ASSOCIATED_DEPARTMENTS = "associated_departments"


class ChatEvent(enum.StrEnum):
    """What just happened to a chat: the trigger of a conversion decision."""

    STARTED = "started"
    ANSWERED = "answered"
    ENDED = "ended"
    MISSED = "missed"
    EMAIL_ADDED = "email_added"


def _to_convert(value: ConvertWhich | str) -> ConvertWhich:
    return lenient(ConvertWhich, value)


def _to_when(value: ConvertWhen | str) -> ConvertWhen:
    return lenient(ConvertWhen, value)


def _to_scope(value: LookupScope | str) -> LookupScope:
    return lenient(LookupScope, value)


def _to_link_state(value: LinkState | str) -> LinkState:
    return lenient(LinkState, value)


def _ticket_status(
    instance: ChatSettings, attribute: attrs.Attribute[TicketStatus], value: TicketStatus
) -> None:
    if value not in (TicketStatus.OPEN, TicketStatus.CLOSED):
        raise InvalidModelError(
            "ChatSettings", attribute.name, f"{value!r}: a chat's ticket is open or closed (C3)"
        )


@attrs.frozen(kw_only=True)
class ChatSettings:
    """How the chat integration converts chats (C1-C4, C11). Survives disable and enable.

    Attributes:
        enabled: The integration is on. Disabling keeps every setting (C11).
        convert: Which chats convert automatically (C1).
        when: When an attended chat converts (C2).
        ticket_status: Status of a ticket made from a chat: open or closed (C3).
        owner_id: The helpdesk admin who enabled the integration (C11).
        link_state: ``needs_relink`` after the owner was deleted or deactivated (C11).
        lookup_scope: Whether ticket lookups from a chat cover all helpdesk departments or
            only the one the chat's department is associated with (C8).
    """

    enabled: bool = attrs.field(default=True, validator=instance_of(bool))
    convert: ConvertWhich = attrs.field(
        default=ConvertWhich.ALL,
        converter=_to_convert,
        validator=member(ConvertWhich),
    )
    when: ConvertWhen = attrs.field(
        default=ConvertWhen.ON_END,
        converter=_to_when,
        validator=member(ConvertWhen),
    )
    ticket_status: TicketStatus = attrs.field(
        default=TicketStatus.OPEN, converter=enums.to_status, validator=_ticket_status
    )
    owner_id: str = attrs.field(validator=identifier)
    link_state: LinkState = attrs.field(
        default=LinkState.LINKED,
        converter=_to_link_state,
        validator=member(LinkState),
    )
    lookup_scope: LookupScope = attrs.field(
        default=LookupScope.ALL_DEPARTMENTS,
        converter=_to_scope,
        validator=member(LookupScope),
    )


@attrs.frozen(kw_only=True)
class ChatSession:
    """One chat as the chat tool reports it.

    Attributes:
        reference: The chat session's external reference; it claims the ticket made from it.
        department_id: The chat tool's department of the chat.
        answered_by: The agent who answered; ``None`` while unanswered or when missed.
        missed: The chat ended with no agent answering.
        transcript: The chat's lines, oldest first, ready for intake.
    """

    reference: ExternalReference = attrs.field(validator=instance_of(ExternalReference))
    visitor_name: str = attrs.field(default="", validator=_label)
    visitor_email: str | None = attrs.field(default=None, validator=_optional_label)
    visitor_phone: str | None = attrs.field(default=None, validator=_optional_label)
    department_id: str = attrs.field(validator=identifier)
    started_at: datetime = attrs.field(converter=fixed_offset, validator=aware)
    answered_by: str | None = attrs.field(default=None, validator=optional_identifier)
    answered_at: datetime | None = attrs.field(
        default=None, converter=optional_fixed_offset, validator=optional_aware
    )
    ended_at: datetime | None = attrs.field(
        default=None, converter=optional_fixed_offset, validator=optional_aware
    )
    missed: bool = attrs.field(default=False, validator=instance_of(bool))
    transcript: tuple[InboundMessage, ...] = attrs.field(
        default=(), validator=tuple_of(InboundMessage)
    )

    def __attrs_post_init__(self) -> None:
        if (self.answered_by is None) != (self.answered_at is None):
            raise InvalidModelError(
                "ChatSession", "answered_at", "set exactly when answered_by is set"
            )
        if self.missed and self.answered_by is not None:
            raise InvalidModelError("ChatSession", "missed", "an answered chat is not missed")
        if self.missed and self.ended_at is None:
            raise InvalidModelError("ChatSession", "missed", "a chat is missed when it ends")

    @property
    def attended(self) -> bool:
        """An agent answered the chat."""
        return self.answered_by is not None

    @property
    def ended(self) -> bool:
        """The chat is over."""
        return self.ended_at is not None
