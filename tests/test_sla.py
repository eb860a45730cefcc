"""Service levels (SL1, SL5-SL7): policy selection, the clocks, warnings, alerts, the queue.

Named cases run on a Tokyo office calendar (Mon-Fri 09:00-18:00, 2026-11-23 a holiday). The
properties build tickets through the lifecycle functions (``change_status``, ``append_item``)
on generated calendars, at whole minutes, and check the clocks against a minute-stepping
oracle: a minute counts when it is business time (the oracle of ``tests/test_calendar.py``)
and the ticket's status during it is open or escalated.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import assume, given, reject
from hypothesis import strategies as st

from calendar_oracle import MINUTE, ZONES, business_minutes, day_intervals
from deskcore import (
    Channel,
    Comment,
    Direction,
    Message,
    Priority,
    Ticket,
    TicketStatus,
    Visibility,
    append_item,
    can_change_status,
    change_status,
)
from deskcore.errors import (
    InvalidModelError,
    NaiveDatetimeError,
    NoBusinessTimeError,
    UnknownValueError,
)
from deskcore.models.calendar import BusinessCalendar
from deskcore.models.sla import (
    MAX_TARGET,
    SlaConditions,
    SlaMetric,
    SlaPolicy,
    SlaSettings,
    SlaTarget,
)
from deskcore.policies.calendar import add
from deskcore.policies.sla import (
    SlaAlertKind,
    SlaClock,
    SlaReport,
    SlaState,
    evaluate_sla,
    select_policy,
    sla_alerts,
    to_queue_entry,
)

HOUR = timedelta(hours=1)
TOKYO = ZoneInfo("Asia/Tokyo")
OPEN, ON_HOLD, ESCALATED, CLOSED = (
    TicketStatus.OPEN,
    TicketStatus.ON_HOLD,
    TicketStatus.ESCALATED,
    TicketStatus.CLOSED,
)
FIRST, NEXT, RESOLUTION = SlaMetric.FIRST_RESPONSE, SlaMetric.NEXT_RESPONSE, SlaMetric.RESOLUTION
COUNTING = frozenset({OPEN, ESCALATED})
LABOUR_THANKSGIVING = date(2026, 11, 23)  # 勤労感謝の日, a Monday

OFFICE = BusinessCalendar(
    id="tokyo",
    timezone="Asia/Tokyo",
    weekly={d: [("09:00", "18:00")] for d in range(5)},
    holidays={LABOUR_THANKSGIVING},
)


def jst(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A wall time in Tokyo in 2026. 2026-06-01 is a Monday, 2026-06-05 a Friday."""
    return datetime(2026, month, day, hour, minute, tzinfo=TOKYO)


def new_ticket(created_at: datetime, **changes: Any) -> Ticket:
    fields: dict[str, Any] = {
        "id": "t-1",
        "number": 1,
        "department_id": "support",
        "channel": Channel.EMAIL,
        "contact_id": "c-1",
        "assignee_id": "agent-1",
        "created_at": created_at,
    }
    return Ticket(**(fields | changes))


def say(
    ticket: Ticket,
    at: datetime,
    direction: Direction = Direction.INBOUND,
    visibility: Visibility = Visibility.PUBLIC,
) -> Ticket:
    """``ticket`` with a message at ``at`` appended (an inbound one reopens a closed ticket)."""
    message = Message(
        id=f"m-{len(ticket.thread)}",
        origin_ticket_id=ticket.id,
        direction=direction,
        visibility=visibility,
        author_id="agent-1" if direction is Direction.OUTBOUND else "c-1",
        body="お問い合わせありがとうございます",
        channel=ticket.channel,
        sent_at=at,
    )
    return append_item(ticket, message, now=at).ticket


def reply(ticket: Ticket, at: datetime) -> Ticket:
    return say(ticket, at, Direction.OUTBOUND)


def note(ticket: Ticket, at: datetime) -> Ticket:
    comment = Comment(
        id=f"n-{len(ticket.thread)}",
        origin_ticket_id=ticket.id,
        author_id="agent-1",
        body="調査中",
        created_at=at,
    )
    return append_item(ticket, comment, now=at).ticket


def move(ticket: Ticket, to: TicketStatus, at: datetime, reason: str = "agent") -> Ticket:
    return change_status(ticket, to, now=at, reason=reason).ticket


def sla(**fields: Any) -> SlaPolicy:
    return SlaPolicy(**({"id": "standard"} | fields))


def evaluate(
    ticket: Ticket, policy: SlaPolicy, now: datetime, calendar: BusinessCalendar = OFFICE
) -> SlaReport:
    return evaluate_sla(ticket, policy, calendar, now=now)


def clock_of(report: SlaReport, metric: SlaMetric) -> SlaClock:
    clock = report.clock(metric)
    assert clock is not None, f"no {metric} clock"
    return clock


def resolution_clock(
    ticket: Ticket, policy: SlaPolicy, now: datetime, calendar: BusinessCalendar = OFFICE
) -> SlaClock:
    return clock_of(evaluate(ticket, policy, now, calendar), RESOLUTION)


def total(intervals: Sequence[tuple[datetime, datetime]]) -> timedelta:
    return sum((b - a for a, b in intervals), timedelta(0))


# -- SL1: policies as data -----------------------------------------------------------------------


def _policies() -> list[SlaPolicy]:
    target = SlaTarget(within=HOUR)
    return [
        sla(id="vip", conditions=SlaConditions(priorities=["high"]), first_response=target),
        sla(id="mail", conditions=SlaConditions(channels=["email"]), first_response=target),
        sla(id="billing", conditions=SlaConditions(department_ids=["billing"]), resolution=target),
        sla(id="default", resolution=SlaTarget(within=24 * HOUR)),
    ]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"priority": Priority.HIGH, "channel": Channel.EMAIL}, "vip"),
        ({"priority": Priority.MEDIUM, "channel": Channel.EMAIL}, "mail"),
        ({"channel": Channel.CHAT, "department_id": "billing"}, "billing"),
        ({"channel": Channel.CHAT, "department_id": "support"}, "default"),
    ],
)
def test_SL1_the_first_policy_whose_conditions_match_applies(
    changes: dict[str, Any], expected: str
) -> None:
    """SL1: policies are ordered data; conditions on priority, channel and department."""
    policy = select_policy(_policies(), new_ticket(jst(6, 1, 9), **changes))
    assert policy is not None
    assert policy.id == expected


def test_SL1_order_decides_and_empty_conditions_match_every_ticket() -> None:
    """SL1: the first match wins, so a catch-all first shadows the rest; no match is None."""
    vip = new_ticket(jst(6, 1, 9), priority=Priority.HIGH)
    policies = _policies()
    first = select_policy(list(reversed(policies)), vip)
    assert first is not None
    assert first.id == "default"
    assert SlaConditions().matches(vip)
    chat = new_ticket(jst(6, 1, 9), channel=Channel.CHAT, priority=Priority.LOW)
    assert select_policy(policies[:3], chat) is None
    assert select_policy([], chat) is None
    assert select_policy(iter(policies), chat) == policies[3]  # any iterable


