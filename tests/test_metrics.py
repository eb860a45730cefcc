"""A contact's numbers (X1), and their use in the connection view (S9) and visitor panel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskcore import Channel, Ticket, TicketStatus, connection_view
from deskcore.errors import InvalidModelError, NaiveDatetimeError, UnknownValueError
from deskcore.models.queue import QueueEntry
from deskcore.policies import ConnectionMetrics
from deskcore.policies.metrics import (
    ContactMetrics,
    Rating,
    connection_metrics,
    contact_metrics,
    overdue_rule,
    to_connection_metrics,
)
from deskcore.testing.strategies import tickets

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=10)
HOUR = timedelta(hours=1)


def ticket(number: int, **changes: Any) -> Ticket:
    fields: dict[str, Any] = {
        "id": f"t-{number}",
        "number": number,
        "department_id": "support",
        "channel": Channel.EMAIL,
        "contact_id": "c-1",
        "created_at": T0,
    }
    return Ticket(**(fields | changes))


def closed(number: int, after: timedelta, **changes: Any) -> Ticket:
    return ticket(number, status=TicketStatus.CLOSED, closed_at=T0 + after, **changes)


def test_X1_averages_ignore_tickets_without_a_response_or_not_resolved() -> None:
    """X1: first response over answered tickets only; resolution over closed tickets only."""
    answered = ticket(1, first_responded_at=T0 + 2 * HOUR)
    unanswered = ticket(2)
    resolved = closed(3, 10 * HOUR, first_responded_at=T0 + 4 * HOUR)
    metrics = contact_metrics([answered, unanswered, resolved], now=NOW)
    assert metrics == ContactMetrics(
        total_tickets=3,
        responded_tickets=2,
        resolved_tickets=1,
        rated_tickets=0,
        average_first_response=3 * HOUR,
        average_resolution=10 * HOUR,
        satisfaction=None,
        overdue_tickets=None,
    )


def test_X1_no_response_and_nothing_resolved_is_no_data() -> None:
    """X1: with no response and nothing resolved, the averages are "no data", not zero."""
    metrics = contact_metrics([ticket(1), ticket(2)], now=NOW)
    assert metrics.total_tickets == 2
    assert metrics.average_first_response is None
    assert metrics.average_resolution is None


def test_X1_empty_set_is_no_data_never_a_division_error() -> None:
    """X1: no tickets: every figure that is an average or a share is None."""
    metrics = contact_metrics([], now=NOW, ratings={}, is_overdue=lambda t, now: True)
    assert metrics.total_tickets == 0
    assert metrics.average_first_response is None
    assert metrics.average_resolution is None
    assert metrics.satisfaction is None
    assert metrics.overdue_tickets == 0


def test_X1_satisfaction_is_the_share_of_good_ratings() -> None:
    """X1: satisfaction is good ratings over rated tickets; others' ratings are ignored."""
    mine = [ticket(1), ticket(2), ticket(3), ticket(4)]
    ratings = {"t-1": "good", "t-2": Rating.BAD, "t-3": "good", "t-99": "bad"}
    metrics = contact_metrics(mine, now=NOW, ratings=ratings)
    assert metrics.satisfaction == pytest.approx(2 / 3)
    assert metrics.rated_tickets == 3
    assert contact_metrics(mine, now=NOW).satisfaction is None
    assert contact_metrics(mine, now=NOW, ratings={"t-99": "good"}).satisfaction is None


def test_X1_an_unknown_rating_is_refused() -> None:
    """X1: a rating is good or bad; anything else is a typed error naming it."""
    with pytest.raises(UnknownValueError, match="excellent"):
        contact_metrics([ticket(1)], now=NOW, ratings={"t-1": "excellent"})


def test_X1_overdue_counts_open_tickets_the_rule_calls_overdue() -> None:
    """X1: overdue tickets by the host's (or the SLA engine's) rule; closed ones never."""
    late = ticket(1)
    done = closed(2, HOUR)
    fine = ticket(3, created_at=NOW - HOUR)
    asked: list[tuple[str, datetime]] = []

    def rule(t: Ticket, now: datetime) -> bool:
        asked.append((t.id, now))
        return t.created_at < NOW - 2 * HOUR

    metrics = contact_metrics([late, done, fine], now=NOW, is_overdue=rule)
    assert metrics.overdue_tickets == 1
    assert asked == [("t-1", NOW), ("t-3", NOW)]


