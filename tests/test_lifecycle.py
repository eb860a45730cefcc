"""The ticket lifecycle (L1-L4): the transition table, reopening, needs-action, first response
and on-hold time; and the purity (P1) and events (P4) of the lifecycle functions."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from deskcore import (
    TRANSITIONS,
    Channel,
    Comment,
    Direction,
    DomainEvent,
    FirstResponseRecorded,
    InvalidTransitionError,
    ItemAppended,
    Message,
    NaiveDatetimeError,
    StatusChanged,
    StatusRecord,
    ThreadItem,
    Ticket,
    TicketStatus,
    TimeOrderError,
    Visibility,
    append_item,
    can_change_status,
    change_status,
)
from deskcore.testing import FixedClock
from deskcore.testing import strategies as s

OPEN, ON_HOLD, ESCALATED, CLOSED = (
    TicketStatus.OPEN,
    TicketStatus.ON_HOLD,
    TicketStatus.ESCALATED,
    TicketStatus.CLOSED,
)
T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
NEW_ITEM = "new-item"
GAPS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3))
NO_DST = st.one_of(st.just(UTC), s.fixed_offsets())


def ticket(**changes: Any) -> Ticket:
    fields: dict[str, Any] = {
        "id": "t-1",
        "number": 1,
        "department_id": "support",
        "channel": Channel.EMAIL,
        "contact_id": "c-1",
        "created_at": T0,
    }
    return Ticket(**(fields | changes))


def message(
    direction: Direction = Direction.INBOUND,
    visibility: Visibility = Visibility.PUBLIC,
    *,
    item_id: str = NEW_ITEM,
    sent_at: datetime = T0,
    ticket_id: str = "t-1",
) -> Message:
    return Message(
        id=item_id,
        origin_ticket_id=ticket_id,
        direction=direction,
        visibility=visibility,
        author_id="someone",
        body="もしもし",
        channel=Channel.TWITTER,
        sent_at=sent_at,
    )


def latest(t: Ticket) -> datetime:
    """The latest instant recorded on ``t``: a ``now`` after it is a valid ``now``."""
    times = [t.created_at, *(item.created_at for item in t.thread)]
    times += [x for x in (t.on_hold_since, t.closed_at, t.trashed_at) if x is not None]
    times += [record.at for record in t.status_log]
    return max(times, key=lambda moment: moment.astimezone(UTC))


def test_L1_a_status_change_before_the_last_one_is_a_time_order_error() -> None:
    """L1/SL7: the status log stays in time order; a ``now`` before the last status change
    (a worker's clock behind another's) raises TimeOrderError and changes nothing."""
    t = change_status(ticket(), CLOSED, now=T0 + timedelta(hours=2)).ticket
    with pytest.raises(TimeOrderError) as caught:
        change_status(t, OPEN, now=T0 + timedelta(hours=1))
    assert "before its last status change" in str(caught.value)
    assert caught.value.details["ticket_id"] == t.id


def test_SL7_the_status_log_records_each_change_and_infers_a_missing_start() -> None:
    """SL7: change_status keeps the history the SLA engine reads; a ticket stored on hold
    without a log gets the change its ``on_hold_since`` implies, so the hold is not lost."""
    held = ticket(status=ON_HOLD, on_hold_since=T0 + timedelta(hours=1))
    assert held.status_history() == (
        StatusRecord(
            at=T0 + timedelta(hours=1), from_status=OPEN, to_status=ON_HOLD, reason="implied"
        ),
    )
    back = change_status(held, OPEN, now=T0 + timedelta(hours=3)).ticket
    assert [(r.from_status, r.to_status, r.at) for r in back.status_log] == [
        (OPEN, ON_HOLD, T0 + timedelta(hours=1)),
        (ON_HOLD, OPEN, T0 + timedelta(hours=3)),
    ]
    assert ticket().status_history() == ()


def status_change(t: Ticket, to: TicketStatus, now: datetime, reason: str) -> StatusChanged:
    return StatusChanged(ticket_id=t.id, at=now, from_status=t.status, to_status=to, reason=reason)


# -- L1: the transition table --------------------------------------------------------------------


def test_L1_table_covers_every_status_and_has_no_self_loops() -> None:
    """L1: the table names the targets of every status; a status is not its own target."""
    assert set(TRANSITIONS) == set(TicketStatus)
    for source, targets in TRANSITIONS.items():
        assert source not in targets
        assert targets <= set(TicketStatus)
    assert TRANSITIONS[CLOSED] == {OPEN}
    assert TRANSITIONS[OPEN] == {ON_HOLD, ESCALATED, CLOSED}


def test_L1_table_is_read_only() -> None:
    """L1: the table is data nobody can change at run time."""
    with pytest.raises(TypeError):
        TRANSITIONS[CLOSED] = frozenset(TicketStatus)  # type: ignore[index]
    assert isinstance(TRANSITIONS[OPEN], frozenset)


@pytest.mark.parametrize("source", list(TicketStatus))
@pytest.mark.parametrize("target", list(TicketStatus))
def test_L1_can_change_status_reads_the_table(source: TicketStatus, target: TicketStatus) -> None:
    """L1: can_change_status is exactly membership in the table."""
    assert can_change_status(source, target) is (target in TRANSITIONS[source])


@given(s.tickets(max_items=3), st.sampled_from(TicketStatus), GAPS)
def test_L1_change_status_succeeds_iff_the_table_allows(
    t: Ticket, target: TicketStatus, gap: timedelta
) -> None:
    """L1: change_status succeeds exactly for the pairs in the table, is a no-op (no event) for
    the same status, and otherwise raises InvalidTransitionError naming from and to (P4: a
    change returns one StatusChanged event with the ticket id and ``now``)."""
    now = latest(t) + gap
    if target is t.status:
        change = change_status(t, target, now=now)
        assert change.ticket == t
        assert change.events == ()
        return
    if target not in TRANSITIONS[t.status]:
        with pytest.raises(InvalidTransitionError) as caught:
            change_status(t, target, now=now)
        error = caught.value
        assert (error.ticket_id, error.from_status, error.to_status) == (
            t.id,
            t.status.value,
            target.value,
        )
        assert f"from {t.status.value} to {target.value}" in str(error)
        return
    change = change_status(t, target, now=now)
    after = change.ticket
    assert after.status is target
    assert change.events == (status_change(t, target, now, "agent"),)
    assert after.closed_at == (now if target is CLOSED else None)
    assert after.on_hold_since == (now if target is ON_HOLD else None)
    held = now - t.on_hold_since if t.on_hold_since is not None else timedelta(0)
    assert after.on_hold_time == t.on_hold_time + held
    assert after.status_log == (
        *t.status_history(),
        StatusRecord(at=now, from_status=t.status, to_status=target, reason="agent"),
    )
    unchanged = {"status", "closed_at", "on_hold_since", "on_hold_time", "status_log"}
    for field in attrs.fields(Ticket):
        if field.name not in unchanged:
            assert getattr(after, field.name) == getattr(t, field.name), field.name


def test_L1_status_may_be_given_as_its_code() -> None:
    """L1: the target status may be given as its string code."""
    change = change_status(ticket(), "escalated", now=T0)  # type: ignore[arg-type]
    assert change.ticket.status is ESCALATED


def test_L1_reason_is_recorded() -> None:
    """L1/P4: the event carries the reason given."""
    change = change_status(ticket(), CLOSED, now=T0, reason="resolved_by_bot")
    assert change.events == (status_change(ticket(), CLOSED, T0, "resolved_by_bot"),)


def test_L1_closed_ticket_must_be_reopened_first() -> None:
    """L1: a closed ticket goes back to open, not straight to hold or escalation."""
    closed = change_status(ticket(), CLOSED, now=T0).ticket
    for target in (ON_HOLD, ESCALATED):
        with pytest.raises(InvalidTransitionError, match=f"from closed to {target.value}"):
            change_status(closed, target, now=T0)
    reopened = change_status(closed, OPEN, now=T0 + timedelta(hours=1)).ticket
    assert reopened.status is OPEN
    assert reopened.closed_at is None


# -- L2: a customer writing again reopens ----------------------------------------------------------


def test_L2_inbound_message_reopens_closed_ticket() -> None:
    """L2: an inbound customer message on a closed ticket reopens it."""
    closed = ticket(status=CLOSED, closed_at=T0)
    now = T0 + timedelta(days=2)
    change = append_item(closed, message(sent_at=now), now=now)
    assert change.ticket.status is OPEN
    assert change.ticket.closed_at is None
    assert change.ticket.thread[-1].id == NEW_ITEM
    assert change.events == (
        ItemAppended(ticket_id="t-1", at=now, item_id=NEW_ITEM),
        StatusChanged(
            ticket_id="t-1",
            at=now,
            from_status=CLOSED,
            to_status=OPEN,
            reason="reopened_by_customer",
        ),
    )


def test_L2_reopen_false_keeps_the_ticket_closed() -> None:
    """L2: when the threading policy says "new ticket", the append does not reopen."""
    closed = ticket(status=CLOSED, closed_at=T0)
    now = T0 + timedelta(days=2)
    change = append_item(closed, message(sent_at=now), now=now, reopen=False)
    assert change.ticket.status is CLOSED
    assert change.ticket.closed_at == T0
    assert [type(e) for e in change.events] == [ItemAppended]


@pytest.mark.parametrize("visibility", list(Visibility))
def test_L2_outbound_message_does_not_reopen(visibility: Visibility) -> None:
    """L2: an agent's message on a closed ticket leaves it closed."""
    closed = ticket(status=CLOSED, closed_at=T0)
    change = append_item(closed, message(Direction.OUTBOUND, visibility), now=T0)
    assert change.ticket.status is CLOSED
    assert change.ticket.closed_at == T0
    assert not any(isinstance(e, StatusChanged) for e in change.events)