def test_SL1_every_condition_given_must_hold() -> None:
    """SL1: conditions combine with AND; each set is an OR of its members."""
    conditions = SlaConditions(
        priorities=["high", Priority.MEDIUM], channels=[Channel.CHAT], department_ids={"support"}
    )
    assert conditions.priorities == {Priority.HIGH, Priority.MEDIUM}
    assert conditions.channels == {Channel.CHAT}
    assert conditions.matches(new_ticket(jst(6, 1, 9), channel=Channel.CHAT))
    assert not conditions.matches(new_ticket(jst(6, 1, 9), channel=Channel.EMAIL))
    assert not conditions.matches(
        new_ticket(jst(6, 1, 9), channel=Channel.CHAT, priority=Priority.LOW)
    )
    assert not conditions.matches(
        new_ticket(jst(6, 1, 9), channel=Channel.CHAT, department_id="billing")
    )


def test_SL1_select_policy_rejects_bad_inputs() -> None:
    """SL1: a ticket that is not a Ticket, a policy that is not an SlaPolicy."""
    with pytest.raises(InvalidModelError) as caught:
        select_policy(_policies(), "t-1")  # type: ignore[arg-type]
    assert caught.value.field == "ticket"
    with pytest.raises(InvalidModelError) as caught:
        select_policy(["standard"], new_ticket(jst(6, 1, 9)))  # type: ignore[list-item]
    assert caught.value.field == "policies"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"within": timedelta(0)}, "within"),
        ({"within": -HOUR}, "within"),
        ({"within": 3600}, "within"),
        ({"within": MAX_TARGET + MINUTE}, "within"),
        ({"within": HOUR, "warn_before": HOUR}, "warn_before"),
        ({"within": HOUR, "warn_before": 2 * HOUR}, "warn_before"),
        ({"within": HOUR, "warn_before": timedelta(0)}, "warn_before"),
        ({"within": HOUR, "warn_before": MINUTE, "warn_fraction": 0.5}, "warn_fraction"),
        ({"within": HOUR, "warn_fraction": 0}, "warn_fraction"),
        ({"within": HOUR, "warn_fraction": 1}, "warn_fraction"),
        ({"within": HOUR, "warn_fraction": 1.5}, "warn_fraction"),
        ({"within": HOUR, "warn_fraction": -0.25}, "warn_fraction"),
        ({"within": HOUR, "warn_fraction": True}, "warn_fraction"),
        ({"within": HOUR, "warn_fraction": "0.5"}, "warn_fraction"),
    ],
)
def test_SL1_SL6_target_validation_names_the_field(fields: dict[str, Any], field: str) -> None:
    """SL1/SL6: no target, a warning not shorter than the target, both warning kinds, a
    fraction outside (0, 1): each raises InvalidModelError naming the field."""
    with pytest.raises(InvalidModelError) as caught:
        SlaTarget(**fields)
    assert caught.value.model == "SlaTarget"
    assert caught.value.field == field


def test_SL1_SL6_warn_after_from_a_lead_time_or_a_fraction() -> None:
    """SL6: the business time counted when the warning fires."""
    assert SlaTarget(within=4 * HOUR, warn_before=HOUR).warn_after == 3 * HOUR
    assert SlaTarget(within=8 * HOUR, warn_fraction=0.25).warn_after == 6 * HOUR
    assert SlaTarget(within=HOUR, warn_fraction=1 / 3).warn_after == 40 * MINUTE
    assert SlaTarget(within=HOUR).warn_after is None
    assert SlaTarget(within=MAX_TARGET).within == MAX_TARGET


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "first_response"),
        ({"resolution": HOUR}, "resolution"),
        ({"resolution": SlaTarget(within=HOUR), "managers": ["boss", "boss"]}, "managers"),
        ({"resolution": SlaTarget(within=HOUR), "managers": "boss"}, "managers"),
        ({"resolution": SlaTarget(within=HOUR), "managers": [" boss"]}, "managers"),
        ({"resolution": SlaTarget(within=HOUR), "calendar_id": ""}, "calendar_id"),
        ({"resolution": SlaTarget(within=HOUR), "conditions": {}}, "conditions"),
        ({"resolution": SlaTarget(within=HOUR), "id": ""}, "id"),
    ],
)
def test_SL1_policy_validation_names_the_field(fields: dict[str, Any], field: str) -> None:
    """SL1: a policy sets at least one target; managers are ids without repeats."""
    with pytest.raises(InvalidModelError) as caught:
        sla(**fields)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("fields", "field", "error"),
    [
        ({"priorities": ["urgent"]}, "priorities", UnknownValueError),
        ({"priorities": "high"}, "priorities", InvalidModelError),
        ({"channels": "email"}, "channels", InvalidModelError),
        ({"channels": [42]}, "channels", InvalidModelError),
        ({"department_ids": [""]}, "department_ids", InvalidModelError),
        ({"department_ids": "support"}, "department_ids", InvalidModelError),
    ],
)
def test_SL1_condition_validation_names_the_field(
    fields: dict[str, Any], field: str, error: type[InvalidModelError]
) -> None:
    """SL1: conditions are sets of priorities, channels and department ids."""
    with pytest.raises(error) as caught:
        SlaConditions(**fields)
    assert caught.value.field == field


def test_SL1_settings_hold_calendars_and_ordered_policies() -> None:
    """SL1/SL2: a policy counts in its own calendar or the default one."""
    always = BusinessCalendar(
        id="always", timezone="UTC", weekly={d: [(0, 1440)] for d in range(7)}
    )
    own = sla(id="own", calendar_id="always", resolution=SlaTarget(within=HOUR))
    plain = sla(id="plain", resolution=SlaTarget(within=HOUR))
    settings = SlaSettings(calendars=[OFFICE, always], default_calendar_id="tokyo", policies=[own])
    assert settings.calendar_of(own) is always
    assert settings.calendar_of(plain) is OFFICE
    assert settings.calendar() is OFFICE
    assert settings.policies == (own,)
    with pytest.raises(InvalidModelError) as caught:
        settings.calendar("nowhere")
    assert caught.value.field == "calendars"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"policies": [sla(calendar_id="nowhere", resolution=SlaTarget(within=HOUR))]}, "policies"),
        ({"default_calendar_id": "nowhere"}, "default_calendar_id"),
        ({"calendars": [OFFICE, OFFICE]}, "calendars"),
        (
            {
                "policies": [
                    sla(resolution=SlaTarget(within=HOUR)),
                    sla(first_response=SlaTarget(within=HOUR)),
                ]
            },
            "policies",
        ),
        ({"policies": ["standard"]}, "policies"),
        ({"calendars": ["tokyo"]}, "calendars"),
    ],
)
def test_SL1_settings_validation_names_the_field(fields: dict[str, Any], field: str) -> None:
    """SL1: unknown calendar ids and repeated ids raise InvalidModelError naming the field."""
    with pytest.raises(InvalidModelError) as caught:
        SlaSettings(**({"calendars": [OFFICE], "default_calendar_id": "tokyo"} | fields))
    assert caught.value.field == field


def test_SL7_evaluate_sla_rejects_bad_inputs() -> None:
    """SL7: ``now`` must be aware; arguments must be of their types."""
    ticket, policy = new_ticket(jst(6, 1, 9)), sla(resolution=SlaTarget(within=HOUR))
    with pytest.raises(NaiveDatetimeError):
        evaluate_sla(ticket, policy, OFFICE, now=datetime(2026, 6, 1, 10))
    cases: list[tuple[tuple[Any, Any, Any], str]] = [
        (("t-1", policy, OFFICE), "ticket"),
        ((ticket, "standard", OFFICE), "policy"),
        ((ticket, policy, "tokyo"), "calendar"),
    ]
    for args, field in cases:
        with pytest.raises(InvalidModelError) as caught:
            evaluate_sla(*args, now=jst(6, 1, 10))
        assert caught.value.field == field
    report = evaluate(ticket, policy, jst(6, 1, 10))
    with pytest.raises(NaiveDatetimeError):
        sla_alerts(report, since=datetime(2026, 6, 1, 9))
    with pytest.raises(InvalidModelError) as caught:
        sla_alerts("report", since=None)  # type: ignore[arg-type]
    assert caught.value.field == "report"


