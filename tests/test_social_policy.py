"""The pure social decisions (S1-S9, H2, H4, W5): what an item does, and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskcore import (
    Actor,
    AutoRule,
    Brand,
    Channel,
    Contact,
    Direction,
    ExternalReference,
    InvalidModelError,
    NaiveDatetimeError,
    PermissionDeniedError,
    SocialAction,
    SocialConversation,
    SocialDecision,
    SocialItem,
    SocialItemKind,
    SocialProfile,
    SocialSettings,
    SocialSource,
    Ticket,
    TicketStatus,
    brand_directory,
    brand_of,
    compile_social_matcher,
    connection_view,
    decide_manual_social_conversion,
    decide_social_item,
    due_append_checks,
    plan_append,
    social_message,
    update_social_settings,
)
from deskcore.policies import ConnectionMetrics
from deskcore.policies.intake import to_message

T0 = datetime(2026, 8, 3, 9, 0, tzinfo=UTC)
FAN = SocialProfile(network="facebook", id="fan-1", display_name="佐藤 健")
FOLLOWER = SocialProfile(network="twitter", id="u-1", handle="@hanako")
RULES = (
    AutoRule(
        id="returns",
        network="twitter",
        kinds=["mention", "reply"],
        keywords=["返品", "ﾍﾝﾋﾟﾝ", "refund"],
        department_id="returns",
    ),
    AutoRule(
        id="outage",
        network="twitter",
        kinds=["mention"],
        keywords=["障害", "down"],
        department_id="tech",
    ),
    AutoRule(
        id="fb",
        network="facebook",
        kinds=["visitor_post", "comment"],
        keywords=["返金"],
        department_id="billing",
    ),
    AutoRule(id="all-dm", network="twitter", kinds=["direct_message"], match_all=True),
)
SETTINGS = SocialSettings(rules=RULES, default_department_id="social")
MATCHER = compile_social_matcher(SETTINGS)
AGENT = Actor(id="agent-1", name="Yui", permissions=["create_ticket"])


def tweet(n: int, text: str, *, kind: str = "mention", **changes: object) -> SocialItem:
    fields: dict[str, object] = {
        "reference": ExternalReference("twitter", "brand_jp", "tweet", f"t-{n}"),
        "kind": kind,
        "author": FOLLOWER,
        "text": text,
        "created_at": T0,
    }
    return SocialItem(**(fields | changes))  # type: ignore[arg-type]


def fb(n: int, text: str, *, kind: str = "visitor_post", **changes: object) -> SocialItem:
    fields: dict[str, object] = {
        "reference": ExternalReference("facebook", "page-1", "post", f"p-{n}"),
        "kind": kind,
        "author": FAN,
        "text": text,
        "created_at": T0,
    }
    return SocialItem(**(fields | changes))  # type: ignore[arg-type]


def dm(n: int, text: str = "help", conversation: str = "c-1") -> SocialItem:
    return tweet(
        n,
        text,
        kind="direct_message",
        reference=ExternalReference("twitter", "brand_jp", "dm", f"d-{n}"),
        conversation_id=conversation,
        source="private_messages",
    )


def ticket(status: TicketStatus = TicketStatus.OPEN, **changes: object) -> Ticket:
    fields: dict[str, object] = {
        "id": "ticket-1",
        "number": 1,
        "department_id": "returns",
        "channel": Channel.TWITTER,
        "contact_id": FOLLOWER.contact_id,
        "created_at": T0,
        "status": status,
        "closed_at": T0 + timedelta(hours=1) if status is TicketStatus.CLOSED else None,
    }
    return Ticket(**(fields | changes))  # type: ignore[arg-type]


def decide(item: SocialItem, existing: Ticket | None = None, **kwargs: object) -> SocialDecision:
    decision = decide_social_item(
        item,
        settings=kwargs.pop("settings", SETTINGS),  # type: ignore[arg-type]
        matcher=kwargs.pop("matcher", MATCHER),  # type: ignore[arg-type]
        existing=existing,
        now=kwargs.pop("now", T0 + timedelta(hours=2)),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )
    assert decision.reason
    assert decision.explanation  # H4: every decision explains itself
    return decision


# -- automatic conversion (S4, W5) -----------------------------------------------------------------


def test_S4_an_item_of_a_chosen_kind_with_a_keyword_becomes_a_ticket_in_the_rules_department() -> (
    None
):
    decision = decide(tweet(1, "@brand_jp 返品したいのですが"))
    assert decision.outcome is SocialAction.NEW
    assert decision.reason == "keyword_match"
    assert decision.department_id == "returns"
    assert decision.rule_id == "returns"


def test_S4_W5_the_decision_lists_the_matches_and_where_they_are() -> None:
    text = "ＲＥＦＵＮＤ please: ﾍﾝﾋﾟﾝ 🙏 返品"
    decision = decide(tweet(1, text))
    spans = [(m.keyword, text[m.start : m.end]) for m in decision.matches]
    assert ("refund", "ＲＥＦＵＮＤ") in spans
    assert ("返品", "返品") in spans
    assert "refund" in decision.explanation
    assert all("returns" in m.rule_ids for m in decision.matches)


def test_S4_the_first_matching_rule_in_rule_order_wins() -> None:
    decision = decide(tweet(1, "サーバー障害で返品できない"))  # both rules' keywords
    assert decision.rule_id == "returns"
    assert [m.keyword for m in decision.matches] == ["返品"]  # only the winner's matches
    reordered = SocialSettings(rules=(RULES[1], RULES[0]))
    decision = decide(
        tweet(1, "サーバー障害で返品できない"),
        settings=reordered,
        matcher=compile_social_matcher(reordered),
    )
    assert decision.rule_id == "outage"
    assert decision.department_id == "tech"


def test_S4_no_keyword_or_a_kind_no_rule_takes_is_skipped() -> None:
    assert decide(tweet(1, "ありがとう!")).reason == "no_keyword_match"
    assert decide(tweet(1, "refunds are slow")).reason == "no_keyword_match"  # W2: whole words
    assert decide(fb(1, "返金してください", kind="direct_message", conversation_id="m")).reason == (
        "kind_not_converted"
    )
    assert decide(tweet(1, "", kind="reply")).outcome is SocialAction.SKIP  # empty text


def test_S4_a_rule_without_its_own_department_uses_the_settings_default() -> None:
    rule = AutoRule(id="r", network="twitter", kinds=["mention"], keywords=["help"])
    settings = SocialSettings(rules=[rule], default_department_id="social")
    decision = decide(
        tweet(1, "help!"), settings=settings, matcher=compile_social_matcher(settings)
    )
    assert decision.department_id == "social"
    bare = SocialSettings(rules=[rule])
    decision = decide(tweet(1, "help!"), settings=bare, matcher=compile_social_matcher(bare))
    assert decision.department_id is None  # the desk's default department
    assert "default department" in decision.explanation


def test_S5_all_private_messages_convert_without_keywords() -> None:
    decision = decide(dm(1, "こんにちは"))
    assert decision.outcome is SocialAction.NEW
    assert decision.reason == "all_private_messages"
    assert decision.department_id == "social"


def test_S2_other_networks_are_skipped_and_the_set_is_data() -> None:
    insta = SocialProfile(network="instagram", id="i-1")
    post = SocialItem(
        reference=ExternalReference("instagram", "brand", "post", "i-p1"),
        kind="comment",
        author=insta,
        text="返品",
        created_at=T0,
    )
    decision = decide(post)
    assert decision.outcome is SocialAction.SKIP
    assert decision.reason == "network_not_convertible"
    assert "facebook, twitter" in decision.explanation
    wider = SocialSettings(
        convertible_networks={"twitter", "instagram"},
        rules=[AutoRule(id="ig", network="instagram", kinds=["comment"], keywords=["返品"])],
    )
    decision = decide(post, settings=wider, matcher=compile_social_matcher(wider))
    assert decision.outcome is SocialAction.NEW
    narrower = SocialSettings(convertible_networks={"facebook"})
    assert decide(tweet(1, "返品"), settings=narrower).reason == "network_not_convertible"


def test_S6_the_brands_own_items_never_convert() -> None:
    own_post = tweet(1, "新商品の返品ポリシー", kind="post")
    own_reply = tweet(2, "返品を承りました", kind="reply", brand_own=True, root_id="t-0")
    own_dm = attrs.evolve(dm(3, "返品の件"), brand_own=True)
    for item in (own_post, own_reply, own_dm):
        decision = decide(item)
        assert decision.outcome is SocialAction.SKIP
        assert decision.reason == "brand_own_item"
    # With a ticket for its conversation, the brand's reply joins it, and reopens nothing.
    closed = ticket(TicketStatus.CLOSED)
    decision = decide(own_reply, closed)
    assert decision.outcome is SocialAction.APPEND
    assert decision.reason == "brand_item_appended"
    assert decision.ticket_id == closed.id
    message = social_message(own_reply, contact=Contact(id=closed.contact_id))
    assert message.direction is Direction.OUTBOUND
    assert message.contact.id == closed.contact_id


def test_reactions_never_become_or_join_tickets() -> None:
    for kind in (SocialItemKind.RETWEET, SocialItemKind.LIKE):
        decision = decide(tweet(1, "返品", kind=kind), ticket())
        assert decision.outcome is SocialAction.SKIP
        assert decision.reason == "reaction_not_converted"


def test_S3_an_item_already_on_a_ticket_stays_there() -> None:
    claimed = ticket()
    decision = decide(tweet(1, "返品"), claimed_by=claimed)
    assert decision.outcome is SocialAction.ALREADY_CONVERTED
    assert decision.ticket_id == claimed.id


# -- threading in the decision (H2, H4) ------------------------------------------------------------


def test_H2_an_item_whose_conversation_has_a_ticket_is_appended_without_keywords() -> None:
    for status in (TicketStatus.OPEN, TicketStatus.ON_HOLD, TicketStatus.ESCALATED):
        existing = ticket(status, on_hold_since=T0 if status is TicketStatus.ON_HOLD else None)
        decision = decide(tweet(2, "ありがとう", kind="reply", root_id="t-1"), existing)
        assert decision.outcome is SocialAction.APPEND
        assert decision.reason == "conversation_has_ticket"
        assert decision.ticket_id == existing.id


def test_H4_a_closed_ticket_reopens_within_the_window_and_a_new_one_starts_after() -> None:
    closed = ticket(TicketStatus.CLOSED)  # closed at T0 + 1 h
    reply = tweet(2, "まだ届きません", kind="reply", root_id="t-1")
    within = decide(reply, closed, now=T0 + timedelta(hours=20))
    assert (within.outcome, within.reason, within.ticket_id) == (
        SocialAction.REOPEN,
        "reopen_within_window",
        closed.id,
    )
    after = decide(reply, closed, now=T0 + timedelta(hours=26))
    assert (after.outcome, after.reason) == (SocialAction.NEW, "window_passed")
    assert after.previous_ticket_id == closed.id
    assert after.department_id == closed.department_id  # the conversation's department


def test_a_trashed_conversation_ticket_counts_as_none() -> None:
    trashed = ticket(trashed_at=T0)
    decision = decide(tweet(2, "ありがとう", kind="reply", root_id="t-1"), trashed)
    assert decision.reason == "no_keyword_match"
    decision = decide(tweet(2, "返品", kind="reply", root_id="t-1"), trashed)
    assert decision.outcome is SocialAction.NEW
    assert decision.previous_ticket_id == trashed.id


def test_T1_the_decision_needs_an_aware_now() -> None:
    with pytest.raises(NaiveDatetimeError):
        decide(tweet(1, "返品"), now=datetime(2026, 8, 3))


# -- manual conversion (S1-S3, S6) -----------------------------------------------------------------


def manual(item: SocialItem, **kwargs: object) -> SocialDecision:
    decision = decide_manual_social_conversion(
        item,
        department_id=kwargs.pop("department_id", "support"),  # type: ignore[arg-type]
        settings=SETTINGS,
        actor=kwargs.pop("actor", AGENT),  # type: ignore[arg-type]
        now=T0,
        **kwargs,  # type: ignore[arg-type]
    )
    assert decision.explanation
    return decision


@pytest.mark.parametrize("source", list(SocialSource))
def test_S1_items_from_any_source_convert_by_hand_into_the_chosen_department(
    source: SocialSource,
) -> None:
    # No keyword and no rule needed by hand: the agent decides.
    decision = manual(fb(1, "ちょっと質問です", kind="comment", source=source))
    assert decision.outcome is SocialAction.NEW
    assert decision.reason == "converted_by_hand"
    assert decision.department_id == "support"
    assert source.value.replace("_", " ") in decision.explanation


def test_S2_by_hand_other_networks_are_refused_with_a_clear_reason() -> None:
    post = SocialItem(
        reference=ExternalReference("linkedin", "brand", "post", "l-1"),
        kind="comment",
        author=SocialProfile(network="linkedin", id="l-u"),
        text="question",
        created_at=T0,
    )
    decision = manual(post)
    assert decision.outcome is SocialAction.REFUSED
    assert decision.reason == "network_not_convertible"
    assert "linkedin" in decision.explanation


def test_S6_by_hand_the_brands_own_items_are_refused() -> None:
    decision = manual(tweet(1, "告知", kind="post"))
    assert (decision.outcome, decision.reason) == (SocialAction.REFUSED, "brand_own_item")


def test_S3_converting_by_hand_again_gives_the_same_ticket() -> None:
    claimed = ticket()
    decision = manual(tweet(1, "返品"), existing=claimed)
    assert decision.outcome is SocialAction.ALREADY_CONVERTED
    assert decision.ticket_id == claimed.id
    # Already converted is an answer, whoever asks.
    assert manual(tweet(1, "返品"), existing=claimed, actor=Actor(id="x")).ticket_id == claimed.id


def test_T7_by_hand_the_actor_needs_create_ticket() -> None:
    decision = manual(tweet(1, "返品"), actor=Actor(id="viewer"))
    assert (decision.outcome, decision.reason) == (
        SocialAction.REFUSED,
        "actor_cannot_create_tickets",
    )


def test_H2_by_hand_an_item_joins_its_conversations_ticket() -> None:
    existing = ticket()
    decision = manual(tweet(2, "追記", kind="reply", root_id="t-1"), conversation_ticket=existing)
    assert (decision.outcome, decision.ticket_id) == (SocialAction.APPEND, existing.id)
    closed = ticket(TicketStatus.CLOSED, closed_at=T0 - timedelta(days=3))
    decision = manual(tweet(2, "追記", kind="reply", root_id="t-1"), conversation_ticket=closed)
    assert decision.outcome is SocialAction.NEW
    assert decision.department_id == "support"  # the agent's choice
    assert decision.previous_ticket_id == closed.id


@pytest.mark.parametrize("department", ["", " x", "a" * 256, 7])
def test_by_hand_a_bad_department_is_an_error(department: object) -> None:
    with pytest.raises(InvalidModelError):
        manual(tweet(1, "返品"), department_id=department)


# -- the inbound message ---------------------------------------------------------------------------


def test_H1_the_message_carries_the_conversation_key_and_the_author() -> None:
    item = tweet(2, "まだです", kind="reply", root_id="t-1")
    message = social_message(item, department_id="returns")
    assert message.reference == item.reference
    assert message.conversation == item.conversation_key
    assert message.channel == Channel.TWITTER
    assert message.contact.id == FOLLOWER.contact_id
    assert message.author_name == "@hanako"
    assert message.direction is Direction.INBOUND
    assert message.department_id == "returns"
    assert message.subject == ""  # the body's first line becomes the subject
    assert social_message(fb(1, "")).subject == "facebook visitor post from 佐藤 健"


# -- the append run (S5) ---------------------------------------------------------------------------


def test_S5_a_conversation_is_due_when_its_interval_has_passed() -> None:
    key = dm(1).conversation_key
    never = SocialConversation(conversation=key, ticket_id="t-a")
    recent = SocialConversation(
        conversation=attrs.evolve(key, native_id="c-2"),
        ticket_id="t-b",
        last_checked_at=T0 - timedelta(hours=11),
    )
    old = SocialConversation(
        conversation=attrs.evolve(key, native_id="c-3"),
        ticket_id="t-c",
        last_checked_at=T0 - timedelta(hours=12),
    )
    due = due_append_checks([recent, old, never], interval=timedelta(hours=12), now=T0)
    assert due == (never, old)
    with pytest.raises(InvalidModelError):
        due_append_checks([never], interval=timedelta(0), now=T0)


def test_S5_only_messages_not_yet_in_the_thread_are_appended_oldest_first() -> None:
    first = dm(1, "最初")
    filed = to_message(social_message(first), item_id="item-1", ticket_id="ticket-1")
    held = ticket(external_refs=(first.conversation_key,), thread=(filed,))
    later = attrs.evolve(dm(3, "三番目"), created_at=T0 + timedelta(hours=3))
    second = attrs.evolve(dm(2, "二番目"), created_at=T0 + timedelta(hours=1))
    elsewhere = dm(9, "別の会話", conversation="c-9")
    like = tweet(8, "", kind="like")
    planned = plan_append(held, [later, first, second, later, elsewhere, like])
    assert planned == (second, later)


# -- brands, settings, connections (S7, S8, S9) ----------------------------------------------------


def test_S7_a_brand_groups_its_channels_and_an_account_has_one_brand() -> None:
    jp = Brand(id="b-jp", name="ブランドJP", channel_accounts=("brand_jp", "page-1"))
    us = Brand(id="b-us", name="Brand US", channel_accounts=("brand_us",))
    directory = brand_directory([jp, us])
    assert dict(directory) == {"brand_jp": jp, "page-1": jp, "brand_us": us}
    assert brand_of("page-1", [jp, us]) == jp
    assert brand_of("unknown", [jp, us]) is None
    clash = Brand(id="b-2", name="Other", channel_accounts=("brand_jp",))
    with pytest.raises(InvalidModelError, match="belongs to both"):
        brand_directory([jp, clash])


def test_S8_only_a_social_admin_changes_the_settings() -> None:
    admin = Actor(id="admin-1", roles=["social_admin"])
    new = SocialSettings(rules=RULES[:1])
    assert update_social_settings(SETTINGS, new, actor=admin) is new
    for actor in (Actor(id="agent"), Actor(id="boss", roles=["admin", "manager"])):
        with pytest.raises(PermissionDeniedError) as caught:
            update_social_settings(SETTINGS, new, actor=actor)
        assert caught.value.missing == "role:social_admin"
    with pytest.raises(InvalidModelError):
        update_social_settings(SETTINGS, {"rules": []}, actor=admin)  # type: ignore[arg-type]


def test_S9_a_connection_shows_its_contact_owner_and_tickets() -> None:
    contact = Contact(id=FOLLOWER.contact_id, name="@hanako")
    old = ticket(TicketStatus.CLOSED, id="t-old", number=1, assignee_id="agent-9", created_at=T0)
    new = ticket(id="t-new", number=2, assignee_id="agent-1", created_at=T0 + timedelta(days=1))
    view = connection_view(contact, [old, new])
    assert view.contact == contact
    assert view.tickets == (new, old)
    assert view.total_tickets == 2
    assert view.open_tickets == 1
    assert view.owner_id == "agent-1"
    assert view.metrics is None  # X1 comes with the metrics engine: never a made-up number
    measured = connection_view(
        contact, [old], metrics=lambda ts: ConnectionMetrics(satisfaction=len(ts) / 1)
    )
    assert measured.metrics == ConnectionMetrics(satisfaction=1.0)
    assert measured.owner_id == "agent-9"
    assert connection_view(None, []).total_tickets == 0


# -- properties ------------------------------------------------------------------------------------

TEXTS = st.text(
    alphabet=st.sampled_from(list("返品ﾍﾝﾋﾟﾝrefund RＥＦＵＮＤ障害down 🙏x\n")), max_size=40
)


@given(TEXTS, st.sampled_from(["mention", "reply", "direct_message", "like", "post"]))
def test_H4_every_decision_has_an_outcome_a_reason_and_an_explanation(text: str, kind: str) -> None:
    extra: dict[str, object] = {}
    if kind == "direct_message":
        extra = {"conversation_id": "c-1"}
    item = tweet(1, text, kind=kind, **extra)
    for existing in (None, ticket(), ticket(TicketStatus.CLOSED)):
        decision = decide(item, existing)
        assert decision.outcome in SocialAction
        if decision.outcome is SocialAction.NEW:
            assert existing is None or existing.status is TicketStatus.CLOSED
        if decision.matches:
            for match in decision.matches:
                assert 0 <= match.start < match.end <= len(text)
