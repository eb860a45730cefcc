"""Chat to ticket conversion decisions (C1-C7, C11, C12, D2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskcore import (
    Actor,
    Classification,
    ExternalReference,
    InvalidModelError,
    Priority,
    TicketStatus,
)
from deskcore.models.chat import (
    ChatEvent,
    ChatSession,
    ChatSettings,
    ConvertWhen,
    ConvertWhich,
    LinkState,
)
from deskcore.models.departments import DepartmentLink, DepartmentMapping, MappingDefault
from deskcore.policies.conversion import (
    ConversionOutcome,
    decide_chat_conversion,
    decide_manual_conversion,
)

T0 = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
SETTINGS = ChatSettings(owner_id="admin-1")
MAPPED = DepartmentMapping(
    links=(
        DepartmentLink(chat_department_id="chat-sales", helpdesk_department_id="営業"),
        DepartmentLink(chat_department_id="chat-none", default=MappingDefault.NO_INTEGRATION),
        DepartmentLink(chat_department_id="chat-view", default=MappingDefault.VIEW_ONLY),
        DepartmentLink(chat_department_id="chat-choose", default=MappingDefault.CHOOSE_EACH_TIME),
    )
)
AGENT = Actor(id="agent-1", name="Yui", permissions=["create_ticket", "change_status"])


def chat(
    *,
    department: str = "chat-sales",
    email: str | None = "visitor@example.jp",
    answered: bool = False,
    ended: bool = False,
    missed: bool = False,
) -> ChatSession:
    return ChatSession(
        reference=ExternalReference(
            network="chat", account="site", kind="chat_session", native_id="cs-1"
        ),
        visitor_name="山田 花子",
        visitor_email=email,
        department_id=department,
        started_at=T0,
        answered_by="agent-1" if answered else None,
        answered_at=T0 + timedelta(minutes=1) if answered else None,
        ended_at=T0 + timedelta(minutes=9) if ended or missed else None,
        missed=missed,
    )


def decide(
    session: ChatSession,
    trigger: ChatEvent = ChatEvent.ENDED,
    settings: ChatSettings = SETTINGS,
    **kwargs: str,
) -> tuple[ConversionOutcome, str]:
    decision = decide_chat_conversion(session, trigger, settings, MAPPED, **kwargs)
    assert decision.explanation  # C12: every decision explains itself
    return decision.outcome, decision.reason


@pytest.mark.parametrize(
    ("which", "attended_outcome", "missed_outcome"),
    [
        (ConvertWhich.ALL, ConversionOutcome.CONVERT, ConversionOutcome.CONVERT),
        (ConvertWhich.ATTENDED, ConversionOutcome.CONVERT, ConversionOutcome.SKIP),
        (ConvertWhich.MISSED, ConversionOutcome.SKIP, ConversionOutcome.CONVERT),
        (ConvertWhich.NONE, ConversionOutcome.SKIP, ConversionOutcome.SKIP),
    ],
)
def test_C1_C4_which_chats_convert(
    which: ConvertWhich, attended_outcome: ConversionOutcome, missed_outcome: ConversionOutcome
) -> None:
    settings = ChatSettings(owner_id="admin-1", convert=which)
    assert decide(chat(answered=True, ended=True), settings=settings)[0] is attended_outcome
    assert decide(chat(missed=True), ChatEvent.MISSED, settings)[0] is missed_outcome


def test_C4_none_says_an_agent_may_still_convert_by_hand() -> None:
    settings = ChatSettings(owner_id="admin-1", convert="none")
    assert decide(chat(answered=True, ended=True), settings=settings) == (
        ConversionOutcome.SKIP,
        "automatic_conversion_off",
    )
    manual = decide_manual_conversion(chat(answered=True), settings, MAPPED, actor=AGENT)
    assert manual.converts


def test_C2_on_answer_converts_at_the_answer_and_on_end_waits_for_the_end() -> None:
    answered = chat(answered=True)
    on_answer = ChatSettings(owner_id="admin-1", when=ConvertWhen.ON_ANSWER)
    assert decide(answered, ChatEvent.ANSWERED, on_answer)[0] is ConversionOutcome.CONVERT
    assert decide(answered, ChatEvent.ANSWERED) == (ConversionOutcome.WAIT, "converts_on_end")
    assert decide(attrs.evolve(answered, ended_at=T0 + timedelta(hours=1)))[0] is (
        ConversionOutcome.CONVERT
    )


def test_C2_a_missed_chat_converts_when_it_ends_whatever_the_timing() -> None:
    for when in ConvertWhen:
        settings = ChatSettings(owner_id="admin-1", when=when)
        assert decide(chat(), ChatEvent.STARTED, settings) == (
            ConversionOutcome.WAIT,
            "not_answered_yet",
        )
        assert decide(chat(missed=True), ChatEvent.MISSED, settings)[0] is ConversionOutcome.CONVERT


def test_C3_the_ticket_status_comes_from_the_settings() -> None:
    for status in (TicketStatus.OPEN, TicketStatus.CLOSED):
        settings = ChatSettings(owner_id="admin-1", ticket_status=status)
        decision = decide_chat_conversion(chat(missed=True), ChatEvent.MISSED, settings, MAPPED)
        assert decision.status is status
        assert decision.department_id == "営業"
    with pytest.raises(InvalidModelError):
        ChatSettings(owner_id="admin-1", ticket_status=TicketStatus.ON_HOLD)


def test_C5_a_chat_without_email_waits_for_an_agent_to_add_it() -> None:
    no_email = chat(answered=True, ended=True, email=None)
    assert decide(no_email) == (ConversionOutcome.NEEDS_EMAIL, "missing_email")
    manual = decide_manual_conversion(no_email, SETTINGS, MAPPED, actor=AGENT)
    assert manual.outcome is ConversionOutcome.NEEDS_EMAIL
    with_email = attrs.evolve(no_email, visitor_email="added@example.jp")
    assert decide_manual_conversion(with_email, SETTINGS, MAPPED, actor=AGENT).converts


def test_C6_manual_conversion_takes_priority_status_classification_and_department() -> None:
    decision = decide_manual_conversion(
        chat(department="chat-choose", answered=True),
        SETTINGS,
        MAPPED,
        actor=AGENT,
        department_id="サポート",
        priority=Priority.HIGH,
        status=TicketStatus.ESCALATED,
        classification=Classification.PROBLEM,
    )
    assert decision.converts
    assert (decision.department_id, decision.priority, decision.status) == (
        "サポート",
        Priority.HIGH,
        TicketStatus.ESCALATED,
    )
    assert decision.classification == Classification.PROBLEM


def test_C6_D2_manual_conversion_is_refused_where_the_mapping_forbids_it() -> None:
    for department in ("chat-none", "chat-view"):
        decision = decide_manual_conversion(
            chat(department=department), SETTINGS, MAPPED, actor=AGENT, department_id="営業"
        )
        assert decision.outcome is ConversionOutcome.REFUSED
        assert "D2" in decision.explanation
    choose = decide_manual_conversion(chat(department="chat-choose"), SETTINGS, MAPPED, actor=AGENT)
    assert choose.outcome is ConversionOutcome.NEEDS_DEPARTMENT


def test_C7_a_chat_converts_at_most_once() -> None:
    outcome, reason = decide(chat(missed=True), ChatEvent.MISSED, existing_ticket_id="t-9")
    assert (outcome, reason) == (ConversionOutcome.ALREADY_CONVERTED, "already_converted")
    manual = decide_manual_conversion(
        chat(), SETTINGS, MAPPED, actor=AGENT, existing_ticket_id="t-9"
    )
    assert manual.ticket_id == "t-9"


def test_C11_nothing_converts_until_the_integration_is_linked_again() -> None:
    relink = ChatSettings(owner_id="admin-1", link_state=LinkState.NEEDS_RELINK)
    assert decide(chat(missed=True), ChatEvent.MISSED, relink) == (
        ConversionOutcome.SKIP,
        "integration_needs_relink",
    )
    assert decide_manual_conversion(chat(), relink, MAPPED, actor=AGENT).outcome is (
        ConversionOutcome.REFUSED
    )
    disabled = attrs.evolve(SETTINGS, enabled=False)
    assert decide(chat(missed=True), ChatEvent.MISSED, disabled)[1] == "integration_disabled"
    enabled_again = attrs.evolve(disabled, enabled=True)
    assert enabled_again == SETTINGS  # the settings survive disable and enable


def test_D2_an_automatic_trigger_never_guesses_a_department() -> None:
    assert decide(chat(department="chat-choose", missed=True), ChatEvent.MISSED) == (
        ConversionOutcome.NEEDS_DEPARTMENT,
        "department_needs_choosing",
    )
    assert decide(chat(department="chat-none", missed=True))[0] is ConversionOutcome.SKIP
    assert decide(chat(department="chat-view", missed=True))[0] is ConversionOutcome.SKIP
    assert decide(chat(department="unknown-later", missed=True))[0] is (
        ConversionOutcome.NEEDS_DEPARTMENT
    )


def test_C12_chat_sessions_are_consistent() -> None:
    with pytest.raises(InvalidModelError):
        ChatSession(
            reference=ExternalReference(network="chat", account="a", kind="s", native_id="1"),
            department_id="d",
            started_at=T0,
            answered_by="agent",
        )
    with pytest.raises(InvalidModelError):
        chat(missed=True).__class__(
            reference=chat().reference,
            department_id="d",
            started_at=T0,
            missed=True,
        )


# -- properties ------------------------------------------------------------------------------


@st.composite
def chat_histories(draw: st.DrawFn) -> tuple[ChatSession, list[ChatEvent]]:
    """A chat's final state and the events that led there, repeated and shuffled."""
    answered = draw(st.booleans())
    ended = draw(st.booleans())
    missed = ended and not answered
    email = draw(st.sampled_from([None, "v@example.jp"]))
    department = draw(st.sampled_from(["chat-sales", "chat-none", "chat-view", "chat-choose", "x"]))
    events = [ChatEvent.STARTED]
    if answered:
        events.append(ChatEvent.ANSWERED)
    if missed:
        events.append(ChatEvent.MISSED)
    if ended:
        events.append(ChatEvent.ENDED)
    if email is not None and draw(st.booleans()):
        events.append(ChatEvent.EMAIL_ADDED)
    events = draw(st.permutations(events + draw(st.lists(st.sampled_from(events), max_size=3))))
    session = chat(
        department=department, email=email, answered=answered, ended=ended, missed=missed
    )
    return session, events


