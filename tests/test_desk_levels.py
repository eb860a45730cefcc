"""``Desk`` service levels: notifications after a change (N1-N3), the wake-up check (SL6,
SL7), the work queue from the store (Q1), contact metrics (X1) and the chat panel's overdue
count (C9), over the in-memory and SQLite stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from deskcore import (
    BusinessCalendar,
    Channel,
    Contact,
    Desk,
    DeskSettings,
    Direction,
    ExternalReference,
    InboundMessage,
    InvalidModelError,
    NaiveDatetimeError,
    NotificationSettings,
    RoutingRule,
    SlaAlertKind,
    SlaConditions,
    SlaMetric,
    SlaPolicy,
    SlaSettings,
    SlaState,
    SlaTarget,
    Template,
    TicketStatus,
)
from deskcore.adapters import InMemoryTicketRepository, SQLiteTicketRepository
from deskcore.ports import TicketStore
from deskcore.testing import FixedClock, SequentialIds

JST = ZoneInfo("Asia/Tokyo")
# Friday 20 November 2026, 16:00 in Tokyo. Monday 23 November is a holiday (勤労感謝の日).
FRIDAY_4PM = datetime(2026, 11, 20, 16, 0, tzinfo=JST)
TOKYO = BusinessCalendar(
    id="tokyo",
    timezone="Asia/Tokyo",
    weekly={day: [("09:00", "12:00"), ("13:00", "18:00")] for day in range(5)},
    holidays=[date(2026, 11, 3), date(2026, 11, 23)],
)
ALWAYS = BusinessCalendar(
    id="always", timezone="UTC", weekly={d: [("00:00", "24:00")] for d in range(7)}
)
LEVELS = SlaSettings(
    calendars=[TOKYO, ALWAYS],
    default_calendar_id="tokyo",
    policies=[
        SlaPolicy(
            id="vip",
            conditions=SlaConditions(priorities=["high"]),
            first_response=SlaTarget(within=timedelta(hours=1)),
            calendar_id="always",
            managers=["manager-1"],
        ),
        SlaPolicy(
            id="standard",
            first_response=SlaTarget(within=timedelta(hours=4), warn_before=timedelta(hours=1)),
            next_response=SlaTarget(within=timedelta(hours=8)),
            resolution=SlaTarget(within=timedelta(hours=24), warn_fraction=0.25),
            managers=["manager-1"],
        ),
    ],
)
NOTIFY = NotificationSettings(
    rules=[
        RoutingRule(id="everyone", audience="all_agents", event_kinds=["ticket_created"]),
        RoutingRule(id="returns", audience="phrase", agent_ids=["returns-team"], phrases=["返品"]),
    ],
    agents=["agent-1", "agent-2"],
    templates={
        "ticket_created": Template(id="new", subject="#$number $subject", body="$text"),
        "sla_warning": Template(
            id="warn", subject="#$number: $metric due $due_at", body="$remaining left"
        ),
        "sla_breach": Template(id="late", subject="#$number overdue", body="$breached_by over"),
    },
)
CONTACT = Contact(id="c-1", name="佐藤 花子", email="hanako@example.jp")


def message(n: str, body: str, *, at: datetime, **changes: Any) -> InboundMessage:
    fields: dict[str, Any] = {
        "reference": ExternalReference("email", "support", "message", n),
        "conversation": ExternalReference("email", "support", "thread", changes.pop("thread", n)),
        "channel": Channel.EMAIL,
        "contact": CONTACT,
        "subject": "注文について",
        "body": body,
        "sent_at": at,
    }
    return InboundMessage(**(fields | changes))


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TicketStore]:
    if request.param == "memory":
        yield InMemoryTicketRepository()
    else:
        repo = SQLiteTicketRepository(tmp_path / "desk.db")
        yield repo
        repo.close()


def make_desk(store: TicketStore, clock: FixedClock, **changes: Any) -> Desk:
    fields: dict[str, Any] = {
        "store": store,
        "settings": DeskSettings(default_department_id="support"),
        "clock": clock,
        "ids": SequentialIds(),
        "service_levels": LEVELS,
        "notifications": NOTIFY,
    }
    return Desk(**(fields | changes))


# -- N1-N3: notifications after a change ----------------------------------------------------------


def test_N1_N3_a_new_ticket_notifies_every_agent_and_the_phrase_team(store: TicketStore) -> None:
    """N1: a new ticket notifies all agents; its text holds 返品, so the returns team hears of
    it too. N2: the content is the host's template, filled. N3: values, after the commit."""
    clock = FixedClock(FRIDAY_4PM)
    desk = make_desk(store, clock)
    result = desk.receive(message("1", "返品したいのですが", at=FRIDAY_4PM))
    follow = desk.follow_up(result.events)
    assert [n.recipient_id for n in follow.notifications] == ["agent-1", "agent-2", "returns-team"]
    assert {n.event_kind for n in follow.notifications} == {"ticket_created"}
    returns = follow.notifications[-1]
    assert [r.rule_id for r in returns.reasons] == ["returns"]
    assert returns.reasons[0].matches[0].keyword == "返品"
    assert returns.ticket_id == result.ticket.id if result.ticket else False
    assert returns.content is not None
    assert returns.content.subject == "#1 注文について"
    assert returns.content.body == "返品したいのですが"


