"""``Desk`` and social items: at most one ticket per item, at most one open ticket per
conversation (S1-S6, S9, H2, H3, P3)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskcore import (
    Actor,
    AutoRule,
    ConcurrencyError,
    Contact,
    Desk,
    DeskSettings,
    Direction,
    ExternalReference,
    InvalidModelError,
    SocialConversation,
    SocialItem,
    SocialItemKind,
    SocialProfile,
    SocialSettings,
    Ticket,
    TicketQuery,
    TicketStatus,
    compile_social_matcher,
)
from deskcore.adapters import InMemoryTicketRepository
from deskcore.ports import TicketStore
from deskcore.testing import FixedClock, SequentialIds

T0 = datetime(2026, 8, 3, 9, 0, tzinfo=UTC)
FAN = SocialProfile(network="facebook", id="fan-1", display_name="佐藤 健")
FOLLOWER = SocialProfile(network="twitter", id="u-1", handle="@hanako", display_name="花子")
BRAND = SocialProfile(network="twitter", id="brand_jp", handle="@brand_jp")
SETTINGS = SocialSettings(
    rules=[
        AutoRule(
            id="returns",
            network="twitter",
            kinds=["mention", "reply"],
            keywords=["返品", "ﾍﾝﾋﾟﾝ", "refund"],
            department_id="returns",
        ),
        AutoRule(id="fb", network="facebook", kinds=["visitor_post", "comment"], keywords=["返金"]),
        AutoRule(id="dm", network="twitter", kinds=["direct_message"], match_all=True),
    ],
    default_department_id="social",
    append_interval=timedelta(hours=12),
)
MATCHER = compile_social_matcher(SETTINGS)
AGENT = Actor(id="agent-1", name="Yui", permissions=["create_ticket"])


def tweet(n: str, text: str, *, kind: str = "mention", **changes: object) -> SocialItem:
    fields: dict[str, object] = {
        "reference": ExternalReference("twitter", "brand_jp", "tweet", n),
        "kind": kind,
        "author": FOLLOWER,
        "text": text,
        "created_at": T0,
    }
    return SocialItem(**(fields | changes))  # type: ignore[arg-type]


def dm(n: str, text: str, *, conversation: str = "conv-1", at: datetime = T0) -> SocialItem:
    return SocialItem(
        reference=ExternalReference("twitter", "brand_jp", "dm", n),
        kind="direct_message",
        source="private_messages",
        author=FOLLOWER,
        text=text,
        created_at=at,
        conversation_id=conversation,
    )


def make_desk(store: TicketStore, clock: FixedClock | None = None) -> Desk:
    return Desk(
        store=store,
        settings=DeskSettings(default_department_id="general"),
        clock=clock or FixedClock(T0 + timedelta(minutes=1)),
        ids=SequentialIds(),
    )


def all_tickets(store: TicketStore) -> list[Ticket]:
    return store.search(TicketQuery(include_trashed=True, limit=1000))


# -- automatic conversion (S3, S4, H2) -------------------------------------------------------------


def test_S4_a_keyword_mention_becomes_a_ticket_in_the_rules_department(
    store: TicketStore,
) -> None:
    desk = make_desk(store)
    outcome = desk.handle_social_item(
        tweet("t-1", "@brand_jp ﾍﾝﾋﾟﾝ したいです🙏"), settings=SETTINGS, matcher=MATCHER
    )
    assert outcome.decision.reason == "keyword_match"
    assert outcome.intake == "create"
    assert outcome.changed
    assert outcome.ticket is not None
    assert outcome.ticket.department_id == "returns"
    assert outcome.ticket.channel.code == "twitter"
    assert outcome.ticket.contact_id == "twitter:u-1"
    assert store.get_contact("twitter:u-1") == Contact(id="twitter:u-1", name="花子")
    assert {e.name for e in outcome.events} >= {"ticket.created", "ticket.item_appended"}
    assert outcome.conversation is None  # public: no periodic append check


def test_S4_an_item_without_a_keyword_writes_nothing(store: TicketStore) -> None:
    outcome = make_desk(store).handle_social_item(
        tweet("t-1", "いい天気"), settings=SETTINGS, matcher=MATCHER
    )
    assert (outcome.decision.outcome, outcome.ticket, outcome.intake) == ("skip", None, None)
    assert not outcome.changed
    assert all_tickets(store) == []


def test_S3_P3_the_same_item_twice_is_one_ticket_and_one_thread_item(store: TicketStore) -> None:
    desk = make_desk(store)
    item = tweet("t-1", "返品したい")
    first = desk.handle_social_item(item, settings=SETTINGS, matcher=MATCHER)
    again = desk.handle_social_item(item, settings=SETTINGS, matcher=MATCHER)
    assert again.decision.outcome == "already_converted"
    assert again.intake == "duplicate"
    assert again.events == ()
    assert first.ticket is not None
    assert again.ticket is not None
    assert again.ticket.id == first.ticket.id
    assert again.item_id == first.item_id
    assert len(all_tickets(store)) == 1
    assert len(store.get(first.ticket.id).thread) == 1


def test_S3_H2_later_replies_appear_in_the_tickets_thread(store: TicketStore) -> None:
    desk = make_desk(store)
    root = desk.handle_social_item(tweet("t-1", "返品したい"), settings=SETTINGS, matcher=MATCHER)
    reply = tweet("t-2", "注文番号は A-77 です", kind="reply", parent_id="t-1", root_id="t-1")
    joined = desk.handle_social_item(reply, settings=SETTINGS, matcher=MATCHER)
    assert joined.decision.outcome == "append"  # no keyword needed (H2)
    assert root.ticket is not None
    assert joined.ticket is not None
    assert joined.ticket.id == root.ticket.id
    assert [m.body for m in joined.ticket.messages()] == ["返品したい", "注文番号は A-77 です"]


def test_S6_the_brands_reply_joins_as_the_brands_message_and_reopens_nothing(
    store: TicketStore,
) -> None:
    desk = make_desk(store)
    root = desk.handle_social_item(tweet("t-1", "返品したい"), settings=SETTINGS, matcher=MATCHER)
    assert root.ticket is not None
    desk.change_status(root.ticket.id, TicketStatus.CLOSED)
    answer = tweet("t-2", "承知しました", kind="reply", root_id="t-1", brand_own=True, author=BRAND)
    outcome = desk.handle_social_item(answer, settings=SETTINGS, matcher=MATCHER)
    assert outcome.decision.reason == "brand_item_appended"
    assert outcome.ticket is not None
    assert outcome.ticket.status is TicketStatus.CLOSED
    brand_message = list(outcome.ticket.messages())[-1]
    assert brand_message.direction is Direction.OUTBOUND
    assert brand_message.author_id == "brand_jp"  # the channel account (decision 22)
    assert store.get_contact("twitter:brand_jp") is None  # never filed as a customer
    # Without a ticket for its conversation, the brand's own item is skipped (S6).
    alone = desk.handle_social_item(
        tweet("t-9", "返品ポリシー", kind="post", author=BRAND), settings=SETTINGS, matcher=MATCHER
    )
    assert (alone.decision.reason, alone.ticket) == ("brand_own_item", None)


def test_P3_an_edited_item_becomes_a_revision(store: TicketStore) -> None:
    desk = make_desk(store)
    item = tweet("t-1", "返品したい")
    first = desk.handle_social_item(item, settings=SETTINGS, matcher=MATCHER)
    edited = attrs.evolve(item, text="返品したいです(訂正)", edited=True)
    outcome = desk.handle_social_item(edited, settings=SETTINGS, matcher=MATCHER)
    assert outcome.intake == "revise"
    assert outcome.ticket is not None
    assert first.ticket is not None
    assert outcome.ticket.id == first.ticket.id
    assert [m.body for m in outcome.ticket.messages()] == ["返品したいです(訂正)"]
    clash = desk.handle_social_item(
        attrs.evolve(item, text="別の内容"), settings=SETTINGS, matcher=MATCHER
    )
    assert clash.intake == "conflict"
    assert [e.name for e in clash.events] == ["intake.reference_conflict"]


# -- manual conversion (S1-S3, S6) -----------------------------------------------------------------


def test_S1_S3_an_agent_converts_any_item_once_into_the_chosen_department(
    store: TicketStore,
) -> None:
    desk = make_desk(store)
    post = SocialItem(
        reference=ExternalReference("facebook", "page-1", "post", "p-1"),
        kind="visitor_post",
        source="activity",
        author=FAN,
        text="配送について質問です",  # no keyword: by hand, the agent decides
        created_at=T0,
    )
    first = desk.convert_social_item(post, department_id="sales", settings=SETTINGS, actor=AGENT)
    assert first.decision.reason == "converted_by_hand"
    assert first.ticket is not None
    assert first.ticket.department_id == "sales"
    again = desk.convert_social_item(post, department_id="support", settings=SETTINGS, actor=AGENT)
    assert again.decision.outcome == "already_converted"
    assert again.ticket is not None
    assert again.ticket.id == first.ticket.id
    assert again.ticket.department_id == "sales"
    assert len(all_tickets(store)) == 1


def test_S2_S6_refusals_are_decisions_and_write_nothing(store: TicketStore) -> None:
    desk = make_desk(store)
    linkedin = SocialItem(
        reference=ExternalReference("linkedin", "brand", "post", "l-1"),
        kind="comment",
        author=SocialProfile(network="linkedin", id="l-u"),
        text="question",
        created_at=T0,
    )
    refused = desk.convert_social_item(
        linkedin, department_id="sales", settings=SETTINGS, actor=AGENT
    )
    assert (refused.decision.outcome, refused.decision.reason) == (
        "refused",
        "network_not_convertible",
    )
    own = tweet("t-1", "告知", kind="post", author=BRAND)
    refused = desk.convert_social_item(own, department_id="sales", settings=SETTINGS, actor=AGENT)
    assert refused.decision.reason == "brand_own_item"
    assert all_tickets(store) == []
    with pytest.raises(InvalidModelError):
        desk.convert_social_item(own, department_id=" ", settings=SETTINGS, actor=AGENT)


def test_H2_by_hand_a_reply_joins_the_conversations_open_ticket(store: TicketStore) -> None:
    desk = make_desk(store)
    root = desk.handle_social_item(tweet("t-1", "返品したい"), settings=SETTINGS, matcher=MATCHER)
    reply = tweet("t-2", "まだですか", kind="reply", root_id="t-1")
    outcome = desk.convert_social_item(reply, department_id="sales", settings=SETTINGS, actor=AGENT)
    assert outcome.decision.outcome == "append"
    assert outcome.ticket is not None
    assert root.ticket is not None
    assert outcome.ticket.id == root.ticket.id


def test_a_conversation_whose_ticket_was_merged_away_lands_on_the_primary(
    store: TicketStore,
) -> None:
    desk = make_desk(store)
    merger = Actor(id="lead", permissions=["search_and_merge"])
    one = desk.handle_social_item(tweet("t-1", "返品したい"), settings=SETTINGS, matcher=MATCHER)
    two = desk.handle_social_item(tweet("t-5", "返品です"), settings=SETTINGS, matcher=MATCHER)
    assert one.ticket is not None
    assert two.ticket is not None
    plan = desk.plan_merge([one.ticket.id, two.ticket.id], actor=merger, primary_id=one.ticket.id)
    desk.merge(plan, actor=merger)
    reply = tweet("t-6", "追記", kind="reply", root_id="t-5")
    outcome = desk.handle_social_item(reply, settings=SETTINGS, matcher=MATCHER)
    assert outcome.ticket is not None
    assert outcome.ticket.id == one.ticket.id


def test_a_conversation_whose_ticket_was_deleted_starts_a_new_ticket(store: TicketStore) -> None:
    desk = make_desk(store)
    first = desk.handle_social_item(dm("d-1", "届きません"), settings=SETTINGS, matcher=MATCHER)
    assert first.ticket is not None
    store.trash(first.ticket.id, at=T0, expected_version=first.ticket.version)
    later = desk.handle_social_item(dm("d-2", "まだです"), settings=SETTINGS, matcher=MATCHER)
    assert later.decision.previous_ticket_id == first.ticket.id
    assert later.ticket is not None
    assert later.ticket.id != first.ticket.id
    assert store.find_by_reference(dm("d-2", "").conversation_key) == store.get(later.ticket.id)
    follow = desk.handle_social_item(dm("d-3", "追記"), settings=SETTINGS, matcher=MATCHER)
    assert follow.ticket is not None
    assert follow.ticket.id == later.ticket.id


# -- private messages and the append run (S5) ------------------------------------------------------


def test_S5_private_messages_give_a_record_for_the_append_check(store: TicketStore) -> None:
    desk = make_desk(store)
    outcome = desk.handle_social_item(dm("d-1", "こんにちは"), settings=SETTINGS, matcher=MATCHER)
    assert outcome.decision.reason == "all_private_messages"
    assert outcome.ticket is not None
    assert outcome.ticket.department_id == "social"
    assert outcome.conversation == SocialConversation(
        conversation=dm("d-1", "").conversation_key,
        ticket_id=outcome.ticket.id,
        last_checked_at=T0 + timedelta(minutes=1),
    )


def test_S5_due_conversations_get_their_new_messages_appended(store: TicketStore) -> None:
    clock = FixedClock(T0)
    desk = make_desk(store, clock)
    first = desk.handle_social_item(dm("d-1", "届きません"), settings=SETTINGS, matcher=MATCHER)
    other = desk.handle_social_item(
        dm("d-9", "別件", conversation="conv-2"), settings=SETTINGS, matcher=MATCHER
    )
    assert first.conversation is not None
    assert other.conversation is not None
    platform = {
        "conv-1": [
            dm("d-1", "届きません"),
            dm("d-3", "三通目", at=T0 + timedelta(hours=2)),
            dm("d-2", "二通目", at=T0 + timedelta(hours=1)),
        ],
        "conv-2": [dm("d-9", "別件", conversation="conv-2")],
    }
    fetched: list[str] = []

    def fetch(conversation: SocialConversation) -> Iterable[SocialItem]:
        fetched.append(conversation.conversation.native_id)
        return platform[conversation.conversation.native_id]

    clock.advance(hours=6)
    recent = attrs.evolve(other.conversation, last_checked_at=clock.now())
    assert (
        desk.append_private_messages(
            [first.conversation], fetch, settings=SETTINGS, matcher=MATCHER
        )
        == ()
    )  # checked at T0, not due before T0 + 12 h
    clock.advance(hours=7)
    checks = desk.append_private_messages(
        [first.conversation, recent], fetch, settings=SETTINGS, matcher=MATCHER
    )
    assert fetched == ["conv-1"]
    (check,) = checks
    assert check.appended == 2
    assert check.conversation.last_checked_at == clock.now()
    assert first.ticket is not None
    assert check.conversation.ticket_id == first.ticket.id
    ticket = store.get(first.ticket.id)
    assert [m.body for m in ticket.messages()] == ["届きません", "二通目", "三通目"]
    # Nothing new: nothing appended, and no item twice.
    clock.advance(hours=12)
    again = desk.append_private_messages(
        [check.conversation], fetch, settings=SETTINGS, matcher=MATCHER
    )
    assert again[0].appended == 0
    assert len(store.get(first.ticket.id).thread) == 3
    off = attrs.evolve(SETTINGS, append_interval=None)
    assert (
        desk.append_private_messages([check.conversation], fetch, settings=off, matcher=MATCHER)
        == ()
    )


def test_S5_H3_an_append_to_a_long_closed_ticket_starts_a_new_one(store: TicketStore) -> None:
    clock = FixedClock(T0)
    desk = make_desk(store, clock)
    first = desk.handle_social_item(dm("d-1", "届きません"), settings=SETTINGS, matcher=MATCHER)
    assert first.ticket is not None
    assert first.conversation is not None
    desk.change_status(first.ticket.id, TicketStatus.CLOSED)
    clock.advance(days=3)
    later = dm("d-2", "また質問です", at=clock.now())
    (check,) = desk.append_private_messages(
        [first.conversation], lambda c: [later], settings=SETTINGS, matcher=MATCHER
    )
    (outcome,) = check.outcomes
    assert outcome.decision.reason == "window_passed"
    assert outcome.ticket is not None
    assert check.conversation.ticket_id == outcome.ticket.id != first.ticket.id


# -- a connection's helpdesk view (S9) -------------------------------------------------------------


def test_S9_a_connection_shows_its_contact_owner_and_tickets(store: TicketStore) -> None:
    clock = FixedClock(T0)
    desk = make_desk(store, clock)
    one = desk.handle_social_item(tweet("t-1", "返品したい"), settings=SETTINGS, matcher=MATCHER)
    clock.advance(hours=1)
    two = desk.handle_social_item(dm("d-1", "DMです"), settings=SETTINGS, matcher=MATCHER)
    someone_else = attrs.evolve(
        tweet("t-7", "返品"), author=SocialProfile(network="twitter", id="u-2", display_name="花子")
    )
    desk.handle_social_item(someone_else, settings=SETTINGS, matcher=MATCHER)  # same name
    assert one.ticket is not None
    assert two.ticket is not None
    store.save(attrs.evolve(store.get(one.ticket.id), assignee_id="agent-7"))
    view = desk.connection_view(FOLLOWER.contact_id)
    assert view.contact is not None
    assert view.contact.name == "花子"
    assert [t.id for t in view.tickets] == [two.ticket.id, one.ticket.id]
    assert view.owner_id == "agent-7"
    assert view.metrics is None
    empty = desk.connection_view("twitter:nobody")
    assert (empty.contact, empty.tickets) == (None, ())


def test_S9_a_connection_without_a_name_is_found_by_email_or_by_its_id(
    store: TicketStore,
) -> None:
    desk = make_desk(store)
    nameless = SocialProfile(network="twitter", id="u-9")
    item = attrs.evolve(tweet("t-1", "返品"), author=nameless, contact_id="crm-9")
    store.save_contact(Contact(id="crm-9", name="", email="nine@example.jp"))
    filed = desk.handle_social_item(item, settings=SETTINGS, matcher=MATCHER)
    assert filed.ticket is not None
    assert filed.ticket.contact_id == "crm-9"  # the host's own contact
    assert [t.id for t in desk.connection_view("crm-9").tickets] == [filed.ticket.id]
    store.save_contact(Contact(id="crm-9", name=""))
    assert [t.id for t in desk.connection_view("crm-9").tickets] == [filed.ticket.id]


def test_S5_a_conversation_no_ticket_holds_goes_through_the_rules(store: TicketStore) -> None:
    desk = make_desk(store)
    key = dm("d-1", "").conversation_key
    record = SocialConversation(conversation=key, ticket_id="gone")
    items = [dm("d-2", "二通目", at=T0 + timedelta(hours=1)), dm("d-1", "最初"), tweet("x", "返品")]
    (check,) = desk.append_private_messages(
        [record], lambda c: items, settings=SETTINGS, matcher=MATCHER
    )
    assert [o.decision.outcome for o in check.outcomes] == ["new", "append"]
    assert check.outcomes[0].ticket is not None
    assert check.conversation.ticket_id == check.outcomes[0].ticket.id
    nothing = desk.append_private_messages(
        [attrs.evolve(record, conversation=attrs.evolve(key, native_id="c-0"))],
        lambda c: [],
        settings=SETTINGS,
        matcher=MATCHER,
    )
    assert nothing[0].conversation.ticket_id == "gone"  # nothing to go on: kept as it was


class _RacingTickets:
    """Another worker files the same item right after this one first looked."""

    def __init__(self, inner: Any, race: _Race) -> None:
        self._inner = inner
        self._race = race

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

    @property
    def tickets(self) -> _RacingTickets:
        return _RacingTickets(self._inner.tickets, self._race)

    def __enter__(self) -> _RacingUnitOfWork:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)

    def commit(self) -> None:
        self._inner.commit()


class _Race:
    def __init__(self, repo: InMemoryTicketRepository, writer: Callable[[], object], times: int):
        self.repo = repo
        self.writer = writer
        self.times = times

    def fire(self) -> None:
        if self.times:
            self.times -= 1
            self.writer()  # the in-memory lock is reentrant: this commits at once

    def unit_of_work(self) -> _RacingUnitOfWork:
        return _RacingUnitOfWork(self.repo.unit_of_work(), self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.repo, name)


@pytest.mark.parametrize("use_case", ["handle", "append"])
def test_P3_two_workers_racing_on_one_item_make_one_ticket(use_case: str) -> None:
    repo = InMemoryTicketRepository()
    item = dm("d-1", "届きません")
    other = make_desk(repo)
    race = _Race(
        repo, lambda: other.handle_social_item(item, settings=SETTINGS, matcher=MATCHER), 1
    )
    desk = Desk(
        store=race,  # type: ignore[arg-type]
        settings=DeskSettings(default_department_id="general"),
        clock=FixedClock(T0),
        ids=SequentialIds("racer-"),
    )
    if use_case == "handle":
        outcome = desk.handle_social_item(item, settings=SETTINGS, matcher=MATCHER)
    else:
        record = SocialConversation(conversation=item.conversation_key, ticket_id="t")
        (check,) = desk.append_private_messages(
            [record], lambda c: [item], settings=SETTINGS, matcher=MATCHER
        )
        (outcome,) = check.outcomes
    assert outcome.intake == "duplicate"  # intake has the last word on a race
    assert len(all_tickets(repo)) == 1
    assert len(all_tickets(repo)[0].thread) == 1


@pytest.mark.parametrize("use_case", ["handle", "append"])
def test_P3_a_race_lost_every_time_is_an_error_and_writes_nothing(use_case: str) -> None:
    repo = InMemoryTicketRepository()

    def rival() -> None:
        raise ConcurrencyError("ticket-x", 1, 2)  # another writer won, every time

    race = _Race(repo, rival, 5)
    desk = Desk(
        store=race,  # type: ignore[arg-type]
        settings=DeskSettings(default_department_id="general"),
        clock=FixedClock(T0),
        ids=SequentialIds("racer-"),
        max_attempts=2,
    )
    item = dm("d-1", "届きません")
    record = SocialConversation(conversation=item.conversation_key, ticket_id="t")

    def run() -> object:
        if use_case == "handle":
            return desk.handle_social_item(item, settings=SETTINGS, matcher=MATCHER)
        return desk.append_private_messages(
            [record], lambda c: [item], settings=SETTINGS, matcher=MATCHER
        )

    with pytest.raises(ConcurrencyError):
        run()
    assert race.times == 3  # tried exactly max_attempts times
    assert all_tickets(repo) == []


# -- properties ------------------------------------------------------------------------------------

CONVERSATIONS = ("conv-1", "conv-2", "t-r1", "t-r2")


def stream_item(n: int, conversation: str, keyword: bool, at: datetime) -> SocialItem:
    text = "返品したい" if keyword else "どうも"
    if conversation.startswith("conv"):
        return dm(f"d-{conversation}-{n}", text, conversation=conversation, at=at)
    if n == 0:
        return tweet(conversation, text, created_at=at)  # the root post itself
    kind = SocialItemKind.REPLY if n % 2 else SocialItemKind.MENTION
    return tweet(f"{conversation}-{n}", text, kind=kind, root_id=conversation, created_at=at)


OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("item"),
            st.integers(0, 4),
            st.sampled_from(CONVERSATIONS),
            st.booleans(),
        ),
        st.tuples(st.just("close"), st.sampled_from(CONVERSATIONS)),
        st.tuples(st.just("wait"), st.sampled_from([0, 1, 23, 25])),
    ),
    max_size=25,
)


def check_invariants(
    store: TicketStore, conversation_of: dict[ExternalReference, object] | None = None
) -> None:
    """S3: one item, one ticket. H2, H3: at most one ticket that is not closed per
    conversation, counting every ticket holding one of the conversation's items (not only
    the one that holds the conversation's key)."""
    tickets = all_tickets(store)
    if conversation_of is not None:
        live: dict[object, set[str]] = defaultdict(set)
        for ticket in tickets:
            if ticket.status is TicketStatus.CLOSED or ticket.is_trashed:
                continue
            for message in ticket.messages():
                if message.external_ref in conversation_of:
                    live[conversation_of[message.external_ref]].add(ticket.id)
        assert all(len(ids) <= 1 for ids in live.values()), live
    holders: dict[ExternalReference, list[str]] = defaultdict(list)
    open_per_conversation: dict[ExternalReference, int] = defaultdict(int)
    for ticket in tickets:
        for message in ticket.messages():
            assert message.external_ref is not None
            holders[message.external_ref].append(ticket.id)
        keys = {ref for ref in ticket.external_refs if ref.kind in {"thread", "conversation"}}
        if ticket.status is not TicketStatus.CLOSED and not ticket.is_trashed:
            for key in keys:
                open_per_conversation[key] += 1
    assert all(len(ids) == 1 for ids in holders.values())  # S3: one item, one ticket
    assert all(count <= 1 for count in open_per_conversation.values())  # H2, H3


