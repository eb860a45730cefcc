"""Social items, rules and settings as values (S1, S2, S4, S5, S6, H1, H3; T1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskcore import (
    AutoRule,
    ExternalReference,
    InvalidModelError,
    NaiveDatetimeError,
    SocialConversation,
    SocialItem,
    SocialItemKind,
    SocialProfile,
    SocialSettings,
    SocialSource,
    ThreadingMode,
    ThreadingPolicy,
    ThreadingRule,
    UnknownValueError,
)
from deskcore.models import AUTO_RULE_KINDS, DEFAULT_CONVERTIBLE_NETWORKS, MAX_SOCIAL_TEXT_LENGTH

T0 = datetime(2026, 8, 3, 9, 0, tzinfo=UTC)
HANAKO = SocialProfile(network="twitter", id="u-1", handle="@hanako", display_name="山田 花子")


def ref(native_id: str, *, network: str = "twitter", kind: str = "tweet") -> ExternalReference:
    return ExternalReference(network=network, account="brand_jp", kind=kind, native_id=native_id)


def item(**changes: object) -> SocialItem:
    fields: dict[str, object] = {
        "reference": ref("t-1"),
        "kind": SocialItemKind.MENTION,
        "author": HANAKO,
        "text": "@brand_jp 返品したいです",
        "created_at": T0,
    }
    return SocialItem(**(fields | changes))  # type: ignore[arg-type]


def dm(native_id: str = "d-1", conversation: str = "conv-1", **changes: object) -> SocialItem:
    fields: dict[str, object] = {
        "reference": ref(native_id, kind="dm"),
        "kind": "direct_message",
        "source": "private_messages",
        "conversation_id": conversation,
    }
    return item(**(fields | changes))


# -- the item --------------------------------------------------------------------------------------


def test_S1_an_item_records_its_source_and_derives_network_and_account() -> None:
    for source in SocialSource:
        made = item(source=source.value)
        assert made.source is source
    made = item()
    assert made.network == "twitter"
    assert made.channel_account == "brand_jp"
    assert made.native_id == "t-1"
    assert made.source is SocialSource.MONITORING  # the default


def test_T1_an_items_time_is_aware_and_kept_as_a_fixed_offset() -> None:
    with pytest.raises(NaiveDatetimeError):
        item(created_at=datetime(2026, 8, 3, 9, 0))
    tokyo = item(created_at=datetime(2026, 8, 3, 18, 0, tzinfo=ZoneInfo("Asia/Tokyo")))
    assert tokyo.created_at.tzinfo == timezone(timedelta(hours=9))
    assert tokyo.created_at == T0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "story"}, "kind"),
        ({"source": "rss"}, "source"),
        ({"text": None}, "text"),
        ({"text": "x" * (MAX_SOCIAL_TEXT_LENGTH + 1)}, "text"),
        ({"text": "bad \ud800 surrogate"}, "text"),
        ({"author": "hanako"}, "author"),
        ({"brand_own": "yes"}, "brand_own"),
        ({"reference": ref("t-1", network="Twitter")}, "reference"),
        ({"author": SocialProfile(network="facebook", id="u-1")}, "author"),
        ({"conversation_id": "c-1"}, "conversation_id"),
        ({"kind": "visitor_post", "parent_id": "p-0"}, "parent_id"),
        ({"kind": "post", "root_id": "p-0"}, "parent_id"),
        ({"contact_id": " spaced "}, "contact_id"),
    ],
)
def test_T1_bad_items_are_refused_with_the_field_named(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidModelError) as caught:
        item(**changes)
    assert caught.value.field == field


def test_T1_a_megabyte_of_text_is_a_clear_error_not_a_crash() -> None:
    with pytest.raises(InvalidModelError, match="more than the limit of 100000"):
        item(text="返" * 1_000_000)
    assert len(item(text="長" * MAX_SOCIAL_TEXT_LENGTH).text) == MAX_SOCIAL_TEXT_LENGTH


def test_S2_an_unknown_network_is_a_valid_item_and_a_malformed_one_is_not() -> None:
    insta = SocialProfile(network="instagram", id="i-1")
    made = item(reference=ref("p-1", network="instagram", kind="post"), author=insta)
    assert made.network == "instagram"
    with pytest.raises(InvalidModelError):
        SocialProfile(network="Insta Gram", id="i-1")


def test_empty_text_emoji_and_half_width_kana_are_valid_text() -> None:
    assert item(text="").text == ""
    assert item(text="ﾍﾝﾋﾟﾝ 🙏🏻👨‍👩‍👧").text.endswith("👧")


def test_S6_a_post_is_always_the_brands_own() -> None:
    post = item(kind="post", reference=ref("p-1", kind="post"))
    assert post.is_brand_own
    assert item(brand_own=True).is_brand_own
    assert not item().is_brand_own


def test_a_direct_message_needs_its_conversation_and_has_no_thread() -> None:
    with pytest.raises(InvalidModelError, match="conversation id"):
        dm(conversation_id=None)
    with pytest.raises(InvalidModelError, match="no parent or root"):
        dm(root_id="t-0")


# -- the conversation key (H1) ---------------------------------------------------------------------


def test_H1_private_messages_are_keyed_by_network_account_and_conversation() -> None:
    assert dm().conversation_key == ExternalReference(
        network="twitter", account="brand_jp", kind="conversation", native_id="conv-1"
    )
    assert dm("d-2").conversation_key == dm("d-1").conversation_key
    assert dm(conversation="conv-2").conversation_key != dm().conversation_key
    other_account = dm(reference=ExternalReference("twitter", "brand_us", "dm", "d-1"))
    assert other_account.conversation_key != dm().conversation_key


def test_H1_comments_and_replies_are_keyed_by_the_root_post() -> None:
    root = ExternalReference(
        network="twitter", account="brand_jp", kind="thread", native_id="t-root"
    )
    reply = item(kind="reply", reference=ref("t-2"), parent_id="t-1", root_id="t-root")
    assert reply.conversation_key == root
    # Without a root, the parent stands in for it; a standalone item is its own root.
    assert item(kind="reply", parent_id="t-root").conversation_key == root
    assert item(reference=ref("t-root")).conversation_key == root
    # Never the item's own reference: the conversation's claim can move between tickets.
    assert reply.conversation_key != reply.reference


@given(st.sampled_from([k for k in SocialItemKind if k is not SocialItemKind.DIRECT_MESSAGE]))
def test_H1_every_public_kind_has_a_thread_key(kind: SocialItemKind) -> None:
    made = item(kind=kind)
    assert made.conversation_key.kind == "thread"
    assert made.conversation_key.native_id == "t-1"


def test_a_profile_has_a_contact_id_and_a_name() -> None:
    assert HANAKO.contact_id == "twitter:u-1"
    assert HANAKO.name == "山田 花子"
    assert SocialProfile(network="twitter", id="u-2", handle="@x").name == "@x"
    assert SocialProfile(network="twitter", id="u-3").name == "u-3"
    long = SocialProfile(network="twitter", id="9" * 255)
    assert len(long.contact_id) <= 255
    assert long.contact_id.startswith("twitter:sha256-")
    assert item(contact_id="crm-7").author_contact_id == "crm-7"


# -- rules and settings (S2, S4, S5) ---------------------------------------------------------------


def test_S4_rules_take_only_the_kinds_the_network_allows() -> None:
    assert AUTO_RULE_KINDS["facebook"] == {"visitor_post", "comment", "direct_message"}
    assert AUTO_RULE_KINDS["twitter"] == {"mention", "reply", "direct_message"}
    AutoRule(id="fb", network="facebook", kinds=["visitor_post", "comment"], keywords=["返品"])
    for network, kind in [("facebook", "mention"), ("twitter", "comment"), ("twitter", "like")]:
        with pytest.raises(InvalidModelError, match="cannot convert automatically"):
            AutoRule(id="r", network=network, kinds=[kind], keywords=["返品"])
    with pytest.raises(UnknownValueError):
        AutoRule(id="r", network="twitter", kinds=["tweetstorm"], keywords=["x"])
    with pytest.raises(InvalidModelError, match="at least one"):
        AutoRule(id="r", network="twitter", kinds=[], keywords=["x"])


@pytest.mark.parametrize(
    "keywords",
    [(), ("",), ("   ",), ("x" * 1001,), ("bad \udc00",), "refund"],
)
def test_S4_a_rule_needs_real_keywords(keywords: object) -> None:
    with pytest.raises(InvalidModelError):
        AutoRule(id="r", network="twitter", kinds=["mention"], keywords=keywords)  # type: ignore[arg-type]


def test_S5_all_messages_is_a_choice_for_private_messages_only() -> None:
    rule = AutoRule(id="dm", network="twitter", kinds=["direct_message"], match_all=True)
    assert rule.keywords == ()
    with pytest.raises(InvalidModelError, match="private messages only"):
        AutoRule(id="r", network="twitter", kinds=["mention", "direct_message"], match_all=True)


def test_S2_the_convertible_networks_are_data() -> None:
    assert SocialSettings().convertible_networks == DEFAULT_CONVERTIBLE_NETWORKS
    assert {"facebook", "twitter"} == DEFAULT_CONVERTIBLE_NETWORKS
    wider = SocialSettings(
        convertible_networks=["facebook", "twitter", "instagram"],
        rules=[AutoRule(id="ig", network="instagram", kinds=["comment"], keywords=["返品"])],
    )
    assert "instagram" in wider.convertible_networks
    with pytest.raises(InvalidModelError, match="not a convertible network"):
        SocialSettings(
            rules=[AutoRule(id="ig", network="instagram", kinds=["comment"], keywords=["x"])]
        )
    with pytest.raises(InvalidModelError):
        SocialSettings(convertible_networks="twitter")  # type: ignore[arg-type]


def test_S4_rule_ids_are_unique_and_departments_fall_back() -> None:
    rule = AutoRule(id="r", network="twitter", kinds=["mention"], keywords=["x"])
    with pytest.raises(InvalidModelError, match="twice"):
        SocialSettings(rules=[rule, rule])
    settings = SocialSettings(rules=[rule], default_department_id="social")
    assert settings.department_for(rule) == "social"
    assert settings.department_for(attrs.evolve(rule, department_id="sales")) == "sales"


def test_S5_the_append_interval_is_positive_or_off() -> None:
    assert SocialSettings().append_interval is None
    assert SocialSettings(append_interval=timedelta(hours=12)).append_interval == timedelta(
        hours=12
    )
    for bad in (timedelta(0), timedelta(hours=-1), 12):
        with pytest.raises(InvalidModelError):
            SocialSettings(append_interval=bad)  # type: ignore[arg-type]


def test_S5_a_conversation_record_keeps_when_it_was_checked() -> None:
    record = SocialConversation(conversation=dm().conversation_key, ticket_id="ticket-1")
    assert record.last_checked_at is None
    with pytest.raises(NaiveDatetimeError):
        attrs.evolve(record, last_checked_at=datetime(2026, 1, 1))


# -- threading policy (H3) -------------------------------------------------------------------------


def test_H3_the_default_reopens_within_24_hours_for_every_kind() -> None:
    policy = ThreadingPolicy()
    for kind in SocialItemKind:
        assert policy.rule_for(kind) == ThreadingRule(
            mode=ThreadingMode.REOPEN_WITHIN, window=timedelta(hours=24)
        )


def test_H3_the_policy_can_differ_per_kind() -> None:
    policy = ThreadingPolicy(
        by_kind={
            "direct_message": ThreadingRule(mode="always_reopen"),
            SocialItemKind.MENTION: ThreadingRule(mode="always_new"),
        }
    )
    assert policy.rule_for(SocialItemKind.DIRECT_MESSAGE).mode is ThreadingMode.ALWAYS_REOPEN
    assert policy.rule_for(SocialItemKind.MENTION).mode is ThreadingMode.ALWAYS_NEW
    assert policy.rule_for(SocialItemKind.COMMENT).mode is ThreadingMode.REOPEN_WITHIN
    with pytest.raises(UnknownValueError):
        ThreadingPolicy(by_kind={"story": ThreadingRule()})
    with pytest.raises(InvalidModelError):
        ThreadingPolicy(by_kind={"mention": "always_new"})  # type: ignore[dict-item]
    with pytest.raises(InvalidModelError):
        ThreadingRule(window=timedelta(hours=-1))
    with pytest.raises(UnknownValueError):
        ThreadingRule(mode="sometimes")
