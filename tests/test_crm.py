"""CRM social automation (R1-R9): interactions, automation rules and their decisions, the
social list of a record, profile search, the activity history, posts and monitoring columns.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_strategies import (
    FIELDS,
    condition_holds,
    conditions,
    crm_records,
    crm_settings,
    interactions,
    oracle,
)
from deskcore import (
    CRM_TRIGGERS,
    LEAD_SOURCES,
    MONITORING_COLUMN_KINDS,
    Actor,
    ConditionField,
    ConditionOp,
    CrmAction,
    CrmBranch,
    CrmCondition,
    CrmDecision,
    CrmDecisionKind,
    CrmInteractionLinked,
    CrmProfileLinked,
    CrmRecord,
    CrmRecordAdded,
    CrmRecordKind,
    CrmRule,
    CrmSettings,
    CrmTrigger,
    DeskcoreError,
    ExternalReference,
    InvalidModelError,
    MonitoringColumn,
    MonitoringColumnKind,
    NaiveDatetimeError,
    NewCrmRecord,
    OwnerRule,
    PermissionDeniedError,
    PostDraft,
    PostImage,
    SocialInteraction,
    SocialItem,
    SocialItemKind,
    SocialProfile,
    UnknownValueError,
    activity_history,
    check_post,
    compile_crm_matcher,
    decide_crm_action,
    interaction_from_item,
    lead_source,
    search_profiles,
    social_list,
    update_crm_settings,
)
from deskcore.models.crm import CONDITION_OPS, MAX_IMAGE_BYTES, normalize_handle

T0 = datetime(2026, 8, 3, 9, 0, tzinfo=UTC)
MIB = 1024 * 1024
YAMADA = SocialProfile(network="twitter", id="u-1", handle="@Yamada", display_name="山田 太郎")
SATO = SocialProfile(network="facebook", id="fan-1", display_name="佐藤 花子")
SOCIAL_ADMIN = Actor(id="admin-1", name="Aiko", roles=["social_admin"])


def interaction(
    trigger: str = "mention",
    text: str = "",
    *,
    network: str = "twitter",
    n: int = 1,
    account: str = "brand_jp",
    profile: SocialProfile | None = None,
    at: datetime = T0,
    **changes: Any,
) -> SocialInteraction:
    if profile is None:
        profile = YAMADA if network == "twitter" else SATO
    fields: dict[str, Any] = {
        "reference": ExternalReference(network, account, "item", f"i-{n}"),
        "trigger": trigger,
        "profile": profile,
        "text": text,
        "at": at,
    }
    return SocialInteraction(**(fields | changes))


def lead(owner: str = "sales-1") -> CrmAction:
    return CrmAction(add_as="lead", owner=OwnerRule(user_id=owner))


def contact(owner: str = "sales-1") -> CrmAction:
    return CrmAction(add_as="contact", owner=OwnerRule(user_id=owner))


def cond(field: str, op: str, value: object) -> CrmCondition:
    return CrmCondition(field=field, op=op, value=value)


def branch(*conditions: CrmCondition, action: CrmAction | None = None, name: str = "") -> CrmBranch:
    return CrmBranch(name=name, conditions=conditions, action=action or lead())


def rule(
    *branches: CrmBranch,
    id: str = "r1",
    network: str = "twitter",
    triggers: tuple[str, ...] = ("mention",),
    enabled: bool = True,
) -> CrmRule:
    return CrmRule(id=id, network=network, triggers=triggers, branches=branches, enabled=enabled)


def on(*rules: CrmRule) -> CrmSettings:
    return CrmSettings(enabled=True, rules=rules)


def decide(
    item: SocialInteraction, settings: CrmSettings, linked: CrmRecord | None = None
) -> CrmDecision:
    decision = decide_crm_action(item, settings, linked=linked)
    assert decision.reason
    assert decision.explanation
    assert decision == decide_crm_action(
        item, settings, linked=linked, matcher=compile_crm_matcher(settings)
    )
    return decision


def holds(condition: CrmCondition, item: SocialInteraction) -> bool:
    """Whether one condition holds: a rule with that single branch adds the person."""
    triggers = tuple(sorted(t.value for t in CRM_TRIGGERS[item.network]))
    settings = on(rule(branch(condition), network=item.network, triggers=triggers))
    return decide(item, settings).adds


# -- R1: triggers per network ---------------------------------------------------------------------


def test_R1_twitter_and_facebook_offer_their_own_triggers() -> None:
    """R1: Twitter's triggers are mention, message, reply, retweet; Facebook's post, comment,
    like, message."""
    assert {t.value for t in CRM_TRIGGERS["twitter"]} == {"mention", "message", "reply", "retweet"}
    assert {t.value for t in CRM_TRIGGERS["facebook"]} == {"post", "comment", "like", "message"}
    assert set(CRM_TRIGGERS) == {"twitter", "facebook"}


@pytest.mark.parametrize(
    ("network", "foreign"),
    [("twitter", "like"), ("twitter", "comment"), ("facebook", "retweet"), ("facebook", "mention")],
)
def test_R1_a_rule_with_a_trigger_its_network_lacks_is_refused_naming_it(
    network: str, foreign: str
) -> None:
    """R1: a rule may only react to its network's triggers; the message names the stranger."""
    with pytest.raises(InvalidModelError, match=foreign) as caught:
        rule(branch(), network=network, triggers=("message", foreign))
    assert caught.value.field == "triggers"
    assert LEAD_SOURCES[network] in str(caught.value)


def test_R1_every_own_trigger_is_accepted_by_a_rule() -> None:
    """R1: each network's full trigger set makes a valid rule; strings or members alike."""
    for network, triggers in CRM_TRIGGERS.items():
        made = rule(branch(), network=network, triggers=tuple(t.value for t in triggers))
        assert made.triggers == triggers
    assert rule(branch(), triggers=[CrmTrigger.REPLY]).triggers == {CrmTrigger.REPLY}


def test_R1_a_rule_needs_a_crm_network_and_at_least_one_trigger() -> None:
    """R1: rules cover Twitter and Facebook only, and react to something."""
    with pytest.raises(InvalidModelError, match="facebook and twitter"):
        rule(branch(), network="instagram")
    for triggers in ((), "mention", 5, [[1]]):
        with pytest.raises(InvalidModelError, match="at least one trigger"):
            rule(branch(), triggers=triggers)  # type: ignore[arg-type]
    with pytest.raises(UnknownValueError):
        rule(branch(), triggers=("shout",))


TWITTER_ITEM_TRIGGERS = {
    SocialItemKind.MENTION: CrmTrigger.MENTION,
    SocialItemKind.DIRECT_MESSAGE: CrmTrigger.MESSAGE,
    SocialItemKind.REPLY: CrmTrigger.REPLY,
    SocialItemKind.RETWEET: CrmTrigger.RETWEET,
}
FACEBOOK_ITEM_TRIGGERS = {
    SocialItemKind.VISITOR_POST: CrmTrigger.POST,
    SocialItemKind.COMMENT: CrmTrigger.COMMENT,
    SocialItemKind.LIKE: CrmTrigger.LIKE,
    SocialItemKind.DIRECT_MESSAGE: CrmTrigger.MESSAGE,
}


def social_item(network: str, kind: SocialItemKind, **changes: Any) -> SocialItem:
    author = {"twitter": YAMADA, "facebook": SATO}.get(
        network, SocialProfile(network=network, id="x-1")
    )
    fields: dict[str, Any] = {
        "reference": ExternalReference(network, "brand_jp", "item", "n-1"),
        "kind": kind,
        "author": author,
        "text": "料金を教えてください",
        "created_at": T0,
    }
    if kind is SocialItemKind.DIRECT_MESSAGE:
        fields["conversation_id"] = "conv-1"
    return SocialItem(**(fields | changes))


@pytest.mark.parametrize("network", ["twitter", "facebook"])
@pytest.mark.parametrize("kind", list(SocialItemKind))
def test_R1_interaction_from_item_maps_every_item_kind_on_each_network(
    network: str, kind: SocialItemKind
) -> None:
    """R1: a social item is the interaction of its network's trigger, or none: a Facebook
    mention, a Twitter comment or like, a visitor post on Twitter, the brand's own post."""
    expected = {"twitter": TWITTER_ITEM_TRIGGERS, "facebook": FACEBOOK_ITEM_TRIGGERS}[network]
    item = social_item(network, kind)
    made = interaction_from_item(item, follower_count=42, brand_id="acme")
    if kind not in expected:
        assert made is None
        return
    assert made is not None
    assert made.trigger is expected[kind]
    assert made.reference == item.reference
    assert made.profile == item.author
    assert made.text == item.text
    assert made.at == item.created_at
    assert made.follower_count == 42
    assert made.brand_id == "acme"
    assert made.network == network
    assert made.channel_account == "brand_jp"
    assert made.is_private == (kind is SocialItemKind.DIRECT_MESSAGE)


