"""Hypothesis strategies for CRM automation (R1-R4), and a slow, obvious oracle of
:func:`deskcore.decide_crm_action` to check it against.

The generated texts and keywords come from a small vocabulary so the oracle can match
keywords naively: a text is tokens joined by spaces, each token purely ASCII or purely
Japanese, so an ASCII keyword matches when it is one of a token's ASCII words (W2: whole
words) and a Japanese keyword matches anywhere (W2: no word boundaries), both after NFKC and
case folding (W1). Every generated setting is valid: conditions that could never hold are
refused by :class:`deskcore.CrmRule`, so the strategies only build reachable ones.

Reuse: ``from crm_strategies import crm_settings, interactions, crm_records, oracle``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from deskcore import (
    CRM_TRIGGERS,
    CrmAction,
    CrmBranch,
    CrmCondition,
    CrmRecord,
    CrmRule,
    CrmSettings,
    ExternalReference,
    OwnerRule,
    SocialInteraction,
    SocialProfile,
)
from deskcore.policies.keywords import normalize

__all__ = [
    "ACCOUNTS",
    "ASCII_KEYWORDS",
    "BRANDS",
    "FIELDS",
    "FOLLOWER_COUNTS",
    "FOLLOWER_LIMITS",
    "HANDLES",
    "JAPANESE_KEYWORDS",
    "NETWORKS",
    "TOKENS",
    "Expected",
    "condition_holds",
    "conditions",
    "crm_actions",
    "crm_records",
    "crm_rules",
    "crm_settings",
    "interactions",
    "keyword_in",
    "oracle",
    "texts",
]

T0 = datetime(2026, 8, 3, 9, 0, tzinfo=UTC)
NETWORKS = ("twitter", "facebook")
ACCOUNTS = ("brand_jp", "brand_en")
BRANDS = ("acme", "kumo")
FOLLOWER_COUNTS = (0, 9, 10, 11, 999, 1000, 1001, 50_000)
FOLLOWER_LIMITS = (10, 1000)
HANDLES = ("@Yamada", "yamada", " @YAMADA ", "Sato", "＠ｓａｔｏ", "@hanako", "")
OWNERS = ("sales-1", "sales-2", "sales-3")
ASCII_KEYWORDS = ("price", "Price", "refund", "help", "ＲＥＦＵＮＤ")
JAPANESE_KEYWORDS = ("料金", "返品", "ヘンピン", "ﾍﾝﾋﾟﾝ")
TOKENS = (
    "price",
    "Price",
    "ＰＲＩＣＥ",
    "prices",
    "price!",
    "(refund)",
    "REFUND?",
    "prerefund",
    "help_me",
    "help",
    "thanks",
    "料金",
    "料金について",
    "返品したい",
    "ﾍﾝﾋﾟﾝ",
    "ありがとう",
)


def texts() -> st.SearchStrategy[str]:
    """Texts of vocabulary tokens joined by spaces (possibly empty)."""
    return st.lists(st.sampled_from(TOKENS), max_size=5).map(" ".join)


def keyword_in(keyword: str, text: str) -> bool:
    """The naive W1/W2 check for the vocabulary: whole ASCII words, Japanese anywhere."""
    wanted = normalize(keyword).strip()
    folded = normalize(text)
    if wanted.isascii():
        words = {word for token in folded.split() for word in re.split(r"[^0-9a-z_]+", token)}
        return wanted in words
    return wanted in folded


# -- conditions, actions, rules, settings ---------------------------------------------------------


def _subset(values: tuple[str, ...]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(values), min_size=1, max_size=len(values), unique=True).map(
        tuple
    )


FIELDS = ("network", "trigger", "text", "follower_count", "brand", "channel_account", "handle")


@st.composite
def conditions(
    draw: st.DrawFn, network: str, triggers: frozenset[str], *, fields: tuple[str, ...] = FIELDS
) -> CrmCondition:
    """A condition on one of ``fields`` that can hold in a rule on ``network`` watching
    ``triggers``."""
    field = draw(st.sampled_from(fields))
    if field == "network":
        op = draw(st.sampled_from(["in", "not_in"]))
        other = "facebook" if network == "twitter" else "twitter"
        value: object = (network,) if op == "in" else (other,)
        if op == "in" and draw(st.booleans()):
            value = (network, other)
        return CrmCondition(field=field, op=op, value=value)
    if field == "trigger":
        chosen = draw(_subset(tuple(sorted(triggers))))
        op = "in" if set(chosen) == set(triggers) else draw(st.sampled_from(["in", "not_in"]))
        return CrmCondition(field=field, op=op, value=chosen)
    if field == "text":
        op = draw(st.sampled_from(["contains_any", "contains_none"]))
        return CrmCondition(
            field=field, op=op, value=draw(_subset(ASCII_KEYWORDS + JAPANESE_KEYWORDS))
        )
    if field == "follower_count":
        op = draw(st.sampled_from(["at_least", "at_most"]))
        return CrmCondition(field=field, op=op, value=draw(st.sampled_from(FOLLOWER_LIMITS)))
    pool = {"brand": BRANDS, "channel_account": ACCOUNTS, "handle": HANDLES[:-1]}[field]
    op = draw(st.sampled_from(["in", "not_in"]))
    return CrmCondition(field=field, op=op, value=draw(_subset(pool)))


def crm_actions() -> st.SearchStrategy[CrmAction]:
    """Add as a lead or a contact (one owner or spread), or add nobody."""
    owners = st.one_of(
        st.sampled_from(OWNERS).map(lambda user: OwnerRule(user_id=user)),
        _subset(OWNERS).map(lambda spread: OwnerRule(spread_among=spread)),
    )
    adding = st.builds(CrmAction, add_as=st.sampled_from(["lead", "contact"]), owner=owners)
    return st.one_of(adding, adding, st.just(CrmAction()))


@st.composite
def crm_rules(draw: st.DrawFn, rule_id: str, *, networks: tuple[str, ...] = NETWORKS) -> CrmRule:
    """A valid rule: one of ``networks``, all or some of its triggers, one to three
    branches; usually enabled."""
    network = draw(st.sampled_from(networks))
    offered = tuple(sorted(t.value for t in CRM_TRIGGERS[network]))
    triggers = frozenset(draw(st.just(offered) | _subset(offered)))
    branches = draw(
        st.lists(
            st.builds(
                CrmBranch,
                name=st.sampled_from(["", "big accounts", "料金の問い合わせ"]),
                conditions=st.lists(conditions(network, triggers), max_size=3),
                action=crm_actions(),
            ),
            min_size=1,
            max_size=3,
        )
    )
    return CrmRule(
        id=rule_id,
        network=network,
        triggers=triggers,
        branches=branches,
        enabled=draw(st.sampled_from([True, True, True, False])),
    )


@st.composite
def crm_settings(
    draw: st.DrawFn, *, enabled: bool | None = None, networks: tuple[str, ...] = NETWORKS
) -> CrmSettings:
    """Valid settings: up to four rules on ``networks`` with distinct ids, usually enabled
    (``enabled`` fixes it)."""
    count = draw(st.integers(min_value=0, max_value=4))
    rules = [draw(crm_rules(f"rule-{n}", networks=networks)) for n in range(count)]
    on = draw(st.sampled_from([True, True, True, False])) if enabled is None else enabled
    return CrmSettings(enabled=on, rules=rules)


# -- interactions and records ---------------------------------------------------------------------


@st.composite
def interactions(draw: st.DrawFn) -> SocialInteraction:
    """An interaction on either network, with one of the network's triggers."""
    network = draw(st.sampled_from(NETWORKS))
    trigger = draw(st.sampled_from(sorted(t.value for t in CRM_TRIGGERS[network])))
    profile = SocialProfile(
        network=network,
        id=draw(st.sampled_from(["p-1", "p-2", "p-3"])),
        handle=draw(st.sampled_from(HANDLES)),
        display_name=draw(st.sampled_from(["", "山田 太郎", "Sato"])),
    )
    return SocialInteraction(
        reference=ExternalReference(
            network, draw(st.sampled_from(ACCOUNTS)), "item", f"i-{draw(st.integers(0, 99))}"
        ),
        trigger=trigger,
        profile=profile,
        text=draw(texts()),
        at=T0 + timedelta(minutes=draw(st.integers(0, 10_000))),
        follower_count=draw(st.sampled_from((None, *FOLLOWER_COUNTS, *FOLLOWER_LIMITS))),
        brand_id=draw(st.none() | st.sampled_from(BRANDS)),
    )