# -- SL5: holds and reopening --------------------------------------------------------------------

EIGHT_HOURS = sla(resolution=SlaTarget(within=8 * HOUR))


def test_SL5_hold_across_a_weekend_pauses_in_business_time() -> None:
    """SL5: on hold from Friday 17:00 to Monday 10:00: the clock counts Friday 16:00-17:00 and
    Monday from 10:00; the hold removes Friday's last business hour and Monday's first, not
    its 65 wall hours."""
    created = new_ticket(jst(6, 5, 16))
    held = move(created, ON_HOLD, jst(6, 5, 17))
    back = move(held, OPEN, jst(6, 8, 10))
    assert back.on_hold_time == 65 * HOUR

    during = resolution_clock(held, EIGHT_HOURS, jst(6, 6, 12))
    assert (during.state, during.counted, during.remaining) == (SlaState.PAUSED, HOUR, 7 * HOUR)
    assert during.due_at is None
    assert during.next_wakeup_at is None

    report = evaluate_sla(back, EIGHT_HOURS, OFFICE, now=jst(6, 8, 12), explain=True)
    clock = clock_of(report, RESOLUTION)
    assert clock.state is SlaState.RUNNING
    assert clock.counted == 3 * HOUR
    assert clock.remaining == 5 * HOUR
    assert clock.due_at == jst(6, 8, 17)
    assert clock.intervals == ((jst(6, 5, 16), jst(6, 5, 17)), (jst(6, 8, 10), jst(6, 8, 12)))
    assert "on hold" in clock.explanation
    # Without the hold: two hours on Friday, three on Monday.
    assert resolution_clock(created, EIGHT_HOURS, jst(6, 8, 12)).counted == 5 * HOUR
    # A hold that ends at Monday's opening costs only Friday's last hour.
    early = move(held, OPEN, jst(6, 8, 9))
    assert resolution_clock(early, EIGHT_HOURS, jst(6, 8, 12)).counted == 4 * HOUR


def test_SL5_warnings_do_not_fire_while_paused() -> None:
    """SL5/SL6: a clock past its warning that goes on hold is paused, shows no warning and
    gives no warning alert; one paused before its warning has no warn_at yet."""
    policy = sla(resolution=SlaTarget(within=4 * HOUR, warn_before=HOUR), managers=["lead"])
    ticket = new_ticket(jst(6, 5, 14))
    before = evaluate(ticket, policy, jst(6, 5, 17, 15))
    assert clock_of(before, RESOLUTION).warning
    assert [a.kind for a in sla_alerts(before, since=None)] == [SlaAlertKind.WARNING]

    held = move(ticket, ON_HOLD, jst(6, 5, 17, 30))
    for now in (jst(6, 5, 17, 30), jst(6, 5, 17, 45), jst(6, 6, 10), jst(6, 8, 9, 30)):
        report = evaluate(held, policy, now)
        clock = clock_of(report, RESOLUTION)
        assert clock.state is SlaState.PAUSED
        assert clock.counted == 3.5 * HOUR
        assert not clock.warning
        assert sla_alerts(report, since=None) == ()
        assert sla_alerts(report, since=jst(6, 5, 16)) == ()
        assert report.next_wakeup_at is None

    early = move(new_ticket(jst(6, 5, 16)), ON_HOLD, jst(6, 5, 17))
    paused = resolution_clock(early, policy, jst(6, 6, 12))
    assert (paused.state, paused.warn_at, paused.warning) == (SlaState.PAUSED, None, False)
    resumed = evaluate(move(early, OPEN, jst(6, 8, 10)), policy, jst(6, 8, 12, 30))
    clock = clock_of(resumed, RESOLUTION)
    assert (clock.warn_at, clock.due_at, clock.warning) == (jst(6, 8, 12), jst(6, 8, 13), True)
    alerts = sla_alerts(resumed, since=jst(6, 8, 10))
    assert [(a.kind, a.at) for a in alerts] == [(SlaAlertKind.WARNING, jst(6, 8, 12))]


def test_SL5_reopening_a_closed_ticket_resumes_the_resolution_clock() -> None:
    """SL5: the time closed does not count; a customer's message reopens the ticket and the
    clock goes on from where it stopped; closing again stops it."""
    ticket = say(new_ticket(jst(6, 1, 9)), jst(6, 1, 9))
    closed = move(ticket, CLOSED, jst(6, 1, 11))
    clock = resolution_clock(closed, EIGHT_HOURS, jst(6, 1, 15))
    assert (clock.state, clock.counted, clock.stopped_at) == (SlaState.MET, 2 * HOUR, jst(6, 1, 11))
    assert clock.due_at is None  # met before its deadline
    assert clock.remaining == 6 * HOUR

    reopened = say(closed, jst(6, 2, 10))
    assert reopened.status is OPEN
    assert reopened.status_log[-1].reason == "reopened_by_customer"
    clock = resolution_clock(reopened, EIGHT_HOURS, jst(6, 2, 12))
    assert (clock.state, clock.counted, clock.stopped_at) == (SlaState.RUNNING, 4 * HOUR, None)
    assert clock.due_at == jst(6, 2, 16)
    assert clock.started_at == jst(6, 1, 9)

    again = move(reopened, CLOSED, jst(6, 2, 13))
    clock = resolution_clock(again, EIGHT_HOURS, jst(6, 2, 17))
    assert (clock.state, clock.counted, clock.stopped_at) == (SlaState.MET, 5 * HOUR, jst(6, 2, 13))

    tight = sla(resolution=SlaTarget(within=4 * HOUR))
    at_deadline = resolution_clock(reopened, tight, jst(6, 2, 12))
    assert (at_deadline.state, at_deadline.due_at) == (SlaState.BREACHED, jst(6, 2, 12))
    late = resolution_clock(again, tight, jst(6, 2, 17))
    assert (late.state, late.breached_by, late.due_at) == (SlaState.BREACHED, HOUR, jst(6, 2, 12))


# -- SL6: warnings, breaches, alerts -------------------------------------------------------------

WARNED = sla(
    resolution=SlaTarget(within=4 * HOUR, warn_before=HOUR), managers=["lead", "agent-1", "boss"]
)