@pytest.mark.parametrize("network", ["twitter", "facebook"])
def test_R1_the_brands_own_items_are_no_interaction(network: str) -> None:
    """R1: what the brand itself wrote adds nobody: a brand-flagged item of any trigger kind."""
    kinds = TWITTER_ITEM_TRIGGERS if network == "twitter" else FACEBOOK_ITEM_TRIGGERS
    for kind in kinds:
        assert interaction_from_item(social_item(network, kind, brand_own=True)) is None
    assert interaction_from_item(social_item(network, SocialItemKind.POST)) is None


def test_R1_items_of_other_networks_are_no_interaction() -> None:
    """R1: CRM automation covers Twitter and Facebook only."""
    assert interaction_from_item(social_item("instagram", SocialItemKind.MENTION)) is None


def test_R1_a_social_interaction_refuses_a_trigger_its_network_lacks() -> None:
    """R1: a Twitter like or a Facebook retweet is no interaction; the message names the
    network's triggers."""
    with pytest.raises(InvalidModelError, match="like is not a Twitter trigger") as caught:
        interaction("like")
    assert caught.value.field == "trigger"
    assert "mention, message, reply, retweet" in str(caught.value)
    with pytest.raises(InvalidModelError, match="retweet is not a Facebook trigger"):
        interaction("retweet", network="facebook")


def test_R1_a_social_interaction_refuses_a_profile_from_another_network() -> None:
    """R1: the person must be on the interaction's network."""
    with pytest.raises(InvalidModelError, match="profile is on facebook") as caught:
        interaction("mention", profile=SATO)
    assert caught.value.field == "profile"


def test_R1_a_social_interaction_refuses_networks_crm_does_not_cover() -> None:
    """R1: an interaction on another network is refused."""
    insta = SocialProfile(network="instagram", id="i-1")
    with pytest.raises(InvalidModelError, match="facebook and twitter"):
        SocialInteraction(
            reference=ExternalReference("instagram", "brand", "post", "1"),
            trigger="post",
            profile=insta,
            at=T0,
        )


def test_R1_a_social_interaction_validates_its_fields() -> None:
    """R1, T1: bad follower counts, naive times and unknown triggers are refused."""
    for count in (-1, True, 1.5, "10", 2**80):
        with pytest.raises(InvalidModelError, match="follower count"):
            interaction(follower_count=count)
    with pytest.raises(NaiveDatetimeError):
        interaction(at=datetime(2026, 8, 3, 9, 0))
    with pytest.raises(UnknownValueError):
        interaction("shout")
    assert interaction(follower_count=0).follower_count == 0
    assert interaction().follower_count is None
    with pytest.raises(InvalidModelError):
        interaction_from_item(social_item("twitter", SocialItemKind.MENTION), follower_count=-5)


def test_R1_a_rule_watches_only_its_network_and_triggers_while_enabled() -> None:
    """R1: a rule reacts to its own triggers on its own network."""
    made = rule(branch(), triggers=("mention", "reply"))
    assert made.watches(interaction("mention"))
    assert made.watches(interaction("reply"))
    assert not made.watches(interaction("message"))
    assert not made.watches(interaction("message", network="facebook"))
    assert not rule(branch(), enabled=False).watches(interaction("mention"))


def test_R1_no_rule_reacting_to_the_trigger_adds_nobody() -> None:
    """R1: an interaction no enabled rule watches: ``no_rule``."""
    settings = on(
        rule(branch(), triggers=("reply",)),
        rule(branch(), id="fb", network="facebook", triggers=("like",)),
    )
    decision = decide(interaction("mention"), settings)
    assert decision.action is CrmDecisionKind.NOTHING
    assert decision.reason == "no_rule"
    assert "mention on twitter" in decision.explanation
    assert decide(interaction("mention"), on()).reason == "no_rule"


# -- R2: branches, conditions, owners -------------------------------------------------------------


def test_R2_first_matching_branch_wins() -> None:
    """R2: branches are tried in order; the first whose conditions all hold applies."""
    settings = on(
        rule(
            branch(cond("follower_count", "at_least", 10_000), action=contact("vip"), name="big"),
            branch(cond("text", "contains_any", ["料金"]), action=lead("pricing")),
            branch(action=lead("everyone")),
        )
    )
    big = decide(interaction(text="料金は?", follower_count=20_000), settings)
    assert (big.action, big.branch, big.draft and big.draft.owner_id) == (
        CrmDecisionKind.ADD_CONTACT,
        1,
        "vip",
    )
    pricing = decide(interaction(text="料金は?", follower_count=5), settings)
    assert (pricing.action, pricing.branch) == (CrmDecisionKind.ADD_LEAD, 2)
    assert pricing.draft is not None
    assert pricing.draft.owner_id == "pricing"
    rest = decide(interaction(text="hello", follower_count=5), settings)
    assert (rest.branch, rest.draft and rest.draft.owner_id) == (3, "everyone")
    assert rest.reason == "branch_matched"
    assert rest.rule_id == "r1"


def test_R2_a_branch_applies_only_when_all_its_conditions_hold() -> None:
    """R2: conditions of a branch are all required (and), not any."""
    settings = on(
        rule(
            branch(
                cond("text", "contains_any", ["料金"]),
                cond("follower_count", "at_least", 100),
            )
        )
    )
    assert decide(interaction(text="料金", follower_count=100), settings).adds
    assert not decide(interaction(text="料金", follower_count=99), settings).adds
    assert not decide(interaction(text="hi", follower_count=500), settings).adds


def test_R2_the_first_rule_that_watches_and_has_a_holding_branch_decides() -> None:
    """R2: rules are tried in order; a rule that watches but has no holding branch passes
    the interaction on to the next; rules that do not watch are skipped."""
    settings = on(
        rule(branch(action=contact("fb")), id="facebook", network="facebook", triggers=("post",)),
        rule(branch(cond("text", "contains_any", ["refund"])), id="refunds"),
        rule(branch(action=contact("second")), id="second", triggers=("mention", "reply")),
        rule(branch(action=lead("third")), id="third"),
    )
    decision = decide(interaction(text="need a refund"), settings)
    assert (decision.rule_id, decision.branch) == ("refunds", 1)
    decision = decide(interaction(text="hello"), settings)
    assert (decision.rule_id, decision.action) == ("second", CrmDecisionKind.ADD_CONTACT)
    assert decision.draft is not None
    assert decision.draft.owner_id == "second"


def test_R2_a_disabled_rule_is_ignored() -> None:
    """R2: a disabled rule is kept but applies to nothing."""
    settings = on(
        rule(branch(action=contact("off")), id="off", enabled=False),
        rule(branch(action=lead("live")), id="live"),
    )
    assert decide(interaction(), settings).rule_id == "live"
    only_off = on(rule(branch(), id="off", enabled=False))
    assert decide(interaction(), only_off).reason == "no_rule"


def test_R2_a_branch_without_conditions_always_holds() -> None:
    """R2: a branch with no conditions applies to every watched interaction."""
    settings = on(rule(branch(), triggers=("mention", "message", "reply", "retweet")))
    for trigger in ("mention", "message", "reply", "retweet"):
        assert decide(interaction(trigger), settings).action is CrmDecisionKind.ADD_LEAD


def test_R2_an_action_adding_nobody_keeps_people_out() -> None:
    """R2: a branch whose action adds nobody stops the search: ``branch_adds_nobody``."""
    settings = on(
        rule(
            branch(cond("handle", "in", ["spam_bot"]), action=CrmAction(), name="bots"),
            branch(),
        ),
        rule(branch(action=contact()), id="later"),
    )
    bot = SocialProfile(network="twitter", id="b-1", handle="@Spam_Bot")
    decision = decide(interaction(profile=bot), settings)
    assert decision.action is CrmDecisionKind.NOTHING
    assert decision.reason == "branch_adds_nobody"
    assert (decision.rule_id, decision.branch) == ("r1", 1)
    assert decision.draft is None
    assert not decision.adds
    assert "rule r1, branch 1 (bots)" in decision.explanation
    assert decide(interaction(), settings).action is CrmDecisionKind.ADD_LEAD