def test_N1_a_customer_message_on_a_ticket_notifies_by_phrase_only(store: TicketStore) -> None:
    """N1: a later customer message is ``message_received``; the all-agents rule is limited
    to new tickets, the phrase rule still fires; the brand's own reply notifies nobody."""
    clock = FixedClock(FRIDAY_4PM)
    desk = make_desk(store, clock)
    desk.receive(message("1", "注文が届きません", at=FRIDAY_4PM))
    later = FRIDAY_4PM + timedelta(minutes=5)
    clock.set(later)
    second = desk.receive(message("2", "やはり返品します", at=later, thread="1"))
    follow = desk.follow_up(second.events)
    assert [(n.recipient_id, n.event_kind) for n in follow.notifications] == [
        ("returns-team", "message_received")
    ]
    assert follow.notifications[0].content is None  # no template for message_received
    reply = message("3", "返品を承りました", at=later, thread="1", direction=Direction.OUTBOUND)
    assert desk.follow_up(desk.receive(reply).events).notifications == ()


def test_N3_without_notification_settings_nobody_is_notified(store: TicketStore) -> None:
    """N3: a desk without notification settings returns no notifications, and a follow-up of
    nothing is empty."""
    desk = make_desk(store, FixedClock(FRIDAY_4PM), notifications=None)
    result = desk.receive(message("1", "返品", at=FRIDAY_4PM))
    follow = desk.follow_up(result.events)
    assert follow.notifications == ()
    assert len(follow.reports) == 1
    assert desk.follow_up([]) == type(follow)()


def test_N2_a_template_with_a_placeholder_its_event_lacks_is_refused_at_configuration() -> None:
    """N2: a template that could not be rendered is refused when the settings are built,
    naming the placeholder and what the event gives."""
    with pytest.raises(InvalidModelError) as caught:
        NotificationSettings(templates={"ticket_created": Template(id="t", body="$due_at")})
    assert "due_at" in str(caught.value)
    assert "text" in str(caught.value)
    with pytest.raises(InvalidModelError, match="no event"):
        NotificationSettings(templates={"ticket_exploded": Template(id="t", body="x")})
    with pytest.raises(InvalidModelError, match="Template"):
        NotificationSettings(templates={"ticket_created": "body"})  # type: ignore[dict-item]
    with pytest.raises(InvalidModelError, match="repeats"):
        NotificationSettings(
            rules=[RoutingRule(id="a", audience="all_agents")] * 2,
        )
    with pytest.raises(InvalidModelError, match="mapping"):
        NotificationSettings(templates=["x"])  # type: ignore[arg-type]


def test_N3_desk_refuses_settings_of_the_wrong_type(store: TicketStore) -> None:
    """A desk given something else than settings says which argument is wrong."""
    with pytest.raises(InvalidModelError, match="service_levels"):
        make_desk(store, FixedClock(FRIDAY_4PM), service_levels={"policies": []})
    with pytest.raises(InvalidModelError, match="notifications"):
        make_desk(store, FixedClock(FRIDAY_4PM), notifications=[])
    with pytest.raises(InvalidModelError, match="domain events"):
        make_desk(store, FixedClock(FRIDAY_4PM)).follow_up(["ticket.created"])  # type: ignore[list-item]


# -- SL1, SL6, SL7: reports and the wake-up --------------------------------------------------------


def test_SL1_SL7_follow_up_reports_deadlines_across_a_weekend_and_a_holiday(
    store: TicketStore,
) -> None:
    """SL1: the standard policy applies to a medium ticket. SL2/SL3: created Friday 16:00 in
    Tokyo with a 4-hour first-response target, it counts Friday 16:00-18:00, skips the weekend
    and Monday's holiday (23 November), and is due Tuesday 11:00. SL7: the report says when
    to look again: the warning an hour before."""
    clock = FixedClock(FRIDAY_4PM)
    desk = make_desk(store, clock)
    follow = desk.follow_up(desk.receive(message("1", "至急", at=FRIDAY_4PM)).events)
    (report,) = follow.reports
    assert report.policy_id == "standard"
    first = report.clock(SlaMetric.FIRST_RESPONSE)
    assert first is not None
    assert first.due_at == datetime(2026, 11, 24, 11, 0, tzinfo=JST)
    assert first.warn_at == datetime(2026, 11, 24, 10, 0, tzinfo=JST)
    assert follow.next_wakeup_at == first.warn_at
    assert report.clock(SlaMetric.NEXT_RESPONSE) is None