def test_L2_comment_does_not_reopen() -> None:
    """L2: an agent's comment on a closed ticket leaves it closed."""
    closed = ticket(status=CLOSED, closed_at=T0)
    note = Comment(id="n-1", origin_ticket_id="t-1", author_id="a", body="x", created_at=T0)
    assert append_item(closed, note, now=T0).ticket.status is CLOSED


@given(
    s.tickets(statuses=st.just(CLOSED), max_items=3),
    st.sampled_from(Direction),
    st.sampled_from(Visibility),
    st.booleans(),
    GAPS,
)
def test_L2_reopen_property(
    t: Ticket, direction: Direction, visibility: Visibility, reopen: bool, gap: timedelta
) -> None:
    """L2: on a closed ticket, exactly an inbound message with ``reopen`` set reopens it."""
    assume(all(item.id != NEW_ITEM for item in t.thread))
    now = latest(t) + gap
    item = message(direction, visibility, sent_at=now, ticket_id=t.id)
    change = append_item(t, item, now=now, reopen=reopen)
    reopened = reopen and direction is Direction.INBOUND
    assert change.ticket.status is (OPEN if reopened else CLOSED)
    status_events = [e for e in change.events if isinstance(e, StatusChanged)]
    if reopened:
        assert status_events == [status_change(t, OPEN, now, "reopened_by_customer")]
        assert change.ticket.closed_at is None
    else:
        assert status_events == []
        assert change.ticket.closed_at == t.closed_at


