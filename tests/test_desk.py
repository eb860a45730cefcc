"""The Desk service over the in-memory repository: idempotent intake (P3), events (P4),
status changes with optimistic retries (L1), reopening (L2) and first response (L4)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskcore import (
    Actor,
    Channel,
    ConcurrencyError,
    Contact,
    DeskcoreError,
    DeskSettings,
    Direction,
    ExternalReference,
    FirstResponseRecorded,
    InboundMessage,
    IntakeAction,
    InvalidTransitionError,
    ItemAppended,
    ItemRevised,
    Message,
    NotFoundError,
    ReferenceConflict,
    StatusChanged,
    Ticket,
    TicketCreated,
    TicketQuery,
    TicketStatus,
    UnknownValueError,
)
from deskcore.adapters import InMemoryTicketRepository
from deskcore.policies.intake import message_digest, open_ticket
from deskcore.service import Desk
from deskcore.testing import FixedClock, SequentialIds
from deskcore.testing import strategies as s

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
SETTINGS = DeskSettings(default_department_id="support")
CONTACT = Contact(id="c-1", name="Ana", email="ana@example.com")
MERGER = Actor(id="lead-1", permissions=["search_and_merge"])


def ref(native_id: str, kind: str = "tweet") -> ExternalReference:
    return ExternalReference(network="twitter", account="brand", kind=kind, native_id=native_id)


CONVERSATION = ref("conv-1", "dm_conversation")


def inbound(native_id: str = "1", **changes: Any) -> InboundMessage:
    fields: dict[str, Any] = {
        "reference": ref(native_id),
        "conversation": CONVERSATION,
        "channel": Channel.TWITTER,
        "contact": CONTACT,
        "body": "My order never arrived",
        "sent_at": T0,
    }
    return InboundMessage(**(fields | changes))


@attrs.define
class Setup:
    desk: Desk
    repo: InMemoryTicketRepository
    clock: FixedClock

    def tickets(self) -> list[Ticket]:
        return self.repo.search(TicketQuery(include_trashed=True, limit=1000))


def make(**options: Any) -> Setup:
    repo = InMemoryTicketRepository()
    clock = FixedClock(T0)
    desk = Desk(store=repo, settings=SETTINGS, clock=clock, ids=SequentialIds(), **options)
    return Setup(desk, repo, clock)


def messages_of(ticket: Ticket) -> list[Message]:
    return list(ticket.messages())


# -- P3: idempotent intake -------------------------------------------------------------------------


def test_P3_same_message_twice_gives_one_ticket_and_one_item() -> None:
    """P3: a webhook delivered twice yields one ticket with one thread item."""
    env = make()
    first = env.desk.receive(inbound())
    env.clock.advance(minutes=1)
    second = env.desk.receive(inbound())
    assert first.action is IntakeAction.CREATE
    assert first.changed
    assert second.action is IntakeAction.DUPLICATE
    assert not second.changed
    assert second.reason == "redelivered"
    assert second.events == ()
    assert second.item_id == first.item_id
    assert second.ticket == first.ticket
    [stored] = env.tickets()
    assert len(stored.thread) == 1
    assert stored.version == 1


def test_P3_conflicting_content_is_reported_and_nothing_is_written() -> None:
    """P3: the same reference with other content is a conflict with a ReferenceConflict event;
    the stored ticket is left exactly as it was."""
    env = make()
    created = env.desk.receive(inbound())
    assert created.ticket is not None
    before = env.repo.get(created.ticket.id)
    env.clock.advance(minutes=5)
    reused = inbound(body="Completely different text")
    result = env.desk.receive(reused)
    assert result.action is IntakeAction.CONFLICT
    assert result.reason == "digest_mismatch"
    assert not result.changed
    stored_digest = messages_of(before)[0].content_digest
    assert result.events == (
        ReferenceConflict(
            ticket_id=before.id,
            at=env.clock.now(),
            reference=reused.reference,
            stored_digest=stored_digest,
            received_digest=message_digest(reused),
        ),
    )
    assert stored_digest != message_digest(reused)
    assert env.repo.get(before.id) == before
    assert env.repo.get(before.id).version == 1


def test_P3_edit_is_stored_as_a_revision() -> None:
    """P3: an edited message becomes a revision of the same item, at the same position."""
    env = make()
    created = env.desk.receive(inbound("1"))
    env.clock.advance(minutes=1)
    env.desk.receive(inbound("2", sent_at=T0 + timedelta(minutes=1)))
    env.clock.advance(minutes=1)
    result = env.desk.receive(inbound("1", body="My order never arrived (edited)", is_edit=True))
    assert result.action is IntakeAction.REVISE
    assert result.item_id == created.item_id
    assert result.events == (
        ItemRevised(
            ticket_id=result.ticket.id if result.ticket else "",
            at=env.clock.now(),
            item_id=created.item_id or "",
            revision=1,
        ),
    )
    stored = env.repo.get(result.ticket.id if result.ticket else "")
    assert stored.version == 3
    first, second = messages_of(stored)
    assert first.id == created.item_id
    assert first.body == "My order never arrived (edited)"
    assert [r.body for r in first.revisions] == ["My order never arrived"]
    assert second.external_ref == ref("2")


def test_P3_conversation_reference_appends_and_redelivery_after_append_is_duplicate() -> None:
    """P3/H2: a second message of the conversation joins the ticket; delivering it again is a
    duplicate that changes nothing."""
    env = make()
    created = env.desk.receive(inbound("1"))
    env.clock.advance(minutes=2)
    appended = env.desk.receive(inbound("2", body="Any news?"))
    assert appended.action is IntakeAction.APPEND
    assert appended.reason == "conversation_has_ticket"
    assert appended.ticket is not None
    assert created.ticket is not None
    assert appended.ticket.id == created.ticket.id
    assert appended.ticket.version == 2
    assert [m.external_ref for m in messages_of(appended.ticket)] == [ref("1"), ref("2")]
    env.clock.advance(minutes=2)
    again = env.desk.receive(inbound("2", body="Any news?"))
    assert again.action is IntakeAction.DUPLICATE
    assert again.item_id == appended.item_id
    assert env.repo.get(created.ticket.id).version == 2


def test_P3_subject_is_derived_from_the_first_non_blank_line() -> None:
    """P3: a ticket without a subject takes its body's first non-blank line, shortened with '…'."""
    env = make()
    result = env.desk.receive(inbound(body="\n  \n  Order #123 never arrived  \nDetails"))
    assert result.ticket is not None
    assert result.ticket.subject == "Order #123 never arrived"
    long = env.desk.receive(inbound("2", conversation=None, body="返" * 500))
    assert long.ticket is not None
    assert long.ticket.subject == "返" * 119 + "…"