@given(OPS)
def test_H2_H3_a_conversation_never_has_two_open_tickets(
    ops: list[tuple[object, ...]],
) -> None:
    store = InMemoryTicketRepository()
    clock = FixedClock(T0)
    desk = make_desk(store, clock)
    seen: dict[str, int] = {}
    conversation_of: dict[ExternalReference, object] = {}
    for op in ops:
        if op[0] == "item":
            _, n, conversation, keyword = op
            item = stream_item(n, conversation, keyword, clock.now())  # type: ignore[arg-type]
            conversation_of[item.reference] = conversation
            desk.handle_social_item(item, settings=SETTINGS, matcher=MATCHER)
            seen.setdefault(str(item.reference), len(all_tickets(store)))
        elif op[0] == "close":
            sample = stream_item(1, op[1], True, T0)  # type: ignore[arg-type]
            holder = store.find_by_reference(sample.conversation_key)
            if holder is not None and holder.status is not TicketStatus.CLOSED:
                desk.change_status(holder.id, TicketStatus.CLOSED)
        else:
            clock.advance(hours=op[1])  # type: ignore[arg-type]
        check_invariants(store, conversation_of)
    # Every open ticket is the one its conversation's key finds.
    for ticket in all_tickets(store):
        if ticket.status is not TicketStatus.CLOSED:
            for key in ticket.external_refs:
                assert store.find_by_reference(key) == ticket