def test_R2_network_and_trigger_conditions() -> None:
    """R2: network in/not_in and trigger in/not_in."""
    assert holds(cond("network", "in", ["twitter"]), interaction())
    assert holds(cond("network", "not_in", ["facebook"]), interaction())
    assert holds(
        cond("network", "in", ["facebook", "twitter"]), interaction("like", network="facebook")
    )
    assert holds(cond("trigger", "in", ["reply"]), interaction("reply"))
    assert not holds(cond("trigger", "in", ["reply"]), interaction("mention"))
    assert holds(cond("trigger", "not_in", ["reply"]), interaction("mention"))
    assert not holds(cond("trigger", "not_in", ["reply"]), interaction("reply"))
    assert holds(cond("trigger", "in", ["message"]), interaction("message", network="facebook"))


def test_R2_W2_text_contains_finds_japanese_keywords_inside_a_sentence() -> None:
    """R2, W2: a Japanese keyword matches anywhere in the text; NFKC folds half-width kana."""
    any_price = cond("text", "contains_any", ["料金", "ヘンピン"])
    assert holds(any_price, interaction(text="プランの料金を教えてください"))
    assert holds(any_price, interaction(text="ﾍﾝﾋﾟﾝしたい"))
    assert not holds(any_price, interaction(text="ありがとうございます"))
    assert not holds(any_price, interaction(text=""))
    none_price = cond("text", "contains_none", ["料金"])
    assert not holds(none_price, interaction(text="プランの料金を教えてください"))
    assert holds(none_price, interaction(text="ありがとう"))
    assert holds(none_price, interaction(text=""))


def test_R2_W2_text_contains_matches_english_whole_words_without_case() -> None:
    """R2, W1, W2: English keywords match whole words, after case folding and NFKC."""
    price = cond("text", "contains_any", ["Price"])
    assert holds(price, interaction(text="what is the price?"))
    assert holds(price, interaction(text="ＰＲＩＣＥ list"))
    assert holds(price, interaction(text="PRICE"))
    assert not holds(price, interaction(text="prices went up"))
    assert not holds(price, interaction(text="overpriced"))
    assert holds(cond("text", "contains_none", ["price"]), interaction(text="priceless"))


@pytest.mark.parametrize(
    ("op", "limit", "count", "expected"),
    [
        ("at_least", 1000, 1000, True),
        ("at_least", 1000, 999, False),
        ("at_least", 1000, 1001, True),
        ("at_least", 0, 0, True),
        ("at_most", 1000, 1000, True),
        ("at_most", 1000, 1001, False),
        ("at_most", 1000, 0, True),
        ("at_most", 0, 0, True),
        ("at_least", 0, None, False),
        ("at_most", 10**9, None, False),
    ],
)
def test_R2_follower_count_bounds_are_inclusive_and_an_unknown_count_never_holds(
    op: str, limit: int, count: int | None, expected: bool
) -> None:
    """R2: at_least / at_most include the boundary; an unknown (None) count never holds."""
    assert holds(cond("follower_count", op, limit), interaction(follower_count=count)) is expected


def test_R2_brand_conditions_and_an_unknown_brand() -> None:
    """R2: brand in/not_in; an interaction with no brand is in no brand list (so a not_in
    condition holds for it, an in condition does not)."""
    assert holds(cond("brand", "in", ["acme", "kumo"]), interaction(brand_id="kumo"))
    assert not holds(cond("brand", "in", ["acme"]), interaction(brand_id="kumo"))
    assert not holds(cond("brand", "in", ["acme"]), interaction(brand_id=None))
    assert holds(cond("brand", "not_in", ["acme"]), interaction(brand_id="kumo"))
    assert not holds(cond("brand", "not_in", ["acme"]), interaction(brand_id="acme"))
    assert holds(cond("brand", "not_in", ["acme"]), interaction(brand_id=None))


def test_R2_channel_account_conditions() -> None:
    """R2: the brand's channel account the interaction came through."""
    assert holds(cond("channel_account", "in", ["brand_jp"]), interaction(account="brand_jp"))
    assert not holds(cond("channel_account", "in", ["brand_jp"]), interaction(account="brand_en"))
    assert holds(cond("channel_account", "not_in", ["brand_jp"]), interaction(account="brand_en"))
    assert not holds(
        cond("channel_account", "not_in", ["brand_jp"]), interaction(account="brand_jp")
    )


def test_R2_handles_compare_without_at_sign_case_or_surrounding_space() -> None:
    """R2: '@Yamada', '＠Ｙａｍａｄａ' and 'yamada' are one handle; a profile without a
    handle is in no list."""
    assert normalize_handle(" @Yamada ") == "yamada"
    assert holds(cond("handle", "in", ["yamada"]), interaction())  # profile handle '@Yamada'
    assert holds(cond("handle", "in", ["@YAMADA"]), interaction())
    # Typed with a Japanese input method: full-width at sign, letters and space (NFKC).
    assert normalize_handle("\u3000＠Ｙａｍａｄａ") == "yamada"
    assert holds(cond("handle", "in", ["＠Ｙａｍａｄａ"]), interaction())
    assert holds(cond("handle", "not_in", ["＠ｓａｔｏ"]), interaction())
    lower = SocialProfile(network="twitter", id="u-2", handle="yamada")
    assert holds(cond("handle", "in", ["@Yamada"]), interaction(profile=lower))
    assert not holds(cond("handle", "not_in", ["@Yamada"]), interaction(profile=lower))
    assert not holds(cond("handle", "in", ["yamada2"]), interaction())
    bare = SocialProfile(network="twitter", id="u-3")
    assert not holds(cond("handle", "in", ["yamada"]), interaction(profile=bare))
    assert holds(cond("handle", "not_in", ["yamada"]), interaction(profile=bare))


def test_R2_owner_rule_picks_one_user() -> None:
    """R2: an owner rule with user_id always gives that user."""
    owner = OwnerRule(user_id="sales-1")
    assert owner.owner_for(YAMADA) == "sales-1"
    assert owner.owner_for(SATO) == "sales-1"
    assert owner.describe() == "owner sales-1"


def test_R2_spread_among_is_stable_for_the_same_profile() -> None:
    """R2: the same person always gets the same owner (a digest, not a rotating counter)."""
    owner = OwnerRule(spread_among=["a", "b", "c"])
    first = owner.owner_for(YAMADA)
    assert all(owner.owner_for(YAMADA) == first for _ in range(20))
    same_person = SocialProfile(network="twitter", id="u-1", handle="@renamed")
    assert owner.owner_for(same_person) == first
    assert OwnerRule(spread_among=["a", "b", "c"]).owner_for(YAMADA) == first
    settings = on(rule(branch(action=CrmAction(add_as="lead", owner=owner))))
    owners = {decide(interaction(n=n), settings).draft.owner_id for n in range(10)}  # type: ignore[union-attr]
    assert owners == {first}
    assert owner.describe() == "owner spread among a, b, c"


def test_R2_spread_among_is_roughly_balanced_over_many_profiles() -> None:
    """R2: over many people, each of three owners gets about a third (25-42 %)."""
    owner = OwnerRule(spread_among=["a", "b", "c"])
    shares = Counter(
        owner.owner_for(SocialProfile(network=network, id=f"p-{n}"))
        for network in ("twitter", "facebook")
        for n in range(3000)
    )
    assert set(shares) == {"a", "b", "c"}
    for share in shares.values():
        assert 0.25 <= share / 6000 <= 0.42
    assert OwnerRule(spread_among=["solo"]).owner_for(SATO) == "solo"


def test_R2_an_owner_rule_takes_one_user_or_a_spread_not_both_nor_neither() -> None:
    """R2: give either user_id or spread_among; no repeats, no non-ids."""
    with pytest.raises(InvalidModelError, match="either one owner"):
        OwnerRule()
    with pytest.raises(InvalidModelError, match="either one owner"):
        OwnerRule(user_id="a", spread_among=["b"])
    with pytest.raises(InvalidModelError, match="listed twice"):
        OwnerRule(spread_among=["a", "b", "a"])
    with pytest.raises(InvalidModelError, match="more than 1000"):
        OwnerRule(spread_among=[f"u{n}" for n in range(1001)])
    for bad in ("abc", 5, [[1]], [""]):
        with pytest.raises(InvalidModelError):
            OwnerRule(spread_among=bad)  # type: ignore[arg-type]


def test_R2_an_action_that_adds_needs_an_owner_and_one_that_adds_nobody_takes_none() -> None:
    """R2: add as lead/contact requires an owner rule; 'add nobody' refuses one."""
    with pytest.raises(InvalidModelError, match="needs an owner rule") as caught:
        CrmAction(add_as="lead")
    assert caught.value.field == "owner"
    with pytest.raises(InvalidModelError, match="takes no owner"):
        CrmAction(owner=OwnerRule(user_id="a"))
    with pytest.raises(UnknownValueError):
        CrmAction(add_as="customer", owner=OwnerRule(user_id="a"))
    assert CrmAction().describe() == "add nobody"
    assert lead("a").describe() == "add as lead, owner a"
    assert contact("b").add_as is CrmRecordKind.CONTACT