def test_SL1_first_matching_policy_and_its_own_calendar(store: TicketStore) -> None:
    """SL1: a high-priority ticket takes the first policy (vip), which counts on its own
    24/7 calendar; a ticket no policy matches has no report and no deadline."""
    clock = FixedClock(FRIDAY_4PM)
    levels = attrs.evolve(LEVELS, policies=LEVELS.policies[:1])
    desk = make_desk(store, clock, service_levels=levels)
    high = desk.receive(message("1", "至急", at=FRIDAY_4PM, department_id="vip"))
    assert high.ticket is not None
    # The ticket was filed with the default priority, medium: no policy matches.
    assert desk.sla_report(high.ticket.id) is None
    assert desk.work_queue()[0].due_at is None
    levels = attrs.evolve(
        LEVELS,
        policies=[attrs.evolve(LEVELS.policies[0], conditions=SlaConditions())],
    )
    desk = make_desk(store, clock, service_levels=levels)
    report = desk.sla_report(high.ticket.id)
    assert report is not None
    assert report.calendar_id == "always"
    first = report.clock("first_response")
    assert first is not None
    assert first.due_at == FRIDAY_4PM + timedelta(hours=1)
    assert first.counted == timedelta(0)
    assert first.intervals == ()  # explained, but nothing counted yet


def test_SL6_the_wake_up_announces_the_warning_then_the_breach_once_each(
    store: TicketStore,
) -> None:
    """SL6: at the warning instant the check returns a warning for the assignee-less ticket's
    managers; a later check from there returns the breach at the deadline, then nothing new.
    Notifications carry the host's templates."""
    clock = FixedClock(FRIDAY_4PM)
    desk = make_desk(store, clock)
    desk.receive(message("1", "至急", at=FRIDAY_4PM))
    first = desk.check_service_levels(since=None)
    assert first.alerts == ()
    assert first.checked == 1
    assert first.next_wakeup_at == datetime(2026, 11, 24, 10, 0, tzinfo=JST)
    clock.set(first.next_wakeup_at)
    warned = desk.check_service_levels(since=first.checked_at)
    assert [(a.kind, a.metric) for a in warned.alerts] == [
        (SlaAlertKind.WARNING, SlaMetric.FIRST_RESPONSE)
    ]
    assert [n.recipient_id for n in warned.notifications] == ["manager-1"]
    content = warned.notifications[0].content
    assert content is not None
    assert content.subject == "#1: first_response due 2026-11-24T11:00+09:00"  # the calendar's zone
    assert content.body == "1h00m left"
    assert warned.notifications[0].alert_key == warned.alerts[0].key
    assert warned.next_wakeup_at == datetime(2026, 11, 24, 11, 0, tzinfo=JST)
    clock.set(datetime(2026, 11, 24, 11, 30, tzinfo=JST))
    late = desk.check_service_levels(since=warned.checked_at)
    assert [a.kind for a in late.alerts] == [SlaAlertKind.BREACH]
    assert late.notifications[0].event_kind == "sla_breach"
    assert late.notifications[0].content is not None
    assert late.notifications[0].content.body == "0h30m over"
    again = desk.check_service_levels(since=late.checked_at)
    assert again.alerts == ()
    # A first check catches up: the breach only, since a warning of a breached clock is moot.
    # The same alert keeps its key, so a host can drop a repeat.
    everything = desk.check_service_levels(since=None)
    assert [a.key for a in everything.alerts] == [a.key for a in late.alerts]


def test_SL5_a_hold_pauses_the_clock_and_silences_warnings(store: TicketStore) -> None:
    """SL5: on hold from Friday 17:00 to Tuesday 10:00 (across the weekend and a holiday),
    the first-response clock counts only Friday's hour, and no warning fires while paused."""
    clock = FixedClock(FRIDAY_4PM)
    desk = make_desk(store, clock)
    created = desk.receive(message("1", "確認お願いします", at=FRIDAY_4PM))
    assert created.ticket is not None
    clock.set(datetime(2026, 11, 20, 17, 0, tzinfo=JST))
    desk.change_status(created.ticket.id, TicketStatus.ON_HOLD)
    clock.set(datetime(2026, 11, 24, 10, 30, tzinfo=JST))
    held = desk.sla_report(created.ticket.id)
    assert held is not None
    first = held.clock("first_response")
    assert first is not None
    assert first.state is SlaState.PAUSED
    assert first.counted == timedelta(hours=1)
    assert not first.warning
    assert desk.check_service_levels(since=FRIDAY_4PM).alerts == ()
    desk.change_status(created.ticket.id, TicketStatus.OPEN)
    resumed = desk.sla_report(created.ticket.id)
    assert resumed is not None
    first = resumed.clock("first_response")
    assert first is not None
    assert first.state is SlaState.RUNNING
    # 3 hours left from 10:30: 10:30-12:00, lunch, 13:00-14:30.
    assert first.due_at == datetime(2026, 11, 24, 14, 30, tzinfo=JST)
    assert "on hold" in first.explanation


