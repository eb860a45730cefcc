"""From inside a chat: manual conversion (C6), ticket lookups (C8), the visitor panel (C9)
and opening or closing a linked ticket (C10), on both reference stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskcore import (
    Actor,
    BusinessCalendar,
    Channel,
    ChatAccessDeniedError,
    ChatSession,
    ChatSettings,
    Classification,
    Contact,
    CustomerProfile,
    DepartmentLink,
    DepartmentMapping,
    Desk,
    DeskSettings,
    ExternalReference,
    InboundMessage,
    InvalidModelError,
    LookupScope,
    MappingDefault,
    PermissionDeniedError,
    Priority,
    SearchField,
    SlaPolicy,
    SlaSettings,
    SlaTarget,
    Ticket,
    TicketStatus,
    UnknownValueError,
    chat_search_queries,
    check_chat_status_change,
    lookup_departments,
    recent_tickets_query,
)
from deskcore.policies import combine_results
from deskcore.ports import TicketStore
from deskcore.testing import FixedClock, SequentialIds
from deskcore.testing.strategies import texts

T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
KEN = Contact(id="c-ken", name="佐藤 健", email="Ken@Example.JP")
JANE = Contact(id="c-jane", name="Jane Doe", email="jane@example.com")
AGENT = Actor(id="agent-1", name="Yui", permissions=["create_ticket", "change_status"])
SETTINGS = ChatSettings(owner_id="admin-1")
ASSOCIATED = attrs.evolve(SETTINGS, lookup_scope=LookupScope.ASSOCIATED_DEPARTMENTS)
MAPPING = DepartmentMapping(
    links=(
        DepartmentLink(chat_department_id="chat-support", helpdesk_department_id="support"),
        DepartmentLink(chat_department_id="chat-billing", helpdesk_department_id="billing"),
        DepartmentLink(chat_department_id="chat-lobby", default=MappingDefault.VIEW_ONLY),
        DepartmentLink(chat_department_id="chat-any", default=MappingDefault.CHOOSE_EACH_TIME),
        DepartmentLink(chat_department_id="chat-off", default=MappingDefault.NO_INTEGRATION),
    )
)


def ref(kind: str, native_id: str) -> ExternalReference:
    return ExternalReference(network="chat", account="site", kind=kind, native_id=native_id)


def chat(session: str = "cs-1", **changes: object) -> ChatSession:
    transcript = (
        InboundMessage(
            reference=ref("chat_line", f"{session}/1"),
            channel=Channel.CHAT,
            contact=KEN,
            body="以前の返品の件、まだ返金されていません",
            sent_at=T0,
        ),
    )
    fields: dict[str, object] = {
        "reference": ref("chat_session", session),
        "visitor_name": KEN.name,
        "visitor_email": "ken@example.jp",
        "department_id": "chat-support",
        "started_at": T0,
        "transcript": transcript,
    }
    return ChatSession(**(fields | changes))  # type: ignore[arg-type]


def desk(store: TicketStore, *, at: datetime = T0 + timedelta(days=10)) -> Desk:
    return Desk(
        store=store,
        settings=DeskSettings(default_department_id="support"),
        clock=FixedClock(at),
        ids=SequentialIds(),
    )


def seed(store: TicketStore) -> list[Ticket]:
    """Five tickets: Ken has three (support, billing, closed support), Jane two."""
    rows = [
        ("t1", 1, "返品と返金について", KEN, "support", 0, TicketStatus.OPEN),
        ("t2", 2, "Invoice copy", KEN, "billing", 1, TicketStatus.OPEN),
        ("t3", 3, "配送の遅れ", KEN, "support", 2, TicketStatus.CLOSED),
        ("t4", 4, "Refund request", JANE, "support", 3, TicketStatus.OPEN),
        ("t5", 5, "Card declined", JANE, "billing", 4, TicketStatus.ON_HOLD),
    ]
    tickets = []
    for ticket_id, number, subject, contact, department, day, status in rows:
        store.save_contact(contact)
        at = T0 + timedelta(days=day)
        ticket = Ticket(
            id=ticket_id,
            number=number,
            subject=subject,
            department_id=department,
            channel=Channel.EMAIL,
            contact_id=contact.id,
            created_at=at,
            status=status,
            closed_at=at if status is TicketStatus.CLOSED else None,
            on_hold_since=at if status is TicketStatus.ON_HOLD else None,
        )
        tickets.append(store.add(ticket))
    return tickets


def ids(tickets: list[Ticket]) -> list[str]:
    return [t.id for t in tickets]


# -- C6: manual conversion through the service ---------------------------------------------


def test_C6_a_manual_conversion_applies_every_choice(store: TicketStore) -> None:
    outcome = desk(store).convert_chat(
        chat(department_id="chat-any"),
        settings=SETTINGS,
        mapping=MAPPING,
        actor=AGENT,
        department_id="billing",
        priority="high",
        status="on_hold",
        classification="problem",
    )
    assert outcome.decision.reason == "converted_by_hand"
    assert outcome.ticket is not None
    stored = store.get(outcome.ticket.id)
    assert stored == outcome.ticket
    assert (stored.department_id, stored.priority, stored.status) == (
        "billing",
        Priority.HIGH,
        TicketStatus.ON_HOLD,
    )
    assert stored.classification == Classification.PROBLEM
    assert [m.body for m in stored.messages()] == ["以前の返品の件、まだ返金されていません"]
    assert "ticket.status_changed" in {e.name for e in outcome.events}


def test_C6_C7_converting_by_hand_twice_keeps_one_ticket(store: TicketStore) -> None:
    d = desk(store)
    first = d.convert_chat(chat(), settings=SETTINGS, mapping=MAPPING, actor=AGENT)
    again = d.convert_chat(chat(), settings=SETTINGS, mapping=MAPPING, actor=AGENT, priority="low")
    assert first.ticket is not None
    assert again.ticket is not None
    assert again.decision.outcome == "already_converted"
    assert again.ticket.id == first.ticket.id
    assert again.ticket.priority is first.ticket.priority  # the second choice changed nothing
    assert store.count(attrs.evolve(recent_query(), limit=1)) == 1


def recent_query() -> object:
    query = recent_tickets_query(chat(), SETTINGS, MAPPING)
    assert query is not None
    return query


def test_C6_D2_refusals_write_nothing(store: TicketStore) -> None:
    d = desk(store)
    cases = [
        (chat(department_id="chat-lobby"), AGENT, "department_view_only"),
        (chat(department_id="chat-off"), AGENT, "department_no_integration"),
        (chat(), Actor(id="viewer"), "actor_cannot_create_tickets"),
    ]
    for session, actor, reason in cases:
        outcome = d.convert_chat(session, settings=SETTINGS, mapping=MAPPING, actor=actor)
        assert (outcome.decision.outcome, outcome.decision.reason) == ("refused", reason)
        assert outcome.ticket is None
    choose = d.convert_chat(
        chat(department_id="chat-any"), settings=SETTINGS, mapping=MAPPING, actor=AGENT
    )
    assert choose.decision.outcome == "needs_department"
    assert store.search(attrs.evolve(recent_query(), department_ids=None)) == []


def test_C6_bad_choices_raise_typed_errors_and_write_nothing(store: TicketStore) -> None:
    d = desk(store)
    with pytest.raises(UnknownValueError):
        d.convert_chat(chat(), settings=SETTINGS, mapping=MAPPING, actor=AGENT, priority="urgent")
    with pytest.raises(UnknownValueError):
        d.convert_chat(chat(), settings=SETTINGS, mapping=MAPPING, actor=AGENT, status="pending")
    with pytest.raises(UnknownValueError):  # not on the desk's classification list (T3)
        d.convert_chat(
            chat(), settings=SETTINGS, mapping=MAPPING, actor=AGENT, classification="gossip"
        )
    with pytest.raises(InvalidModelError):
        d.convert_chat(chat(), settings=SETTINGS, mapping=MAPPING, actor=AGENT, classification=7)  # type: ignore[arg-type]
    with pytest.raises(InvalidModelError):
        d.convert_chat(chat(transcript=()), settings=SETTINGS, mapping=MAPPING, actor=AGENT)
    assert store.count(attrs.evolve(recent_query(), department_ids=None)) == 0


# -- C8: lookups ---------------------------------------------------------------------------


def test_C8_recent_tickets_of_the_visitor_newest_first(store: TicketStore) -> None:
    seed(store)
    d = desk(store)
    found = d.recent_tickets(chat(), settings=SETTINGS, mapping=MAPPING)
    assert ids(found) == ["t3", "t2", "t1"]  # the email matches whatever its case
    assert ids(d.recent_tickets(chat(), settings=SETTINGS, mapping=MAPPING, limit=2)) == [
        "t3",
        "t2",
    ]
    assert d.recent_tickets(chat(visitor_email=None), settings=SETTINGS, mapping=MAPPING) == []


def test_C8_associated_departments_only_for_a_mapped_department(store: TicketStore) -> None:
    seed(store)
    d = desk(store)
    found = d.recent_tickets(chat(), settings=ASSOCIATED, mapping=MAPPING)
    assert ids(found) == ["t3", "t1"]  # support only
    billing = d.recent_tickets(
        chat(department_id="chat-billing"), settings=ASSOCIATED, mapping=MAPPING
    )
    assert ids(billing) == ["t2"]


@pytest.mark.parametrize("department", ["chat-lobby", "chat-any", "chat-unknown"])
def test_C8_view_only_and_choose_each_time_search_all_departments(
    store: TicketStore, department: str
) -> None:
    seed(store)
    found = desk(store).recent_tickets(
        chat(department_id=department), settings=ASSOCIATED, mapping=MAPPING
    )
    assert ids(found) == ["t3", "t2", "t1"]


def test_C8_no_integration_cannot_look_anything_up(store: TicketStore) -> None:
    seed(store)
    d = desk(store)
    with pytest.raises(ChatAccessDeniedError) as info:
        d.recent_tickets(chat(department_id="chat-off"), settings=SETTINGS, mapping=MAPPING)
    assert (info.value.reason, info.value.capability) == (
        "department_no_integration",
        "view_tickets",
    )
    with pytest.raises(ChatAccessDeniedError) as info:
        d.search_from_chat(
            chat(), "返品", settings=attrs.evolve(SETTINGS, enabled=False), mapping=MAPPING
        )
    assert info.value.reason == "integration_disabled"
    with pytest.raises(ChatAccessDeniedError) as info:
        d.visitor_panel(
            chat(), settings=attrs.evolve(SETTINGS, link_state="needs_relink"), mapping=MAPPING
        )
    assert info.value.reason == "integration_needs_relink"


def test_C8_search_by_name_number_email_or_subject(store: TicketStore) -> None:
    seed(store)
    d = desk(store)

    def search(term: str, field: str = "any", settings: ChatSettings = SETTINGS) -> list[str]:
        return ids(
            d.search_from_chat(chat(), term, settings=settings, mapping=MAPPING, field=field)
        )

    assert search("佐藤") == ["t3", "t2", "t1"]  # visitor name
    assert search("#4") == ["t4"]  # ticket number
    assert search("４") == ["t4"]  # a full-width digit is a number too
    assert search("JANE@example.com") == ["t5", "t4"]  # email, folded
    assert search("refund") == ["t4"]  # subject keyword
    assert search("返品") == ["t1"]
    assert search("doe", field="subject") == []
    assert search("doe", field="visitor_name") == ["t5", "t4"]
    assert search("2", field="ticket_number") == ["t2"]
    assert search("card", settings=ASSOCIATED) == []  # t5 is in billing
    assert search("nothing like it") == []


def test_C8_a_term_matching_several_fields_lists_each_ticket_once(store: TicketStore) -> None:
    seed(store)
    store.save_contact(Contact(id="c-5", name="Mr 5", email="five@example.com"))
    found = desk(store).search_from_chat(chat(), "5", settings=SETTINGS, mapping=MAPPING)
    assert ids(found) == ["t5"]  # number 5; no subject or name has a 5 except the unused contact


def test_C8_bad_search_terms_raise_typed_errors(store: TicketStore) -> None:
    d = desk(store)
    for term in ("", "   ", "x" * 1001, "\ud800"):
        with pytest.raises(InvalidModelError):
            d.search_from_chat(chat(), term, settings=SETTINGS, mapping=MAPPING)
    with pytest.raises(InvalidModelError):
        d.search_from_chat(chat(), "abc", settings=SETTINGS, mapping=MAPPING, field="ticket_number")
    with pytest.raises(UnknownValueError):
        d.search_from_chat(chat(), "abc", settings=SETTINGS, mapping=MAPPING, field="phone")
    with pytest.raises(InvalidModelError):
        d.search_from_chat(chat(), "abc", settings=SETTINGS, mapping=MAPPING, limit=0)
    # A number too large for any ticket is simply not a number: searched as text.
    assert d.search_from_chat(chat(), "9" * 30, settings=SETTINGS, mapping=MAPPING) == []


def test_C8_queries_are_pure_values() -> None:
    queries = chat_search_queries(chat(), "#12", ASSOCIATED, MAPPING, limit=5)
    assert [q.number for q in queries] == [12, None, None]
    assert {q.department_ids for q in queries} == {frozenset({"support"})}
    assert {q.limit for q in queries} == {5}
    email = chat_search_queries(chat(), "a@b.jp", SETTINGS, MAPPING, field=SearchField.EMAIL)
    assert [q.contact_email for q in email] == ["a@b.jp"]
    assert lookup_departments(SETTINGS, MAPPING.link_for("chat-support")) is None
    assert lookup_departments(ASSOCIATED, MAPPING.link_for("chat-support")) == {"support"}
    assert lookup_departments(ASSOCIATED, MAPPING.link_for("chat-lobby")) is None
    assert lookup_departments(ASSOCIATED, MAPPING.link_for("chat-any")) is None
    for settings in (SETTINGS, ASSOCIATED):  # no integration sees nothing, whatever the scope
        assert lookup_departments(settings, MAPPING.link_for("chat-off")) == frozenset()


@given(st.lists(st.lists(st.integers(1, 30), max_size=8), max_size=4), st.integers(1, 10))
def test_C8_combined_results_are_unique_newest_first_and_cut(
    numbers: list[list[int]], limit: int
) -> None:
    def ticket(n: int) -> Ticket:
        return Ticket(
            id=f"t{n}",
            number=n,
            department_id="support",
            channel=Channel.CHAT,
            contact_id="c",
            created_at=T0 + timedelta(hours=n % 7),
        )

    combined = combine_results([[ticket(n) for n in group] for group in numbers], limit)
    everything = {n for group in numbers for n in group}
    expected = sorted(everything, key=lambda n: (-(n % 7), -n))[:limit]
    assert [t.number for t in combined] == expected


@given(texts(min_size=1, max_size=40))
def test_C8_any_text_gives_valid_queries_or_a_typed_error(term: str) -> None:
    try:
        queries = chat_search_queries(chat(), term, SETTINGS, MAPPING)
    except InvalidModelError:
        return
    assert queries
    assert all(q.department_ids is None for q in queries)


# -- C9: the visitor panel -----------------------------------------------------------------


def test_C9_the_visitor_panel_shows_the_helpdesks_data(store: TicketStore) -> None:
    seed(store)
    d = desk(store, at=T0 + timedelta(days=3))
    profiles = {
        "c-ken": CustomerProfile(
            account_name="株式会社サンプル",
            sla_name="Gold",
            contract_name="年間保守契約",
            contact_owner="Yui",
        )
    }

    def overdue(ticket: Ticket, now: datetime) -> bool:
        return now - ticket.created_at > timedelta(days=2)

    panel = d.visitor_panel(
        chat(),
        settings=SETTINGS,
        mapping=MAPPING,
        profiles=lambda contact: profiles.get(contact.id),
        is_overdue=overdue,
    )
    assert panel.contact_id == "c-ken"
    assert panel.profile.account_name == "株式会社サンプル"
    assert (panel.profile.sla_name, panel.profile.contract_name) == ("Gold", "年間保守契約")
    assert panel.profile.contact_owner == "Yui"
    assert panel.total_tickets == 3
    assert panel.overdue_tickets == 1  # t1 is 3 days old and open; t3 is closed
    assert ids(list(panel.recent)) == ["t3", "t2", "t1"]
    scoped = d.visitor_panel(chat(), settings=ASSOCIATED, mapping=MAPPING, is_overdue=overdue)
    assert (scoped.total_tickets, scoped.overdue_tickets) == (2, 1)
    assert scoped.profile == CustomerProfile()  # no profiles given


def test_C9_by_default_the_desks_service_levels_count_overdue_tickets(
    store: TicketStore,
) -> None:
    """C9/SL6: without an ``is_overdue`` of its own, the panel asks the desk's service levels:
    with a 2-day resolution target on a 24/7 calendar, t1 (3 days old, open) is overdue, t2
    (2 days old, exactly at its deadline) too, and t3 is closed."""
    seed(store)
    levels = SlaSettings(
        calendars=[
            BusinessCalendar(
                id="always", timezone="UTC", weekly={d: [("00:00", "24:00")] for d in range(7)}
            )
        ],
        default_calendar_id="always",
        policies=[SlaPolicy(id="p", resolution=SlaTarget(within=timedelta(days=2)))],
    )
    d = Desk(
        store=store,
        settings=DeskSettings(default_department_id="support"),
        clock=FixedClock(T0 + timedelta(days=3)),
        ids=SequentialIds(),
        service_levels=levels,
    )
    panel = d.visitor_panel(chat(), settings=SETTINGS, mapping=MAPPING)
    assert panel.overdue_tickets == 2
    assert (
        d.visitor_panel(
            chat(), settings=SETTINGS, mapping=MAPPING, is_overdue=lambda t, n: False
        ).overdue_tickets
        == 0
    )


def test_C9_a_visitor_unknown_to_the_helpdesk_gets_an_empty_panel(store: TicketStore) -> None:
    seed(store)
    d = desk(store)
    for session in (chat(visitor_email=None), chat(visitor_email="new@example.org")):
        panel = d.visitor_panel(
            session, settings=SETTINGS, mapping=MAPPING, is_overdue=lambda t, now: True
        )
        assert (panel.contact_id, panel.total_tickets, panel.recent) == (None, 0, ())
    assert (
        d.visitor_panel(
            chat(visitor_email=None), settings=SETTINGS, mapping=MAPPING
        ).overdue_tickets
        is None
    )


def test_C9_overdue_tickets_are_counted_past_one_page(store: TicketStore) -> None:
    store.save_contact(KEN)
    for n in range(1, 1006):
        store.add(
            Ticket(
                id=f"t{n}",
                number=n,
                department_id="support",
                channel=Channel.CHAT,
                contact_id=KEN.id,
                created_at=T0 + timedelta(seconds=n),
            )
        )
    panel = desk(store).visitor_panel(
        chat(), settings=SETTINGS, mapping=MAPPING, is_overdue=lambda t, now: t.number % 2 == 1
    )
    assert panel.total_tickets == 1005
    assert panel.overdue_tickets == 503


# -- C10: open or close a linked ticket ----------------------------------------------------


def test_C10_an_agent_reopens_an_earlier_ticket_from_the_chat(store: TicketStore) -> None:
    seed(store)
    d = desk(store)
    change = d.set_status_from_chat(
        chat(), "t3", "open", settings=SETTINGS, mapping=MAPPING, actor=AGENT
    )
    assert change.ticket.status is TicketStatus.OPEN
    assert store.get("t3").status is TicketStatus.OPEN
    assert [e.name for e in change.events] == ["ticket.status_changed"]
    closed = d.set_status_from_chat(
        chat(), "t1", TicketStatus.CLOSED, settings=SETTINGS, mapping=MAPPING, actor=AGENT
    )
    assert closed.ticket.status is TicketStatus.CLOSED
    same = d.set_status_from_chat(
        chat(), "t1", "closed", settings=SETTINGS, mapping=MAPPING, actor=AGENT
    )
    assert same.events == ()


def test_C10_view_only_and_other_refusals(store: TicketStore) -> None:
    seed(store)
    d = desk(store)

    def refused(session: ChatSession, ticket_id: str, settings: ChatSettings = SETTINGS) -> str:
        with pytest.raises(ChatAccessDeniedError) as info:
            d.set_status_from_chat(
                session, ticket_id, "open", settings=settings, mapping=MAPPING, actor=AGENT
            )
        return info.value.reason

    assert refused(chat(department_id="chat-lobby"), "t3") == "department_view_only"
    assert refused(chat(department_id="chat-off"), "t3") == "department_no_integration"
    assert refused(chat(department_id="chat-support"), "t5", ASSOCIATED) == "ticket_out_of_scope"
    store.trash("t3", at=T0 + timedelta(days=9), expected_version=1)
    assert refused(chat(), "t3") == "ticket_trashed"
    with pytest.raises(PermissionDeniedError):
        d.set_status_from_chat(
            chat(), "t1", "closed", settings=SETTINGS, mapping=MAPPING, actor=Actor(id="viewer")
        )
    with pytest.raises(InvalidModelError):  # only open or closed from a chat
        d.set_status_from_chat(
            chat(), "t1", "on_hold", settings=SETTINGS, mapping=MAPPING, actor=AGENT
        )
    assert store.get("t1").status is TicketStatus.OPEN
    assert store.get("t1").version == 1


def test_C10_choose_each_time_may_change_status_in_any_department(store: TicketStore) -> None:
    seed(store)
    change = desk(store).set_status_from_chat(
        chat(department_id="chat-any"),
        "t5",
        "closed",
        settings=ASSOCIATED,
        mapping=MAPPING,
        actor=AGENT,
    )
    assert change.ticket.status is TicketStatus.CLOSED


def test_C10_the_check_is_pure() -> None:
    ticket = Ticket(
        id="t1",
        number=1,
        department_id="support",
        channel=Channel.CHAT,
        contact_id="c",
        created_at=T0,
    )
    assert check_chat_status_change(chat(), ticket, "closed", SETTINGS, MAPPING, actor=AGENT) is (
        TicketStatus.CLOSED
    )
    with pytest.raises(UnknownValueError):
        check_chat_status_change(chat(), ticket, "shut", SETTINGS, MAPPING, actor=AGENT)