# -- L3: needs action ------------------------------------------------------------------------------


def needs_action_oracle(t: Ticket) -> bool:
    """L3, spelled out: not closed, and no agent reply yet or the customer wrote after it."""
    if t.status is CLOSED:
        return False
    messages = [item for item in t.thread if isinstance(item, Message)]
    replies = [
        n
        for n, m in enumerate(messages)
        if m.direction is Direction.OUTBOUND and m.visibility is Visibility.PUBLIC
    ]
    if not replies:
        return True
    return any(m.direction is Direction.INBOUND for m in messages[replies[-1] + 1 :])


@given(s.tickets())
def test_L3_needs_action_matches_the_oracle(t: Ticket) -> None:
    """L3: needs_action agrees with a slow, obvious reading of the rule."""
    assert t.needs_action is needs_action_oracle(t)


@given(
    s.tickets(statuses=st.sampled_from([OPEN, ON_HOLD, ESCALATED]), max_items=3),
    st.lists(st.tuples(st.sampled_from(Direction), st.sampled_from(Visibility)), max_size=6),
)
def test_L3_needs_action_follows_the_conversation(
    t: Ticket, steps: list[tuple[Direction, Visibility]]
) -> None:
    """L3: a customer message makes a ticket need action; a public agent reply answers it;
    private notes change nothing."""
    now = latest(t)
    for n, (direction, visibility) in enumerate(steps):
        now += timedelta(minutes=1)
        item = message(direction, visibility, item_id=f"step-{n}", sent_at=now, ticket_id=t.id)
        assume(all(i.id != item.id for i in t.thread))
        before = t.needs_action
        t = append_item(t, item, now=now).ticket
        if direction is Direction.INBOUND:
            assert t.needs_action
        elif visibility is Visibility.PUBLIC:
            assert not t.needs_action
        else:
            assert t.needs_action is before
        assert t.needs_action is needs_action_oracle(t)