def test_R2_each_field_takes_only_its_operators() -> None:
    """R2: the operator table; a wrong pairing is refused naming the allowed ones."""
    assert CONDITION_OPS[ConditionField.TEXT] == {
        ConditionOp.CONTAINS_ANY,
        ConditionOp.CONTAINS_NONE,
    }
    assert CONDITION_OPS[ConditionField.FOLLOWER_COUNT] == {
        ConditionOp.AT_LEAST,
        ConditionOp.AT_MOST,
    }
    assert set(CONDITION_OPS) == set(ConditionField)
    with pytest.raises(InvalidModelError, match="contains_any or contains_none") as caught:
        cond("text", "in", ["料金"])
    assert caught.value.field == "op"
    with pytest.raises(InvalidModelError, match="at_least or at_most"):
        cond("follower_count", "in", ["10"])
    with pytest.raises(InvalidModelError, match="does not take"):
        cond("brand", "at_least", 5)


def test_R2_condition_values_are_checked() -> None:
    """R2: numbers for at_least/at_most, non-empty lists of non-blank strings otherwise,
    known triggers and networks."""
    for bad in (-1, True, 1.5, "10", None, 2**80):
        with pytest.raises(InvalidModelError, match="whole number"):
            cond("follower_count", "at_least", bad)
    for bad in ((), "twitter", None, 5):
        with pytest.raises(InvalidModelError, match="non-empty list"):
            cond("brand", "in", bad)
    with pytest.raises(InvalidModelError, match="expected strings"):
        cond("brand", "in", ["acme", 5])
    with pytest.raises(InvalidModelError, match="keyword must not be blank"):
        cond("text", "contains_any", ["料金", "  "])
    for blank in (" ", "@", " @ "):
        with pytest.raises(InvalidModelError, match="handle must not be blank"):
            cond("handle", "in", ["yamada", blank])
    for not_an_id in ("", " acme", "ac\nme"):
        with pytest.raises(InvalidModelError):
            cond("brand", "in", [not_an_id])
        with pytest.raises(InvalidModelError):
            cond("channel_account", "not_in", [not_an_id])
    with pytest.raises(InvalidModelError, match="unknown trigger 'shout'"):
        cond("trigger", "in", ["shout"])
    with pytest.raises(InvalidModelError, match="facebook and twitter"):
        cond("network", "in", ["instagram"])
    with pytest.raises(InvalidModelError, match="more than 10000 values"):
        cond("brand", "in", [f"b{n}" for n in range(10_001)])
    with pytest.raises(InvalidModelError):
        cond("text", "contains_any", ["x" * 1001])
    with pytest.raises(InvalidModelError):
        cond("text", "contains_any", ["\ud800"])
    with pytest.raises(UnknownValueError):
        cond("colour", "in", ["red"])
    with pytest.raises(UnknownValueError):
        cond("brand", {}, ["acme"])
    made = cond("brand", "in", ["acme", "kumo"])
    assert made.value == ("acme", "kumo")
    assert made.values == ("acme", "kumo")
    assert cond("follower_count", "at_most", 7).values == ()


def test_R2_conditions_describe_themselves() -> None:
    """R2: a condition in words, for explanations; long lists are shortened."""
    assert cond("follower_count", "at_least", 10).describe() == "follower_count at least 10"
    assert cond("text", "contains_any", ["料金"]).describe() == "text contains any ['料金']"
    many = cond("brand", "not_in", [f"b{n}" for n in range(7)])
    assert many.describe() == "brand not in ['b0', 'b1', 'b2', 'b3', 'b4' and 2 more]"


def test_R2_unreachable_trigger_conditions_are_refused() -> None:
    """R2: a trigger condition naming a trigger the rule does not watch, or a not_in
    excluding every watched trigger, can never hold: refused naming rule and branch."""
    with pytest.raises(InvalidModelError, match=r"rule r1, branch 2: .*reply") as caught:
        rule(branch(), branch(cond("trigger", "in", ["reply"])), triggers=("mention",))
    assert "its triggers: mention" in str(caught.value)
    with pytest.raises(InvalidModelError, match="never hold"):
        rule(branch(cond("trigger", "not_in", ["mention", "reply"])), triggers=("mention", "reply"))
    with pytest.raises(InvalidModelError, match="like"):
        rule(branch(cond("trigger", "not_in", ["like"])), triggers=("mention",))
    fine = rule(branch(cond("trigger", "not_in", ["reply"])), triggers=("mention", "reply"))
    assert fine.branches[0].conditions[0].op is ConditionOp.NOT_IN


def test_R2_unreachable_network_conditions_are_refused() -> None:
    """R2: a network condition that cannot hold in the rule's network is refused."""
    with pytest.raises(InvalidModelError, match="network condition can never hold in a twitter"):
        rule(branch(cond("network", "in", ["facebook"])))
    with pytest.raises(InvalidModelError, match="never hold in a facebook"):
        rule(
            branch(cond("network", "not_in", ["facebook"])),
            network="facebook",
            triggers=("like",),
        )


def test_R2_rules_and_branches_are_checked() -> None:
    """R2: a rule needs a branch (at most 100), a branch at most 100 conditions, rule ids
    are unique in the settings."""
    with pytest.raises(InvalidModelError, match="give a branch"):
        rule()
    with pytest.raises(InvalidModelError, match="more than 100 branches"):
        rule(*[branch() for _ in range(101)])
    with pytest.raises(InvalidModelError, match="more than 100 conditions"):
        branch(*[cond("brand", "in", ["a"]) for _ in range(101)])
    with pytest.raises(InvalidModelError):
        CrmBranch(action=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidModelError, match="rule id 'r1' twice"):
        on(rule(branch()), rule(branch()))
    with pytest.raises(InvalidModelError, match="more than 1000 rules"):
        on(*[rule(branch(), id=f"r{n}") for n in range(1001)])
    with pytest.raises(InvalidModelError):
        CrmSettings(enabled=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidModelError):
        CrmSettings(rules=[5])  # type: ignore[list-item]
    assert CrmSettings() == CrmSettings(enabled=False, rules=())


def test_R2_explanations_name_the_rule_branch_and_failing_condition() -> None:
    """R2, H4: a decision says which rule and branch applied, or which condition failed."""
    settings = on(
        rule(
            branch(cond("follower_count", "at_least", 1000), name="big accounts"),
            branch(cond("text", "contains_any", ["料金"]), name="料金の問い合わせ"),
            id="pricing",
        )
    )
    hit = decide(interaction(text="料金は?", follower_count=3), settings)
    assert "rule pricing, branch 2 (料金の問い合わせ) applies" in hit.explanation
    assert "lead source Twitter" in hit.explanation
    assert "owner sales-1" in hit.explanation
    assert "山田 太郎 (@Yamada) on twitter: mention i-1" in hit.explanation
    miss = decide(interaction(text="hello"), settings)
    assert miss.reason == "no_branch"
    assert miss.action is CrmDecisionKind.NOTHING
    assert (miss.rule_id, miss.branch, miss.draft) == (None, None, None)
    assert (
        "rule pricing, branch 1 (big accounts): follower_count at least 1000 does not hold "
        "(the follower count is unknown)"
    ) in miss.explanation
    assert (
        "rule pricing, branch 2 (料金の問い合わせ): text contains any ['料金'] does not hold"
        in (miss.explanation)
    )
    assert "no keyword is in the text" in miss.explanation
    low = decide(interaction(text="hello", follower_count=3), settings)
    assert "(3 followers)" in low.explanation
    nameless = on(rule(branch(cond("handle", "in", ["sato"])), id="h"))
    assert "rule h, branch 1: handle in ['sato'] does not hold (handle 'yamada')" in (
        decide(interaction(), nameless).explanation
    )
    brand = on(rule(branch(cond("brand", "in", ["acme"])), id="b"))
    assert "(brand None)" in decide(interaction(), brand).explanation


def test_R2_explanations_show_three_failures_and_count_the_rest() -> None:
    """R2: a long list of failed branches is shortened."""
    settings = on(rule(*[branch(cond("brand", "in", [f"b{n}"])) for n in range(5)]))
    explanation = decide(interaction(), settings).explanation
    assert "branch 3" in explanation
    assert "branch 4" not in explanation
    assert "and 2 more" in explanation


