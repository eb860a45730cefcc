"""Conversions between the wire models (pydantic) and the domain models (attrs) (P6).

The wire models accept only what the domain models accept, so converting a validated wire
model does not fail on a single field. A document can still break an invariant that spans
fields (a closed ticket without ``closed_at``, a thread out of order, a reference used twice);
the domain reports that with :class:`~deskcore.errors.InvalidModelError`, a
:class:`~deskcore.errors.DeskcoreError` (P5).
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from deskcore.models import (
    Attachment,
    Channel,
    Classification,
    Comment,
    Contact,
    ExternalReference,
    InboundAttachment,
    InboundMessage,
    Message,
    Revision,
    StatusRecord,
    ThreadItem,
    Ticket,
)
from deskcore.wire.documents import (
    AttachmentDocument,
    CommentDocument,
    MessageDocument,
    RevisionDocument,
    StatusRecordDocument,
    ThreadItemDocument,
    TicketDocument,
)
from deskcore.wire.inbound import InboundMessageEvent, ReferencePayload

__all__ = ["ticket_from_document", "ticket_to_document", "to_inbound_message"]

_MICROSECOND = timedelta(microseconds=1)


# -- inbound --------------------------------------------------------------------------------------


def to_inbound_message(event: InboundMessageEvent) -> InboundMessage:
    """Convert a parsed inbound event into the domain's :class:`InboundMessage` (P6).

    Args:
        event: A validated event, from :func:`deskcore.wire.parse_inbound_event`.

    Returns:
        The message, ready for :meth:`deskcore.Desk.receive`.
    """
    contact = event.contact
    return InboundMessage(
        reference=_reference(event.reference),
        conversation=_optional_reference(event.conversation),
        channel=Channel(event.channel),
        contact=_contact(
            contact.id, contact.name, contact.email, contact.phone, contact.account_id
        ),
        direction=event.direction,
        visibility=event.visibility,
        author_id=event.author_id,
        author_name=event.author_name,
        subject=event.subject,
        body=event.body,
        sent_at=event.sent_at,
        department_id=event.department_id,
        attachments=tuple(
            InboundAttachment(
                name=a.name, size=a.size, content_type=a.content_type, storage_key=a.storage_key
            )
            for a in event.attachments
        ),
        content_digest=event.content_digest,
        is_edit=event.is_edit,
        ticket_number=event.ticket_number,
    )


# -- references -----------------------------------------------------------------------------------


# A stream names the same conversations and contacts over and over; the domain values are
# immutable, so one built (and validated) once serves every later equal payload. Invalid
# values raise and are not cached. The caches are bounded.


@lru_cache(maxsize=4096)
def _contact(
    id: str, name: str, email: str | None, phone: str | None, account_id: str | None
) -> Contact:
    return Contact(id=id, name=name, email=email, phone=phone, account_id=account_id)


@lru_cache(maxsize=4096)
def _reference_of(network: str, account: str, kind: str, native_id: str) -> ExternalReference:
    return ExternalReference(network=network, account=account, kind=kind, native_id=native_id)


def _reference(payload: ReferencePayload) -> ExternalReference:
    return _reference_of(payload.network, payload.account, payload.kind, payload.native_id)


def _reference_payload(ref: ExternalReference) -> ReferencePayload:
    return ReferencePayload(
        network=ref.network, account=ref.account, kind=ref.kind, native_id=ref.native_id
    )


def _optional_reference(payload: ReferencePayload | None) -> ExternalReference | None:
    return None if payload is None else _reference(payload)


def _optional_reference_payload(ref: ExternalReference | None) -> ReferencePayload | None:
    return None if ref is None else _reference_payload(ref)


# -- ticket to document ---------------------------------------------------------------------------


def ticket_to_document(ticket: Ticket) -> TicketDocument:
    """Export ``ticket``, thread included, as a :class:`TicketDocument`.

    ``ticket_from_document(ticket_to_document(ticket)) == ticket`` for every ticket, with each
    datetime keeping its UTC offset.

    Raises:
        pydantic.ValidationError: The ticket holds an integer beyond 64 bits (its number or
            version, an attachment's size, or more than 2**63 - 1 microseconds on hold), which
            the document format (and a 64-bit database column) cannot carry.
    """
    return TicketDocument(
        id=ticket.id,
        number=ticket.number,
        department_id=ticket.department_id,
        subject=ticket.subject,
        status=ticket.status,
        priority=ticket.priority,
        classification=None if ticket.classification is None else ticket.classification.code,
        channel=ticket.channel.code,
        contact_id=ticket.contact_id,
        account_id=ticket.account_id,
        product_name=ticket.product_name,
        assignee_id=ticket.assignee_id,
        created_at=ticket.created_at,
        first_responded_at=ticket.first_responded_at,
        on_hold_microseconds=ticket.on_hold_time // _MICROSECOND,
        on_hold_since=ticket.on_hold_since,
        closed_at=ticket.closed_at,
        custom_fields=dict(ticket.custom_fields),
        thread=tuple(_item_document(item) for item in ticket.thread),
        external_refs=tuple(_reference_payload(ref) for ref in ticket.external_refs),
        ceded_refs=tuple(_reference_payload(ref) for ref in ticket.ceded_refs),
        merged_into=ticket.merged_into,
        trashed_at=ticket.trashed_at,
        status_log=tuple(
            StatusRecordDocument(
                at=r.at, from_status=r.from_status, to_status=r.to_status, reason=r.reason
            )
            for r in ticket.status_log
        ),
        version=ticket.version,
    )


def _item_document(item: ThreadItem) -> ThreadItemDocument:
    if isinstance(item, Message):
        return MessageDocument(
            kind="message",
            id=item.id,
            origin_ticket_id=item.origin_ticket_id,
            direction=item.direction,
            visibility=item.visibility,
            author_id=item.author_id,
            author_name=item.author_name,
            body=item.body,
            channel=item.channel.code,
            sent_at=item.sent_at,
            external_ref=None
            if item.external_ref is None
            else _reference_payload(item.external_ref),
            content_digest=item.content_digest,
            attachments=tuple(_attachment_document(a) for a in item.attachments),
            revisions=tuple(
                RevisionDocument(
                    body=r.body, content_digest=r.content_digest, replaced_at=r.replaced_at
                )
                for r in item.revisions
            ),
            in_reply_to=item.in_reply_to,
        )
    if isinstance(item, Comment):
        return CommentDocument(
            kind="comment",
            id=item.id,
            origin_ticket_id=item.origin_ticket_id,
            visibility=item.visibility,
            author_id=item.author_id,
            author_name=item.author_name,
            body=item.body,
            created_at=item.created_at,
        )
    return _attachment_document(item)


def _attachment_document(item: Attachment) -> AttachmentDocument:
    return AttachmentDocument(
        kind="attachment",
        id=item.id,
        origin_ticket_id=item.origin_ticket_id,
        name=item.name,
        size=item.size,
        content_type=item.content_type,
        storage_key=item.storage_key,
        created_at=item.created_at,
    )


# -- document to ticket ---------------------------------------------------------------------------


def ticket_from_document(document: TicketDocument) -> Ticket:
    """Rebuild the :class:`Ticket` that ``document`` describes.

    Raises:
        InvalidModelError: The document breaks a ticket invariant that spans fields: the
            status disagrees with ``on_hold_since`` or ``closed_at``, a merged ticket is not
            trashed, thread ids repeat, the thread is out of creation-time order, or an
            external reference appears twice.
    """
    return Ticket(
        id=document.id,
        number=document.number,
        department_id=document.department_id,
        subject=document.subject,
        status=document.status,
        priority=document.priority,
        classification=(
            None if document.classification is None else Classification(document.classification)
        ),
        channel=Channel(document.channel),
        contact_id=document.contact_id,
        account_id=document.account_id,
        product_name=document.product_name,
        assignee_id=document.assignee_id,
        created_at=document.created_at,
        first_responded_at=document.first_responded_at,
        on_hold_time=timedelta(microseconds=document.on_hold_microseconds),
        on_hold_since=document.on_hold_since,
        closed_at=document.closed_at,
        custom_fields=document.custom_fields,
        thread=tuple(_item(item) for item in document.thread),
        external_refs=tuple(_reference(ref) for ref in document.external_refs),
        ceded_refs=tuple(_reference(ref) for ref in document.ceded_refs),
        merged_into=document.merged_into,
        trashed_at=document.trashed_at,
        status_log=tuple(
            StatusRecord(at=r.at, from_status=r.from_status, to_status=r.to_status, reason=r.reason)
            for r in document.status_log
        ),
        version=document.version,
    )


def _item(document: ThreadItemDocument) -> ThreadItem:
    if isinstance(document, MessageDocument):
        return Message(
            id=document.id,
            origin_ticket_id=document.origin_ticket_id,
            direction=document.direction,
            visibility=document.visibility,
            author_id=document.author_id,
            author_name=document.author_name,
            body=document.body,
            channel=Channel(document.channel),
            sent_at=document.sent_at,
            external_ref=None
            if document.external_ref is None
            else _reference(document.external_ref),
            content_digest=document.content_digest,
            attachments=tuple(_attachment(a) for a in document.attachments),
            revisions=tuple(
                Revision(body=r.body, content_digest=r.content_digest, replaced_at=r.replaced_at)
                for r in document.revisions
            ),
            in_reply_to=document.in_reply_to,
        )
    if isinstance(document, CommentDocument):
        return Comment(
            id=document.id,
            origin_ticket_id=document.origin_ticket_id,
            visibility=document.visibility,
            author_id=document.author_id,
            author_name=document.author_name,
            body=document.body,
            created_at=document.created_at,
        )
    return _attachment(document)


def _attachment(document: AttachmentDocument) -> Attachment:
    return Attachment(
        id=document.id,
        origin_ticket_id=document.origin_ticket_id,
        name=document.name,
        size=document.size,
        content_type=document.content_type,
        storage_key=document.storage_key,
        created_at=document.created_at,
    )