def test_L3_new_ticket_needs_action_closed_does_not() -> None:
    """L3: a new ticket without a reply needs action; a closed ticket is done."""
    assert ticket().needs_action
    assert ticket(thread=(message(Direction.OUTBOUND, Visibility.PRIVATE),)).needs_action
    assert not ticket(status=CLOSED, closed_at=T0, thread=(message(),)).needs_action


def test_L3_needs_action_is_derived_not_stored() -> None:
    """L3: needs_action is a property computed from the thread, not a field."""
    assert "needs_action" not in attrs.fields_dict(Ticket)
    assert isinstance(vars(Ticket)["needs_action"], property)


# -- L4: first response --------------------------------------------------------------------------


@given(
    s.tickets(statuses=st.sampled_from(list(TicketStatus)), max_items=3),
    st.lists(st.tuples(st.sampled_from(Direction), st.sampled_from(Visibility), GAPS), max_size=6),
)
def test_L4_first_response_is_set_once_by_the_first_public_reply(
    t: Ticket, steps: list[tuple[Direction, Visibility, timedelta]]
) -> None:
    """L4: first_responded_at is set by the first public outbound message, to its sent time,
    with one FirstResponseRecorded event, and never changes after."""
    expected = t.first_responded_at
    now = latest(t)
    for n, (direction, visibility, gap) in enumerate(steps):
        now += gap
        item = message(direction, visibility, item_id=f"step-{n}", sent_at=now, ticket_id=t.id)
        assume(all(i.id != item.id for i in t.thread))
        change = append_item(t, item, now=now)
        recorded = [e for e in change.events if isinstance(e, FirstResponseRecorded)]
        if expected is None and item.is_public_reply:
            expected = item.sent_at
            assert recorded == [FirstResponseRecorded(ticket_id=t.id, at=now, item_id=item.id)]
        else:
            assert recorded == []
        t = change.ticket
        assert t.first_responded_at == expected


@pytest.mark.parametrize(
    "item",
    [
        message(Direction.OUTBOUND, Visibility.PRIVATE),
        message(Direction.INBOUND, Visibility.PUBLIC),
        message(Direction.INBOUND, Visibility.PRIVATE),
        Comment(
            id=NEW_ITEM,
            origin_ticket_id="t-1",
            visibility=Visibility.PUBLIC,
            author_id="agent",
            body="public note",
            created_at=T0,
        ),
    ],
    ids=["private-outbound", "public-inbound", "private-inbound", "public-comment"],
)
def test_L4_only_a_public_outbound_message_is_a_first_response(item: ThreadItem) -> None:
    """L4: private outbound messages, inbound messages and comments set no first response."""
    change = append_item(ticket(), item, now=T0)
    assert change.ticket.first_responded_at is None
    assert not any(isinstance(e, FirstResponseRecorded) for e in change.events)