@pytest.mark.parametrize(
    ("now", "state", "warning", "breached_by"),
    [
        (jst(6, 1, 9, 30), SlaState.RUNNING, False, timedelta(0)),
        (jst(6, 1, 11, 59), SlaState.RUNNING, False, timedelta(0)),
        (jst(6, 1, 12), SlaState.RUNNING, True, timedelta(0)),
        (jst(6, 1, 12, 59), SlaState.RUNNING, True, timedelta(0)),
        (jst(6, 1, 13), SlaState.BREACHED, False, timedelta(0)),
        (jst(6, 1, 14, 30), SlaState.BREACHED, False, 1.5 * HOUR),
        (jst(6, 1, 20), SlaState.BREACHED, False, 5 * HOUR),
        (jst(6, 2, 10), SlaState.BREACHED, False, 6 * HOUR),
    ],
)
def test_SL6_warn_before_warns_then_the_deadline_breaches_by_business_time(
    now: datetime, state: SlaState, warning: bool, breached_by: timedelta
) -> None:
    """SL6: 4 business hours with a 1-hour lead: warning at 12:00, deadline 13:00; past the
    deadline the ticket is overdue by the business time since (not by wall time)."""
    report = evaluate(new_ticket(jst(6, 1, 9)), WARNED, now)
    clock = clock_of(report, RESOLUTION)
    assert (clock.state, clock.warning, clock.breached_by) == (state, warning, breached_by)
    assert clock.warn_at == jst(6, 1, 12)
    assert clock.due_at == jst(6, 1, 13)
    if state is SlaState.BREACHED:
        assert report.overdue_since == jst(6, 1, 13)
        assert clock.remaining == timedelta(0)
        assert clock.counted == 4 * HOUR + breached_by


def test_SL6_warn_fraction_and_a_lead_time_across_the_night() -> None:
    """SL6: a quarter of 8 hours left is 6 hours counted; a lead time counts business time,
    so a warning due after closing moves to the next morning."""
    quarter = sla(resolution=SlaTarget(within=8 * HOUR, warn_fraction=0.25))
    clock = resolution_clock(new_ticket(jst(6, 1, 9)), quarter, jst(6, 1, 10))
    assert (clock.warn_at, clock.due_at) == (jst(6, 1, 15), jst(6, 1, 17))
    evening = resolution_clock(new_ticket(jst(6, 1, 16)), WARNED, jst(6, 1, 17))
    assert (evening.warn_at, evening.due_at) == (jst(6, 2, 10), jst(6, 2, 11))
    assert evening.next_wakeup_at == jst(6, 2, 10)


def test_SL6_alerts_come_once_per_window_for_the_assignee_and_managers() -> None:
    """SL6: alerts for what happened in (since, evaluated_at]; recipients are the assignee then
    the managers, without repeats; keys are stable across evaluations."""
    ticket = new_ticket(jst(6, 1, 9))
    at_1230 = evaluate(ticket, WARNED, jst(6, 1, 12, 30))
    (warning,) = sla_alerts(at_1230, since=None)
    assert warning.kind is SlaAlertKind.WARNING
    assert (warning.at, warning.due_at) == (jst(6, 1, 12), jst(6, 1, 13))
    assert warning.recipients == ("agent-1", "lead", "boss")
    assert (warning.ticket_id, warning.metric) == ("t-1", RESOLUTION)
    assert sla_alerts(at_1230, since=jst(6, 1, 11, 59)) == (warning,)
    assert sla_alerts(at_1230, since=jst(6, 1, 12)) == ()  # since is excluded
    assert sla_alerts(evaluate(ticket, WARNED, jst(6, 1, 12)), since=jst(6, 1, 11)) == (warning,)
    assert sla_alerts(evaluate(ticket, WARNED, jst(6, 1, 11, 59)), since=None) == ()
    again = sla_alerts(evaluate(ticket, WARNED, jst(6, 1, 12, 45)), since=None)
    assert [a.key for a in again] == [warning.key]

    (breach,) = sla_alerts(evaluate(ticket, WARNED, jst(6, 1, 13)), since=jst(6, 1, 12, 30))
    assert (breach.kind, breach.at, breach.due_at) == (
        SlaAlertKind.BREACH,
        jst(6, 1, 13),
        jst(6, 1, 13),
    )
    later = evaluate(ticket, WARNED, jst(6, 1, 14))
    assert sla_alerts(later, since=None) == (breach,)  # no warning once breached
    assert sla_alerts(later, since=jst(6, 1, 13)) == ()
    assert breach.key != warning.key

    nobody = evaluate(attrs.evolve(ticket, assignee_id=None), WARNED, jst(6, 1, 14))
    assert nobody.recipients == ("lead", "agent-1", "boss")
    # A breach stopped by the closing is no longer announced: the ticket is not overdue.
    closed = move(ticket, CLOSED, jst(6, 1, 15))
    assert sla_alerts(evaluate(closed, WARNED, jst(6, 1, 16)), since=None) == ()


def test_SL6_alerts_of_several_clocks_come_in_time_order() -> None:
    """SL6: a first-response breach at 10:00 comes before a resolution warning at 12:00."""
    policy = sla(
        first_response=SlaTarget(within=HOUR, warn_before=30 * MINUTE),
        resolution=SlaTarget(within=4 * HOUR, warn_before=HOUR),
    )
    alerts = sla_alerts(evaluate(new_ticket(jst(6, 1, 9)), policy, jst(6, 1, 12, 30)), since=None)
    assert [(a.metric, a.kind, a.at) for a in alerts] == [
        (FIRST, SlaAlertKind.BREACH, jst(6, 1, 10)),
        (RESOLUTION, SlaAlertKind.WARNING, jst(6, 1, 12)),
    ]
    assert len({a.key for a in alerts}) == 2


# -- first response, next response, resolution ---------------------------------------------------

TWO_HOURS = SlaTarget(within=2 * HOUR)


def test_SL1_a_first_reply_exactly_at_the_deadline_is_met() -> None:
    """SL1/SL7: first response 2 business hours; a reply at 11:00 for 09:00 is in time."""
    policy = sla(first_response=TWO_HOURS)
    ticket = say(new_ticket(jst(6, 1, 9)), jst(6, 1, 9))
    clock = clock_of(evaluate(reply(ticket, jst(6, 1, 11)), policy, jst(6, 1, 12)), FIRST)
    assert (clock.state, clock.counted, clock.stopped_at) == (SlaState.MET, 2 * HOUR, jst(6, 1, 11))
    assert (clock.remaining, clock.breached_by) == (timedelta(0), timedelta(0))
    assert clock.next_wakeup_at is None
    assert clock.due_at == jst(6, 1, 11)  # met at, not before, its deadline
    early = clock_of(evaluate(reply(ticket, jst(6, 1, 10)), policy, jst(6, 1, 12)), FIRST)
    assert (early.state, early.due_at, early.remaining) == (SlaState.MET, None, HOUR)
    late = clock_of(evaluate(reply(ticket, jst(6, 1, 11, 1)), policy, jst(6, 1, 12)), FIRST)
    assert (late.state, late.breached_by, late.due_at) == (SlaState.BREACHED, MINUTE, jst(6, 1, 11))
    assert late.stopped_at == jst(6, 1, 11, 1)


