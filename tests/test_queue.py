"""The unified work queue (Q1): overdue first, then needs action (L3), then deadline,
priority, age; total, stable, and available as an indexable sort key."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskcore import Channel, Direction, Message, Priority, Ticket, TicketStatus, Visibility
from deskcore.errors import InvalidModelError, NaiveDatetimeError
from deskcore.models.queue import QueueEntry
from deskcore.policies.queue import (
    PRIORITY_RANK,
    QueueGroup,
    in_queue,
    order_queue,
    queue_group,
    queue_key,
)

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=2)
HOUR = timedelta(hours=1)


def reply(ticket_id: str, at: datetime, direction: Direction) -> Message:
    return Message(
        id=f"m-{direction.value}-{at.timestamp():.0f}",
        origin_ticket_id=ticket_id,
        direction=direction,
        visibility=Visibility.PUBLIC,
        author_id="agent-1" if direction is Direction.OUTBOUND else "c-1",
        body="hello",
        channel=Channel.EMAIL,
        sent_at=at,
    )


def ticket(number: int, *, answered: bool = True, **changes: Any) -> Ticket:
    """A ticket; ``answered`` gives it an agent reply, so it does not need action (L3)."""
    tid = f"t-{number}"
    fields: dict[str, Any] = {
        "id": tid,
        "number": number,
        "department_id": "support",
        "channel": Channel.EMAIL,
        "contact_id": "c-1",
        "created_at": T0,
    }
    if answered:
        fields["thread"] = (
            reply(tid, T0, Direction.INBOUND),
            reply(tid, T0 + HOUR, Direction.OUTBOUND),
        )
    return Ticket(**(fields | changes))


def numbers(entries: list[QueueEntry]) -> list[int]:
    return [entry.ticket.number for entry in entries]


# -- named cases ---------------------------------------------------------------------------------


def test_Q1_overdue_tickets_come_first_until_an_agent_acts() -> None:
    """Q1: an overdue ticket heads the queue; once an agent acts, it drops back."""
    fresh = QueueEntry(ticket=ticket(1, answered=False), due_at=NOW + HOUR)
    overdue = QueueEntry(ticket=ticket(2), overdue_since=NOW - HOUR)
    assert numbers(order_queue([fresh, overdue], NOW)) == [2, 1]
    acted = attrs.evolve(overdue, acted_after_overdue=True)
    assert queue_group(acted, NOW) is QueueGroup.OTHER
    assert numbers(order_queue([fresh, acted], NOW)) == [1, 2]


def test_Q1_longest_overdue_first() -> None:
    """Q1: among overdue tickets, the one overdue the longest comes first."""
    recent = QueueEntry(ticket=ticket(1, priority=Priority.HIGH), overdue_since=NOW - HOUR)
    oldest = QueueEntry(ticket=ticket(2, priority=Priority.LOW), overdue_since=NOW - 5 * HOUR)
    middle = QueueEntry(ticket=ticket(3), overdue_since=NOW - 2 * HOUR)
    assert numbers(order_queue([recent, oldest, middle], NOW)) == [2, 3, 1]


def test_Q1_not_yet_overdue_when_overdue_since_is_after_now() -> None:
    """Q1: an entry is overdue only from ``overdue_since`` on."""
    entry = QueueEntry(ticket=ticket(1), overdue_since=NOW + HOUR)
    assert queue_group(entry, NOW) is QueueGroup.OTHER
    assert queue_group(entry, NOW + HOUR) is QueueGroup.OVERDUE


def test_Q1_L3_needs_action_comes_before_the_rest() -> None:
    """Q1/L3: after the overdue tickets, tickets that need action, whatever their deadline."""
    answered = QueueEntry(ticket=ticket(1), due_at=NOW)
    new = QueueEntry(ticket=ticket(2, answered=False), due_at=NOW + 10 * HOUR)
    customer_wrote_again = ticket(3)
    customer_wrote_again = attrs.evolve(
        customer_wrote_again,
        thread=(*customer_wrote_again.thread, reply("t-3", T0 + 2 * HOUR, Direction.INBOUND)),
    )
    again = QueueEntry(ticket=customer_wrote_again, due_at=NOW + 20 * HOUR)
    assert numbers(order_queue([answered, again, new], NOW)) == [2, 3, 1]


def test_Q1_then_next_deadline_with_none_last() -> None:
    """Q1: inside a group, the earliest next deadline first; no deadline last."""
    later = QueueEntry(ticket=ticket(1, priority=Priority.HIGH), due_at=NOW + 2 * HOUR)
    sooner = QueueEntry(ticket=ticket(2, priority=Priority.LOW), due_at=NOW + HOUR)
    none = QueueEntry(ticket=ticket(3, priority=Priority.HIGH))
    assert numbers(order_queue([none, later, sooner], NOW)) == [2, 1, 3]


def test_Q1_then_priority_then_age_then_number() -> None:
    """Q1: same deadline: high priority first, then the oldest, then the lowest number."""
    due = NOW + HOUR
    low = QueueEntry(ticket=ticket(1, priority=Priority.LOW), due_at=due)
    high_young = QueueEntry(
        ticket=ticket(2, priority=Priority.HIGH, created_at=T0 + HOUR), due_at=due
    )
    high_old = QueueEntry(ticket=ticket(3, priority=Priority.HIGH), due_at=due)
    high_old_twin = QueueEntry(ticket=ticket(4, priority=Priority.HIGH), due_at=due)
    medium = QueueEntry(ticket=ticket(5), due_at=due)
    queue = order_queue([low, medium, high_old_twin, high_young, high_old], NOW)
    assert numbers(queue) == [3, 4, 2, 5, 1]
    assert PRIORITY_RANK == {Priority.HIGH: 0, Priority.MEDIUM: 1, Priority.LOW: 2}


def test_Q1_closed_and_trashed_tickets_are_not_in_the_queue() -> None:
    """Q1: the queue holds work to do: closed and trashed tickets are left out."""
    closed = ticket(1, status=TicketStatus.CLOSED, closed_at=NOW)
    trashed = ticket(2, trashed_at=NOW)
    merged = ticket(3, trashed_at=NOW, merged_into="t-9")
    held = ticket(4, status=TicketStatus.ON_HOLD, on_hold_since=NOW)
    entries = [QueueEntry(ticket=t) for t in (closed, trashed, merged, held)]
    assert numbers(order_queue(entries, NOW)) == [4]
    assert [in_queue(t) for t in (closed, trashed, merged, held)] == [False, False, False, True]


def test_Q1_key_is_plain_values_a_database_can_index() -> None:
    """Q1: the key is a tuple of plain ints and a string; instants are epoch microseconds."""
    tokyo = timezone(timedelta(hours=9))
    entry = QueueEntry(
        ticket=ticket(7, priority=Priority.HIGH, created_at=T0.astimezone(tokyo)),
        due_at=(NOW + HOUR).astimezone(tokyo),
    )
    key = queue_key(entry, NOW)
    assert all(type(part) is int for part in key[:-1])
    assert type(key[-1]) is str
    micros = int((T0 - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 10**6
    assert key == (1, 0, 1, 0, micros + 49 * 3600 * 10**6, 0, micros, 7, "t-7")


def test_Q1_acted_after_overdue_needs_overdue_since() -> None:
    """Q1: "an agent acted since it went overdue" is meaningless for a ticket never overdue."""
    with pytest.raises(InvalidModelError, match="overdue_since"):
        QueueEntry(ticket=ticket(1), acted_after_overdue=True)


def test_Q1_T1_naive_times_are_refused() -> None:
    """Q1/T1: naive datetimes are refused, in the entry and as ``now``."""
    with pytest.raises(NaiveDatetimeError):
        QueueEntry(ticket=ticket(1), due_at=datetime(2026, 4, 1, 9))
    with pytest.raises(NaiveDatetimeError):
        order_queue([], datetime(2026, 4, 1, 9))
    with pytest.raises(InvalidModelError):
        order_queue(["t-1"], NOW)  # type: ignore[list-item]


# -- properties ----------------------------------------------------------------------------------


_STATES = st.sampled_from(["open", "on_hold", "escalated", "closed", "trashed", "merged"])
_TOKYO = timezone(timedelta(hours=9))
_CREATED = st.sampled_from([T0, T0 + HOUR, (T0 - HOUR).astimezone(_TOKYO), T0 - 30 * HOUR])
_THREADS = {
    "new": (),
    "answered": (reply("x", T0, Direction.INBOUND), reply("x", T0 + HOUR, Direction.OUTBOUND)),
    "wrote_again": (
        reply("x", T0, Direction.INBOUND),
        reply("x", T0 + HOUR, Direction.OUTBOUND),
        attrs.evolve(reply("x", T0 + 2 * HOUR, Direction.INBOUND), id="m-again"),
    ),
}


@st.composite
def queue_tickets(draw: st.DrawFn, index: int) -> Ticket:
    """Cheap tickets for the queue: every state; new, answered or written to again (L3)."""
    state = draw(_STATES)
    return ticket(
        draw(st.integers(1, 3)) * 100 + index,
        answered=False,
        thread=_THREADS[draw(st.sampled_from(sorted(_THREADS)))],
        priority=draw(st.sampled_from(Priority)),
        created_at=draw(_CREATED),
        status={"closed": "closed", "on_hold": "on_hold", "escalated": "escalated"}.get(
            state, "open"
        ),
        closed_at=NOW if state == "closed" else None,
        on_hold_since=NOW if state == "on_hold" else None,
        trashed_at=NOW if state in {"trashed", "merged"} else None,
        merged_into="t-0" if state == "merged" and index else None,
    )


@st.composite
def entries(draw: st.DrawFn) -> list[QueueEntry]:
    """Entries with distinct tickets; instants drawn from a small set, so ties are common."""
    instants = st.sampled_from([NOW + k * HOUR for k in range(-3, 4)])
    drawn = []
    for index in range(draw(st.integers(0, 8))):
        overdue = draw(st.none() | instants)
        drawn.append(
            QueueEntry(
                ticket=draw(queue_tickets(index)),
                due_at=draw(st.none() | instants),
                overdue_since=overdue,
                acted_after_overdue=overdue is not None and draw(st.booleans()),
            )
        )
    return drawn


def _oracle_compare(a: QueueEntry, b: QueueEntry) -> int:
    """Q1 spelled out rule by rule, comparing two entries; -1 when ``a`` comes first."""

    def cmp(x: Any, y: Any) -> int:
        return (x > y) - (x < y)

    def overdue(e: QueueEntry) -> bool:
        return e.overdue_since is not None and e.overdue_since <= NOW and not e.acted_after_overdue

    if overdue(a) != overdue(b):
        return -1 if overdue(a) else 1
    if overdue(a):
        assert a.overdue_since is not None
        assert b.overdue_since is not None
        longest = cmp(NOW - b.overdue_since, NOW - a.overdue_since)
        if longest:
            return longest
    if a.ticket.needs_action != b.ticket.needs_action:
        return -1 if a.ticket.needs_action else 1
    if (a.due_at is None) != (b.due_at is None):
        return 1 if a.due_at is None else -1
    if a.due_at is not None and b.due_at is not None and a.due_at != b.due_at:
        return cmp(a.due_at, b.due_at)
    ranks = {Priority.HIGH: 3, Priority.MEDIUM: 2, Priority.LOW: 1}
    if a.ticket.priority != b.ticket.priority:
        return cmp(ranks[b.ticket.priority], ranks[a.ticket.priority])
    if a.ticket.created_at != b.ticket.created_at:
        return cmp(a.ticket.created_at, b.ticket.created_at)
    return cmp((a.ticket.number, a.ticket.id), (b.ticket.number, b.ticket.id))


@given(entries(), st.randoms(use_true_random=False))
def test_Q1_order_is_the_sort_by_key_whatever_the_input_order(
    drawn: list[QueueEntry], random: Any
) -> None:
    """Q1: order_queue equals sorting by queue_key, and does not depend on the input order."""
    kept = [e for e in drawn if in_queue(e.ticket)]
    queue = order_queue(drawn, NOW)
    assert queue == sorted(kept, key=lambda e: queue_key(e, NOW))
    shuffled = list(drawn)
    random.shuffle(shuffled)
    assert order_queue(shuffled, NOW) == queue


@given(entries())
def test_Q1_order_is_total_no_ties_between_distinct_tickets(drawn: list[QueueEntry]) -> None:
    """Q1: distinct tickets never share a key, so the order is total and antisymmetric."""
    keys = [queue_key(e, NOW) for e in drawn]
    assert len(set(keys)) == len(keys)
    for a, ka in zip(drawn, keys, strict=True):
        for b, kb in zip(drawn, keys, strict=True):
            assert (ka < kb) == (_oracle_compare(a, b) < 0)
            assert (ka == kb) == (a is b)


@given(entries())
def test_Q1_agrees_with_a_slow_comparator_oracle(drawn: list[QueueEntry]) -> None:
    """Q1: the key's order equals the rule-by-rule comparator's order."""
    kept = [e for e in drawn if in_queue(e.ticket)]
    expected = sorted(kept, key=functools.cmp_to_key(_oracle_compare))
    assert order_queue(drawn, NOW) == expected