def test_X1_trashed_tickets_are_left_out() -> None:
    """X1: deleted and merged-away tickets count nowhere (their data lives in the primary)."""
    merged = closed(1, HOUR, trashed_at=NOW, merged_into="t-2", first_responded_at=T0)
    metrics = contact_metrics([merged, ticket(2)], now=NOW, ratings={"t-1": "good"})
    assert metrics.total_tickets == 1
    assert metrics.average_resolution is None
    assert metrics.satisfaction is None


def test_X1_averages_round_to_the_microsecond_exactly() -> None:
    """X1: averages are exact timedeltas (no float drift), rounded half to even."""
    one = ticket(1, first_responded_at=T0 + timedelta(microseconds=1))
    two = ticket(2, first_responded_at=T0 + timedelta(microseconds=2))
    metrics = contact_metrics([one, two], now=NOW)
    assert metrics.average_first_response == timedelta(microseconds=2)


def test_X1_T1_bad_input_is_refused() -> None:
    """X1/T1: a naive ``now`` or something that is not a ticket raises a typed error."""
    with pytest.raises(NaiveDatetimeError):
        contact_metrics([], now=datetime(2026, 4, 1))
    with pytest.raises(InvalidModelError):
        contact_metrics(["t-1"], now=NOW)  # type: ignore[list-item]


def test_X1_S9_connection_view_metrics_hook() -> None:
    """S9/X1: connection_metrics is the ``metrics`` hook of the connection view."""
    tickets_ = [closed(1, 4 * HOUR, first_responded_at=T0 + HOUR), ticket(2)]
    view = connection_view(
        None, tickets_, metrics=connection_metrics(now=NOW, ratings={"t-1": "good"})
    )
    assert view.metrics == ConnectionMetrics(
        average_first_response=HOUR, average_resolution=4 * HOUR, satisfaction=1.0
    )
    assert to_connection_metrics(contact_metrics([], now=NOW)) == ConnectionMetrics()


def test_X1_C9_overdue_rule_from_queue_entries() -> None:
    """X1/C9: the SLA engine's queue entries give the overdue rule of metrics and the panel."""
    late, acted, fine = ticket(1), ticket(2), ticket(3)
    rule = overdue_rule(
        [
            QueueEntry(ticket=late, overdue_since=NOW - HOUR),
            QueueEntry(ticket=acted, overdue_since=NOW - HOUR, acted_after_overdue=True),
            QueueEntry(ticket=fine, due_at=NOW + HOUR),
        ]
    )
    assert [rule(t, NOW) for t in (late, acted, fine, ticket(4))] == [True, True, False, False]
    assert rule(late, NOW - 2 * HOUR) is False
    metrics = contact_metrics([late, acted, fine], now=NOW, is_overdue=rule)
    assert metrics.overdue_tickets == 2


# -- properties ----------------------------------------------------------------------------------


def _mean_oracle(durations: list[timedelta]) -> timedelta | None:
    """The plain mean: total microseconds over the count, rounded half to even."""
    if not durations:
        return None
    total = sum(d // timedelta(microseconds=1) for d in durations)
    return timedelta(microseconds=round(Fraction(total, len(durations))))


@given(
    st.lists(tickets(max_items=2), max_size=4),
    st.dictionaries(st.sampled_from(["a", "b", "c"]), st.sampled_from(["good", "bad"])),
)
def test_X1_averages_equal_a_plain_recomputation_and_never_raise(
    drawn: list[Ticket], ratings: dict[str, str]
) -> None:
    """X1: on any tickets the figures equal a plain recomputation; nothing ever raises."""
    ratings = {t.id: value for t, value in zip(drawn, ratings.values(), strict=False)} | ratings
    metrics = contact_metrics(
        drawn, now=NOW, ratings=ratings, is_overdue=lambda t, now: t.number % 2 == 0
    )
    live = [t for t in drawn if t.trashed_at is None]
    assert metrics.total_tickets == len(live)
    responses = [
        t.first_responded_at - t.created_at for t in live if t.first_responded_at is not None
    ]
    resolutions = [
        t.closed_at - t.created_at for t in live if t.status is TicketStatus.CLOSED and t.closed_at
    ]
    assert metrics.average_first_response == _mean_oracle(responses)
    assert metrics.average_resolution == _mean_oracle(resolutions)
    rated = [ratings[t.id] for t in live if t.id in ratings]
    expected = rated.count("good") / len(rated) if rated else None
    assert metrics.satisfaction == expected
    open_even = [t for t in live if t.status is not TicketStatus.CLOSED and t.number % 2 == 0]
    assert metrics.overdue_tickets == len(open_even)