SETTINGS_ALL = st.builds(
    ChatSettings,
    owner_id=st.just("admin-1"),
    enabled=st.booleans(),
    convert=st.sampled_from(ConvertWhich),
    when=st.sampled_from(ConvertWhen),
    ticket_status=st.sampled_from([TicketStatus.OPEN, TicketStatus.CLOSED]),
    link_state=st.sampled_from(LinkState),
)


@given(history=chat_histories(), settings=SETTINGS_ALL)
def test_C1_C2_C5_C7_D2_property_at_most_one_ticket_and_only_when_allowed(
    history: tuple[ChatSession, list[ChatEvent]], settings: ChatSettings
) -> None:
    """Any settings, any mapping default, events repeated or out of order: at most one ticket;
    a ticket only when settings and mapping allow it; a missed chat only at its end; never a
    guessed department."""
    session, events = history
    ticket: str | None = None
    for event in events:
        decision = decide_chat_conversion(
            session, event, settings, MAPPED, existing_ticket_id=ticket
        )
        assert decision.reason
        assert decision.explanation
        if decision.converts:
            assert ticket is None
            ticket = "t-1"
            link = MAPPED.link_for(session.department_id)
            assert link.helpdesk_department_id is not None
            assert decision.department_id == link.helpdesk_department_id
            assert settings.enabled
            assert settings.link_state is LinkState.LINKED
            assert settings.convert is not ConvertWhich.NONE
            assert session.visitor_email
            if session.missed:
                assert session.ended
                assert settings.convert in (ConvertWhich.ALL, ConvertWhich.MISSED)
            else:
                assert session.attended
                assert settings.convert in (ConvertWhich.ALL, ConvertWhich.ATTENDED)
                if settings.when is ConvertWhen.ON_END:
                    assert session.ended
        elif ticket is not None:
            assert decision.outcome is ConversionOutcome.ALREADY_CONVERTED