def test_SL7_check_service_levels_refuses_a_naive_since(store: TicketStore) -> None:
    """T1: ``since`` must be aware."""
    desk = make_desk(store, FixedClock(FRIDAY_4PM))
    with pytest.raises(NaiveDatetimeError):
        desk.check_service_levels(since=datetime(2026, 11, 20))


# -- Q1: the queue from the store ---------------------------------------------------------------


def test_Q1_an_overdue_ticket_heads_the_queue_until_an_agent_acts(store: TicketStore) -> None:
    """Q1: from every channel, the overdue ticket comes first, before newer tickets that
    need action; once an agent replies it leaves the head of the queue. Closed tickets are
    not queued."""
    clock = FixedClock(FRIDAY_4PM)
    desk = make_desk(store, clock)
    old = desk.receive(message("1", "届きません", at=FRIDAY_4PM))
    clock.set(datetime(2026, 11, 24, 11, 30, tzinfo=JST))
    newer = desk.receive(message("2", "質問です", at=clock.now(), channel=Channel.TWITTER))
    closed = desk.receive(message("3", "解決しました", at=clock.now()))
    assert old.ticket
    assert newer.ticket
    assert closed.ticket
    desk.change_status(closed.ticket.id, TicketStatus.CLOSED)
    queue = desk.work_queue()
    assert [e.ticket.id for e in queue] == [old.ticket.id, newer.ticket.id]
    assert queue[0].overdue_since == datetime(2026, 11, 24, 11, 0, tzinfo=JST)
    assert not queue[0].acted_after_overdue
    assert desk.is_overdue(old.ticket, clock.now())
    reply_at = clock.advance(minutes=5)
    reply = message("4", "確認します", at=reply_at, thread="1", direction=Direction.OUTBOUND)
    desk.receive(reply)
    queue = desk.work_queue()
    assert [e.ticket.id for e in queue] == [newer.ticket.id, old.ticket.id]
    assert desk.work_queue(limit=1) == queue[:1]
    with pytest.raises(InvalidModelError, match="limit"):
        desk.work_queue(limit=0)


def test_Q1_without_service_levels_the_queue_orders_by_need_and_age(store: TicketStore) -> None:
    """Q1: a desk without SLA settings still lists the queue: needs action, then age."""
    clock = FixedClock(FRIDAY_4PM)
    desk = make_desk(store, clock, service_levels=None)
    a = desk.receive(message("1", "一", at=FRIDAY_4PM))
    clock.advance(minutes=1)
    b = desk.receive(message("2", "二", at=clock.now()))
    assert a.ticket
    assert b.ticket
    assert [e.ticket.id for e in desk.work_queue()] == [a.ticket.id, b.ticket.id]
    assert all(e.due_at is None for e in desk.work_queue())
    assert desk.sla_report(a.ticket.id) is None
    assert not desk.is_overdue(a.ticket, clock.now())


def test_Q1_the_queue_pages_through_a_large_store(store: TicketStore) -> None:
    """Q1: more tickets than one page of the repository are all listed, each once."""
    clock = FixedClock(FRIDAY_4PM)
    desk = make_desk(store, clock, notifications=None)
    desk.receive_many(message(str(n), f"件 {n}", at=FRIDAY_4PM) for n in range(1005))
    queue = desk.work_queue()
    assert len(queue) == 1005
    assert len({e.ticket.id for e in queue}) == 1005


# -- X1 and C9 ------------------------------------------------------------------------------------


def test_X1_contact_metrics_from_the_store_count_overdue_tickets(store: TicketStore) -> None:
    """X1: the contact's numbers come from the store; overdue tickets are those the desk's
    SLAs call overdue; without service levels the count is "no data"."""
    clock = FixedClock(FRIDAY_4PM)
    desk = make_desk(store, clock)
    first = desk.receive(message("1", "一", at=FRIDAY_4PM))
    assert first.ticket is not None
    clock.set(datetime(2026, 11, 24, 12, 0, tzinfo=JST))
    metrics = desk.contact_metrics(first.ticket.contact_id, ratings={first.ticket.id: "good"})
    assert metrics.total_tickets == 1
    assert metrics.overdue_tickets == 1
    assert metrics.satisfaction == 1.0
    assert metrics.average_first_response is None
    plain = make_desk(store, clock, service_levels=None)
    assert plain.contact_metrics(first.ticket.contact_id).overdue_tickets is None
