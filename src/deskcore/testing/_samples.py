"""Small sample tickets shared by the contract suites."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from deskcore.models import Channel, Direction, ExternalReference, Message, Ticket

__all__ = ["T0", "ref", "sample_ticket"]

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def ref(native_id: str, kind: str = "tweet") -> ExternalReference:
    return ExternalReference(network="twitter", account="brand", kind=kind, native_id=native_id)


def sample_ticket(
    ticket_id: str,
    number: int,
    *,
    subject: str = "Order arrived broken",
    contact_id: str = "c-1",
    department_id: str = "support",
    created_at: datetime = T0,
    refs: tuple[str, ...] = (),
    item_refs: tuple[str, ...] = (),
) -> Ticket:
    """A new (version 0) ticket with one message per ``item_refs`` entry, for tests."""
    thread = tuple(
        Message(
            id=f"{ticket_id}-m{n}",
            origin_ticket_id=ticket_id,
            direction=Direction.INBOUND,
            author_id=contact_id,
            body=f"message {n}",
            channel=Channel.TWITTER,
            sent_at=created_at + timedelta(minutes=n),
            external_ref=ref(native_id),
        )
        for n, native_id in enumerate(item_refs)
    )
    return Ticket(
        id=ticket_id,
        number=number,
        department_id=department_id,
        subject=subject,
        channel=Channel.TWITTER,
        contact_id=contact_id,
        created_at=created_at,
        thread=thread,
        external_refs=tuple(ref(r, "conversation") for r in refs),
    )
