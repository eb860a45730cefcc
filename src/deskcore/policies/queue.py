"""The unified work queue (Q1): one order for tickets from every channel.

The order, exactly (:func:`queue_key`):

1. Overdue tickets that no agent has acted on since they went overdue, longest overdue first
   (earliest ``overdue_since``). An entry whose ``overdue_since`` lies after ``now`` is not
   overdue yet. Once an agent acts (``acted_after_overdue``) the ticket leaves this group.
2. Then the tickets that need action (L3, :attr:`Ticket.needs_action`).
3. Then the rest.

Each rule breaks the ties of the one before, so two overdue tickets that went overdue at the
same instant come in needs-action order. Then: next deadline (``due_at``, earliest first, none
last), priority (high, medium, low), age (oldest ``created_at`` first), ticket number, ticket
id. Ticket numbers are unique (T2), and the id breaks any tie left, so the order is total:
two distinct tickets never tie, and the result does not depend on the order of the input
(stable). Give each ticket one entry; two entries of one ticket tie.

Closed and trashed tickets are not in the queue: :func:`order_queue` leaves them out
(:func:`in_queue`). The key is a tuple of plain ints and a string, so a host can store it in
indexed columns and let the database sort; it changes only when the SLA engine's inputs do
(at its ``next_wakeup_at``) or the ticket changes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Final, TypeAlias

from deskcore.errors import InvalidModelError, NaiveDatetimeError
from deskcore.models._validate import is_aware
from deskcore.models.enums import Priority, TicketStatus
from deskcore.models.queue import QueueEntry
from deskcore.models.ticket import Ticket

__all__ = [
    "PRIORITY_RANK",
    "QueueGroup",
    "QueueKey",
    "in_queue",
    "order_queue",
    "queue_group",
    "queue_key",
]

QueueKey: TypeAlias = tuple[int, int, int, int, int, int, int, int, str]
"""``(not_overdue, overdue_since, no_action_needed, no_deadline, due_at, priority, created_at,
number, id)``: flags are 0 or 1, instants microseconds since the Unix epoch (0 when absent)."""

PRIORITY_RANK: Final = {Priority.HIGH: 0, Priority.MEDIUM: 1, Priority.LOW: 2}
"""Priority's place in the order: high first."""

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO: Final = timedelta(microseconds=1)


class QueueGroup(enum.IntEnum):
    """The three groups of the queue, in order (Q1), as :func:`queue_group` reports them."""

    OVERDUE = 0
    """Overdue, and no agent acted since."""
    NEEDS_ACTION = 1
    """Needs action (L3)."""
    OTHER = 2
    """Everything else in the queue."""


def _micros(instant: datetime) -> int:
    return (instant - _EPOCH) // _MICRO


def _require_now(now: datetime, operation: str) -> None:
    if not isinstance(now, datetime) or not is_aware(now):
        raise NaiveDatetimeError(operation, "now", f"{now!r} is not an aware datetime (T1)")


def in_queue(ticket: Ticket) -> bool:
    """True when ``ticket`` belongs in the work queue: neither closed nor trashed (Q1)."""
    return ticket.status is not TicketStatus.CLOSED and not ticket.is_trashed


def _is_overdue(entry: QueueEntry, now: datetime) -> bool:
    return (
        entry.overdue_since is not None
        and entry.overdue_since <= now
        and not entry.acted_after_overdue
    )


def queue_group(entry: QueueEntry, now: datetime) -> QueueGroup:
    """The entry's :class:`QueueGroup` at ``now``."""
    _require_now(now, "queue_group")
    if _is_overdue(entry, now):
        return QueueGroup.OVERDUE
    if entry.ticket.needs_action:
        return QueueGroup.NEEDS_ACTION
    return QueueGroup.OTHER


def queue_key(entry: QueueEntry, now: datetime) -> QueueKey:
    """The entry's sort key at ``now`` (Q1): sort ascending to get the queue.

    Plain ints and a string, so a database can index it. Two entries tie only when they hold
    the same ticket (same number and id).
    """
    if not isinstance(entry, QueueEntry):
        raise InvalidModelError(
            "queue_key", "entry", f"expected a QueueEntry, got {type(entry).__name__}"
        )
    _require_now(now, "queue_key")
    ticket = entry.ticket
    overdue = _is_overdue(entry, now)
    since = 0
    if overdue:
        assert entry.overdue_since is not None
        since = _micros(entry.overdue_since)
    due = entry.due_at
    return (
        0 if overdue else 1,
        since,
        0 if ticket.needs_action else 1,
        0 if due is not None else 1,
        0 if due is None else _micros(due),
        PRIORITY_RANK[ticket.priority],
        _micros(ticket.created_at),
        ticket.number,
        ticket.id,
    )


def order_queue(entries: Iterable[QueueEntry], now: datetime) -> list[QueueEntry]:
    """The work queue at ``now`` (Q1): the entries in queue order, closed and trashed
    tickets left out. Equal to ``sorted(kept, key=lambda e: queue_key(e, now))``."""
    _require_now(now, "order_queue")
    kept = [entry for entry in entries if in_queue(_ticket(entry))]
    return sorted(kept, key=lambda entry: queue_key(entry, now))


def _ticket(entry: QueueEntry) -> Ticket:
    if not isinstance(entry, QueueEntry):
        raise InvalidModelError(
            "order_queue", "entries", f"expected QueueEntry, got {type(entry).__name__}"
        )
    return entry.ticket