def test_SL7_a_running_clock_at_exactly_its_due_instant_is_breached() -> None:
    """SL7: a clock not stopped is breached at the deadline itself."""
    policy = sla(first_response=TWO_HOURS)
    ticket = say(new_ticket(jst(6, 1, 9)), jst(6, 1, 9))
    just_before = clock_of(evaluate(ticket, policy, jst(6, 1, 10, 59)), FIRST)
    assert (just_before.state, just_before.remaining) == (SlaState.RUNNING, MINUTE)
    assert just_before.next_wakeup_at == jst(6, 1, 11)
    report = evaluate(ticket, policy, jst(6, 1, 11))
    clock = clock_of(report, FIRST)
    assert (clock.state, clock.due_at, clock.breached_by) == (
        SlaState.BREACHED,
        jst(6, 1, 11),
        timedelta(0),
    )
    assert report.overdue_since == jst(6, 1, 11)
    assert report.next_wakeup_at is None
    # Put on hold at the deadline itself: breached, not paused, and overdue since then.
    held = move(ticket, ON_HOLD, jst(6, 1, 11))
    for now in (jst(6, 1, 11), jst(6, 2, 12)):
        report = evaluate(held, policy, now)
        clock = clock_of(report, FIRST)
        assert (clock.state, clock.due_at, clock.counted) == (
            SlaState.BREACHED,
            jst(6, 1, 11),
            2 * HOUR,
        )
        assert report.overdue_since == jst(6, 1, 11)
    # Put on hold a minute before it: paused with a minute left.
    paused = clock_of(
        evaluate(move(ticket, ON_HOLD, jst(6, 1, 10, 59)), policy, jst(6, 2, 12)), FIRST
    )
    assert (paused.state, paused.remaining, paused.due_at) == (SlaState.PAUSED, MINUTE, None)


def test_SL1_first_response_needs_a_public_agent_reply_and_starts_at_the_next_opening() -> None:
    """SL1: an internal outbound message is no response; a ticket created on Saturday starts
    counting on Monday at 09:00."""
    policy = sla(first_response=TWO_HOURS)
    ticket = say(new_ticket(jst(6, 6, 10)), jst(6, 6, 10))
    internal = say(ticket, jst(6, 8, 9, 30), Direction.OUTBOUND, Visibility.PRIVATE)
    clock = clock_of(evaluate(internal, policy, jst(6, 8, 10)), FIRST)
    assert (clock.state, clock.counted, clock.due_at) == (SlaState.RUNNING, HOUR, jst(6, 8, 11))
    assert clock.started_at == jst(6, 6, 10)
    # A reply after now is not seen yet (SL7).
    replied = reply(internal, jst(6, 8, 10, 30))
    assert clock_of(evaluate(replied, policy, jst(6, 8, 10)), FIRST) == clock


def test_SL1_next_response_counts_from_the_oldest_unanswered_customer_message() -> None:
    """SL1: messages before the first reply start no cycle (the first-response clock runs);
    the cycle starts at the oldest unanswered message; the latest cycle is shown."""
    policy = sla(next_response=SlaTarget(within=HOUR))
    ticket = say(say(new_ticket(jst(6, 1, 9)), jst(6, 1, 9)), jst(6, 1, 9, 10))
    assert evaluate(ticket, policy, jst(6, 1, 9, 20)).clocks == ()
    answered = reply(ticket, jst(6, 1, 9, 30))
    assert evaluate(answered, policy, jst(6, 1, 11)).clock(NEXT) is None

    waiting = say(say(answered, jst(6, 1, 10)), jst(6, 1, 10, 30))
    clock = clock_of(evaluate(waiting, policy, jst(6, 1, 10, 45)), NEXT)
    assert (clock.state, clock.started_at, clock.counted) == (
        SlaState.RUNNING,
        jst(6, 1, 10),
        45 * MINUTE,
    )
    assert clock.due_at == jst(6, 1, 11)
    internal = say(waiting, jst(6, 1, 10, 50), Direction.OUTBOUND, Visibility.PRIVATE)
    assert clock_of(evaluate(internal, policy, jst(6, 1, 10, 55)), NEXT).state is SlaState.RUNNING

    done = reply(internal, jst(6, 1, 11, 30))
    clock = clock_of(evaluate(done, policy, jst(6, 1, 12)), NEXT)
    assert (clock.state, clock.started_at, clock.stopped_at) == (
        SlaState.BREACHED,
        jst(6, 1, 10),
        jst(6, 1, 11, 30),
    )
    assert clock.breached_by == 30 * MINUTE
    assert not evaluate(done, policy, jst(6, 1, 12)).overdue  # stopped: not overdue

    next_cycle = say(done, jst(6, 1, 13))
    clock = clock_of(evaluate(next_cycle, policy, jst(6, 1, 13, 15)), NEXT)
    assert (clock.state, clock.started_at, clock.counted) == (
        SlaState.RUNNING,
        jst(6, 1, 13),
        15 * MINUTE,
    )
    in_time = reply(next_cycle, jst(6, 1, 13, 20))
    clock = clock_of(evaluate(in_time, policy, jst(6, 1, 15)), NEXT)
    assert (clock.state, clock.started_at, clock.stopped_at) == (
        SlaState.MET,
        jst(6, 1, 13),
        jst(6, 1, 13, 20),
    )


def test_SL5_next_response_pauses_on_hold() -> None:
    """SL5: the next-response clock also pauses on hold, in business time."""
    policy = sla(next_response=SlaTarget(within=2 * HOUR))
    ticket = say(reply(say(new_ticket(jst(6, 5, 9)), jst(6, 5, 9)), jst(6, 5, 10)), jst(6, 5, 16))
    held = move(ticket, ON_HOLD, jst(6, 5, 17))
    clock = clock_of(evaluate(held, policy, jst(6, 6, 12)), NEXT)
    assert (clock.state, clock.counted, clock.due_at) == (SlaState.PAUSED, HOUR, None)
    back = move(held, OPEN, jst(6, 8, 10))
    clock = clock_of(evaluate(back, policy, jst(6, 8, 10, 30)), NEXT)
    assert (clock.state, clock.due_at) == (SlaState.RUNNING, jst(6, 8, 11))


def test_SL1_SL2_a_deadline_across_a_weekend_and_a_japanese_holiday() -> None:
    """SL1/SL2: created Friday 2026-11-20 17:00 with 3 business hours: one hour on Friday,
    nothing on the weekend or on Monday 2026-11-23 (a holiday), due Tuesday 11:00."""
    policy = sla(resolution=SlaTarget(within=3 * HOUR))
    ticket = new_ticket(jst(11, 20, 17))
    report = evaluate(ticket, policy, jst(11, 23, 12))
    clock = clock_of(report, RESOLUTION)
    assert (clock.state, clock.counted, clock.remaining) == (SlaState.RUNNING, HOUR, 2 * HOUR)
    assert clock.due_at == jst(11, 24, 11)
    assert report.due_at == report.next_wakeup_at == jst(11, 24, 11)
    assert clock_of(evaluate(ticket, policy, jst(11, 24, 11)), RESOLUTION).state is (
        SlaState.BREACHED
    )
    no_holiday = attrs.evolve(OFFICE, holidays=())
    assert resolution_clock(ticket, policy, jst(11, 20, 18), no_holiday).due_at == jst(11, 23, 11)


# -- SL7: a pure function, and its wake-ups ------------------------------------------------------

FULL = sla(
    first_response=SlaTarget(within=2 * HOUR, warn_before=30 * MINUTE),
    next_response=SlaTarget(within=HOUR, warn_fraction=0.5),
    resolution=SlaTarget(within=8 * HOUR, warn_fraction=0.5),
    managers=["lead"],
)


def _story() -> list[tuple[datetime, Any]]:
    """A ticket's life as (time, step) pairs, each step a lifecycle call."""
    return [
        (jst(6, 1, 9), lambda t, at: say(t, at)),
        (jst(6, 1, 10), reply),
        (jst(6, 1, 10, 30), lambda t, at: say(t, at)),
        (jst(6, 1, 11), lambda t, at: move(t, ON_HOLD, at)),
        (jst(6, 1, 15), lambda t, at: move(t, ESCALATED, at)),
        (jst(6, 1, 16), note),
        (jst(6, 2, 10), reply),
        (jst(6, 2, 11), lambda t, at: move(t, CLOSED, at)),
        (jst(6, 3, 10), lambda t, at: say(t, at)),  # the customer reopens
        (jst(6, 3, 10), lambda t, at: move(t, ESCALATED, at)),
    ]


