"""Threading (H2-H4): does a new item join its conversation's ticket, reopen it, or start a
new one?

:func:`decide_threading` is asked when an item's conversation (H1) already has a ticket. An
open, on-hold or escalated ticket takes the item (H2). A closed one is reopened or left
closed per the :class:`~deskcore.models.social.ThreadingPolicy` of the item's kind, measured
from the ticket's ``closed_at`` (H3).
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

import attrs

from deskcore.errors import NaiveDatetimeError
from deskcore.models import Ticket, TicketStatus
from deskcore.models._validate import is_aware
from deskcore.models.social import SocialItemKind, ThreadingMode, ThreadingPolicy

__all__ = ["ThreadingDecision", "ThreadingOutcome", "decide_threading"]


class ThreadingOutcome(enum.StrEnum):
    """Where a conversation's new item goes (H4)."""

    APPEND = "append"
    REOPEN = "reopen"
    NEW = "new"


@attrs.frozen(kw_only=True)
class ThreadingDecision:
    """A threading decision (H4).

    Attributes:
        outcome: ``append``, ``reopen`` or ``new``.
        reason: Stable code (``conversation_has_ticket``, ``reopen_within_window``,
            ``window_passed``, ``always_reopen``, ``always_new``, ``conversation_ticket_trashed``).
        explanation: One sentence a host can show.
    """

    outcome: ThreadingOutcome
    reason: str
    explanation: str


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} hours" if hours != 1 else "1 hour"


def _window(delta: timedelta) -> str:
    """``24-hour window``: the window's length as a compound adjective."""
    return f"{delta.total_seconds() / 3600:g}-hour window"


def decide_threading(
    ticket: Ticket, *, kind: SocialItemKind, policy: ThreadingPolicy, now: datetime
) -> ThreadingDecision:
    """Decide where a new item of ``kind`` goes, given its conversation's ``ticket`` (H2-H4).

    A ticket in the trash (deleted, not merged) does not take new items: they start a new
    ticket (decision 11). A ticket that closed "in the future" (a clock ahead of ``now``)
    counts as just closed.

    Raises:
        NaiveDatetimeError: ``now`` has no time zone.
    """
    if not isinstance(now, datetime) or not is_aware(now):
        raise NaiveDatetimeError("decide_threading", "now", f"{now!r} is not aware (T1)")
    number = f"#{ticket.number}"
    if ticket.is_trashed:
        return ThreadingDecision(
            outcome=ThreadingOutcome.NEW,
            reason="conversation_ticket_trashed",
            explanation=f"the conversation's ticket {number} is in the trash, so the item "
            "starts a new ticket",
        )
    if ticket.status is not TicketStatus.CLOSED:
        return ThreadingDecision(
            outcome=ThreadingOutcome.APPEND,
            reason="conversation_has_ticket",
            explanation=f"the conversation already has ticket {number} "
            f"({ticket.status.value}), so the item joins its thread (H2)",
        )
    assert ticket.closed_at is not None
    rule = policy.rule_for(kind)
    if rule.mode is ThreadingMode.ALWAYS_REOPEN:
        return ThreadingDecision(
            outcome=ThreadingOutcome.REOPEN,
            reason="always_reopen",
            explanation=f"{kind.value} items always reopen their conversation's closed "
            f"ticket {number} (H3)",
        )
    if rule.mode is ThreadingMode.ALWAYS_NEW:
        return ThreadingDecision(
            outcome=ThreadingOutcome.NEW,
            reason="always_new",
            explanation=f"{kind.value} items start a new ticket once their conversation's "
            f"ticket {number} is closed (H3)",
        )
    since = max(now - ticket.closed_at, timedelta(0))
    if since <= rule.window:
        return ThreadingDecision(
            outcome=ThreadingOutcome.REOPEN,
            reason="reopen_within_window",
            explanation=f"ticket {number} closed {_hours(since)} ago, within the "
            f"{_window(rule.window)} for {kind.value} items, so it reopens (H3)",
        )
    return ThreadingDecision(
        outcome=ThreadingOutcome.NEW,
        reason="window_passed",
        explanation=f"ticket {number} closed {_hours(since)} ago, after the "
        f"{_window(rule.window)} for {kind.value} items, so a new ticket starts (H3)",
    )
