"""The ticket lifecycle (L1-L4): status changes, appends, first response, hold time.

Every function is pure: it takes a ticket and ``now`` and returns a :class:`TicketChange`
(the new ticket and the domain events), leaving the input untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

import attrs

from deskcore.errors import InvalidTransitionError, NaiveDatetimeError, TimeOrderError
from deskcore.models import (
    Direction,
    DomainEvent,
    FirstResponseRecorded,
    ItemAppended,
    Message,
    StatusChanged,
    StatusRecord,
    ThreadItem,
    Ticket,
    TicketStatus,
)
from deskcore.models._validate import coerce, is_aware
from deskcore.models.ticket import with_item

__all__ = [
    "TRANSITIONS",
    "TicketChange",
    "append_item",
    "can_change_status",
    "change_status",
]

_S = TicketStatus

TRANSITIONS: Mapping[TicketStatus, frozenset[TicketStatus]] = MappingProxyType(
    {
        _S.OPEN: frozenset({_S.ON_HOLD, _S.ESCALATED, _S.CLOSED}),
        _S.ON_HOLD: frozenset({_S.OPEN, _S.ESCALATED, _S.CLOSED}),
        _S.ESCALATED: frozenset({_S.OPEN, _S.ON_HOLD, _S.CLOSED}),
        # A closed ticket is reopened first; it does not go straight to hold or escalation.
        _S.CLOSED: frozenset({_S.OPEN}),
    }
)
"""The allowed status changes (L1): ``TRANSITIONS[from_status]`` is the set of targets."""


@attrs.frozen
class TicketChange:
    """The result of a lifecycle function: the changed ticket and what happened."""

    ticket: Ticket
    events: tuple[DomainEvent, ...] = ()


def can_change_status(from_status: TicketStatus, to_status: TicketStatus) -> bool:
    """True when the table (L1) allows ``from_status`` → ``to_status``."""
    return to_status in TRANSITIONS[from_status]


def change_status(
    ticket: Ticket, to_status: TicketStatus, *, now: datetime, reason: str = "agent"
) -> TicketChange:
    """Change the status of ``ticket`` at ``now`` (L1, L4).

    Setting the status a ticket already has changes nothing and produces no event. Leaving
    *on hold* adds the time since it was put on hold to ``on_hold_time``; closing records
    ``closed_at``; reopening clears it. The change joins the ticket's ``status_log`` (SL7).

    Raises:
        InvalidTransitionError: The table does not allow the change; names both statuses.
        TimeOrderError: ``now`` is earlier than the start of the current hold.
    """
    _require_aware(now, "change_status")
    to_status = coerce(TicketStatus, to_status, "Ticket", "status")
    if to_status is ticket.status:
        return TicketChange(ticket)
    if not can_change_status(ticket.status, to_status):
        raise InvalidTransitionError(ticket.id, ticket.status.value, to_status.value)
    on_hold_time = ticket.on_hold_time
    if ticket.on_hold_since is not None:
        if now < ticket.on_hold_since:
            raise TimeOrderError(
                f"ticket {ticket.id}: now {now.isoformat()} is before the hold began at "
                f"{ticket.on_hold_since.isoformat()}",
                ticket_id=ticket.id,
            )
        on_hold_time += now - ticket.on_hold_since
    history = ticket.status_history()
    if history and now < history[-1].at:
        raise TimeOrderError(
            f"ticket {ticket.id}: now {now.isoformat()} is before its last status change at "
            f"{history[-1].at.isoformat()}",
            ticket_id=ticket.id,
        )
    record = StatusRecord(at=now, from_status=ticket.status, to_status=to_status, reason=reason)
    changed = attrs.evolve(
        ticket,
        status=to_status,
        on_hold_time=on_hold_time,
        on_hold_since=now if to_status is TicketStatus.ON_HOLD else None,
        closed_at=now if to_status is TicketStatus.CLOSED else None,
        status_log=(*history, record),
    )
    event = StatusChanged(
        ticket_id=ticket.id,
        at=now,
        from_status=ticket.status,
        to_status=to_status,
        reason=reason,
    )
    return TicketChange(changed, (event,))


def append_item(
    ticket: Ticket, item: ThreadItem, *, now: datetime, reopen: bool = True
) -> TicketChange:
    """Add ``item`` to the thread of ``ticket`` at its place in creation-time order.

    Items with the same creation time keep their order of arrival. Applies the rules that
    follow from the new item:

    - L2: an inbound message on a closed ticket reopens it, unless ``reopen`` is false (the
      threading policy, H3, decided that a new ticket is made instead);
    - L4: the first public outbound message sets ``first_responded_at`` to its sent time,
      which never changes after.
    """
    _require_aware(now, "append_item")
    ref = item.external_ref if isinstance(item, Message) else None
    events: list[DomainEvent] = [
        ItemAppended(ticket_id=ticket.id, at=now, item_id=item.id, reference=ref)
    ]
    first_responded_at = ticket.first_responded_at
    if isinstance(item, Message) and item.is_public_reply and first_responded_at is None:
        first_responded_at = item.sent_at
        events.append(FirstResponseRecorded(ticket_id=ticket.id, at=now, item_id=item.id))
    # Checks only what the new item can break, not the whole thread again (see with_item).
    changed = with_item(ticket, item, first_responded_at=first_responded_at)
    if (
        reopen
        and isinstance(item, Message)
        and item.direction is Direction.INBOUND
        and changed.status is TicketStatus.CLOSED
    ):
        reopened = change_status(changed, TicketStatus.OPEN, now=now, reason="reopened_by_customer")
        changed = reopened.ticket
        events.extend(reopened.events)
    return TicketChange(changed, tuple(events))


def _require_aware(now: datetime, operation: str) -> None:
    if not isinstance(now, datetime) or not is_aware(now):
        raise NaiveDatetimeError(operation, "now", f"{now!r} is not an aware datetime (T1)")