def _told(until: datetime | None = None) -> Ticket:
    ticket = new_ticket(jst(6, 1, 9))
    for at, step in _story():
        if until is not None and at > until:
            break
        ticket = step(ticket, at)
    return ticket


@pytest.mark.parametrize(
    "now",
    [
        jst(6, 1, 9),
        jst(6, 1, 9, 59),
        jst(6, 1, 10),
        jst(6, 1, 10, 45),
        jst(6, 1, 12),
        jst(6, 1, 15, 30),
        jst(6, 2, 10),
        jst(6, 2, 14),
        jst(6, 3, 10),
        jst(6, 3, 12),
    ],
)
def test_SL7_history_after_now_is_ignored(now: datetime) -> None:
    """SL7: evaluating the whole ticket at an earlier now equals evaluating the ticket as it
    was then (built with the same lifecycle calls up to now)."""
    whole, then = _told(), _told(until=now)
    assert evaluate_sla(whole, FULL, OFFICE, now=now, explain=True) == evaluate_sla(
        then, FULL, OFFICE, now=now, explain=True
    )


def test_SL7_the_same_inputs_give_the_same_report() -> None:
    """SL7: deterministic, not dependent on the tzinfo of now, and the inputs are untouched."""
    ticket = _told()
    copies = pickle.loads(pickle.dumps((ticket, FULL, OFFICE)))
    now = jst(6, 3, 12)
    first = evaluate_sla(ticket, FULL, OFFICE, now=now, explain=True)
    assert evaluate_sla(ticket, FULL, OFFICE, now=now, explain=True) == first
    assert evaluate_sla(ticket, FULL, OFFICE, now=now.astimezone(UTC), explain=True) == first
    assert (ticket, FULL, OFFICE) == copies
    assert first.ticket_id == "t-1"
    assert (first.policy_id, first.calendar_id, first.evaluated_at) == ("standard", "tokyo", now)
    assert [c.metric for c in first.clocks] == [FIRST, NEXT, RESOLUTION]


def test_SL7_next_wakeup_at_is_the_next_warning_or_deadline_and_each_changes_the_state() -> None:
    """SL7: the report's next_wakeup_at is the earliest warn/due instant of a running clock
    strictly after now; evaluating there turns a warning on or breaches a clock."""
    ticket = say(new_ticket(jst(6, 1, 9)), jst(6, 1, 9))
    now = jst(6, 1, 9, 30)
    seen: list[tuple[datetime, SlaMetric, str]] = []
    report = evaluate(ticket, FULL, now)
    while report.next_wakeup_at is not None:
        wakeup = report.next_wakeup_at
        assert wakeup > report.evaluated_at
        running = [c for c in report.clocks if c.state is SlaState.RUNNING]
        instants = [t for c in running for t in (c.warn_at, c.due_at) if t is not None]
        assert wakeup == min(t for t in instants if t > report.evaluated_at)
        later = evaluate(ticket, FULL, wakeup)
        for before in running:
            after = clock_of(later, before.metric)
            if before.next_wakeup_at == wakeup:
                changed = (after.warning and not before.warning) or after.state is (
                    SlaState.BREACHED
                )
                assert changed
                seen.append((wakeup, before.metric, "warning" if after.warning else "breach"))
        report = later
    assert seen == [
        (jst(6, 1, 10, 30), FIRST, "warning"),
        (jst(6, 1, 11), FIRST, "breach"),
        (jst(6, 1, 13), RESOLUTION, "warning"),
        (jst(6, 1, 17), RESOLUTION, "breach"),
    ]
    # Paused and stopped clocks schedule nothing.
    held = move(reply(ticket, jst(6, 1, 10)), ON_HOLD, jst(6, 1, 10, 30))
    assert evaluate(held, FULL, jst(6, 1, 12)).next_wakeup_at is None


@pytest.mark.parametrize(
    ("ticket", "now", "words"),
    [
        (new_ticket(jst(6, 5, 15)), jst(6, 5, 18), ["3h00m of 8h00m", "running", "5h00m left"]),
        (
            move(new_ticket(jst(6, 5, 15)), ON_HOLD, jst(6, 5, 17)),
            jst(6, 6, 10),
            ["2h00m of 8h00m", "paused", "on hold"],
        ),
        (
            move(new_ticket(jst(6, 5, 15)), CLOSED, jst(6, 5, 17, 30)),
            jst(6, 8, 10),
            ["2h30m of 8h00m", "met", "5h30m to spare"],
        ),
        (new_ticket(jst(6, 4, 9)), jst(6, 5, 10), ["10h00m of 8h00m", "breached", "2h00m over"]),
    ],
)
def test_SL7_a_report_explains_itself(ticket: Ticket, now: datetime, words: list[str]) -> None:
    """SL7: explain=True lists the business intervals counted, summing to counted; the
    explanation names the time counted and the state; explain=False lists no intervals."""
    explained = resolution_clock(ticket, EIGHT_HOURS, now)
    report = evaluate_sla(ticket, EIGHT_HOURS, OFFICE, now=now, explain=True)
    clock = clock_of(report, RESOLUTION)
    assert explained.intervals == ()
    assert total(clock.intervals) == clock.counted
    assert all(a.tzinfo is UTC and b.tzinfo is UTC for a, b in clock.intervals)
    assert attrs.evolve(clock, intervals=()) == explained
    for word in words:
        assert word in clock.explanation
    assert clock.state.value in clock.explanation


def test_SL7_explanation_intervals_span_pieces_of_several_clocks() -> None:
    """SL7: with holds and reopenings, every clock's intervals add up to what it counted."""
    report = evaluate_sla(_told(), FULL, OFFICE, now=jst(6, 3, 15), explain=True)
    assert len(report.clocks) == 3
    for clock in report.clocks:
        assert total(clock.intervals) == clock.counted
        assert all(a < b for a, b in clock.intervals)


# -- Q1: the work-queue entry --------------------------------------------------------------------

TWO_HOUR_RESOLUTION = sla(resolution=SlaTarget(within=2 * HOUR))


def test_SL7_Q1_queue_entry_of_a_running_and_of_an_overdue_ticket() -> None:
    """Q1/SL7: due_at is the earliest running deadline; overdue_since the missed one."""
    ticket = new_ticket(jst(6, 1, 9))
    assert to_queue_entry(ticket, None) == to_queue_entry(ticket, None)
    assert to_queue_entry(ticket, None).due_at is None
    running = to_queue_entry(ticket, evaluate(ticket, FULL, jst(6, 1, 9, 30)))
    assert (running.due_at, running.overdue_since, running.acted_after_overdue) == (
        jst(6, 1, 11),
        None,
        False,
    )
    overdue = to_queue_entry(ticket, evaluate(ticket, TWO_HOUR_RESOLUTION, jst(6, 1, 12)))
    assert (overdue.due_at, overdue.overdue_since, overdue.acted_after_overdue) == (
        None,
        jst(6, 1, 11),
        False,
    )
    assert overdue.ticket is ticket
    other = attrs.evolve(ticket, id="t-2")
    with pytest.raises(InvalidModelError) as caught:
        to_queue_entry(other, evaluate(ticket, FULL, jst(6, 1, 10)))
    assert caught.value.field == "report"