def test_P3_contact_is_stored_with_the_ticket() -> None:
    """P3: intake stores the message's contact when the store does not know it yet."""
    env = make()
    env.desk.receive(inbound())
    assert env.repo.get_contact("c-1") == CONTACT


BODIES = s.texts(max_size=20)


@st.composite
def delivery_plans(draw: st.DrawFn) -> tuple[list[InboundMessage], list[int]]:
    """Conversations of 1-3 messages and messages without a conversation, delivered in any
    order with some delivered again; returns the messages and the delivery order (indices)."""
    groups = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3), label="groups")
    singles = draw(st.integers(0, 2), label="singles")
    # Unique references by construction: one drawn reference, numbered.
    base = draw(s.external_references(), label="base reference")
    count = sum(groups) + len(groups) + singles
    refs = [attrs.evolve(base, native_id=f"{base.native_id}/{n}") for n in range(count)]
    pool = iter(refs)
    messages: list[InboundMessage] = []
    for size in groups:
        conversation = next(pool)
        template = draw(s.inbound_messages(conversation=conversation), label="template")
        for _ in range(size):
            messages.append(
                attrs.evolve(template, reference=next(pool), body=draw(BODIES), is_edit=False)
            )
    for _ in range(singles):
        template = draw(s.inbound_messages(), label="single")
        messages.append(
            attrs.evolve(template, reference=next(pool), conversation=None, is_edit=False)
        )
    order = list(range(len(messages)))
    order += draw(st.lists(st.sampled_from(order), max_size=5), label="redeliveries")
    return messages, draw(st.permutations(order), label="order")


