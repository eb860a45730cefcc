"""Idempotent intake (P3): route an inbound message, then build the change.

Intake is two pure steps. :func:`route_intake` looks at what the repository already knows
(the ticket that claimed the message's reference, the ticket of its conversation) and decides
what to do, with a reason code and an explanation. The service then allocates ids only if the
route needs them and calls :func:`open_ticket`, :func:`append_inbound` or
:func:`revise_message`.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime

import attrs

from deskcore.errors import InvalidModelError
from deskcore.models import (
    Attachment,
    DeskSettings,
    Direction,
    ExternalReference,
    InboundMessage,
    ItemRevised,
    Message,
    Revision,
    Ticket,
    TicketCreated,
    TicketStatus,
    digest_content,
)
from deskcore.models._validate import MAX_ID_LENGTH
from deskcore.policies.lifecycle import TicketChange, append_item

__all__ = [
    "IntakeAction",
    "IntakeRoute",
    "append_inbound",
    "derive_subject",
    "message_digest",
    "open_ticket",
    "revise_message",
    "route_intake",
]


class IntakeAction(enum.StrEnum):
    """What intake does with a message."""

    CREATE = "create"
    APPEND = "append"
    DUPLICATE = "duplicate"
    REVISE = "revise"
    CONFLICT = "conflict"


@attrs.frozen(kw_only=True)
class IntakeRoute:
    """The routing decision for one inbound message.

    Attributes:
        action: What to do.
        reason: Stable code for the decision (``new_conversation``, ``redelivered``...).
        explanation: One sentence a host can show or log.
        ticket: The ticket the action concerns (``None`` for ``create``).
        item_id: The existing item (``duplicate``, ``revise``, ``conflict`` on an item).
        digest: The message's content digest, given or computed.
    """

    action: IntakeAction
    reason: str
    explanation: str
    ticket: Ticket | None = None
    item_id: str | None = None
    digest: str


def message_digest(message: InboundMessage) -> str:
    """The content digest of ``message``: the one it carries, or one computed from its content."""
    if message.content_digest is not None:
        return message.content_digest
    return digest_content(message.body, message.attachments)


def route_intake(
    message: InboundMessage,
    *,
    claimed_by: Ticket | None,
    conversation_ticket: Ticket | None,
    numbered_ticket: Ticket | None = None,
    addressed_ticket: Ticket | None = None,
) -> IntakeRoute:
    """Decide what to do with ``message`` (P3, M14).

    Args:
        message: The inbound message.
        claimed_by: The ticket that already claims ``message.reference``, if any.
        conversation_ticket: The ticket that claims ``message.conversation``, if any.
        numbered_ticket: The ticket whose number ``message.ticket_number`` names, if any.
        addressed_ticket: Where ``numbered_ticket`` lives now: itself, or the end of its
            chain of merges (M14).
    """
    digest = message_digest(message)
    ref = message.reference
    if claimed_by is not None:
        stored = _message_with_ref(claimed_by, message)
        if stored is None and message.conversation == ref and not claimed_by.is_trashed:
            return IntakeRoute(
                action=IntakeAction.APPEND,
                reason="conversation_root_arrived_late",
                explanation=f"{ref} starts the conversation of ticket #{claimed_by.number}, "
                "which a later message opened first; the message joins its thread",
                ticket=claimed_by,
                digest=digest,
            )
        if stored is None:
            return IntakeRoute(
                action=IntakeAction.CONFLICT,
                reason="reference_names_ticket",
                explanation=f"{ref} already identifies ticket #{claimed_by.number} itself, "
                "not a message on it",
                ticket=claimed_by,
                digest=digest,
            )
        if digest in {r.content_digest for r in stored.revisions}:
            return IntakeRoute(
                action=IntakeAction.DUPLICATE,
                reason="redelivered_earlier_revision",
                explanation=f"{ref} arrived again with the text it had before an edit; "
                f"ticket #{claimed_by.number} already keeps it as a revision",
                ticket=claimed_by,
                item_id=stored.id,
                digest=digest,
            )
        if stored.content_digest == digest:
            return IntakeRoute(
                action=IntakeAction.DUPLICATE,
                reason="redelivered",
                explanation=f"{ref} was already received on ticket #{claimed_by.number} "
                "with the same content; nothing to do",
                ticket=claimed_by,
                item_id=stored.id,
                digest=digest,
            )
        if message.is_edit:
            return IntakeRoute(
                action=IntakeAction.REVISE,
                reason="edited",
                explanation=f"{ref} was edited on its platform; the new text becomes a "
                f"revision of the message on ticket #{claimed_by.number}",
                ticket=claimed_by,
                item_id=stored.id,
                digest=digest,
            )
        return IntakeRoute(
            action=IntakeAction.CONFLICT,
            reason="digest_mismatch",
            explanation=f"{ref} arrived again with different content and is not marked as "
            f"an edit; ticket #{claimed_by.number} is left unchanged",
            ticket=claimed_by,
            item_id=stored.id,
            digest=digest,
        )
    if (
        (conversation_ticket is None or conversation_ticket.is_trashed)
        and numbered_ticket is not None
        and addressed_ticket is not None
        and not addressed_ticket.is_trashed
    ):
        redirected = addressed_ticket.id != numbered_ticket.id
        return IntakeRoute(
            action=IntakeAction.APPEND,
            reason="redirected_from_merged" if redirected else "addressed_by_number",
            explanation=(
                f"the message is addressed to ticket #{numbered_ticket.number}, which was "
                f"merged into #{addressed_ticket.number}; it joins #{addressed_ticket.number} "
                "(M14)"
                if redirected
                else f"the message is addressed to ticket #{numbered_ticket.number} and "
                "joins its thread"
            ),
            ticket=addressed_ticket,
            digest=digest,
        )
    if conversation_ticket is not None and not conversation_ticket.is_trashed:
        reopens = (
            message.direction is Direction.INBOUND
            and conversation_ticket.status is TicketStatus.CLOSED
        )
        return IntakeRoute(
            action=IntakeAction.APPEND,
            reason="reopens_closed_ticket" if reopens else "conversation_has_ticket",
            explanation=f"{message.conversation} already has ticket "
            f"#{conversation_ticket.number}; the message joins its thread"
            + (", and a customer writing again reopens the closed ticket (L2)" if reopens else ""),
            ticket=conversation_ticket,
            digest=digest,
        )
    if conversation_ticket is not None:
        return IntakeRoute(
            action=IntakeAction.CREATE,
            reason="conversation_ticket_trashed",
            explanation=f"the ticket of {message.conversation} (#{conversation_ticket.number}) "
            "is in the trash; the message starts a new ticket",
            digest=digest,
        )
    return IntakeRoute(
        action=IntakeAction.CREATE,
        reason="new_conversation",
        explanation=f"nothing claims {ref}"
        + (
            f" or {message.conversation}"
            if message.conversation is not None and message.conversation != ref
            else ""
        )
        + "; the message starts a new ticket",
        digest=digest,
    )


def derive_subject(message: InboundMessage, settings: DeskSettings) -> str:
    """The message's subject, or the first non-blank line of its body, shortened."""
    subject = message.subject.strip()
    if not subject:
        subject = next((line.strip() for line in message.body.splitlines() if line.strip()), "")
    limit = settings.subject_length
    if limit == 0:
        return ""
    if len(subject) > limit:
        subject = subject[: max(limit - 1, 0)].rstrip() + "…"
    return subject