def test_R2_explanations_show_the_handle_only_when_it_differs_from_the_name() -> None:
    """R2, H4: the person is named once."""
    handle_only = SocialProfile(network="twitter", id="u-9", handle="@kenji")
    decision = decide(interaction(profile=handle_only), on(rule(branch())))
    assert decision.explanation.startswith("@kenji on twitter: mention i-1")


def test_R2_a_text_keyword_shared_by_several_conditions_is_compiled_once() -> None:
    """R2, W4: one matcher serves every text condition, identical ones included."""
    price = cond("text", "contains_any", ["料金"])
    settings = on(
        rule(branch(price, cond("brand", "in", ["acme"])), branch(price, action=contact())),
        rule(branch(cond("text", "contains_none", ["料金"])), id="r2"),
    )
    matcher = compile_crm_matcher(settings)
    assert matcher.key(price) == "c0"
    assert matcher.matched("料金です") == {"c0", "c1"}
    decision = decide_crm_action(
        interaction(text="料金です"), settings, linked=None, matcher=matcher
    )
    assert (decision.branch, decision.action) == (2, CrmDecisionKind.ADD_CONTACT)


def test_R2_a_matcher_compiled_from_other_settings_is_refused() -> None:
    """R2, W4: decisions use the matcher of the settings they are given."""
    settings = on(rule(branch(cond("text", "contains_any", ["料金"]))))
    other = on(rule(branch(cond("text", "contains_any", ["refund"]))))
    with pytest.raises(InvalidModelError, match="other settings"):
        decide_crm_action(
            interaction(text="料金"), settings, linked=None, matcher=compile_crm_matcher(other)
        )
    equal = CrmSettings(enabled=True, rules=list(settings.rules))
    matcher = compile_crm_matcher(equal)
    for _ in range(2):  # the second time from the remembered equal object
        decision = decide_crm_action(
            interaction(text="料金"), settings, linked=None, matcher=matcher
        )
        assert decision.adds
    assert matcher.compiled_from(equal)
    assert matcher.compiled_from(settings)
    assert not matcher.compiled_from(other)


# -- R3: lead source ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network", "trigger", "source"),
    [("twitter", "mention", "Twitter"), ("facebook", "comment", "Facebook")],
)
def test_R3_an_added_record_has_the_networks_name_as_lead_source(
    network: str, trigger: str, source: str
) -> None:
    """R3: lead source is 'Twitter' or 'Facebook'; the draft is named after the profile."""
    settings = on(
        rule(branch(action=lead("s-1")), id="tw", triggers=("mention",)),
        rule(branch(action=contact("s-2")), id="fb", network="facebook", triggers=("comment",)),
    )
    item = interaction(trigger, network=network)
    decision = decide(item, settings)
    assert decision.draft is not None
    assert decision.draft.lead_source == source
    assert decision.draft.profile == item.profile
    assert decision.draft.name == item.profile.name
    assert f"lead source {source}" in decision.explanation
    assert lead_source(network) == source
    assert LEAD_SOURCES[network] == source


def test_R3_lead_source_refuses_other_networks() -> None:
    """R3: only Twitter and Facebook have a social lead source."""
    for network in ("instagram", "Twitter", "", None, ["twitter"], 5):
        with pytest.raises(InvalidModelError, match="facebook and twitter"):
            lead_source(network)  # type: ignore[arg-type]


def test_R3_a_new_record_checks_its_fields() -> None:
    """R3: a draft record's kind, profile and labels are validated."""
    made = NewCrmRecord(kind="lead", profile=YAMADA, name="山田", lead_source="Twitter")
    assert made.kind is CrmRecordKind.LEAD
    assert made.owner_id is None
    with pytest.raises(UnknownValueError):
        NewCrmRecord(kind="customer", profile=YAMADA, name="x")
    with pytest.raises(InvalidModelError):
        NewCrmRecord(kind="lead", profile=YAMADA, name=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidModelError):
        NewCrmRecord(kind="lead", profile=YAMADA, name="x", lead_source=5)  # type: ignore[arg-type]


# -- R4: already linked ---------------------------------------------------------------------------

LINKED = CrmRecord(id="lead-9", kind="lead", name="山田 太郎", profiles=[YAMADA])


def test_R4_a_linked_person_is_linked_not_added_again() -> None:
    """R4: with a linked record, the interaction links to it, even if a rule would add."""
    settings = on(
        rule(branch(action=contact()), triggers=("mention", "message", "reply", "retweet"))
    )
    for trigger in ("mention", "message", "reply", "retweet"):
        decision = decide(interaction(trigger), settings, linked=LINKED)
        assert decision.action is CrmDecisionKind.LINK_EXISTING
        assert decision.reason == "already_linked"
        assert decision.record is LINKED
        assert decision.draft is None
        assert not decision.adds
        assert "lead lead-9 (山田 太郎)" in decision.explanation
        assert (decision.rule_id, decision.branch) == (None, None)


def test_R4_a_linked_person_is_linked_even_when_no_rule_watches() -> None:
    """R4: the rules are not asked when the person is already in the CRM."""
    assert decide(interaction(), on(), linked=LINKED).action is CrmDecisionKind.LINK_EXISTING
    nobody = on(rule(branch(action=CrmAction())))
    assert decide(interaction(), nobody, linked=LINKED).reason == "already_linked"


def test_R4_a_disabled_integration_links_nobody() -> None:
    """R4, R9: while the integration is off, nothing happens, even for linked people."""
    off = CrmSettings(enabled=False, rules=[rule(branch())])
    for linked in (None, LINKED):
        decision = decide(interaction(), off, linked=linked)
        assert decision.action is CrmDecisionKind.NOTHING
        assert decision.reason == "integration_disabled"
        assert decision.record is None
        assert "off" in decision.explanation


def test_R4_records_keep_each_profile_once() -> None:
    """R4, R5: a record lists its linked profiles, each once."""
    assert LINKED.has_profile(SocialProfile(network="twitter", id="u-1"))
    assert not LINKED.has_profile(SocialProfile(network="facebook", id="u-1"))
    with pytest.raises(InvalidModelError, match="linked twice"):
        CrmRecord(
            id="c", kind="contact", profiles=[YAMADA, YAMADA.__class__(network="twitter", id="u-1")]
        )
    with pytest.raises(InvalidModelError):
        CrmRecord(id="c", kind="contact", profiles=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidModelError):
        CrmRecord(id="", kind="contact")


# -- R5: social list and profile search -----------------------------------------------------------


def test_R5_social_list_splits_conversations_and_messages_newest_first() -> None:
    """R5: public interactions are conversations, private messages are messages."""
    old = interaction("mention", n=1, at=T0)
    new = interaction("reply", n=2, at=T0 + timedelta(hours=1))
    dm = interaction("message", n=3, at=T0 + timedelta(minutes=5))
    fb_like = interaction("like", network="facebook", n=4, at=T0 + timedelta(hours=2))
    fb_dm = interaction("message", network="facebook", n=5, at=T0 + timedelta(hours=3))
    listed = social_list([old, dm, new, fb_like, fb_dm])
    assert listed.conversations == (fb_like, new, old)
    assert listed.messages == (fb_dm, dm)


def test_R5_social_list_filters_by_network_and_brand() -> None:
    """R5: keep only the given network's and brand's interactions."""
    tw_acme = interaction("mention", n=1, brand_id="acme")
    tw_kumo = interaction("message", n=2, brand_id="kumo", at=T0 + timedelta(1))
    fb_acme = interaction("post", network="facebook", n=3, brand_id="acme")
    fb_none = interaction("message", network="facebook", n=4)
    every = [tw_acme, tw_kumo, fb_acme, fb_none]
    assert social_list(every, network="twitter").conversations == (tw_acme,)
    assert social_list(every, network="twitter").messages == (tw_kumo,)
    assert social_list(every, network="facebook").messages == (fb_none,)
    by_brand = social_list(every, brand_id="acme")
    assert set(by_brand.conversations) == {tw_acme, fb_acme}
    assert by_brand.messages == ()
    both = social_list(every, network="facebook", brand_id="acme")
    assert (both.conversations, both.messages) == ((fb_acme,), ())
    assert social_list([]) == social_list(iter([]))


def test_R5_social_list_shows_an_interaction_once_and_keeps_ties_stable() -> None:
    """R5: an interaction given twice (by reference) shows once; equal times keep the order
    given, the later given first."""
    a = interaction("mention", n=1)
    b = interaction("reply", n=2)
    c = interaction("retweet", n=3)
    listed = social_list([a, b, a, c, b])
    assert listed.conversations == (c, b, a)
    assert social_list([c, a, b]).conversations == (b, a, c)
    edited = interaction("mention", n=1, text="changed")
    assert social_list([a, edited]).conversations == (a,)


