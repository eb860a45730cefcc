"""Plain-JSON records of tickets and thread items, for storage adapters.

Storage needs an exact, fast, dependency-free encoding; the pydantic wire models are for data
arriving from outside and validate far more than a trusted row needs. Decoding still goes
through the attrs constructors, so a corrupted row fails loudly instead of loading garbage.
"""

from __future__ import annotations

import json
import operator
from datetime import datetime, timedelta
from typing import Any

import attrs

from deskcore.models import (
    Attachment,
    Channel,
    Classification,
    Comment,
    Contact,
    Exposure,
    ExternalReference,
    FieldDecision,
    FieldValue,
    ItemMove,
    MergeJournalEntry,
    Message,
    Revision,
    StatusRecord,
    ThreadItem,
    Ticket,
)

_MICRO = timedelta(microseconds=1)


# One encoder for every record: ``json.dumps`` with options builds a new encoder per call.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def dumps(record: dict[str, Any]) -> str:
    """Compact JSON, keeping non-ASCII text as is."""
    return _encode(record)


def _dt(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _ref(ref: ExternalReference | None) -> list[str] | None:
    return None if ref is None else [ref.network, ref.account, ref.kind, ref.native_id]


def _parse_ref(parts: list[str] | None) -> ExternalReference | None:
    if parts is None:
        return None
    network, account, kind, native_id = parts
    return ExternalReference(network=network, account=account, kind=kind, native_id=native_id)


def _attachment(a: Attachment) -> dict[str, Any]:
    return {
        "kind": "attachment",
        "id": a.id,
        "origin": a.origin_ticket_id,
        "name": a.name,
        "size": a.size,
        "type": a.content_type,
        "key": a.storage_key,
        "at": a.created_at.isoformat(),
    }


def _parse_attachment(r: dict[str, Any]) -> Attachment:
    return Attachment(
        id=r["id"],
        origin_ticket_id=r["origin"],
        name=r["name"],
        size=r["size"],
        content_type=r["type"],
        storage_key=r["key"],
        created_at=datetime.fromisoformat(r["at"]),
    )


def item_record(item: ThreadItem) -> dict[str, Any]:
    """The JSON-ready record of a thread item."""
    if isinstance(item, Attachment):
        return _attachment(item)
    if isinstance(item, Comment):
        return {
            "kind": "comment",
            "id": item.id,
            "origin": item.origin_ticket_id,
            "visibility": item.visibility.value,
            "author": item.author_id,
            "author_name": item.author_name,
            "body": item.body,
            "at": item.created_at.isoformat(),
        }
    return {
        "kind": "message",
        "id": item.id,
        "origin": item.origin_ticket_id,
        "direction": item.direction.value,
        "visibility": item.visibility.value,
        "author": item.author_id,
        "author_name": item.author_name,
        "body": item.body,
        "channel": item.channel.code,
        "at": item.sent_at.isoformat(),
        "ref": _ref(item.external_ref),
        "digest": item.content_digest,
        "attachments": [_attachment(a) for a in item.attachments],
        "revisions": [
            [r.body, r.content_digest, r.replaced_at.isoformat()] for r in item.revisions
        ],
        "in_reply_to": item.in_reply_to,
    }


def parse_item(r: dict[str, Any]) -> ThreadItem:
    """The thread item of a record made by :func:`item_record`."""
    kind = r["kind"]
    if kind == "attachment":
        return _parse_attachment(r)
    if kind == "comment":
        return Comment(
            id=r["id"],
            origin_ticket_id=r["origin"],
            visibility=r["visibility"],
            author_id=r["author"],
            author_name=r["author_name"],
            body=r["body"],
            created_at=datetime.fromisoformat(r["at"]),
        )
    return Message(
        id=r["id"],
        origin_ticket_id=r["origin"],
        direction=r["direction"],
        visibility=r["visibility"],
        author_id=r["author"],
        author_name=r["author_name"],
        body=r["body"],
        channel=Channel(r["channel"]),
        sent_at=datetime.fromisoformat(r["at"]),
        external_ref=_parse_ref(r["ref"]),
        content_digest=r["digest"],
        attachments=tuple(_parse_attachment(a) for a in r["attachments"]),
        revisions=tuple(
            Revision(body=body, content_digest=digest, replaced_at=datetime.fromisoformat(at))
            for body, digest, at in r["revisions"]
        ),
        in_reply_to=r["in_reply_to"],
    )


def ticket_record(ticket: Ticket) -> dict[str, Any]:
    """The JSON-ready record of a ticket's fields, without its thread and version."""
    return {
        "id": ticket.id,
        "number": ticket.number,
        "department": ticket.department_id,
        "subject": ticket.subject,
        "status": ticket.status.value,
        "priority": ticket.priority.value,
        "classification": None if ticket.classification is None else ticket.classification.code,
        "channel": ticket.channel.code,
        "contact": ticket.contact_id,
        "account": ticket.account_id,
        "product": ticket.product_name,
        "assignee": ticket.assignee_id,
        "created_at": ticket.created_at.isoformat(),
        "first_responded_at": _dt(ticket.first_responded_at),
        "on_hold_us": ticket.on_hold_time // _MICRO,
        "on_hold_since": _dt(ticket.on_hold_since),
        "closed_at": _dt(ticket.closed_at),
        "custom": dict(ticket.custom_fields),
        "refs": [_ref(r) for r in ticket.external_refs],
        "ceded": [_ref(r) for r in ticket.ceded_refs],
        "merged_into": ticket.merged_into,
        "trashed_at": _dt(ticket.trashed_at),
        "status_log": [
            [r.at.isoformat(), r.from_status.value, r.to_status.value, r.reason]
            for r in ticket.status_log
        ],
    }


# Every field of a ticket except its thread and version: what its record is made of.
_record_fields = operator.attrgetter(
    *(f.name for f in attrs.fields(Ticket) if f.name not in ("thread", "version"))
)


def same_record(a: Ticket, b: Ticket) -> bool:
    """True when ``a`` and ``b`` certainly have the same record (see :func:`ticket_record`):
    every field but the thread and the version is the same object. Appending an item to a
    ticket keeps them (:func:`deskcore.models.ticket.with_item`)."""
    return all(map(operator.is_, _record_fields(a), _record_fields(b)))


def parse_ticket(r: dict[str, Any], thread: tuple[ThreadItem, ...], version: int) -> Ticket:
    """The ticket of a record made by :func:`ticket_record`, with its thread and version."""
    classification = r["classification"]
    return Ticket(
        id=r["id"],
        number=r["number"],
        department_id=r["department"],
        subject=r["subject"],
        status=r["status"],
        priority=r["priority"],
        classification=None if classification is None else Classification(classification),
        channel=Channel(r["channel"]),
        contact_id=r["contact"],
        account_id=r["account"],
        product_name=r["product"],
        assignee_id=r["assignee"],
        created_at=datetime.fromisoformat(r["created_at"]),
        first_responded_at=_parse_dt(r["first_responded_at"]),
        on_hold_time=r["on_hold_us"] * _MICRO,
        on_hold_since=_parse_dt(r["on_hold_since"]),
        closed_at=_parse_dt(r["closed_at"]),
        custom_fields=r["custom"],
        thread=thread,
        external_refs=tuple(ref for ref in map(_parse_ref, r["refs"]) if ref is not None),
        ceded_refs=tuple(ref for ref in map(_parse_ref, r.get("ceded", ())) if ref is not None),
        merged_into=r["merged_into"],
        trashed_at=_parse_dt(r["trashed_at"]),
        status_log=tuple(
            StatusRecord(
                at=datetime.fromisoformat(at), from_status=old, to_status=new, reason=reason
            )
            for at, old, new, reason in r.get("status_log", ())
        ),
        version=version,
    )


def contact_record(contact: Contact) -> dict[str, Any]:
    """The JSON-ready record of a contact."""
    return {
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "account": contact.account_id,
    }


def parse_contact(r: dict[str, Any]) -> Contact:
    """The contact of a record made by :func:`contact_record`."""
    return Contact(
        id=r["id"], name=r["name"], email=r["email"], phone=r["phone"], account_id=r["account"]
    )


def journal_record(entry: MergeJournalEntry) -> dict[str, Any]:
    """The JSON-ready record of a merge journal entry."""
    record = attrs.asdict(entry, recurse=True)
    record["at"] = entry.at.isoformat()
    return record


def parse_journal(r: dict[str, Any]) -> MergeJournalEntry:
    """The journal entry of a record made by :func:`journal_record`."""

    def value(v: dict[str, Any]) -> FieldValue:
        return FieldValue(**v)

    return MergeJournalEntry(
        id=r["id"],
        at=datetime.fromisoformat(r["at"]),
        actor_id=r["actor_id"],
        primary_id=r["primary_id"],
        merged_ticket_ids=tuple(r["merged_ticket_ids"]),
        moves=tuple(ItemMove(**m) for m in r["moves"]),
        fields=tuple(
            FieldDecision(
                field=f["field"],
                values=tuple(value(v) for v in f["values"]),
                chosen=value(f["chosen"]),
                discarded=tuple(value(v) for v in f["discarded"]),
            )
            for f in r["fields"]
        ),
        exposures=tuple(
            Exposure(
                ticket_id=e["ticket_id"],
                owner_contact_id=e["owner_contact_id"],
                viewer_contact_id=e["viewer_contact_id"],
                item_ids=tuple(e["item_ids"]),
            )
            for e in r["exposures"]
        ),
        already_present=tuple(r["already_present"]),
    )