def open_ticket(
    message: InboundMessage,
    *,
    ticket_id: str,
    number: int,
    item_id: str,
    settings: DeskSettings,
    now: datetime,
    claim_conversation: bool = True,
) -> TicketChange:
    """Build a new ticket (version 0, not yet stored) holding ``message`` as its first item."""
    conversation = message.conversation
    refs: tuple[ExternalReference, ...] = ()
    if claim_conversation and conversation is not None and conversation != message.reference:
        refs = (conversation,)
    ticket = Ticket(
        id=ticket_id,
        number=number,
        department_id=message.department_id or settings.default_department_id,
        subject=derive_subject(message, settings),
        priority=settings.default_priority,
        channel=message.channel,
        contact_id=message.contact.id,
        account_id=message.contact.account_id,
        created_at=now,
        external_refs=refs,
    )
    created = TicketCreated(ticket_id=ticket_id, at=now, number=number, reference=message.reference)
    appended = append_item(
        ticket, to_message(message, item_id=item_id, ticket_id=ticket_id), now=now
    )
    return TicketChange(appended.ticket, (created, *appended.events))


def append_inbound(
    ticket: Ticket, message: InboundMessage, *, item_id: str, now: datetime, reopen: bool = True
) -> TicketChange:
    """Append ``message`` to ``ticket`` (L2 reopen and L4 first response apply).

    A conversation's first message that arrives after a reply (the reply opened the ticket
    and claimed the conversation reference for it) takes that reference over as its own.
    """
    if message.reference in ticket.external_refs:
        refs = tuple(r for r in ticket.external_refs if r != message.reference)
        ticket = attrs.evolve(ticket, external_refs=refs)
    item = to_message(message, item_id=item_id, ticket_id=ticket.id)
    return append_item(ticket, item, now=now, reopen=reopen)


