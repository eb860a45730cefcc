"""Threading (H2-H4): append, reopen or new, decided purely and carried out by the desk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskcore import (
    AutoRule,
    Channel,
    Desk,
    DeskSettings,
    ExternalReference,
    NaiveDatetimeError,
    SocialItem,
    SocialItemKind,
    SocialProfile,
    SocialSettings,
    ThreadingMode,
    ThreadingOutcome,
    ThreadingPolicy,
    ThreadingRule,
    Ticket,
    TicketQuery,
    TicketStatus,
    compile_social_matcher,
    decide_threading,
)
from deskcore.ports import TicketStore
from deskcore.testing import FixedClock, SequentialIds

T0 = datetime(2026, 8, 3, 9, 0, tzinfo=UTC)
CLOSED_AT = T0 + timedelta(hours=1)


def ticket(status: TicketStatus = TicketStatus.CLOSED, **changes: object) -> Ticket:
    fields: dict[str, object] = {
        "id": "ticket-1",
        "number": 7,
        "department_id": "support",
        "channel": Channel.TWITTER,
        "contact_id": "twitter:u-1",
        "created_at": T0,
        "status": status,
        "closed_at": CLOSED_AT if status is TicketStatus.CLOSED else None,
    }
    return Ticket(**(fields | changes))  # type: ignore[arg-type]


def threading(
    existing: Ticket,
    after: timedelta,
    policy: ThreadingPolicy | None = None,
    kind: SocialItemKind = SocialItemKind.REPLY,
) -> tuple[ThreadingOutcome, str]:
    decision = decide_threading(
        existing, kind=kind, policy=policy or ThreadingPolicy(), now=CLOSED_AT + after
    )
    assert decision.explanation  # H4
    return decision.outcome, decision.reason


# -- the pure decision -----------------------------------------------------------------------------


def test_H2_a_ticket_that_is_not_closed_takes_the_item() -> None:
    for status in (TicketStatus.OPEN, TicketStatus.ESCALATED):
        assert threading(ticket(status), timedelta(days=30)) == (
            ThreadingOutcome.APPEND,
            "conversation_has_ticket",
        )


def test_H3_the_default_reopens_within_24_hours_of_closing_and_starts_new_after() -> None:
    assert threading(ticket(), timedelta(0)) == (ThreadingOutcome.REOPEN, "reopen_within_window")
    assert threading(ticket(), timedelta(hours=24)) == (
        ThreadingOutcome.REOPEN,
        "reopen_within_window",
    )
    assert threading(ticket(), timedelta(hours=24, seconds=1)) == (
        ThreadingOutcome.NEW,
        "window_passed",
    )


def test_H3_always_reopen_and_always_new_ignore_the_window() -> None:
    reopen = ThreadingPolicy(default=ThreadingRule(mode="always_reopen"))
    new = ThreadingPolicy(default=ThreadingRule(mode=ThreadingMode.ALWAYS_NEW))
    assert threading(ticket(), timedelta(days=365), reopen) == (
        ThreadingOutcome.REOPEN,
        "always_reopen",
    )
    assert threading(ticket(), timedelta(0), new) == (ThreadingOutcome.NEW, "always_new")


def test_H3_the_policy_is_chosen_per_kind() -> None:
    policy = ThreadingPolicy(
        by_kind={
            "direct_message": ThreadingRule(window=timedelta(hours=72)),
            "mention": ThreadingRule(mode="always_new"),
        }
    )
    two_days = timedelta(hours=48)
    assert threading(ticket(), two_days, policy, SocialItemKind.DIRECT_MESSAGE)[0] is (
        ThreadingOutcome.REOPEN
    )
    assert threading(ticket(), two_days, policy, SocialItemKind.REPLY)[0] is ThreadingOutcome.NEW
    assert threading(ticket(), timedelta(0), policy, SocialItemKind.MENTION)[0] is (
        ThreadingOutcome.NEW
    )


def test_H3_a_ticket_closed_after_now_counts_as_just_closed() -> None:
    assert threading(ticket(), -timedelta(hours=5))[0] is ThreadingOutcome.REOPEN


def test_a_trashed_ticket_never_takes_new_items() -> None:
    trashed = ticket(TicketStatus.OPEN, trashed_at=T0)
    assert threading(trashed, timedelta(0)) == (
        ThreadingOutcome.NEW,
        "conversation_ticket_trashed",
    )


def test_T1_threading_needs_an_aware_now() -> None:
    with pytest.raises(NaiveDatetimeError):
        decide_threading(
            ticket(), kind=SocialItemKind.REPLY, policy=ThreadingPolicy(), now=datetime(2026, 1, 1)
        )


@given(
    after=st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=30)),
    window=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)),
)
def test_H3_reopen_exactly_when_closed_no_longer_than_the_window(
    after: timedelta, window: timedelta
) -> None:
    policy = ThreadingPolicy(default=ThreadingRule(window=window))
    outcome, _ = threading(ticket(), after, policy)
    assert (outcome is ThreadingOutcome.REOPEN) == (after <= window)


# -- carried out by the desk -----------------------------------------------------------------------

FOLLOWER = SocialProfile(network="twitter", id="u-1", handle="@hanako")
SETTINGS = SocialSettings(
    rules=[
        AutoRule(id="returns", network="twitter", kinds=["mention", "reply"], keywords=["返品"]),
        AutoRule(id="dm", network="twitter", kinds=["direct_message"], match_all=True),
    ],
)
MATCHER = compile_social_matcher(SETTINGS)


def dm(n: int, text: str, at: datetime) -> SocialItem:
    return SocialItem(
        reference=ExternalReference("twitter", "brand_jp", "dm", f"d-{n}"),
        kind="direct_message",
        source="private_messages",
        author=FOLLOWER,
        text=text,
        created_at=at,
        conversation_id="conv-1",
    )


def make_desk(store: TicketStore, clock: FixedClock) -> Desk:
    return Desk(
        store=store,
        settings=DeskSettings(default_department_id="general"),
        clock=clock,
        ids=SequentialIds(),
    )


def test_H3_within_the_window_the_closed_ticket_reopens(store: TicketStore) -> None:
    clock = FixedClock(T0)
    desk = make_desk(store, clock)
    first = desk.handle_social_item(dm(1, "届きません", T0), settings=SETTINGS, matcher=MATCHER)
    assert first.ticket is not None
    desk.change_status(first.ticket.id, TicketStatus.CLOSED)
    at = clock.advance(hours=23)
    again = desk.handle_social_item(dm(2, "まだです", at), settings=SETTINGS, matcher=MATCHER)
    assert again.decision.outcome == "reopen"
    assert again.ticket is not None
    assert again.ticket.id == first.ticket.id
    assert again.ticket.status is TicketStatus.OPEN
    assert {e.name for e in again.events} >= {"ticket.status_changed"}


def test_H3_after_the_window_a_new_ticket_takes_the_conversation_over(store: TicketStore) -> None:
    clock = FixedClock(T0)
    desk = make_desk(store, clock)
    first = desk.handle_social_item(dm(1, "届きません", T0), settings=SETTINGS, matcher=MATCHER)
    assert first.ticket is not None
    desk.change_status(first.ticket.id, TicketStatus.CLOSED)
    at = clock.advance(hours=25)
    later = desk.handle_social_item(dm(2, "別件です", at), settings=SETTINGS, matcher=MATCHER)
    assert (later.decision.outcome, later.decision.reason) == ("new", "window_passed")
    assert later.decision.previous_ticket_id == first.ticket.id
    assert later.ticket is not None
    assert later.ticket.id != first.ticket.id
    key = dm(2, "", at).conversation_key
    # The closed ticket gave the conversation up; it keeps its own messages.
    old = store.get(first.ticket.id)
    assert old.status is TicketStatus.CLOSED
    assert key not in old.all_references()
    assert store.find_by_reference(key) == store.get(later.ticket.id)
    # The rest of the conversation follows the new ticket; the old message stays on the old.
    follow = desk.handle_social_item(
        dm(3, "追記", clock.advance(minutes=5)), settings=SETTINGS, matcher=MATCHER
    )
    assert follow.ticket is not None
    assert follow.ticket.id == later.ticket.id
    assert follow.decision.outcome == "append"
    redelivered = desk.handle_social_item(
        dm(1, "届きません", T0), settings=SETTINGS, matcher=MATCHER
    )
    assert redelivered.decision.outcome == "already_converted"
    assert redelivered.intake == "duplicate"
    assert redelivered.ticket is not None
    assert redelivered.ticket.id == first.ticket.id
    open_ones = store.search(TicketQuery(statuses=["open"]))
    assert [t.id for t in open_ones] == [later.ticket.id]


def test_H3_always_new_per_kind_through_the_desk(store: TicketStore) -> None:
    settings = SocialSettings(
        rules=SETTINGS.rules,
        threading=ThreadingPolicy(by_kind={"direct_message": ThreadingRule(mode="always_new")}),
    )
    clock = FixedClock(T0)
    desk = make_desk(store, clock)
    first = desk.handle_social_item(dm(1, "a", T0), settings=settings, matcher=MATCHER)
    assert first.ticket is not None
    desk.change_status(first.ticket.id, TicketStatus.CLOSED)
    second = desk.handle_social_item(
        dm(2, "b", clock.advance(minutes=1)), settings=settings, matcher=MATCHER
    )
    assert second.decision.reason == "always_new"
    assert second.ticket is not None
    assert second.ticket.id != first.ticket.id
