"""``Desk.handle_chat_event``: chats in, at most one ticket out (C1-C3, C5, C7, D2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from deskcore import (
    Channel,
    ChatEvent,
    ChatSession,
    ChatSettings,
    Contact,
    DepartmentLink,
    DepartmentMapping,
    Desk,
    DeskSettings,
    ExternalReference,
    InboundMessage,
    InvalidModelError,
    MappingDefault,
    TicketQuery,
    TicketStatus,
)
from deskcore.adapters import InMemoryTicketRepository, SQLiteTicketRepository
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


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> TicketStore:
    if request.param == "memory":
        return InMemoryTicketRepository()
    return SQLiteTicketRepository(tmp_path / "chats.sqlite3")


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