def revise_message(
    ticket: Ticket, item_id: str, message: InboundMessage, *, now: datetime
) -> TicketChange:
    """Store an edit of a message as a new revision of the same item (P3).

    The item keeps its id, position and reference; its previous body and digest move to
    ``revisions``.
    """
    stored = ticket.item(item_id)  # NotFoundError when the ticket has no such item
    if not isinstance(stored, Message):
        raise InvalidModelError(
            "Ticket", "thread", f"item {item_id!r} is a {stored.kind}; only messages are revised"
        )
    index = ticket.thread.index(stored)
    previous = Revision(
        body=stored.body, content_digest=stored.content_digest or "", replaced_at=now
    )
    revised = attrs.evolve(
        stored,
        body=message.body,
        attachments=_attachments(message, item_id, stored.origin_ticket_id),
        content_digest=message_digest(message),
        revisions=(*stored.revisions, previous),
    )
    thread = (*ticket.thread[:index], revised, *ticket.thread[index + 1 :])
    event = ItemRevised(
        ticket_id=ticket.id, at=now, item_id=item_id, revision=len(revised.revisions)
    )
    return TicketChange(attrs.evolve(ticket, thread=thread), (event,))


def to_message(message: InboundMessage, *, item_id: str, ticket_id: str) -> Message:
    """The thread item for ``message`` on ticket ``ticket_id``."""
    return Message(
        id=item_id,
        origin_ticket_id=ticket_id,
        direction=message.direction,
        visibility=message.visibility,
        author_id=message.author_id or _default_author(message),
        author_name=message.author_name
        or (message.contact.name if message.direction is Direction.INBOUND else ""),
        body=message.body,
        channel=message.channel,
        sent_at=message.sent_at,
        external_ref=message.reference,
        content_digest=message_digest(message),
        attachments=_attachments(message, item_id, ticket_id),
    )


def _attachment_id(item_id: str, n: int) -> str:
    """``<item id>.a<n>``, or a digest of the item id in its place when that would be too long."""
    suffix = f".a{n}"
    if len(item_id) + len(suffix) > MAX_ID_LENGTH:
        item_id = "sha256-" + hashlib.sha256(item_id.encode("utf-8")).hexdigest()
    return item_id + suffix


def _attachments(message: InboundMessage, item_id: str, ticket_id: str) -> tuple[Attachment, ...]:
    return tuple(
        Attachment(
            id=_attachment_id(item_id, n),
            origin_ticket_id=ticket_id,
            name=a.name,
            size=a.size,
            content_type=a.content_type,
            storage_key=a.storage_key,
            created_at=message.sent_at,
        )
        for n, a in enumerate(message.attachments, start=1)
    )


def _default_author(message: InboundMessage) -> str:
    # An inbound message is written by the customer; an outbound one with no named agent by
    # the brand's channel account it was posted from, never by the customer.
    if message.direction is Direction.INBOUND:
        return message.contact.id
    return message.reference.account


def _message_with_ref(ticket: Ticket, message: InboundMessage) -> Message | None:
    for item in ticket.messages():
        if item.external_ref == message.reference:
            return item
    return None