@given(delivery_plans(), st.lists(st.timedeltas(timedelta(0), timedelta(days=2)), min_size=30))
def test_P3_P4_redeliveries_never_duplicate_or_lose_items(
    plan: tuple[list[InboundMessage], list[int]], gaps: Sequence[timedelta]
) -> None:
    """P3: over any delivery order with redeliveries there is one ticket per conversation (and
    per message without one), every message is stored exactly once, in its conversation's
    ticket, and every redelivery is a duplicate of the first delivery. P4: every change
    returns events naming its ticket, at the clock's ``now``."""
    messages, order = plan
    env = make()
    first: dict[int, tuple[str, str | None]] = {}
    for step, index in enumerate(order):
        env.clock.advance(gaps[step % len(gaps)])
        result = env.desk.receive(messages[index])
        assert result.ticket is not None
        if index in first:
            assert result.action is IntakeAction.DUPLICATE
            assert result.events == ()
            assert (result.ticket.id, result.item_id) == first[index]
            continue
        assert result.action in {IntakeAction.CREATE, IntakeAction.APPEND}
        first[index] = (result.ticket.id, result.item_id)
        assert result.events
        assert all(e.ticket_id == result.ticket.id for e in result.events)
        assert all(e.at == env.clock.now() for e in result.events)
        expected_head = TicketCreated if result.action is IntakeAction.CREATE else ItemAppended
        assert isinstance(result.events[0], expected_head)

    tickets = env.tickets()
    conversations = {m.conversation for m in messages if m.conversation is not None}
    singles = [m for m in messages if m.conversation is None]
    assert len(tickets) == len(conversations) + len(singles)
    stored = Counter(m.external_ref for t in tickets for m in t.messages())
    assert stored == Counter(m.reference for m in messages)
    by_conversation: dict[ExternalReference, set[str]] = {}
    for n, m in enumerate(messages):
        if m.conversation is not None:
            by_conversation.setdefault(m.conversation, set()).add(first[n][0])
    assert all(len(ids) == 1 for ids in by_conversation.values())
    for t in tickets:
        assert t.version == len(t.thread)


def test_P3_M14_conversation_of_a_merged_ticket_lands_on_the_primary() -> None:
    """P3/M14: a message in the conversation of a merged-away ticket joins the primary."""
    env = make()
    old = env.desk.receive(inbound("1"))
    primary = env.desk.receive(inbound("9", conversation=ref("other", "dm_conversation")))
    assert old.ticket is not None
    assert primary.ticket is not None
    plan = env.desk.plan_merge(
        [old.ticket.id, primary.ticket.id], actor=MERGER, primary_id=primary.ticket.id
    )
    assert plan.ok, plan.rejections
    merged = env.desk.merge(plan, actor=MERGER)
    assert [t.id for t in merged.trashed] == [old.ticket.id]
    env.clock.advance(hours=1)
    result = env.desk.receive(inbound("2", body="Hello again"))
    assert result.action is IntakeAction.APPEND
    assert result.ticket is not None
    assert result.ticket.id == primary.ticket.id
    assert len(env.tickets()) == 2


def test_P3_follow_ups_after_the_conversation_ticket_was_trashed_stay_together() -> None:
    """P3/H2: when a conversation's ticket was deleted, the next message starts a new ticket,
    and the messages after it join that new ticket instead of starting one each."""
    env = make()
    old = env.desk.receive(inbound("1"))
    assert old.ticket is not None
    env.repo.trash(old.ticket.id, at=env.clock.now(), expected_version=old.ticket.version)
    env.clock.advance(hours=1)
    second = env.desk.receive(inbound("2", body="Anyone there?"))
    env.clock.advance(hours=1)
    third = env.desk.receive(inbound("3", body="Hello??"))
    assert second.action is IntakeAction.CREATE
    assert second.reason == "conversation_ticket_trashed"
    assert second.ticket is not None
    assert third.ticket is not None
    assert third.action is IntakeAction.APPEND
    assert third.ticket.id == second.ticket.id


def test_P3_root_message_arriving_after_its_reply_joins_the_ticket() -> None:
    """P3: an email thread's conversation is its first Message-ID. When a reply arrives before
    the first message, the first message still joins the ticket; nothing is lost."""
    env = make()
    root = ref("<root@mail>", "message")
    reply = env.desk.receive(inbound("<reply@mail>", conversation=root, body="Re: order"))
    env.clock.advance(minutes=1)
    first = env.desk.receive(inbound("x", reference=root, conversation=root, body="Order"))
    assert reply.ticket is not None
    assert first.action is IntakeAction.APPEND
    assert first.ticket is not None
    assert first.ticket.id == reply.ticket.id
    assert [m.body for m in messages_of(env.repo.get(reply.ticket.id))] == ["Re: order", "Order"]


# -- P4: events -----------------------------------------------------------------------------------