def test_L4_first_response_keeps_its_time_when_an_earlier_reply_arrives_late() -> None:
    """L4: a public reply appended later never moves first_responded_at, even if sent earlier."""
    first = message(Direction.OUTBOUND, item_id="r-1", sent_at=T0 + timedelta(hours=2))
    late = message(Direction.OUTBOUND, item_id="r-2", sent_at=T0 + timedelta(hours=1))
    t = append_item(ticket(), first, now=T0 + timedelta(hours=2)).ticket
    t = append_item(t, late, now=T0 + timedelta(hours=3)).ticket
    assert t.first_responded_at == T0 + timedelta(hours=2)
    assert [i.id for i in t.thread] == ["r-2", "r-1"]


# -- L4: on-hold time ------------------------------------------------------------------------------


@given(s.aware_datetimes(timezones=NO_DST), st.data())
def test_L4_on_hold_time_is_the_sum_of_hold_intervals(start: datetime, data: st.DataObject) -> None:
    """L4: over any walk through the table, on_hold_time is the sum of the time spent on hold,
    and on_hold_time_at(now) also counts a hold still running."""
    clock = FixedClock(start)
    t = ticket(created_at=start)
    settled = timedelta(0)  # holds that ended
    running = timedelta(0)  # the hold in progress
    for _ in range(data.draw(st.integers(0, 10), label="steps")):
        gap = data.draw(GAPS, label="gap")
        clock.advance(gap)
        if t.status is ON_HOLD:
            running += gap
        target = data.draw(st.sampled_from(sorted(TRANSITIONS[t.status])), label="target")
        t = change_status(t, target, now=clock.now()).ticket
        if target is not ON_HOLD:
            settled, running = settled + running, timedelta(0)
        assert t.on_hold_time == settled
        assert t.on_hold_time_at(clock.now()) == settled + running
    extra = data.draw(GAPS, label="extra")
    later = clock.advance(extra)
    expected = settled + running + (extra if t.status is ON_HOLD else timedelta(0))
    assert t.on_hold_time_at(later) == expected


def test_L4_on_hold_time_at_counts_a_running_hold() -> None:
    """L4: on_hold_time_at(now) adds the hold in progress; at or before its start, nothing."""
    t = ticket(on_hold_time=timedelta(minutes=5))
    held = change_status(t, ON_HOLD, now=T0 + timedelta(hours=1)).ticket
    assert held.on_hold_since == T0 + timedelta(hours=1)
    assert held.on_hold_time == timedelta(minutes=5)
    assert held.on_hold_time_at(T0 + timedelta(hours=3)) == timedelta(hours=2, minutes=5)
    assert held.on_hold_time_at(T0 + timedelta(hours=1)) == timedelta(minutes=5)
    released = change_status(held, ESCALATED, now=T0 + timedelta(hours=4)).ticket
    assert released.on_hold_time == timedelta(hours=3, minutes=5)
    assert released.on_hold_time_at(T0 + timedelta(days=9)) == timedelta(hours=3, minutes=5)


def test_L4_closing_from_hold_counts_the_hold() -> None:
    """L4: closing a ticket that is on hold ends the hold."""
    held = change_status(ticket(), ON_HOLD, now=T0).ticket
    closed = change_status(held, CLOSED, now=T0 + timedelta(minutes=30)).ticket
    assert closed.on_hold_time == timedelta(minutes=30)
    assert closed.on_hold_since is None
    assert closed.closed_at == T0 + timedelta(minutes=30)


def test_L4_time_order_error_when_now_precedes_the_hold() -> None:
    """L4/P5: leaving hold at a ``now`` before the hold began raises TimeOrderError."""
    held = change_status(ticket(), ON_HOLD, now=T0 + timedelta(hours=1)).ticket
    with pytest.raises(TimeOrderError) as caught:
        change_status(held, OPEN, now=T0)
    assert caught.value.code == "time_order"
    assert caught.value.details["ticket_id"] == "t-1"
    assert "before the hold began" in str(caught.value)
    assert isinstance(caught.value, ValueError)


NEW_YORK = ZoneInfo("America/New_York")