def test_R5_social_list_refuses_what_is_not_interactions() -> None:
    """R5: hostile input is refused with InvalidModelError."""
    for bad in (None, 5, "mention", b"x"):
        with pytest.raises(InvalidModelError, match="expected interactions"):
            social_list(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidModelError, match="expected SocialInteraction"):
        social_list([interaction(), YAMADA])  # type: ignore[list-item]
    for name in ("network", "brand_id"):
        with pytest.raises(InvalidModelError, match="string or None") as caught:
            social_list([interaction()], **{name: 5})  # type: ignore[arg-type]
        assert caught.value.field == name


PROFILES = (
    SocialProfile(network="twitter", id="u-1", handle="@Yamada", display_name="山田 太郎"),
    SocialProfile(network="twitter", id="u-2", handle="@yamada_taro", display_name="Taro"),
    SocialProfile(network="twitter", id="u-3", handle="@taro", display_name="Yamada Taro"),
    SocialProfile(network="twitter", id="u-4", handle="@kenji", display_name="Mr Yamada"),
    SocialProfile(network="facebook", id="yamada", display_name="Someone"),
    SocialProfile(network="facebook", id="fan-7", display_name="佐藤 花子"),
    SocialProfile(network="twitter", id="u-5", handle="@sato", display_name="Sato"),
)


def test_R5_search_profiles_ranks_exact_then_prefix_then_substring() -> None:
    """R5: an exact handle or id first, then handle/name prefixes, then the rest; by name
    within a rank."""
    found = search_profiles(PROFILES, "yamada")
    # exact id 'yamada' and exact handle '@Yamada' (by name: 'someone' < '山田 太郎'); handle
    # prefix 'yamada_taro' and name prefix 'Yamada Taro' (by name: 'taro' < 'yamada taro');
    # name substring 'Mr Yamada'
    assert [p.id for p in found] == ["yamada", "u-1", "u-2", "u-3", "u-4"]
    assert [p.id for p in search_profiles(PROFILES, "taro")] == ["u-3", "u-2"]
    assert [p.id for p in search_profiles(PROFILES, "an-")] == ["fan-7"]  # id substring
    assert [p.id for p in search_profiles(PROFILES, "fan-7")] == ["fan-7"]


def test_R5_search_profiles_ignores_case_width_and_at_sign() -> None:
    """R5, W1: NFKC and case folding; full-width letters; a leading '@' is ignored."""
    wide = search_profiles(PROFILES, "ＹＡＭＡＤＡ")
    assert wide == search_profiles(PROFILES, "yamada")
    assert wide == search_profiles(PROFILES, "  @YAMADA ")
    assert search_profiles(PROFILES, "@kenji") == (PROFILES[3],)


def test_R5_search_profiles_finds_japanese_names() -> None:
    """R5: display names in Japanese are found by any part."""
    assert search_profiles(PROFILES, "山田") == (PROFILES[0],)
    assert search_profiles(PROFILES, "花子") == (PROFILES[5],)
    assert search_profiles(PROFILES, "佐藤") == (PROFILES[5],)
    assert search_profiles(PROFILES, "鈴木") == ()


def test_R5_search_profiles_limits_and_dedupes() -> None:
    """R5: at most ``limit`` results, each (network, id) once."""
    assert len(search_profiles(PROFILES, "a", limit=2)) == 2
    assert search_profiles(PROFILES, "yamada", limit=1) == (PROFILES[4],)
    twice = search_profiles([PROFILES[0], PROFILES[0], PROFILES[0]], "yamada")
    assert twice == (PROFILES[0],)
    renamed = SocialProfile(network="twitter", id="u-1", handle="@other")
    assert search_profiles([PROFILES[0], renamed], "u-1") == (PROFILES[0],)
    same_id_other_network = SocialProfile(network="facebook", id="u-1")
    assert len(search_profiles([PROFILES[0], same_id_other_network], "u-1")) == 2


def test_R5_search_profiles_refuses_a_blank_query_and_bad_arguments() -> None:
    """R5: a blank query, a limit outside 1-1000, non-profiles are refused."""
    for query in ("", "   ", "\u3000", None, 5, "@", " @ ", "＠"):
        with pytest.raises(InvalidModelError, match="words to search"):
            search_profiles(PROFILES, query)  # type: ignore[arg-type]
    for limit in (0, 1001, True, 1.5, "3"):
        with pytest.raises(InvalidModelError, match="1 to 1000"):
            search_profiles(PROFILES, "a", limit=limit)  # type: ignore[arg-type]
    with pytest.raises(InvalidModelError, match="expected SocialProfile"):
        search_profiles([PROFILES[0], "u-1"], "a")  # type: ignore[list-item]
    for profiles in (None, 5, "u-1"):
        with pytest.raises(InvalidModelError, match="expected social profiles"):
            search_profiles(profiles, "a")  # type: ignore[arg-type]
    assert len(search_profiles(PROFILES, "a", limit=1000)) <= 1000


# -- R6: activity history -------------------------------------------------------------------------


def added(at: datetime, actor: str | None, record: str = "lead-1") -> CrmRecordAdded:
    return CrmRecordAdded(
        record_id=record,
        kind="lead",
        profile=YAMADA,
        lead_source="Twitter",
        actor_id=actor,
        at=at,
    )


def test_R6_activity_history_lists_only_the_users_own_actions_newest_first() -> None:
    """R6: a user's actions, newest first; other users' and automation's are left out."""
    events: list[object] = [
        added(T0, "agent-1", "lead-1"),
        CrmProfileLinked(
            record_id="contact-2", profile=SATO, actor_id="agent-1", at=T0 + timedelta(hours=2)
        ),
        added(T0 + timedelta(hours=1), None, "lead-auto"),  # automation
        added(T0 + timedelta(hours=3), "agent-2", "lead-other"),
        CrmInteractionLinked(
            record_id="lead-1",
            reference=ExternalReference("twitter", "brand_jp", "tweet", "t-5"),
            trigger="reply",
            actor_id="agent-1",
            at=T0 + timedelta(hours=1),
        ),
        CrmRecordAdded(
            record_id="contact-3",
            kind="contact",
            profile=SATO,
            actor_id="agent-1",
            at=T0 - timedelta(1),
        ),
    ]
    history = activity_history(events, "agent-1")
    assert [(e.action, e.record_id) for e in history] == [
        ("linked_profile", "contact-2"),
        ("linked_interaction", "lead-1"),
        ("added_lead", "lead-1"),
        ("added_contact", "contact-3"),
    ]
    assert all(e.actor_id == "agent-1" for e in history)
    assert history[0].summary == "linked 佐藤 花子 (facebook) to contact-2"
    assert history[1].summary == "linked the reply twitter/brand_jp/tweet/t-5 to lead-1"
    assert history[2].summary == "added 山田 太郎 (twitter) as the lead lead-1"
    assert history[2].at == T0
    assert [e.record_id for e in activity_history(events, "agent-2")] == ["lead-other"]
    assert activity_history(events, "nobody") == ()


def test_R6_activity_history_ignores_other_events_and_limits() -> None:
    """R6: the whole event log may be handed in; ``limit`` keeps the most recent."""
    events = [
        "ticket.created",
        None,
        {"actor_id": "agent-1"},
        *[added(T0 + timedelta(minutes=n), "agent-1", f"lead-{n}") for n in range(5)],
    ]
    assert [e.record_id for e in activity_history(events, "agent-1", limit=2)] == [
        "lead-4",
        "lead-3",
    ]
    assert len(activity_history(events, "agent-1", limit=None)) == 5
    assert len(activity_history(iter(events), "agent-1", limit=50)) == 5


def test_R6_activity_at_the_same_instant_keeps_the_later_logged_first() -> None:
    """R6: ties in time keep the log's order, the later one first."""
    events = [added(T0, "agent-1", f"lead-{n}") for n in range(4)]
    assert [e.record_id for e in activity_history(events, "agent-1")] == [
        "lead-3",
        "lead-2",
        "lead-1",
        "lead-0",
    ]


def test_R6_activity_history_refuses_bad_arguments() -> None:
    """R6: a blank or non-string user, a limit below 1 or not a whole number."""
    for actor in ("", "  ", None, 5):
        with pytest.raises(InvalidModelError, match="give a user id"):
            activity_history([], actor)  # type: ignore[arg-type]
    for limit in (0, -1, True, 1.5, "2"):
        with pytest.raises(InvalidModelError, match="1 or more"):
            activity_history([], "agent-1", limit=limit)  # type: ignore[arg-type]
    for events in (None, 5, "crm.record_added"):
        with pytest.raises(InvalidModelError, match="expected events"):
            activity_history(events, "agent-1")  # type: ignore[arg-type]