def test_P4_every_change_returns_its_events() -> None:
    """P4: create, agent reply, closing, customer reopening and an edit each return their
    events, with the ticket id and the clock's ``now``."""
    env = make()
    created = env.desk.receive(inbound("1"))
    assert created.ticket is not None
    tid = created.ticket.id
    assert [type(e) for e in created.events] == [TicketCreated, ItemAppended]
    assert all(e.ticket_id == tid and e.at == T0 for e in created.events)

    now = env.clock.advance(minutes=10)
    reply = env.desk.receive(
        inbound("2", direction=Direction.OUTBOUND, author_id="agent-1", sent_at=now)
    )
    assert reply.events == (
        ItemAppended(ticket_id=tid, at=now, item_id=reply.item_id or "", reference=ref("2")),
        FirstResponseRecorded(ticket_id=tid, at=now, item_id=reply.item_id or ""),
    )
    assert env.repo.get(tid).first_responded_at == now

    now = env.clock.advance(minutes=10)
    closed = env.desk.change_status(tid, TicketStatus.CLOSED)
    assert closed.events == (
        StatusChanged(
            ticket_id=tid,
            at=now,
            from_status=TicketStatus.OPEN,
            to_status=TicketStatus.CLOSED,
            reason="agent",
        ),
    )

    now = env.clock.advance(days=1)
    again = env.desk.receive(inbound("3", body="It broke again", sent_at=now))
    assert again.action is IntakeAction.APPEND
    assert again.reason == "reopens_closed_ticket"
    assert [type(e) for e in again.events] == [ItemAppended, StatusChanged]
    reopened = again.events[1]
    assert isinstance(reopened, StatusChanged)
    assert (reopened.from_status, reopened.to_status, reopened.reason) == (
        TicketStatus.CLOSED,
        TicketStatus.OPEN,
        "reopened_by_customer",
    )
    assert all(e.ticket_id == tid and e.at == now for e in again.events)
    assert env.repo.get(tid).status is TicketStatus.OPEN

    now = env.clock.advance(minutes=1)
    edit = env.desk.receive(inbound("3", body="It broke again!!", is_edit=True, sent_at=now))
    assert [type(e) for e in edit.events] == [ItemRevised]
    assert edit.events[0].at == now
    assert env.repo.get(tid).first_responded_at == T0 + timedelta(minutes=10)


def test_L4_first_response_via_desk_is_never_moved() -> None:
    """L4: a later public reply leaves first_responded_at where the first one put it."""
    env = make()
    created = env.desk.receive(inbound("1"))
    assert created.ticket is not None
    for n in (2, 3):
        now = env.clock.advance(hours=1)
        env.desk.receive(inbound(str(n), direction=Direction.OUTBOUND, sent_at=now))
    assert env.repo.get(created.ticket.id).first_responded_at == T0 + timedelta(hours=1)


# -- L1: Desk.change_status ----------------------------------------------------------------------


def test_L1_desk_change_status_saves_one_version_up() -> None:
    """L1: a valid change is saved with the version raised by one."""
    env = make()
    created = env.desk.receive(inbound())
    assert created.ticket is not None
    change = env.desk.change_status(created.ticket.id, TicketStatus.ON_HOLD)
    assert change.ticket.status is TicketStatus.ON_HOLD
    assert change.ticket.version == 2
    assert env.repo.get(created.ticket.id) == change.ticket


def test_L1_desk_same_status_writes_nothing() -> None:
    """L1: setting the status a ticket has is a no-op: no event, no new version."""
    env = make()
    created = env.desk.receive(inbound())
    assert created.ticket is not None
    change = env.desk.change_status(created.ticket.id, TicketStatus.OPEN)
    assert change.events == ()
    assert env.repo.get(created.ticket.id).version == 1


def test_L1_desk_invalid_change_raises_and_writes_nothing() -> None:
    """L1/P5: a change the table forbids raises InvalidTransitionError and writes nothing."""
    env = make()
    created = env.desk.receive(inbound())
    assert created.ticket is not None
    tid = created.ticket.id
    env.desk.change_status(tid, TicketStatus.CLOSED)
    before = env.repo.get(tid)
    with pytest.raises(InvalidTransitionError, match="from closed to escalated"):
        env.desk.change_status(tid, TicketStatus.ESCALATED)
    with pytest.raises(UnknownValueError, match="'pending'"):
        env.desk.change_status(tid, "pending")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError, match="nope"):
        env.desk.change_status("nope", TicketStatus.OPEN)
    assert env.repo.get(tid) == before


class _RacingTickets:
    """A repository view that lets another writer commit right after the first read."""

    def __init__(self, inner: Any, race: _Race) -> None:
        self._inner = inner
        self._race = race

    def get(self, ticket_id: str) -> Ticket:
        found = self._inner.get(ticket_id)
        self._race.fire()
        return found  # type: ignore[no-any-return]

    def find_by_reference(self, reference: ExternalReference) -> Ticket | None:
        found = self._inner.find_by_reference(reference)
        self._race.fire()
        return found  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _RacingUnitOfWork:
    def __init__(self, inner: Any, race: _Race) -> None:
        self._inner = inner
        self._race = race

    def __enter__(self) -> _RacingUnitOfWork:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)

    @property
    def tickets(self) -> _RacingTickets:
        return _RacingTickets(self._inner.tickets, self._race)

    def commit(self) -> None:
        self._inner.commit()

    def rollback(self) -> None:
        self._inner.rollback()


