"""A ticket's place in the work queue (Q1): the ticket and its SLA position at a moment."""

from __future__ import annotations

from datetime import datetime

import attrs

from deskcore.errors import InvalidModelError
from deskcore.models._validate import instance_of, optional_aware, optional_fixed_offset
from deskcore.models.ticket import Ticket

__all__ = ["QueueEntry"]


@attrs.frozen(kw_only=True)
class QueueEntry:
    """One ticket in the work queue, with what the SLA engine knows of it (Q1, SL6, SL7).

    The SLA engine produces these; :func:`deskcore.policies.queue.order_queue` orders them.

    Attributes:
        ticket: The ticket.
        due_at: The next SLA deadline still running, or ``None`` when none is.
        overdue_since: When the ticket went overdue (the deadline it missed), or ``None``
            when it is not overdue.
        acted_after_overdue: An agent acted on the ticket after it went overdue; it then
            leaves the head of the queue (Q1). Needs ``overdue_since``.
    """

    ticket: Ticket = attrs.field(validator=instance_of(Ticket))
    due_at: datetime | None = attrs.field(
        default=None, converter=optional_fixed_offset, validator=optional_aware
    )
    overdue_since: datetime | None = attrs.field(
        default=None, converter=optional_fixed_offset, validator=optional_aware
    )
    acted_after_overdue: bool = attrs.field(default=False, validator=instance_of(bool))

    def __attrs_post_init__(self) -> None:
        if self.acted_after_overdue and self.overdue_since is None:
            raise InvalidModelError(
                "QueueEntry",
                "acted_after_overdue",
                f"ticket {self.ticket.id}: an agent can act after the ticket went overdue "
                "only if it went overdue; set overdue_since",
            )