def test_L4_hold_across_spring_forward_counts_real_time() -> None:
    """L4: on-hold time is elapsed time: 01:30 EST to 03:30 EDT on 8 March 2026 is one hour."""
    held = change_status(ticket(), ON_HOLD, now=datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK))
    released = change_status(held.ticket, OPEN, now=datetime(2026, 3, 8, 3, 30, tzinfo=NEW_YORK))
    assert released.ticket.on_hold_time == timedelta(hours=1)
    assert held.ticket.on_hold_time_at(datetime(2026, 3, 8, 3, 30, tzinfo=NEW_YORK)) == (
        timedelta(hours=1)
    )


def test_L4_hold_across_fall_back_counts_real_time() -> None:
    """L4: 01:50 EDT to 01:10 EST (the repeated hour, fold=1) on 1 November 2026 is 20 minutes,
    not a time-order error."""
    start = datetime(2026, 11, 1, 1, 50, tzinfo=NEW_YORK)
    end = datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=NEW_YORK)
    held = change_status(ticket(), ON_HOLD, now=start).ticket
    assert change_status(held, OPEN, now=end).ticket.on_hold_time == timedelta(minutes=20)


@pytest.mark.parametrize(("source", "target"), [(OPEN, CLOSED), (ON_HOLD, OPEN)])
def test_L4_change_status_rejects_a_naive_now(source: TicketStatus, target: TicketStatus) -> None:
    """T1/L4: a naive ``now`` is a NaiveDatetimeError, whatever the status (not a TypeError)."""
    t = change_status(ticket(), source, now=T0).ticket
    with pytest.raises(NaiveDatetimeError):
        change_status(t, target, now=datetime(2026, 4, 2, 9, 0))


def test_L4_on_hold_time_at_rejects_a_naive_now() -> None:
    """T1/L4: on_hold_time_at with a naive ``now`` is a NaiveDatetimeError (not a TypeError)."""
    held = change_status(ticket(), ON_HOLD, now=T0).ticket
    with pytest.raises(NaiveDatetimeError):
        held.on_hold_time_at(datetime(2026, 4, 2, 9, 0))


# -- P1: purity, P4: events -----------------------------------------------------------------------


def _outcome(call: Any) -> Any:
    try:
        return call()
    except InvalidTransitionError as error:
        return ("raised", type(error), str(error))


@given(s.tickets(max_items=4), s.thread_items(with_reference=False), st.sampled_from(TicketStatus))
def test_P1_lifecycle_functions_are_pure(t: Ticket, item: ThreadItem, target: TicketStatus) -> None:
    """P1: the lifecycle functions leave their inputs as they were and give equal results for
    equal inputs (they read no clock: ``now`` is an argument)."""
    assume(all(i.id != item.id for i in t.thread))
    now = max(latest(t), item.created_at, key=lambda moment: moment.astimezone(UTC))
    frozen = pickle.dumps((t, item))
    first_append = append_item(t, item, now=now)
    first_status = _outcome(lambda: change_status(t, target, now=now))
    twin, twin_item = pickle.loads(frozen)
    assert (t, item) == (twin, twin_item)
    assert append_item(twin, twin_item, now=now) == first_append
    assert _outcome(lambda: change_status(twin, target, now=now)) == first_status


@given(s.tickets(statuses=st.sampled_from([OPEN, CLOSED]), max_items=3), GAPS, st.data())
def test_P4_append_events_name_the_ticket_and_now(
    t: Ticket, gap: timedelta, data: st.DataObject
) -> None:
    """P4: every event of an append names the ticket and carries ``now``; the first is
    ItemAppended for the new item."""
    at = latest(t) + gap
    item = data.draw(s.thread_items(t.id, created_at=at, with_reference=False), label="item")
    assume(all(i.id != item.id for i in t.thread))
    now = at + timedelta(seconds=1)
    change = append_item(t, item, now=now)
    events: tuple[DomainEvent, ...] = change.events
    assert events
    assert isinstance(events[0], ItemAppended)
    assert events[0].item_id == item.id
    assert all(e.ticket_id == t.id and e.at == now for e in events)
    assert change.ticket.thread[-1] == item
    assert len(change.ticket.thread) == len(t.thread) + 1
