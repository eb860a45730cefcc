"""``Desk.handle_chat_event``: chats in, at most one ticket out (C1-C3, C5, C7, D2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import event as event_note
from hypothesis import given
from hypothesis import strategies as st

from deskcore import (
    Channel,
    ChatEvent,
    ChatSession,
    ChatSettings,
    Contact,
    ConvertWhen,
    ConvertWhich,
    DepartmentLink,
    DepartmentMapping,
    Desk,
    DeskSettings,
    ExternalReference,
    InboundMessage,
    InvalidModelError,
    LinkState,
    MappingDefault,
    TicketQuery,
    TicketStatus,
)
from deskcore.adapters import InMemoryTicketRepository
from deskcore.ports import TicketStore
from deskcore.testing import FixedClock, SequentialIds

T0 = datetime(2026, 8, 3, 9, 0, tzinfo=UTC)
SESSION = ExternalReference(network="chat", account="site", kind="chat_session", native_id="cs-7")
VISITOR = Contact(id="visitor-7", name="佐藤 健", email="ken@example.jp")
MAPPING = DepartmentMapping(
    links=(
        DepartmentLink(chat_department_id="chat-support", helpdesk_department_id="support"),
        DepartmentLink(chat_department_id="chat-any", default=MappingDefault.CHOOSE_EACH_TIME),
    )
)


def line(n: int, body: str) -> InboundMessage:
    return InboundMessage(
        reference=ExternalReference(
            network="chat", account="site", kind="chat_line", native_id=f"cs-7/{n}"
        ),
        channel=Channel.CHAT,
        contact=VISITOR,
        body=body,
        sent_at=T0 + timedelta(minutes=n),
    )


TRANSCRIPT = (line(1, "注文した商品が届きません"), line(2, "注文番号は A-77 です"))


def chat(**changes: object) -> ChatSession:
    fields: dict[str, object] = {
        "reference": SESSION,
        "visitor_name": VISITOR.name,
        "visitor_email": VISITOR.email,
        "department_id": "chat-support",
        "started_at": T0,
        "ended_at": T0 + timedelta(minutes=5),
        "missed": True,
        "transcript": TRANSCRIPT,
    }
    return ChatSession(**(fields | changes))  # type: ignore[arg-type]


def desk(store: TicketStore) -> Desk:
    return Desk(
        store=store,
        settings=DeskSettings(default_department_id="general"),
        clock=FixedClock(T0 + timedelta(minutes=6)),
        ids=SequentialIds(),
    )


def test_C2_C7_a_missed_chat_becomes_one_ticket_with_its_transcript(store: TicketStore) -> None:
    d = desk(store)
    settings = ChatSettings(owner_id="admin-1")
    first = d.handle_chat_event(chat(), ChatEvent.MISSED, settings=settings, mapping=MAPPING)
    assert first.decision.converts
    assert first.ticket is not None
    assert first.ticket.department_id == "support"
    assert [m.body for m in first.ticket.messages()] == [m.body for m in TRANSCRIPT]
    assert {e.name for e in first.events} >= {"ticket.created", "ticket.item_appended"}
    for event in (ChatEvent.ENDED, ChatEvent.MISSED, ChatEvent.EMAIL_ADDED):
        again = d.handle_chat_event(chat(), event, settings=settings, mapping=MAPPING)
        assert again.decision.outcome == "already_converted"
        assert again.ticket is not None
        assert again.ticket.id == first.ticket.id
        assert again.events == ()
    assert len(store.search(TicketQuery(include_trashed=True))) == 1


def test_C3_the_ticket_takes_the_integrations_status(store: TicketStore) -> None:
    settings = ChatSettings(owner_id="admin-1", ticket_status=TicketStatus.CLOSED)
    outcome = desk(store).handle_chat_event(
        chat(), ChatEvent.MISSED, settings=settings, mapping=MAPPING
    )
    assert outcome.ticket is not None
    assert outcome.ticket.status is TicketStatus.CLOSED
    assert store.get(outcome.ticket.id).status is TicketStatus.CLOSED


def test_C5_D2_no_ticket_without_an_email_or_in_a_guessed_department(store: TicketStore) -> None:
    d = desk(store)
    settings = ChatSettings(owner_id="admin-1")
    no_email = d.handle_chat_event(
        chat(visitor_email=None), ChatEvent.MISSED, settings=settings, mapping=MAPPING
    )
    assert no_email.decision.outcome == "needs_email"
    choose = d.handle_chat_event(
        chat(department_id="chat-any"), ChatEvent.MISSED, settings=settings, mapping=MAPPING
    )
    assert choose.decision.outcome == "needs_department"
    assert choose.ticket is None
    assert store.search(TicketQuery(include_trashed=True)) == []


def test_C2_an_attended_chat_converts_on_answer_and_later_lines_join_it(
    store: TicketStore,
) -> None:
    d = desk(store)
    settings = ChatSettings(owner_id="admin-1", when="on_answer")
    answered = chat(
        missed=False,
        ended_at=None,
        answered_by="agent-1",
        answered_at=T0 + timedelta(minutes=1),
        transcript=TRANSCRIPT[:1],
    )
    first = d.handle_chat_event(answered, ChatEvent.ANSWERED, settings=settings, mapping=MAPPING)
    assert first.decision.converts
    # The chat goes on; its later lines reach the same ticket through ordinary intake.
    follow_up = attrs.evolve(TRANSCRIPT[1], conversation=SESSION)
    result = d.receive(follow_up)
    assert first.ticket is not None
    assert result.ticket is not None
    assert result.ticket.id == first.ticket.id


def test_P5_a_chat_that_converts_without_lines_is_a_typed_error(store: TicketStore) -> None:
    with pytest.raises(InvalidModelError):
        desk(store).handle_chat_event(
            chat(transcript=()),
            ChatEvent.MISSED,
            settings=ChatSettings(owner_id="admin-1"),
            mapping=MAPPING,
        )
    assert store.search(TicketQuery(include_trashed=True)) == []


# -- the whole path, as a property ------------------------------------------------------------

DEFAULTS = [None, None, None, *MappingDefault]  # a mapped department half the time


@st.composite
def deliveries(draw: st.DrawFn) -> list[tuple[ChatSession, ChatEvent]]:
    """The snapshots of one chat as it goes on, each with the event that produced it,
    delivered repeated and out of order (a late webhook carries an older snapshot)."""
    answered = draw(st.booleans())
    ends = draw(st.booleans())
    email_from = draw(st.sampled_from(["start", "start", "later", "never"]))
    state = chat(
        missed=False,
        ended_at=None,
        visitor_email=VISITOR.email if email_from == "start" else None,
        department_id="chat-drawn",
    )
    history = [(state, ChatEvent.STARTED)]
    steps = ["answer"] if answered else []
    steps += ["end"] if ends else []
    if email_from == "later":
        steps.insert(draw(st.integers(0, len(steps))), "email")
    for minute, step in enumerate(steps, start=1):
        at = T0 + timedelta(minutes=minute)
        if step == "answer":
            state = attrs.evolve(state, answered_by="agent-1", answered_at=at)
            history.append((state, ChatEvent.ANSWERED))
        elif step == "email":
            state = attrs.evolve(state, visitor_email=VISITOR.email)
            history.append((state, ChatEvent.EMAIL_ADDED))
        else:
            state = attrs.evolve(state, ended_at=at, missed=not state.attended)
            history.append((state, ChatEvent.MISSED if state.missed else ChatEvent.ENDED))
    late = draw(st.lists(st.sampled_from(history), max_size=4))
    tail = draw(st.permutations(history[1:] + late))
    return [history[0], *tail]


@given(
    sequence=deliveries(),
    settings=st.builds(
        ChatSettings,
        owner_id=st.just("admin-1"),
        enabled=st.sampled_from([True, True, True, False]),
        convert=st.sampled_from(ConvertWhich),
        when=st.sampled_from(ConvertWhen),
        ticket_status=st.sampled_from([TicketStatus.OPEN, TicketStatus.CLOSED]),
        link_state=st.sampled_from([LinkState.LINKED] * 3 + [LinkState.NEEDS_RELINK]),
    ),
    default=st.sampled_from(DEFAULTS),
)
def test_C1_C2_C5_C7_D2_through_the_service_one_ticket_at_most_and_only_when_allowed(
    sequence: list[tuple[ChatSession, ChatEvent]],
    settings: ChatSettings,
    default: MappingDefault | None,
) -> None:
    """Every combination of settings, mapping default and event sequence (answered or not,
    email at the start, later or never, events repeated or out of order), through
    :meth:`Desk.handle_chat_event` into a store."""
    store = InMemoryTicketRepository()
    d = desk(store)
    link = DepartmentLink(
        chat_department_id="chat-drawn",
        helpdesk_department_id="sales" if default is None else None,
        default=default,
    )
    mapping = DepartmentMapping(links=(link,))
    made: str | None = None
    for snapshot, event in sequence:
        outcome = d.handle_chat_event(snapshot, event, settings=settings, mapping=mapping)
        tickets = store.search(TicketQuery(include_trashed=True))
        assert len(tickets) <= 1
        if outcome.decision.converts:
            assert made is None
            assert outcome.ticket is not None
            made = outcome.ticket.id
            event_note("converted")
            assert default is None  # never a guessed department
            assert outcome.ticket.department_id == "sales"
            assert outcome.ticket.status is settings.ticket_status
            assert settings.enabled
            assert settings.link_state is LinkState.LINKED
            assert snapshot.visitor_email
            if snapshot.missed:
                assert snapshot.ended
                assert settings.convert in (ConvertWhich.ALL, ConvertWhich.MISSED)
            else:
                assert snapshot.attended
                assert settings.convert in (ConvertWhich.ALL, ConvertWhich.ATTENDED)
                if settings.when is ConvertWhen.ON_END:
                    assert snapshot.ended
        elif made is not None:
            assert outcome.decision.outcome == "already_converted"
            assert outcome.ticket is not None
            assert outcome.ticket.id == made
        else:
            assert tickets == []


def test_C7_lines_written_after_the_conversion_join_the_chats_ticket(store: TicketStore) -> None:
    d = desk(store)
    settings = ChatSettings(owner_id="admin-1", when="on_answer")
    answered = chat(
        missed=False,
        ended_at=None,
        answered_by="agent-1",
        answered_at=T0 + timedelta(minutes=1),
        transcript=TRANSCRIPT[:1],
    )
    first = d.handle_chat_event(answered, ChatEvent.ANSWERED, settings=settings, mapping=MAPPING)
    assert first.ticket is not None
    ended = attrs.evolve(answered, ended_at=T0 + timedelta(minutes=4), transcript=TRANSCRIPT)
    later = d.handle_chat_event(ended, ChatEvent.ENDED, settings=settings, mapping=MAPPING)
    assert later.decision.outcome == "already_converted"
    assert later.ticket is not None
    assert later.ticket.id == first.ticket.id
    assert [m.body for m in later.ticket.messages()] == [m.body for m in TRANSCRIPT]
    assert [e.name for e in later.events] == ["ticket.item_appended"]
    again = d.handle_chat_event(ended, ChatEvent.ENDED, settings=settings, mapping=MAPPING)
    assert again.events == ()  # the same lines again change nothing
    assert len(store.search(TicketQuery(include_trashed=True))) == 1


def test_C5_an_email_added_in_the_chat_tool_reaches_the_contact(store: TicketStore) -> None:
    anonymous = Contact(id="visitor-9", name="木村 翔")
    store.save_contact(anonymous)
    lines = tuple(attrs.evolve(m, contact=anonymous) for m in TRANSCRIPT)
    d = desk(store)
    settings = ChatSettings(owner_id="admin-1")
    no_email = chat(visitor_email=None, transcript=lines)
    assert (
        d.handle_chat_event(
            no_email, ChatEvent.MISSED, settings=settings, mapping=MAPPING
        ).decision.outcome
        == "needs_email"
    )
    added = attrs.evolve(no_email, visitor_email="sho@example.jp")
    outcome = d.handle_chat_event(added, ChatEvent.EMAIL_ADDED, settings=settings, mapping=MAPPING)
    assert outcome.decision.converts
    stored = store.get_contact("visitor-9")
    assert stored is not None
    assert stored.email == "sho@example.jp"
    found = d.recent_tickets(added, settings=settings, mapping=MAPPING)
    assert outcome.ticket is not None
    assert [t.id for t in found] == [outcome.ticket.id]
    # An address the contact already has is never replaced.
    other = attrs.evolve(added, visitor_email="other@example.jp")
    d.handle_chat_event(other, ChatEvent.ENDED, settings=settings, mapping=MAPPING)
    assert store.get_contact("visitor-9") == stored