def test_R6_crm_events_validate_their_fields() -> None:
    """R6, T1: events need ids, known kinds and triggers, and aware times."""
    assert CrmRecordAdded.name == "crm.record_added"
    assert CrmProfileLinked.name == "crm.profile_linked"
    assert CrmInteractionLinked.name == "crm.interaction_linked"
    with pytest.raises(NaiveDatetimeError):
        added(datetime(2026, 8, 3), "agent-1")
    with pytest.raises(InvalidModelError):
        added(T0, "")
    with pytest.raises(UnknownValueError):
        CrmInteractionLinked(
            record_id="r",
            reference=ExternalReference("twitter", "a", "b", "c"),
            trigger="shout",
            at=T0,
        )
    with pytest.raises(InvalidModelError):
        CrmProfileLinked(record_id="r", profile="yamada", at=T0)  # type: ignore[arg-type]
    good = {"record_id": "lead-1", "kind": "lead", "profile": YAMADA, "at": T0}
    assert CrmRecordAdded(**good, owner_id="sales-1", rule_id="r1", branch=1).branch == 1
    for field, bad in (
        ("lead_source", 5),
        ("owner_id", ""),
        ("rule_id", "  "),
        ("branch", 0),
        ("branch", True),
        ("reference", "twitter:mention:1"),
    ):
        with pytest.raises(InvalidModelError) as caught:
            CrmRecordAdded(**good, **{field: bad})
        assert caught.value.field == field


# -- R7: posts ------------------------------------------------------------------------------------


def codes(draft: PostDraft) -> list[str]:
    return [p.code for p in check_post(draft)]


@pytest.mark.parametrize(("network", "mib"), [("twitter", 5), ("facebook", 25)])
def test_R7_an_image_may_be_exactly_the_networks_limit_and_not_a_byte_more(
    network: str, mib: int
) -> None:
    """R7: 5 MB on Twitter, 25 MB on Facebook, a megabyte being 1,048,576 bytes."""
    assert MAX_IMAGE_BYTES[network] == mib * MIB
    at_limit = PostDraft(network=network, images=[PostImage(name="a.png", size_bytes=mib * MIB)])
    assert check_post(at_limit) == ()
    over = PostDraft(network=network, images=[PostImage(name="a.png", size_bytes=mib * MIB + 1)])
    (problem,) = check_post(over)
    assert problem.code == "image_too_large"
    assert "a.png" in problem.message
    assert f"{mib}.0 MB" in problem.message
    assert LEAD_SOURCES[network] in problem.message


def test_R7_twitter_refuses_an_image_facebook_takes() -> None:
    """R7: a 10 MB image is too large for Twitter, fine for Facebook."""
    image = PostImage(name="写真.jpg", size_bytes=10 * MIB)
    assert codes(PostDraft(network="twitter", text="新商品", images=[image])) == ["image_too_large"]
    assert codes(PostDraft(network="facebook", text="新商品", images=[image])) == []


def test_R7_a_post_carries_at_most_one_image() -> None:
    """R7: two images are refused, with a code; each oversized one is reported too."""
    small = PostImage(name="a.png", size_bytes=100)
    assert codes(PostDraft(network="twitter", images=[small])) == []
    assert codes(PostDraft(network="facebook", images=[small, small])) == ["too_many_images"]
    big = PostImage(name="b.png", size_bytes=6 * MIB)
    assert codes(PostDraft(network="twitter", text="x", images=[small, big])) == [
        "too_many_images",
        "image_too_large",
    ]


def test_R7_an_empty_post_is_refused() -> None:
    """R7: a post needs a text or an image."""
    assert codes(PostDraft(network="twitter")) == ["empty_post"]
    assert codes(PostDraft(network="facebook", text="  \n")) == ["empty_post"]
    assert codes(PostDraft(network="twitter", text="こんにちは")) == []
    assert codes(PostDraft(network="twitter", images=[PostImage(name="a", size_bytes=0)])) == []


def test_R7_posts_and_images_validate_their_fields() -> None:
    """R7: networks CRM covers only; sizes are whole bytes from 0; images are PostImages."""
    with pytest.raises(InvalidModelError, match="facebook and twitter"):
        PostDraft(network="instagram", text="x")
    for size in (-1, True, 1.5, "10"):
        with pytest.raises(InvalidModelError, match="whole number of bytes"):
            PostImage(name="a", size_bytes=size)  # type: ignore[arg-type]
    with pytest.raises(InvalidModelError):
        PostDraft(network="twitter", images=[5])  # type: ignore[list-item]
    with pytest.raises(InvalidModelError):
        PostDraft(network="twitter", images=5)  # type: ignore[arg-type]
    with pytest.raises(InvalidModelError, match="expected PostDraft"):
        check_post("hello")  # type: ignore[arg-type]


# -- R8: monitoring columns -----------------------------------------------------------------------


def test_R8_twitter_and_facebook_offer_their_own_columns() -> None:
    """R8: Twitter: mentions, timeline, likes, keyword and user search, lists; Facebook: page
    mentions."""
    assert {k.value for k in MONITORING_COLUMN_KINDS["twitter"]} == {
        "mentions",
        "timeline",
        "likes",
        "keyword_search",
        "user_search",
        "lists",
    }
    assert {k.value for k in MONITORING_COLUMN_KINDS["facebook"]} == {"page_mentions"}
    assert MonitoringColumn.KINDS is MONITORING_COLUMN_KINDS
    for kind in ("mentions", "timeline", "likes"):
        assert MonitoringColumn(id="c", network="twitter", kind=kind).kind.value == kind
    keyword = MonitoringColumn(id="c", network="twitter", kind="keyword_search", query="料金")
    assert keyword.query == "料金"
    user = MonitoringColumn(id="c", network="twitter", kind="user_search", query="@yamada")
    assert user.kind is MonitoringColumnKind.USER_SEARCH
    assert MonitoringColumn(id="c", network="twitter", kind="lists", list_id="l-1").list_id == "l-1"
    page = MonitoringColumn(id="c", network="facebook", kind="page_mentions")
    assert page.kind is MonitoringColumnKind.PAGE_MENTIONS


@pytest.mark.parametrize("kind", ["keyword_search", "user_search"])
def test_R8_only_twitter_searches_can_be_saved_as_columns(kind: str) -> None:
    """R8: a Facebook search column is refused with the rule's words."""
    with pytest.raises(
        InvalidModelError, match="only Twitter searches can be saved as columns"
    ) as caught:
        MonitoringColumn(id="c", network="facebook", kind=kind, query="料金")
    assert caught.value.field == "kind"


@pytest.mark.parametrize(
    ("network", "kind"),
    [
        ("facebook", "mentions"),
        ("facebook", "timeline"),
        ("facebook", "likes"),
        ("facebook", "lists"),
        ("twitter", "page_mentions"),
    ],
)
def test_R8_a_column_the_network_does_not_offer_is_refused(network: str, kind: str) -> None:
    """R8: the message lists what the network offers."""
    with pytest.raises(InvalidModelError, match=f"offers .* columns, not {kind}"):
        MonitoringColumn(
            id="c", network=network, kind=kind, list_id="l" if kind == "lists" else None
        )


def test_R8_search_columns_need_a_query_lists_a_list_and_others_neither() -> None:
    """R8: a search column needs its words; a lists column its list; others take neither."""
    for query in (None, "", "   "):
        with pytest.raises(InvalidModelError, match="needs the words") as caught:
            MonitoringColumn(id="c", network="twitter", kind="keyword_search", query=query)
        assert caught.value.field == "query"
    with pytest.raises(InvalidModelError, match="needs the list") as caught:
        MonitoringColumn(id="c", network="twitter", kind="lists")
    assert caught.value.field == "list_id"
    with pytest.raises(InvalidModelError, match="takes no query"):
        MonitoringColumn(id="c", network="twitter", kind="lists", list_id="l", query="x")
    with pytest.raises(InvalidModelError, match="takes no query"):
        MonitoringColumn(id="c", network="facebook", kind="page_mentions", query="x")
    with pytest.raises(InvalidModelError, match="takes no list"):
        MonitoringColumn(id="c", network="twitter", kind="user_search", query="x", list_id="l")
    with pytest.raises(InvalidModelError, match="takes no list"):
        MonitoringColumn(id="c", network="twitter", kind="mentions", list_id="l")
    with pytest.raises(UnknownValueError):
        MonitoringColumn(id="c", network="twitter", kind="hashtags")
    with pytest.raises(InvalidModelError, match="facebook and twitter"):
        MonitoringColumn(id="c", network="instagram", kind="mentions")
    with pytest.raises(InvalidModelError):
        MonitoringColumn(id="c", network="twitter", kind="keyword_search", query=5)  # type: ignore[arg-type]