@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.sampled_from(CONVERSATIONS), st.booleans()),
        min_size=1,
        max_size=8,
    ),
    st.randoms(use_true_random=False),
)
def test_P3_S3_routing_items_again_in_any_order_never_creates_another_ticket(
    items: list[tuple[int, str, bool]], rng: object
) -> None:
    store = InMemoryTicketRepository()
    desk = make_desk(store)
    stream = [stream_item(n, c, k, T0) for n, c, k in items]
    for item in stream:
        desk.handle_social_item(item, settings=SETTINGS, matcher=MATCHER)
    before = {t.id: len(t.thread) for t in all_tickets(store)}
    replay = list(stream)
    rng.shuffle(replay)  # type: ignore[attr-defined]
    for item in replay:
        outcome = desk.handle_social_item(item, settings=SETTINGS, matcher=MATCHER)
        assert outcome.intake in {None, "duplicate", "conflict", "revise", "append", "create"}
    after = {t.id: len(t.thread) for t in all_tickets(store)}
    # A replay may only file what was skipped before because its conversation had no ticket
    # yet; whatever was filed stays where it is, once.
    assert set(before) <= set(after)
    check_invariants(store)
    again = {t.id: len(t.thread) for t in all_tickets(store)}
    for item in replay:
        desk.handle_social_item(item, settings=SETTINGS, matcher=MATCHER)
    assert {t.id: len(t.thread) for t in all_tickets(store)} == again