@pytest.mark.parametrize(
    ("act", "acted"),
    [
        (lambda t: reply(t, jst(6, 1, 11, 30)), True),
        (lambda t: say(t, jst(6, 1, 11, 30), Direction.OUTBOUND, Visibility.PRIVATE), True),
        (lambda t: note(t, jst(6, 1, 11, 30)), True),
        (lambda t: note(t, jst(6, 1, 11)), True),  # at overdue_since itself
        (lambda t: note(t, jst(6, 1, 10, 59)), False),  # before it
        (lambda t: move(t, ESCALATED, jst(6, 1, 11, 30)), True),
        (lambda t: say(t, jst(6, 1, 11, 30)), False),  # the customer writes again
        (lambda t: note(t, jst(6, 1, 12, 30)), False),  # after now
    ],
)
def test_SL7_Q1_acted_after_overdue_turns_true_when_an_agent_acts(act: Any, acted: bool) -> None:
    """Q1: a reply, a note or a status change by an agent at or after overdue_since."""
    ticket = act(new_ticket(jst(6, 1, 9)))
    report = evaluate(ticket, TWO_HOUR_RESOLUTION, jst(6, 1, 12))
    entry = to_queue_entry(ticket, report)
    assert entry.overdue_since == jst(6, 1, 11)
    assert entry.acted_after_overdue is acted


def test_SL7_Q1_a_customer_reopen_after_overdue_is_no_agent_action() -> None:
    """Q1: the customer's message reopening a closed ticket does not count as acting; an
    agent's closing does."""
    policy = sla(first_response=SlaTarget(within=HOUR))
    # Stored closed at 11:00 without a log: the implied closing is not an agent's act.
    stored = new_ticket(jst(6, 1, 9), status=CLOSED, closed_at=jst(6, 1, 11))
    reopened = say(stored, jst(6, 1, 12))
    assert [r.reason for r in reopened.status_history()] == ["implied", "reopened_by_customer"]
    report = evaluate(reopened, policy, jst(6, 1, 12, 30))
    assert report.overdue_since == jst(6, 1, 10)
    assert not to_queue_entry(reopened, report).acted_after_overdue
    by_agent = say(move(new_ticket(jst(6, 1, 9)), CLOSED, jst(6, 1, 11)), jst(6, 1, 12))
    report = evaluate(by_agent, policy, jst(6, 1, 12, 30))
    assert report.overdue_since == jst(6, 1, 10)
    assert to_queue_entry(by_agent, report).acted_after_overdue


# -- properties against a minute-stepping oracle -------------------------------------------------

STEPS = ("open", "on_hold", "escalated", "closed", "inbound", "reply", "internal", "note")


@st.composite
def calendars(draw: st.DrawFn) -> tuple[BusinessCalendar, datetime]:
    """A calendar with weekly business time, and a UTC midnight near its special dates."""
    key = draw(st.sampled_from(sorted(ZONES)))
    anchor = draw(st.sampled_from(ZONES[key]))
    dates = [anchor + timedelta(days=n) for n in range(-3, 4)]
    weekly = {d: draw(day_intervals()) for d in range(7)}
    assume(any(weekly.values()))  # an events-only calendar may search years for time
    try:
        calendar = BusinessCalendar(
            id="gen",
            timezone=key,
            weekly=weekly,
            holidays=draw(st.sets(st.sampled_from(dates), max_size=3)),
            exceptions=draw(st.dictionaries(st.sampled_from(dates), day_intervals(), max_size=2)),
        )
    except InvalidModelError:
        reject()
    return calendar, datetime.combine(anchor, time(), ZoneInfo(key)).astimezone(UTC)


Steps = list[tuple[int, str]]
steps_strategy = st.lists(
    # Messages twice as likely as other steps, so next-response cycles are common.
    st.tuples(st.integers(0, 10 * 60), st.sampled_from((*STEPS, "inbound", "reply"))),
    max_size=10,
)


@st.composite
def targets(draw: st.DrawFn) -> SlaTarget:
    """A target of whole minutes, with or without a lead time."""
    within = draw(st.integers(1, 180) | st.integers(1, 16 * 60))
    if within == 1 or draw(st.booleans()):
        return SlaTarget(within=MINUTE * within)
    return SlaTarget(within=MINUTE * within, warn_before=MINUTE * draw(st.integers(1, within - 1)))


policies = st.builds(
    lambda first, nxt, res: sla(first_response=first, next_response=nxt, resolution=res),
    targets(),
    targets(),
    targets(),
)


def build(
    created: datetime, steps: Steps, until: datetime | None = None
) -> tuple[Ticket, datetime]:
    """A ticket created at ``created`` after ``steps`` (gap in minutes, action), those up to
    ``until`` only; and the time of the last step."""
    ticket = new_ticket(created)
    at = created
    for gap, action in steps:
        at += MINUTE * gap
        if until is not None and at > until:
            break
        if action in ("open", "on_hold", "escalated", "closed"):
            to = TicketStatus(action)
            if can_change_status(ticket.status, to):
                ticket = move(ticket, to, at)
        elif action == "inbound":
            ticket = say(ticket, at)
        elif action == "reply":
            ticket = reply(ticket, at)
        elif action == "internal":
            ticket = say(ticket, at, Direction.OUTBOUND, Visibility.PRIVATE)
        else:
            ticket = note(ticket, at)
    return ticket, at


def status_at(ticket: Ticket, moment: datetime) -> TicketStatus:
    """The status during the minute starting at ``moment`` (changes are at whole minutes)."""
    history = ticket.status_history()
    status = history[0].from_status if history else ticket.status
    for record in history:
        if record.at <= moment:
            status = record.to_status
    return status


def oracle_window(
    ticket: Ticket, metric: SlaMetric, now: datetime
) -> tuple[datetime, datetime | None] | None:
    """Where a clock's cycle starts and what stopped it, from the thread and history read
    naively up to ``now``."""
    if metric is RESOLUTION:
        if status_at(ticket, now) is CLOSED:
            closing = max(r.at for r in ticket.status_history() if r.at <= now)
            return ticket.created_at, max(closing, ticket.created_at)
        return ticket.created_at, None
    seen = [m for m in ticket.messages() if m.sent_at <= now]
    replies = [i for i, m in enumerate(seen) if m.is_public_reply]
    if metric is FIRST:
        return ticket.created_at, seen[replies[0]].sent_at if replies else None
    if not replies:
        return None
    starts = []
    for j in range(replies[0] + 1, len(seen)):
        if seen[j].direction is not Direction.INBOUND:
            continue
        earlier = [m for m in seen[:j] if m.direction is Direction.INBOUND or m.is_public_reply]
        if earlier[-1].is_public_reply:
            starts.append(j)
    if not starts:
        return None
    j = starts[-1]
    answer = next((m.sent_at for m in seen[j + 1 :] if m.is_public_reply), None)
    return seen[j].sent_at, answer