# -- R9: only social admins change the settings ---------------------------------------------------


@pytest.mark.parametrize(
    "actor",
    [
        Actor(id="agent-1", roles=["agent"], permissions=["create_ticket", "change_status"]),
        Actor(id="admin-1", roles=["admin", "manager"]),
        Actor(id="nobody"),
    ],
)
def test_R9_only_a_social_admin_may_change_the_crm_settings(actor: Actor) -> None:
    """R9: enabling the integration or changing rules without social_admin is refused,
    naming the role; an 'admin' is no social admin."""
    current = CrmSettings()
    for new in (CrmSettings(enabled=True), on(rule(branch())), CrmSettings(rules=[rule(branch())])):
        with pytest.raises(PermissionDeniedError, match="social_admin") as caught:
            update_crm_settings(current, new, actor=actor)
        assert caught.value.missing == "role:social_admin"
        assert caught.value.actor_id == actor.id
        assert isinstance(caught.value, DeskcoreError)


def test_R9_a_social_admin_enables_the_integration_and_changes_rules() -> None:
    """R9: a social admin's change is accepted and returned as the new settings."""
    current = CrmSettings()
    enabled = update_crm_settings(current, CrmSettings(enabled=True), actor=SOCIAL_ADMIN)
    assert enabled.enabled
    ruled = on(rule(branch(cond("text", "contains_any", ["料金"]))))
    assert update_crm_settings(enabled, ruled, actor=SOCIAL_ADMIN) == ruled
    disabled = CrmSettings(enabled=False, rules=ruled.rules)
    assert update_crm_settings(ruled, disabled, actor=SOCIAL_ADMIN) is disabled
    also_admin = Actor(id="a-2", roles=["admin", "social_admin"])
    assert update_crm_settings(disabled, ruled, actor=also_admin) is ruled


def test_R9_update_crm_settings_refuses_bad_arguments() -> None:
    """R9: non-settings and non-actors are InvalidModelError."""
    with pytest.raises(InvalidModelError, match="expected Actor"):
        update_crm_settings(CrmSettings(), CrmSettings(), actor="admin-1")  # type: ignore[arg-type]
    with pytest.raises(InvalidModelError, match="current"):
        update_crm_settings(None, CrmSettings(), actor=SOCIAL_ADMIN)  # type: ignore[arg-type]
    with pytest.raises(InvalidModelError, match="new"):
        update_crm_settings(CrmSettings(), {"enabled": True}, actor=SOCIAL_ADMIN)  # type: ignore[arg-type]


# -- hostile input --------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [None, 5, "mention", YAMADA, {"trigger": "mention"}])
def test_R1_R2_decide_crm_action_refuses_wrong_types(bad: object) -> None:
    """R1, R2: wrong types for each argument are InvalidModelError, not crashes."""
    settings = on(rule(branch()))
    with pytest.raises(InvalidModelError, match="interaction"):
        decide_crm_action(bad, settings, linked=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidModelError, match="settings"):
        decide_crm_action(interaction(), bad, linked=None)  # type: ignore[arg-type]
    if bad is not None:  # None: nobody linked
        with pytest.raises(InvalidModelError, match="linked"):
            decide_crm_action(interaction(), settings, linked=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidModelError, match="settings"):
        compile_crm_matcher(bad)  # type: ignore[arg-type]
    if bad is not None:  # None: compile one
        with pytest.raises(InvalidModelError, match="expected CrmMatcher") as caught:
            decide_crm_action(interaction(), settings, linked=None, matcher=bad)  # type: ignore[arg-type]
        assert caught.value.field == "matcher"
    with pytest.raises(InvalidModelError, match="expected SocialItem"):
        interaction_from_item(bad)  # type: ignore[arg-type]


# -- properties -----------------------------------------------------------------------------------


@given(st.data())
def test_R1_R2_R3_R4_decisions_agree_with_a_brute_force_oracle(data: st.DataObject) -> None:
    """R1-R4: decide_crm_action equals a naive loop over rules, branches and conditions.
    Rules are mostly drawn on the interaction's network so branches are really tried."""
    item = data.draw(interactions(), label="interaction")
    networks = data.draw(
        st.sampled_from([(item.network,), (item.network,), ("twitter", "facebook")])
    )
    settings = data.draw(crm_settings(networks=networks), label="settings")
    linked = data.draw(st.none() | st.none() | st.none() | crm_records(), label="linked")
    decision = decide_crm_action(item, settings, linked=linked)
    action, reason, rule_id, number, kind, owner = oracle(item, settings, linked)
    assert decision.action.value == action
    assert decision.reason == reason
    assert (decision.rule_id, decision.branch) == (rule_id, number)
    if kind is None:
        assert decision.draft is None
    else:
        assert decision.draft is not None
        assert decision.draft.kind.value == kind
        assert decision.draft.owner_id == owner
        assert decision.draft.lead_source == LEAD_SOURCES[item.network]
        assert decision.draft.profile == item.profile
    if rule_id is not None:
        assert f"rule {rule_id}, branch {number}" in decision.explanation


@pytest.mark.parametrize("field", FIELDS)
@given(data=st.data())
def test_R2_each_condition_agrees_with_the_oracle(field: str, data: st.DataObject) -> None:
    """R2: field by field (a rule with one branch of one or two conditions on ``field``),
    each operator, boundaries included, agrees with the naive evaluation."""
    item = data.draw(interactions(), label="interaction")
    offered = frozenset(t.value for t in CRM_TRIGGERS[item.network])
    checked = data.draw(
        st.lists(conditions(item.network, offered, fields=(field,)), min_size=1, max_size=2),
        label="conditions",
    )
    settings = on(rule(branch(*checked), network=item.network, triggers=tuple(sorted(offered))))
    decision = decide_crm_action(item, settings, linked=None)
    assert decision.adds == all(condition_holds(c, item) for c in checked)


@given(interactions(), crm_settings(), st.none() | crm_records())
def test_R2_decisions_are_pure_and_a_compiled_matcher_changes_nothing(
    item: SocialInteraction, settings: CrmSettings, linked: CrmRecord | None
) -> None:
    """R2, W4: the same inputs give the same decision, with or without a matcher compiled
    once (also one compiled from equal settings)."""
    first = decide_crm_action(item, settings, linked=linked)
    assert decide_crm_action(item, settings, linked=linked) == first
    matcher = compile_crm_matcher(settings)
    assert decide_crm_action(item, settings, linked=linked, matcher=matcher) == first
    assert decide_crm_action(item, settings, linked=linked, matcher=matcher) == first
    copy = CrmSettings(enabled=settings.enabled, rules=list(settings.rules))
    assert decide_crm_action(item, copy, linked=linked, matcher=matcher) == first


@given(interactions(), crm_settings(), crm_records())
def test_R4_a_linked_person_is_never_added(
    item: SocialInteraction, settings: CrmSettings, linked: CrmRecord
) -> None:
    """R4: with a linked record the decision links it, or (integration off) does nothing."""
    decision = decide_crm_action(item, settings, linked=linked)
    assert decision.draft is None
    if settings.enabled:
        assert decision.action is CrmDecisionKind.LINK_EXISTING
        assert decision.record == linked
    else:
        assert decision.action is CrmDecisionKind.NOTHING
        assert decision.reason == "integration_disabled"


@given(st.lists(interactions(), max_size=8), st.sampled_from([None, "twitter", "facebook"]))
def test_R5_social_list_keeps_each_interaction_once_newest_first(
    items: list[SocialInteraction], network: str | None
) -> None:
    """R5: the list holds every distinct reference of the network once, split by privacy,
    each half sorted newest first."""
    listed = social_list(items, network=network)
    shown = listed.conversations + listed.messages
    firsts = {}
    for item in items:
        firsts.setdefault(item.reference, item)
    wanted = {i for i in firsts.values() if network is None or i.network == network}
    assert set(shown) == wanted
    assert len(shown) == len(wanted)
    assert all(i.is_private for i in listed.messages)
    assert not any(i.is_private for i in listed.conversations)
    for half in (listed.conversations, listed.messages):
        assert [i.at for i in half] == sorted((i.at for i in half), reverse=True)
