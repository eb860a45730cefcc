"""What intake receives: an inbound message, already parsed at the edge (P3, P6)."""

from __future__ import annotations

from datetime import datetime

import attrs

from deskcore.errors import InvalidModelError, UnknownValueError
from deskcore.models import enums
from deskcore.models._validate import (
    aware,
    fixed_offset,
    identifier,
    instance_of,
    member,
    non_negative_int,
    optional_identifier,
    positive_int,
    text,
    tuple_of,
)
from deskcore.models.enums import Channel, Classification, Direction, Priority, Visibility
from deskcore.models.parties import Contact
from deskcore.models.refs import ExternalReference

__all__ = ["DeskSettings", "InboundAttachment", "InboundMessage"]

_label = text(1000)
MAX_SUBJECT_LENGTH = 1000


@attrs.frozen(kw_only=True)
class InboundAttachment:
    """A file that came with an inbound message; the host already stored the bytes."""

    name: str = attrs.field(validator=_label)
    size: int = attrs.field(validator=non_negative_int)
    content_type: str = attrs.field(default="application/octet-stream", validator=_label)
    storage_key: str = attrs.field(validator=_label)


@attrs.frozen(kw_only=True)
class InboundMessage:
    """One message arriving from a channel: an email, a tweet, a chat line, a Facebook comment.

    Attributes:
        reference: The message's own external reference. Intake claims it, so the same
            message delivered twice is stored once (P3).
        conversation: The reference of the conversation the message belongs to (a chat
            session, a DM conversation, an email thread's first Message-ID). A message whose
            conversation already has a ticket is appended to it.
        content_digest: A digest of the content, given by the host or computed from the body
            and attachments when omitted. The same reference with another digest is a
            conflict, unless ``is_edit`` says the platform reported an edit.
        is_edit: The platform reports that this message edits the one with the same
            reference; it is stored as a revision of the same item.
        direction: Inbound (the customer wrote) or outbound (the brand replied on the platform).
        ticket_number: The ticket the message says it is about, when the host found one (a
            ``[#123]`` in an email subject). Used when neither the message nor its
            conversation is known; a merged-away number leads to its primary (M14).
    """

    reference: ExternalReference = attrs.field(validator=instance_of(ExternalReference))
    conversation: ExternalReference | None = attrs.field(
        default=None, validator=attrs.validators.optional(instance_of(ExternalReference))
    )
    channel: Channel = attrs.field(validator=instance_of(Channel))
    contact: Contact = attrs.field(validator=instance_of(Contact))
    direction: Direction = attrs.field(
        default=Direction.INBOUND, converter=enums.to_direction, validator=member(Direction)
    )
    visibility: Visibility = attrs.field(
        default=Visibility.PUBLIC, converter=enums.to_visibility, validator=member(Visibility)
    )
    author_id: str | None = attrs.field(default=None, validator=optional_identifier)
    author_name: str = attrs.field(default="", validator=_label)
    subject: str = attrs.field(default="", validator=_label)
    body: str = attrs.field(validator=text())
    sent_at: datetime = attrs.field(converter=fixed_offset, validator=aware)
    department_id: str | None = attrs.field(default=None, validator=optional_identifier)
    attachments: tuple[InboundAttachment, ...] = attrs.field(
        default=(), validator=tuple_of(InboundAttachment)
    )
    content_digest: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(_label)
    )
    is_edit: bool = attrs.field(default=False, validator=instance_of(bool))
    ticket_number: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(positive_int)
    )


def _classifications(
    instance: DeskSettings, attribute: attrs.Attribute[object], value: object
) -> None:
    tuple_of(Classification)(instance, attribute, value)
    assert isinstance(value, tuple)
    if not value:
        raise InvalidModelError("DeskSettings", attribute.name, "at least one classification")


def _subject_length(instance: DeskSettings, attribute: attrs.Attribute[int], value: int) -> None:
    non_negative_int(instance, attribute, value)
    assert isinstance(value, int)
    if value > MAX_SUBJECT_LENGTH:
        raise InvalidModelError(
            "DeskSettings", attribute.name, f"{value} is above the subject limit of 1000"
        )


@attrs.frozen(kw_only=True)
class DeskSettings:
    """How a desk files new tickets.

    Attributes:
        default_department_id: Department for intake that names none.
        default_priority: Priority of tickets created by intake.
        classifications: The host's classification list (T3); the default is the seeds' list.
            :meth:`require_classification` checks a code against it.
        subject_length: Longest subject derived from a message body when it has no subject.
    """

    default_department_id: str = attrs.field(validator=identifier)
    default_priority: Priority = attrs.field(
        default=Priority.MEDIUM, converter=enums.to_priority, validator=member(Priority)
    )
    classifications: tuple[Classification, ...] = attrs.field(
        factory=Classification.defaults, validator=_classifications
    )
    subject_length: int = attrs.field(default=120, validator=_subject_length)

    def require_classification(self, classification: Classification) -> Classification:
        """Return ``classification`` if it is on this desk's list (T3).

        Raises:
            UnknownValueError: It is not on the list; the error names the allowed codes.
        """
        if classification not in self.classifications:
            allowed = tuple(c.code for c in self.classifications)
            raise UnknownValueError("Ticket", "classification", classification.code, allowed)
        return classification
