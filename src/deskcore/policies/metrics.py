"""A contact's helpdesk numbers (X1): response and resolution times, satisfaction, counts.

:func:`contact_metrics` is pure: it takes the contact's tickets, the ratings and an overdue
rule, and returns :class:`ContactMetrics`. An average over nothing is ``None`` ("no data"),
never zero and never a division error. Trashed tickets (deleted, or merged into another,
whose items and times live on in the primary, M6) are left out of every figure.

The same numbers feed the social connection view (S9, :func:`connection_metrics` builds its
``metrics`` hook) and the chat visitor panel: ``is_overdue`` has the panel's overdue rule
type (:data:`OverdueRule`), so one rule serves both, and :func:`overdue_rule` builds one
from the SLA engine's queue entries (Q1).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TypeAlias

import attrs

from deskcore.errors import InvalidModelError, NaiveDatetimeError
from deskcore.models._validate import coerce, is_aware
from deskcore.models.enums import TicketStatus
from deskcore.models.queue import QueueEntry
from deskcore.models.ticket import Ticket
from deskcore.policies.social import ConnectionMetrics

__all__ = [
    "ContactMetrics",
    "OverdueRule",
    "Rating",
    "connection_metrics",
    "contact_metrics",
    "overdue_rule",
    "to_connection_metrics",
]

OverdueRule: TypeAlias = Callable[[Ticket, datetime], bool]
"""Whether a ticket is overdue at a moment: the chat visitor panel's rule too (C9)."""


class Rating(enum.StrEnum):
    """A customer's satisfaction rating of a ticket (X1)."""

    GOOD = "good"
    BAD = "bad"


@attrs.frozen(kw_only=True)
class ContactMetrics:
    """A contact's numbers (X1). ``None`` means "no data", never zero.

    Attributes:
        total_tickets: The contact's tickets (trashed ones left out).
        responded_tickets: How many of them have a first response.
        resolved_tickets: How many of them are closed.
        rated_tickets: How many of them have a rating.
        average_first_response: Mean of ``first_responded_at - created_at`` over the
            tickets with a response; ``None`` when none has one.
        average_resolution: Mean of ``closed_at - created_at`` over the closed tickets;
            ``None`` when none is closed.
        satisfaction: Share of good ratings among the rated tickets, from 0 to 1; ``None``
            without ratings.
        overdue_tickets: How many open (not closed) tickets the overdue rule calls overdue;
            ``None`` when no rule was given.
    """

    total_tickets: int
    responded_tickets: int
    resolved_tickets: int
    rated_tickets: int
    average_first_response: timedelta | None
    average_resolution: timedelta | None
    satisfaction: float | None
    overdue_tickets: int | None


def _mean(durations: Sequence[timedelta]) -> timedelta | None:
    # timedelta / int rounds to the nearest microsecond, ties to even: exact, no float.
    if not durations:
        return None
    return sum(durations, timedelta(0)) / len(durations)


def _rating(ticket_id: object, value: object) -> Rating:
    return coerce(Rating, value, "contact_metrics", f"ratings[{ticket_id!r}]")


def contact_metrics(
    tickets: Iterable[Ticket],
    *,
    now: datetime,
    ratings: Mapping[str, Rating | str] | None = None,
    is_overdue: OverdueRule | None = None,
) -> ContactMetrics:
    """The numbers of a contact's ``tickets`` at ``now`` (X1).

    Args:
        tickets: The contact's tickets; trashed ones are left out.
        now: The moment the overdue rule is asked about.
        ratings: Satisfaction ratings (``"good"`` or ``"bad"``) by ticket id; ratings of
            tickets not in ``tickets`` (or trashed) are ignored. ``None`` or empty: no
            satisfaction figure.
        is_overdue: Whether a ticket is overdue at ``now``; asked for open tickets only.
            ``None``: no overdue count.

    Raises:
        NaiveDatetimeError: ``now`` is naive.
        UnknownValueError: A rating is neither good nor bad.
        InvalidModelError: Something in ``tickets`` is not a ticket.
    """
    if not isinstance(now, datetime) or not is_aware(now):
        raise NaiveDatetimeError("contact_metrics", "now", f"{now!r} is not an aware datetime")
    live: list[Ticket] = []
    for ticket in tickets:
        if not isinstance(ticket, Ticket):
            raise InvalidModelError(
                "contact_metrics", "tickets", f"expected Ticket, got {type(ticket).__name__}"
            )
        if not ticket.is_trashed:
            live.append(ticket)
    responses = [
        t.first_responded_at - t.created_at for t in live if t.first_responded_at is not None
    ]
    resolutions = [t.closed_at - t.created_at for t in live if t.closed_at is not None]
    satisfaction = None
    rated = 0
    if ratings:
        checked = {key: _rating(key, value) for key, value in ratings.items()}
        given = [checked[t.id] for t in live if t.id in checked]
        rated = len(given)
        if given:
            satisfaction = sum(1 for r in given if r is Rating.GOOD) / rated
    overdue = None
    if is_overdue is not None:
        overdue = sum(1 for t in live if t.status is not TicketStatus.CLOSED and is_overdue(t, now))
    return ContactMetrics(
        total_tickets=len(live),
        responded_tickets=len(responses),
        resolved_tickets=len(resolutions),
        rated_tickets=rated,
        average_first_response=_mean(responses),
        average_resolution=_mean(resolutions),
        satisfaction=satisfaction,
        overdue_tickets=overdue,
    )


def to_connection_metrics(metrics: ContactMetrics) -> ConnectionMetrics:
    """The social connection view's figures (S9) from a contact's metrics (X1)."""
    return ConnectionMetrics(
        average_first_response=metrics.average_first_response,
        average_resolution=metrics.average_resolution,
        satisfaction=metrics.satisfaction,
    )


def connection_metrics(
    *, now: datetime, ratings: Mapping[str, Rating | str] | None = None
) -> Callable[[Sequence[Ticket]], ConnectionMetrics]:
    """The ``metrics`` hook of :func:`~deskcore.policies.social.connection_view` and
    ``Desk.connection_view`` (S9): X1's averages and satisfaction for the tickets given."""

    def metrics(tickets: Sequence[Ticket]) -> ConnectionMetrics:
        return to_connection_metrics(contact_metrics(tickets, now=now, ratings=ratings))

    return metrics


def overdue_rule(entries: Iterable[QueueEntry]) -> OverdueRule:
    """An overdue rule from the SLA engine's queue entries (Q1): a ticket is overdue at
    ``now`` when its entry's ``overdue_since`` is at or before ``now``, whether or not an
    agent acted since. Tickets without an entry are not overdue. Usable as
    :func:`contact_metrics`'s ``is_overdue`` and as the chat visitor panel's (C9)."""
    since = {entry.ticket.id: entry.overdue_since for entry in entries}

    def is_overdue(ticket: Ticket, now: datetime) -> bool:
        at = since.get(ticket.id)
        return at is not None and at <= now

    return is_overdue