def check_against_oracle(
    calendar: BusinessCalendar,
    ticket: Ticket,
    policy: SlaPolicy,
    now: datetime,
    business: Sequence[datetime],
) -> SlaReport:
    """Check the report at ``now`` against the oracle; ``business`` holds the business
    minutes from the ticket's creation to at least ``now``."""
    report = evaluate_sla(ticket, policy, calendar, now=now, explain=True)
    for metric, target in policy.targets():
        window = oracle_window(ticket, metric, now)
        clock = report.clock(metric)
        if window is None:
            assert clock is None, metric
            continue
        assert clock is not None, metric
        start, stop = window
        end = now if stop is None else stop
        minutes = [m for m in business if start <= m < end and status_at(ticket, m) in COUNTING]
        counted = MINUTE * len(minutes)
        assert (clock.started_at, clock.stopped_at) == (start, stop), metric
        assert clock.counted == counted, metric
        assert total(clock.intervals) == counted, metric
        within = target.within
        if stop is not None:
            state = SlaState.MET if counted <= within else SlaState.BREACHED
        elif counted >= within:
            state = SlaState.BREACHED
        elif status_at(ticket, now) in COUNTING:
            state = SlaState.RUNNING
        else:
            state = SlaState.PAUSED
        assert clock.state is state, metric
        reached = within // MINUTE
        if counted >= within:
            assert clock.due_at == minutes[reached - 1] + MINUTE, metric
        elif state is SlaState.RUNNING:
            try:
                expected = add(calendar, now, within - counted)
            except NoBusinessTimeError:
                expected = None
            assert clock.due_at == expected, metric
        else:
            assert clock.due_at is None, metric
        if state is SlaState.RUNNING and target.warn_after is not None:
            warn = target.warn_after // MINUTE
            if counted >= target.warn_after:
                assert clock.warn_at == minutes[warn - 1] + MINUTE, metric
                assert clock.warning, metric
            else:
                try:
                    ahead: datetime | None = add(calendar, now, target.warn_after - counted)
                except NoBusinessTimeError:
                    ahead = None
                assert clock.warn_at == ahead, metric
                assert not clock.warning, metric
        else:
            assert not clock.warning, metric
    return report


@given(calendars(), st.integers(-1440, 1440), steps_strategy, st.integers(0, 1440), policies)
def test_SL5_SL7_clocks_match_a_minute_stepping_oracle(
    window: tuple[BusinessCalendar, datetime],
    offset: int,
    steps: Steps,
    extra: int,
    policy: SlaPolicy,
) -> None:
    """SL5/SL7: counted is the business time while open or escalated, from the cycle's start
    to now or the stop; states, deadlines and warnings follow (minute-stepping oracle)."""
    calendar, midnight = window
    created = midnight + MINUTE * offset
    ticket, last = build(created, steps)
    horizon = last + MINUTE * extra
    business = business_minutes(calendar, created, horizon + MINUTE)
    todo = [created, last, created + (horizon - created) / 2 // MINUTE * MINUTE, horizon]
    done: set[datetime] = set()
    while todo and len(done) < 16:
        now = todo.pop()
        if now in done or not created <= now <= horizon:
            continue
        done.add(now)
        report = check_against_oracle(calendar, ticket, policy, now, business)
        # Look again around the instants where a running clock warns or breaches.
        for clock in report.clocks:
            for moment in (clock.warn_at, clock.due_at):
                if clock.state is SlaState.RUNNING and moment is not None:
                    todo.extend((moment - MINUTE, moment, moment + MINUTE))


@given(calendars(), st.integers(-1440, 1440), steps_strategy, st.data(), policies)
def test_SL7_counted_is_monotone_and_remaining_and_breached_by_add_up(
    window: tuple[BusinessCalendar, datetime],
    offset: int,
    steps: Steps,
    data: st.DataObject,
    policy: SlaPolicy,
) -> None:
    """SL7: first-response and resolution time counted never decreases as now advances;
    remaining + counted == within until breached; breached_by > 0 iff counted > within."""
    calendar, midnight = window
    created = midnight + MINUTE * offset
    ticket, last = build(created, steps)
    span = (last - created) // MINUTE + 1440
    moments = sorted(data.draw(st.lists(st.integers(0, span), min_size=2, max_size=5)))
    previous: dict[SlaMetric, timedelta] = {}
    for minutes in moments:
        report = evaluate_sla(ticket, policy, calendar, now=created + MINUTE * minutes)
        for clock in report.clocks:
            within = clock.target.within
            if clock.state is not SlaState.BREACHED:
                assert clock.remaining + clock.counted == within
                assert clock.breached_by == timedelta(0)
            else:
                assert clock.remaining == timedelta(0)
                assert clock.breached_by == clock.counted - within
            assert (clock.breached_by > timedelta(0)) == (clock.counted > within)
            assert (clock.state is SlaState.BREACHED) == (
                clock.counted > within or (clock.counted == within and clock.stopped_at is None)
            )
            if clock.metric is not NEXT:
                assert clock.counted >= previous.get(clock.metric, timedelta(0))
                previous[clock.metric] = clock.counted


@given(calendars(), st.integers(-1440, 1440), steps_strategy, st.integers(0, 2880), policies)
def test_SL7_history_after_now_is_ignored_and_evaluation_is_pure(
    window: tuple[BusinessCalendar, datetime],
    offset: int,
    steps: Steps,
    minutes: int,
    policy: SlaPolicy,
) -> None:
    """SL7: the whole ticket at now equals the ticket built only up to now; evaluating twice
    gives equal reports and leaves the inputs unchanged."""
    calendar, midnight = window
    created = midnight + MINUTE * offset
    now = created + MINUTE * minutes
    whole, _ = build(created, steps)
    then, _ = build(created, steps, until=now)
    copies = pickle.loads(pickle.dumps((whole, policy, calendar)))
    report = evaluate_sla(whole, policy, calendar, now=now, explain=True)
    assert report == evaluate_sla(then, policy, calendar, now=now, explain=True)
    assert report == evaluate_sla(whole, policy, calendar, now=now, explain=True)
    assert (whole, policy, calendar) == copies
    assert to_queue_entry(whole, report) == to_queue_entry(whole, report)


@given(calendars(), st.integers(-1440, 1440), steps_strategy, st.integers(0, 1440), policies)
def test_SL7_evaluating_at_next_wakeup_at_changes_a_clock(
    window: tuple[BusinessCalendar, datetime],
    offset: int,
    steps: Steps,
    extra: int,
    policy: SlaPolicy,
) -> None:
    """SL7: after the last change, next_wakeup_at is strictly after now and the earliest
    warn/due instant of a running clock; there a warning turns on or a clock breaches."""
    calendar, midnight = window
    ticket, last = build(midnight + MINUTE * offset, steps)
    now = last + MINUTE * extra
    report = evaluate_sla(ticket, policy, calendar, now=now)
    running = [c for c in report.clocks if c.state is SlaState.RUNNING]
    instants = [t for c in running for t in (c.warn_at, c.due_at) if t is not None and t > now]
    assert report.next_wakeup_at == (min(instants) if instants else None)
    assert report.due_at == min((c.due_at for c in running if c.due_at), default=None)
    if report.next_wakeup_at is None:
        return
    assert report.next_wakeup_at > now
    later = evaluate_sla(ticket, policy, calendar, now=report.next_wakeup_at)
    changed = False
    for before in running:
        after = clock_of(later, before.metric)
        changed |= (after.warning and not before.warning) or after.state is SlaState.BREACHED
    assert changed
    alerts = sla_alerts(later, since=now)
    assert alerts
    assert all(now < a.at <= report.next_wakeup_at for a in alerts)