class _Race:
    """A store wrapper: in the first ``times`` units of work, ``writer`` runs (and commits)
    between the use case's read and its write, as a concurrent worker would."""

    def __init__(self, repo: InMemoryTicketRepository, writer: Callable[[], None], times: int):
        self.repo = repo
        self.writer = writer
        self.times = times
        self.fired = 0

    def fire(self) -> None:
        if self.fired < self.times:
            self.fired += 1
            self.writer()  # the in-memory lock is reentrant, so this commits at once

    def unit_of_work(self) -> _RacingUnitOfWork:
        return _RacingUnitOfWork(self.repo.unit_of_work(), self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.repo, name)


def _racing_desk(env: Setup, writer: Callable[[], None], times: int, attempts: int = 3) -> Desk:
    race = _Race(env.repo, writer, times)
    return Desk(
        store=race,  # type: ignore[arg-type]
        settings=SETTINGS,
        clock=env.clock,
        ids=SequentialIds("racer-"),
        max_attempts=attempts,
    )


def test_L1_desk_change_status_retries_on_stale_state() -> None:
    """L1/P2: when another writer saves the ticket between the read and the write, the change
    is retried on the fresh ticket; both writes survive."""
    env = make()
    created = env.desk.receive(inbound())
    assert created.ticket is not None
    tid = created.ticket.id

    def other_agent() -> None:
        env.repo.save(attrs.evolve(env.repo.get(tid), assignee_id="agent-2"))

    desk = _racing_desk(env, other_agent, times=1)
    change = desk.change_status(tid, TicketStatus.ESCALATED)
    stored = env.repo.get(tid)
    assert stored == change.ticket
    assert stored.status is TicketStatus.ESCALATED
    assert stored.assignee_id == "agent-2"
    assert stored.version == 3
    assert len(change.events) == 1


def test_L1_desk_change_status_gives_up_after_max_attempts() -> None:
    """L1/P5: when every attempt loses the race, ConcurrencyError is raised and the change is
    not written."""
    env = make()
    created = env.desk.receive(inbound())
    assert created.ticket is not None
    tid = created.ticket.id

    def other_agent() -> None:
        env.repo.save(env.repo.get(tid))

    desk = _racing_desk(env, other_agent, times=2, attempts=2)
    with pytest.raises(ConcurrencyError) as caught:
        desk.change_status(tid, TicketStatus.CLOSED)
    assert caught.value.ticket_id == tid
    assert env.repo.get(tid).status is TicketStatus.OPEN
    assert env.repo.get(tid).version == 3


def test_P3_two_workers_racing_on_one_message_give_one_ticket() -> None:
    """P3: when another worker stores the same message between our read and our write, the
    reference claim fails, intake retries, and sees a duplicate: one ticket, one item."""
    env = make()
    message = inbound(conversation=None)

    def other_worker() -> None:
        change = open_ticket(
            message, ticket_id="w2-t", number=900, item_id="w2-i", settings=SETTINGS, now=T0
        )
        env.repo.add(change.ticket)

    desk = _racing_desk(env, other_worker, times=1)
    result = desk.receive(message)
    assert result.action is IntakeAction.DUPLICATE
    assert result.ticket is not None
    assert (result.ticket.id, result.item_id) == ("w2-t", "w2-i")
    assert [t.id for t in env.tickets()] == ["w2-t"]


# -- runtime checks ------------------------------------------------------------------------------


class _NaiveClock:
    def now(self) -> datetime:
        return datetime(2026, 4, 1, 9, 0)


def test_T1_P5_a_naive_clock_is_rejected() -> None:
    """T1/P5: a clock that returns naive datetimes is refused with a deskcore error, and
    nothing is written."""
    repo = InMemoryTicketRepository()
    desk = Desk(store=repo, settings=SETTINGS, clock=_NaiveClock())
    with pytest.raises(DeskcoreError, match="naive"):
        desk.receive(inbound())
    assert repo.search(TicketQuery(include_trashed=True)) == []


def test_P5_desk_needs_at_least_one_attempt() -> None:
    """P5: max_attempts below 1 is refused at construction."""
    with pytest.raises(ValueError, match="max_attempts"):
        make(max_attempts=0)