def crm_records() -> st.SearchStrategy[CrmRecord]:
    """An existing lead or contact."""
    return st.builds(
        CrmRecord,
        id=st.sampled_from(["lead-1", "contact-7"]),
        kind=st.sampled_from(["lead", "contact"]),
        name=st.sampled_from(["", "山田 太郎"]),
    )


# -- the oracle -----------------------------------------------------------------------------------


def _bare_handle(handle: str) -> str:
    """The oracle's reading of decision 55: NFKC, no space, no leading at signs, no case."""
    return unicodedata.normalize("NFKC", handle).strip().lstrip("@").strip().casefold()


def condition_holds(condition: CrmCondition, interaction: SocialInteraction) -> bool:
    """R2, naively."""
    field, op, value = condition.field.value, condition.op.value, condition.value
    if field == "text":
        assert isinstance(value, tuple)
        found = any(keyword_in(k, interaction.text) for k in value)
        return found if op == "contains_any" else not found
    if field == "follower_count":
        assert isinstance(value, int)
        if interaction.follower_count is None:
            return False
        if op == "at_least":
            return interaction.follower_count >= value
        return interaction.follower_count <= value
    assert isinstance(value, tuple)
    if field == "handle":
        handle = _bare_handle(interaction.profile.handle)
        present = handle != "" and handle in {_bare_handle(v) for v in value}
    else:
        actual = {
            "network": interaction.reference.network,
            "trigger": interaction.trigger.value,
            "brand": interaction.brand_id,
            "channel_account": interaction.reference.account,
        }[field]
        present = actual is not None and actual in value
    return present if op == "in" else not present


Expected = tuple[str, str, str | None, int | None, str | None, str | None]
"""(action, reason, rule id, branch, record kind added, owner)."""


def oracle(
    interaction: SocialInteraction, settings: CrmSettings, linked: CrmRecord | None
) -> Expected:
    """What :func:`deskcore.decide_crm_action` should decide (R1-R4), by brute force."""
    if not settings.enabled:
        return ("nothing", "integration_disabled", None, None, None, None)
    if linked is not None:
        return ("link_existing", "already_linked", None, None, None, None)
    watching = [
        rule
        for rule in settings.rules
        if rule.enabled
        and rule.network == interaction.reference.network
        and interaction.trigger.value in {t.value for t in rule.triggers}
    ]
    if not watching:
        return ("nothing", "no_rule", None, None, None, None)
    for rule in watching:
        for number, branch in enumerate(rule.branches, start=1):
            if all(condition_holds(c, interaction) for c in branch.conditions):
                action = branch.action
                if action.add_as is None or action.owner is None:
                    return ("nothing", "branch_adds_nobody", rule.id, number, None, None)
                owner = action.owner.owner_for(interaction.profile)
                kind = action.add_as.value
                return (f"add_{kind}", "branch_matched", rule.id, number, kind, owner)
    return ("nothing", "no_branch", None, None, None, None)
