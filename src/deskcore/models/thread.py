"""Thread items: messages, comments and attachments, each with its provenance (T5)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import ClassVar, Literal, Protocol, TypeAlias

import attrs

from deskcore.models import enums
from deskcore.models._validate import (
    aware,
    fixed_offset,
    identifier,
    instance_of,
    member,
    non_negative_int,
    optional_identifier,
    text,
    tuple_of,
)
from deskcore.models.enums import Channel, Direction, Visibility
from deskcore.models.refs import ExternalReference

__all__ = ["Attachment", "Comment", "Message", "Revision", "ThreadItem", "digest_content"]

_body = text()
_label = text(1000)


class FileDescription(Protocol):
    """Anything that describes a stored file: an :class:`Attachment` or an inbound one."""

    @property
    def name(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def content_type(self) -> str: ...
    @property
    def storage_key(self) -> str: ...


def digest_content(body: str, attachments: Iterable[FileDescription] = ()) -> str:
    """Digest of a message's content: its body and its attachments' names, sizes and keys.

    Intake compares digests to tell a redelivered event (same digest: a no-op) from a platform
    reusing an id for different content (P3).
    """
    h = hashlib.sha256()

    def part(text: str) -> None:
        # Length-prefixed, so no choice of body and attachment fields can collide with another.
        data = text.encode("utf-8")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)

    part(body)
    for a in attachments:
        for field in (a.name, str(a.size), a.content_type, a.storage_key):
            part(field)
    return "sha256:" + h.hexdigest()


@attrs.frozen(kw_only=True)
class Attachment:
    """A file on a ticket: attached to a message, or a thread item of its own (T5).

    Attributes:
        size: Size in bytes; never negative.
        storage_key: Where the host stored the bytes (deskcore never holds file contents).
    """

    kind: ClassVar[Literal["attachment"]] = "attachment"

    id: str = attrs.field(validator=identifier)
    origin_ticket_id: str = attrs.field(validator=identifier)
    name: str = attrs.field(validator=_label)
    size: int = attrs.field(validator=non_negative_int)
    content_type: str = attrs.field(default="application/octet-stream", validator=_label)
    storage_key: str = attrs.field(validator=_label)
    created_at: datetime = attrs.field(converter=fixed_offset, validator=aware)


@attrs.frozen(kw_only=True)
class Revision:
    """An earlier version of an edited message (P3): what it said before the edit."""

    body: str = attrs.field(validator=_body)
    content_digest: str = attrs.field(validator=_label)
    replaced_at: datetime = attrs.field(converter=fixed_offset, validator=aware)


@attrs.frozen(kw_only=True)
class Message:
    """A message to or from the customer (T5).

    ``external_ref`` names the message on its platform (a tweet, an email's Message-ID);
    ``revisions`` keeps earlier versions when the platform reports an edit.

    ``content_digest`` is computed from the body and attachments when not given. When you
    change those with :func:`attrs.evolve`, pass ``content_digest=None`` too, or the old
    digest is kept (a host may supply digests of its own, so deskcore cannot tell a stale one).
    """

    kind: ClassVar[Literal["message"]] = "message"

    id: str = attrs.field(validator=identifier)
    origin_ticket_id: str = attrs.field(validator=identifier)
    direction: Direction = attrs.field(converter=enums.to_direction, validator=member(Direction))
    visibility: Visibility = attrs.field(
        default=Visibility.PUBLIC, converter=enums.to_visibility, validator=member(Visibility)
    )
    author_id: str = attrs.field(validator=identifier)
    author_name: str = attrs.field(default="", validator=_label)
    body: str = attrs.field(validator=_body)
    channel: Channel = attrs.field(validator=instance_of(Channel))
    sent_at: datetime = attrs.field(converter=fixed_offset, validator=aware)
    external_ref: ExternalReference | None = attrs.field(
        default=None, validator=attrs.validators.optional(instance_of(ExternalReference))
    )
    content_digest: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(_label)
    )
    attachments: tuple[Attachment, ...] = attrs.field(default=(), validator=tuple_of(Attachment))
    revisions: tuple[Revision, ...] = attrs.field(default=(), validator=tuple_of(Revision))
    in_reply_to: str | None = attrs.field(default=None, validator=optional_identifier)

    def __attrs_post_init__(self) -> None:
        if self.content_digest is None:
            object.__setattr__(self, "content_digest", digest_content(self.body, self.attachments))

    @property
    def created_at(self) -> datetime:
        """When the message was sent; the thread is ordered by this."""
        return self.sent_at

    @property
    def is_public_reply(self) -> bool:
        """True for a public outbound message: what counts as an agent's response (L3, L4)."""
        return self.direction is Direction.OUTBOUND and self.visibility is Visibility.PUBLIC


@attrs.frozen(kw_only=True)
class Comment:
    """A comment on a ticket: an agent's note, public or private (T5)."""

    kind: ClassVar[Literal["comment"]] = "comment"

    id: str = attrs.field(validator=identifier)
    origin_ticket_id: str = attrs.field(validator=identifier)
    visibility: Visibility = attrs.field(
        default=Visibility.PRIVATE, converter=enums.to_visibility, validator=member(Visibility)
    )
    author_id: str = attrs.field(validator=identifier)
    author_name: str = attrs.field(default="", validator=_label)
    body: str = attrs.field(validator=_body)
    created_at: datetime = attrs.field(converter=fixed_offset, validator=aware)


ThreadItem: TypeAlias = Message | Comment | Attachment
"""Any item of a ticket's thread."""
