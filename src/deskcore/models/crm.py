"""CRM social automation as data (R1-R9): interactions, automation rules, CRM records, posts
and monitoring columns.

A :class:`SocialInteraction` is one thing a person did towards the brand on a social network
(a mention, a retweet, a comment, a like, a private message). :class:`CrmSettings` holds what a
social admin configures (R9): whether the integration is on, and the ordered
:class:`CrmRule`\\ s whose :class:`CrmBranch`\\ es decide whether the person is added to the
CRM as a lead or a contact, and who owns the new record (R1, R2). A :class:`CrmRecord` is a
lead or contact as the host's CRM keeps it, with the social profiles linked to it (R4, R5).

The decisions live in :mod:`deskcore.policies.crm`; the CRM itself is the host's, behind
:class:`deskcore.ports.CrmConnector`.
"""

from __future__ import annotations

import enum
import hashlib
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar

import attrs

from deskcore.errors import InvalidModelError
from deskcore.models._validate import (
    MAX_INT,
    aware,
    fixed_offset,
    id_tuple,
    identifier,
    instance_of,
    lenient,
    member,
    optional_identifier,
    positive_int,
    text,
    to_tuple,
    tuple_of,
)
from deskcore.models.refs import ExternalReference
from deskcore.models.social import (
    MAX_KEYWORD_LENGTH,
    MAX_SOCIAL_TEXT_LENGTH,
    SocialItem,
    SocialItemKind,
    SocialProfile,
)

__all__ = [
    "CONDITION_OPS",
    "CRM_NETWORKS",
    "CRM_TRIGGERS",
    "LEAD_SOURCES",
    "MAX_BRANCHES",
    "MAX_CONDITIONS",
    "MAX_CONDITION_VALUES",
    "MAX_IMAGE_BYTES",
    "MAX_OWNERS",
    "MAX_POST_IMAGES",
    "MAX_RULES",
    "MONITORING_COLUMN_KINDS",
    "SEARCH_COLUMN_KINDS",
    "ConditionField",
    "ConditionOp",
    "CrmAction",
    "CrmBranch",
    "CrmCondition",
    "CrmEvent",
    "CrmInteractionLinked",
    "CrmProfileLinked",
    "CrmRecord",
    "CrmRecordAdded",
    "CrmRecordKind",
    "CrmRule",
    "CrmSettings",
    "CrmTrigger",
    "MonitoringColumn",
    "MonitoringColumnKind",
    "NewCrmRecord",
    "OwnerRule",
    "PostDraft",
    "PostImage",
    "SocialInteraction",
    "interaction_from_item",
    "lead_source",
    "normalize_handle",
]


class CrmTrigger(enum.StrEnum):
    """What a person did that an automation rule can react to (R1)."""

    MENTION = "mention"
    """Mentioned the brand (Twitter)."""
    MESSAGE = "message"
    """Sent the brand a private message (Twitter, Facebook)."""
    REPLY = "reply"
    """Replied to the brand (Twitter)."""
    RETWEET = "retweet"
    """Retweeted the brand (Twitter)."""
    POST = "post"
    """Posted on the brand's page (Facebook)."""
    COMMENT = "comment"
    """Commented on the brand's page (Facebook)."""
    LIKE = "like"
    """Liked the brand's page or post (Facebook)."""


CRM_TRIGGERS: Mapping[str, frozenset[CrmTrigger]] = MappingProxyType(
    {
        "twitter": frozenset(
            {CrmTrigger.MENTION, CrmTrigger.MESSAGE, CrmTrigger.REPLY, CrmTrigger.RETWEET}
        ),
        "facebook": frozenset(
            {CrmTrigger.POST, CrmTrigger.COMMENT, CrmTrigger.LIKE, CrmTrigger.MESSAGE}
        ),
    }
)
"""The triggers each network offers (R1). CRM automation covers these two networks."""

CRM_NETWORKS = frozenset(CRM_TRIGGERS)
"""The networks CRM automation covers: ``facebook`` and ``twitter``."""

LEAD_SOURCES: Mapping[str, str] = MappingProxyType({"twitter": "Twitter", "facebook": "Facebook"})
"""The lead source of a record added from each network (R3)."""

_TRIGGER_OF_KIND: Mapping[tuple[str, SocialItemKind], CrmTrigger] = MappingProxyType(
    {
        ("twitter", SocialItemKind.MENTION): CrmTrigger.MENTION,
        ("twitter", SocialItemKind.DIRECT_MESSAGE): CrmTrigger.MESSAGE,
        ("twitter", SocialItemKind.REPLY): CrmTrigger.REPLY,
        ("twitter", SocialItemKind.RETWEET): CrmTrigger.RETWEET,
        ("facebook", SocialItemKind.VISITOR_POST): CrmTrigger.POST,
        ("facebook", SocialItemKind.COMMENT): CrmTrigger.COMMENT,
        ("facebook", SocialItemKind.LIKE): CrmTrigger.LIKE,
        ("facebook", SocialItemKind.DIRECT_MESSAGE): CrmTrigger.MESSAGE,
    }
)

MAX_RULES = 1000
"""Most automation rules one :class:`CrmSettings` holds."""

MAX_BRANCHES = 100
"""Most branches of one rule."""

MAX_CONDITIONS = 100
"""Most conditions of one branch."""

MAX_CONDITION_VALUES = 10_000
"""Most values (keywords, handles, ids) of one condition."""

MAX_OWNERS = 1000
"""Most owners one owner rule spreads records among."""

_name = text(1000)


def lead_source(network: str) -> str:
    """The lead source of a record added from ``network`` (R3): ``Twitter`` or ``Facebook``.

    Raises:
        InvalidModelError: ``network`` is not one CRM automation covers.
    """
    try:
        return LEAD_SOURCES[network]
    except (KeyError, TypeError):
        raise InvalidModelError(
            "lead_source",
            "network",
            f"{network!r}: CRM automation covers facebook and twitter",
        ) from None


def _crm_network(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or value not in CRM_TRIGGERS:
        raise InvalidModelError(
            type(instance).__name__,
            attribute.name,
            f"{value!r}: CRM automation covers facebook and twitter (R1)",
        )


def _network_triggers(network: str) -> str:
    return ", ".join(sorted(t.value for t in CRM_TRIGGERS[network]))


def _to_trigger(value: CrmTrigger | str) -> CrmTrigger:
    return lenient(CrmTrigger, value)


# -- interactions ---------------------------------------------------------------------------------


def _follower_count(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INT:
        raise InvalidModelError(
            type(instance).__name__,
            attribute.name,
            f"{value!r}: a follower count is a whole number from 0, or None when unknown",
        )


@attrs.frozen(kw_only=True)
class SocialInteraction:
    """One thing a person did towards the brand on a social network (R1).

    Attributes:
        reference: The interaction's own external reference (the tweet, comment, like or
            message); a record links an interaction at most once (R4).
        trigger: What the person did; one of the network's triggers (:data:`CRM_TRIGGERS`).
        profile: Who did it.
        text: The text (empty for a like or a retweet).
        at: When (aware).
        follower_count: The profile's follower count as the network reported it; ``None``
            when unknown (a follower-count condition then does not hold).
        brand_id: The brand whose channel account it came through (S7), if the host knows.
    """

    reference: ExternalReference = attrs.field(validator=instance_of(ExternalReference))
    trigger: CrmTrigger = attrs.field(converter=_to_trigger, validator=member(CrmTrigger))
    profile: SocialProfile = attrs.field(validator=instance_of(SocialProfile))
    text: str = attrs.field(default="", validator=text(MAX_SOCIAL_TEXT_LENGTH))
    at: datetime = attrs.field(converter=fixed_offset, validator=aware)
    follower_count: int | None = attrs.field(default=None, validator=_follower_count)
    brand_id: str | None = attrs.field(default=None, validator=optional_identifier)

    def __attrs_post_init__(self) -> None:
        network = self.reference.network
        if network not in CRM_TRIGGERS:
            raise InvalidModelError(
                "SocialInteraction",
                "reference",
                f"{self.reference}: CRM automation covers facebook and twitter (R1)",
            )
        if self.profile.network != network:
            raise InvalidModelError(
                "SocialInteraction",
                "profile",
                f"{self.reference}: the profile is on {self.profile.network}, the interaction "
                f"on {network}",
            )
        if self.trigger not in CRM_TRIGGERS[network]:
            raise InvalidModelError(
                "SocialInteraction",
                "trigger",
                f"{self.reference}: {self.trigger.value} is not a {LEAD_SOURCES[network]} "
                f"trigger; {network} offers {_network_triggers(network)} (R1)",
            )

    @property
    def network(self) -> str:
        """The network (``facebook`` or ``twitter``)."""
        return self.reference.network

    @property
    def channel_account(self) -> str:
        """The brand's channel account it came through: the reference's account."""
        return self.reference.account

    @property
    def is_private(self) -> bool:
        """A private message (the record's *messages*), not a public conversation (R5)."""
        return self.trigger is CrmTrigger.MESSAGE


def interaction_from_item(
    item: SocialItem, *, follower_count: int | None = None, brand_id: str | None = None
) -> SocialInteraction | None:
    """The interaction a social item is (R1), or ``None`` when it is none: the brand's own
    posts and replies, and kinds that are no trigger on the item's network (a Facebook
    mention, a Twitter comment, another network).

    Twitter mentions, direct messages, replies and retweets; Facebook visitor posts, comments,
    likes and messages.
    """
    if not isinstance(item, SocialItem):
        raise InvalidModelError(
            "interaction_from_item", "item", f"expected SocialItem, got {type(item).__name__}"
        )
    trigger = _TRIGGER_OF_KIND.get((item.network, item.kind))
    if trigger is None or item.is_brand_own:
        return None
    return SocialInteraction(
        reference=item.reference,
        trigger=trigger,
        profile=item.author,
        text=item.text,
        at=item.created_at,
        follower_count=follower_count,
        brand_id=brand_id,
    )


# -- automation rules (R1, R2, R9) ----------------------------------------------------------------


class ConditionField(enum.StrEnum):
    """What a branch condition looks at (R2)."""

    NETWORK = "network"
    """The interaction's network."""
    TRIGGER = "trigger"
    """What the person did."""
    TEXT = "text"
    """The interaction's text, matched by keyword (W1, W2)."""
    FOLLOWER_COUNT = "follower_count"
    """The profile's follower count."""
    BRAND = "brand"
    """The brand the interaction came through (S7)."""
    CHANNEL_ACCOUNT = "channel_account"
    """The brand's channel account it came through."""
    HANDLE = "handle"
    """The profile's handle, compared without ``@`` and case."""


class ConditionOp(enum.StrEnum):
    """How a condition compares (R2)."""

    IN = "in"
    """The field's value is one of the condition's values."""
    NOT_IN = "not_in"
    """The field's value is none of the condition's values."""
    CONTAINS_ANY = "contains_any"
    """The text contains at least one of the keywords."""
    CONTAINS_NONE = "contains_none"
    """The text contains none of the keywords."""
    AT_LEAST = "at_least"
    """The number is at least the condition's value."""
    AT_MOST = "at_most"
    """The number is at most the condition's value."""


_SET_OPS = frozenset({ConditionOp.IN, ConditionOp.NOT_IN})
_TEXT_OPS = frozenset({ConditionOp.CONTAINS_ANY, ConditionOp.CONTAINS_NONE})
_NUMBER_OPS = frozenset({ConditionOp.AT_LEAST, ConditionOp.AT_MOST})

CONDITION_OPS: Mapping[ConditionField, frozenset[ConditionOp]] = MappingProxyType(
    {
        ConditionField.NETWORK: _SET_OPS,
        ConditionField.TRIGGER: _SET_OPS,
        ConditionField.TEXT: _TEXT_OPS,
        ConditionField.FOLLOWER_COUNT: _NUMBER_OPS,
        ConditionField.BRAND: _SET_OPS,
        ConditionField.CHANNEL_ACCOUNT: _SET_OPS,
        ConditionField.HANDLE: _SET_OPS,
    }
)
"""The operators each field takes."""


def normalize_handle(handle: str) -> str:
    """A handle as conditions compare it: NFKC-normalised (full-width ``＠Ｙａｍａｄａ`` as typed
    with a Japanese input method is ``@Yamada``), without surrounding space, a leading ``@``,
    or case (``@Yamada`` and ``yamada`` are one handle)."""
    return unicodedata.normalize("NFKC", handle).strip().removeprefix("@").strip().casefold()


def _to_field(value: ConditionField | str) -> ConditionField:
    return lenient(ConditionField, value)


def _to_op(value: ConditionOp | str) -> ConditionOp:
    return lenient(ConditionOp, value)


def _to_value(value: object) -> object:
    if isinstance(value, int | str | bytes) or not isinstance(value, Iterable):
        return value
    return tuple(value)


_keyword = text(MAX_KEYWORD_LENGTH)
_label = text(1000)


@attrs.frozen(kw_only=True)
class CrmCondition:
    """One condition of a branch (R2): ``field`` compared by ``op`` with ``value``.

    ``value`` is a whole number for ``at_least`` and ``at_most``, else a non-empty tuple of
    strings: networks, triggers, keywords, brand ids, channel accounts or handles. Which
    operators a field takes is :data:`CONDITION_OPS`.

    Examples: ``CrmCondition(field="follower_count", op="at_least", value=1000)``,
    ``CrmCondition(field="text", op="contains_any", value=("price", "料金"))``.
    """

    field: ConditionField = attrs.field(converter=_to_field, validator=member(ConditionField))
    op: ConditionOp = attrs.field(converter=_to_op, validator=member(ConditionOp))
    value: tuple[str, ...] | int = attrs.field(converter=_to_value)

    def __attrs_post_init__(self) -> None:
        def bad(reason: str) -> InvalidModelError:
            return InvalidModelError("CrmCondition", "value", f"{self.field.value}: {reason}")

        if self.op not in CONDITION_OPS[self.field]:
            raise InvalidModelError(
                "CrmCondition",
                "op",
                f"{self.field.value} does not take {self.op.value}; use "
                + " or ".join(sorted(o.value for o in CONDITION_OPS[self.field])),
            )
        value: object = self.value
        if self.op in _NUMBER_OPS:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INT:
                raise bad(f"{self.op.value} takes a whole number from 0, got {value!r}")
            return
        if not isinstance(value, tuple) or not value:
            raise bad(f"{self.op.value} takes a non-empty list, got {value!r}")
        if len(value) > MAX_CONDITION_VALUES:
            raise bad(f"more than {MAX_CONDITION_VALUES} values")
        for element in value:
            if not isinstance(element, str):
                raise bad(f"expected strings, got {type(element).__name__}")
            if self.field is ConditionField.TEXT:
                _keyword(self, attrs.fields(CrmCondition).value, element)
                if not element.strip():
                    raise bad("a keyword must not be blank")
            elif self.field is ConditionField.TRIGGER:
                if element not in CrmTrigger.__members__.values():
                    raise bad(
                        f"unknown trigger {element!r}; triggers are "
                        + ", ".join(t.value for t in CrmTrigger)
                    )
            elif self.field is ConditionField.NETWORK:
                if element not in CRM_TRIGGERS:
                    raise bad(f"{element!r}: CRM automation covers facebook and twitter")
            elif self.field is ConditionField.HANDLE:
                _label(self, attrs.fields(CrmCondition).value, element)
                if not normalize_handle(element):
                    raise bad("a handle must not be blank")
            else:  # brand and channel account: ids, as the interaction carries them
                identifier(self, attrs.fields(CrmCondition).value, element)

    @property
    def values(self) -> tuple[str, ...]:
        """The condition's strings (empty for a number condition)."""
        return self.value if isinstance(self.value, tuple) else ()

    def describe(self) -> str:
        """The condition in words, for explanations."""
        if isinstance(self.value, int):
            return f"{self.field.value} {self.op.value.replace('_', ' ')} {self.value}"
        shown = ", ".join(repr(v) for v in self.value[:5])
        more = f" and {len(self.value) - 5} more" if len(self.value) > 5 else ""
        return f"{self.field.value} {self.op.value.replace('_', ' ')} [{shown}{more}]"


def _to_owners(value: object) -> object:
    return to_tuple(value)


@attrs.frozen(kw_only=True)
class OwnerRule:
    """Who owns a record a branch adds (R2): one user, or users the new records are spread
    among.

    Spreading is by a stable digest of the person's social profile, not a rotating counter:
    the same person always gets the same owner, so replaying interactions, or two workers
    handling them at once, never changes the choice; over many people the owners get about
    equal shares (decision 49).

    Attributes:
        user_id: The one owner.
        spread_among: The owners to spread records among (at least one, no repeats).
    """

    user_id: str | None = attrs.field(default=None, validator=optional_identifier)
    spread_among: tuple[str, ...] = attrs.field(
        default=(), converter=_to_owners, validator=id_tuple
    )

    def __attrs_post_init__(self) -> None:
        if (self.user_id is None) == (not self.spread_among):
            raise InvalidModelError(
                "OwnerRule", "user_id", "give either one owner (user_id) or spread_among"
            )
        if len(self.spread_among) > MAX_OWNERS:
            raise InvalidModelError("OwnerRule", "spread_among", f"more than {MAX_OWNERS} owners")
        if len(set(self.spread_among)) != len(self.spread_among):
            raise InvalidModelError("OwnerRule", "spread_among", "an owner is listed twice")

    def owner_for(self, profile: SocialProfile) -> str:
        """The owner of a record added for ``profile``."""
        if self.user_id is not None:
            return self.user_id
        digest = hashlib.sha256(f"{profile.network}\x00{profile.id}".encode()).digest()
        return self.spread_among[int.from_bytes(digest[:8], "big") % len(self.spread_among)]

    def describe(self) -> str:
        """The rule in words."""
        if self.user_id is not None:
            return f"owner {self.user_id}"
        return "owner spread among " + ", ".join(self.spread_among)


class CrmRecordKind(enum.StrEnum):
    """What a CRM record is."""

    LEAD = "lead"
    """A prospect (見込み客)."""
    CONTACT = "contact"
    """A customer contact (連絡先)."""


def _to_kind(value: CrmRecordKind | str) -> CrmRecordKind:
    return lenient(CrmRecordKind, value)


def _to_record_kind(value: CrmRecordKind | str | None) -> CrmRecordKind | None:
    return None if value is None else lenient(CrmRecordKind, value)


def _optional_record_kind(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        member(CrmRecordKind)(instance, attribute, value)


@attrs.frozen(kw_only=True)
class CrmAction:
    """What a branch does (R2): add the person as a lead or a contact with an owner, or, with
    ``add_as=None``, nothing (a branch that keeps some people out, placed before the others).

    Attributes:
        add_as: ``lead`` or ``contact``; ``None`` adds nobody.
        owner: Who owns the new record; required when adding, refused otherwise.
    """

    add_as: CrmRecordKind | None = attrs.field(
        default=None, converter=_to_record_kind, validator=_optional_record_kind
    )
    owner: OwnerRule | None = attrs.field(
        default=None, validator=attrs.validators.optional(instance_of(OwnerRule))
    )

    def __attrs_post_init__(self) -> None:
        if self.add_as is not None and self.owner is None:
            raise InvalidModelError(
                "CrmAction",
                "owner",
                f"adding a {self.add_as.value} needs an owner rule (R2): give user_id or "
                "spread_among",
            )
        if self.add_as is None and self.owner is not None:
            raise InvalidModelError(
                "CrmAction", "owner", "an action that adds nobody takes no owner rule"
            )

    def describe(self) -> str:
        """The action in words."""
        if self.add_as is None or self.owner is None:
            return "add nobody"
        return f"add as {self.add_as.value}, {self.owner.describe()}"


@attrs.frozen(kw_only=True)
class CrmBranch:
    """A branch of a rule (R2): when every condition holds (a branch without conditions
    always holds), the action applies.

    Attributes:
        name: What the branch is for, shown in explanations (``"big accounts"``).
        conditions: The conditions, all of which must hold.
        action: What to do.
    """

    name: str = attrs.field(default="", validator=_name)
    conditions: tuple[CrmCondition, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(CrmCondition)
    )
    action: CrmAction = attrs.field(validator=instance_of(CrmAction))

    def __attrs_post_init__(self) -> None:
        if len(self.conditions) > MAX_CONDITIONS:
            raise InvalidModelError(
                "CrmBranch", "conditions", f"more than {MAX_CONDITIONS} conditions"
            )


def _to_triggers(value: Iterable[CrmTrigger | str]) -> frozenset[CrmTrigger]:
    candidate: object = value
    if isinstance(candidate, str) or not isinstance(candidate, Iterable):
        return candidate  # type: ignore[return-value]  # reported by the validator
    try:
        return frozenset(_to_trigger(v) for v in value)
    except TypeError:  # an unhashable element
        return candidate  # type: ignore[return-value]  # reported by the validator


def _check_triggers(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, frozenset) or not value:
        raise InvalidModelError("CrmRule", attribute.name, "give at least one trigger (R1)")
    for trigger in value:
        member(CrmTrigger)(instance, attribute, trigger)


@attrs.frozen(kw_only=True)
class CrmRule:
    """An automation rule (R1, R2): interactions of these triggers on this network go
    through the branches in order, and the first branch whose conditions hold applies.

    Attributes:
        id: The rule's id, reported with its decisions.
        network: ``twitter`` or ``facebook``.
        triggers: What the rule reacts to; only the network's own triggers
            (:data:`CRM_TRIGGERS`).
        branches: The branches, in order (at least one).
        enabled: A disabled rule is kept but applies to nothing.
        name: What the rule is for.
    """

    id: str = attrs.field(validator=identifier)
    network: str = attrs.field(validator=_crm_network)
    triggers: frozenset[CrmTrigger] = attrs.field(converter=_to_triggers, validator=_check_triggers)
    branches: tuple[CrmBranch, ...] = attrs.field(converter=to_tuple, validator=tuple_of(CrmBranch))
    enabled: bool = attrs.field(default=True, validator=instance_of(bool))
    name: str = attrs.field(default="", validator=_name)

    def __attrs_post_init__(self) -> None:
        offered = CRM_TRIGGERS[self.network]
        source = LEAD_SOURCES[self.network]
        refused = sorted(t.value for t in self.triggers - offered)
        if refused:
            raise InvalidModelError(
                "CrmRule",
                "triggers",
                f"rule {self.id}: {', '.join(refused)} is not a {source} trigger; "
                f"{self.network} offers {_network_triggers(self.network)} (R1)",
            )
        if not self.branches:
            raise InvalidModelError("CrmRule", "branches", f"rule {self.id}: give a branch (R2)")
        if len(self.branches) > MAX_BRANCHES:
            raise InvalidModelError(
                "CrmRule", "branches", f"rule {self.id}: more than {MAX_BRANCHES} branches"
            )
        for number, branch in enumerate(self.branches, start=1):
            for condition in branch.conditions:
                self._check_reachable(number, condition)

    def _check_reachable(self, number: int, condition: CrmCondition) -> None:
        # A condition that can never hold for this rule is a mistake to report, not a branch
        # to keep silently dead.
        where = f"rule {self.id}, branch {number}"
        values = frozenset(condition.values)
        if condition.field is ConditionField.TRIGGER:
            foreign = sorted(values - {t.value for t in self.triggers})
            if foreign:
                raise InvalidModelError(
                    "CrmRule",
                    "branches",
                    f"{where}: the condition names {', '.join(foreign)}, which this rule does "
                    f"not react to (its triggers: "
                    f"{', '.join(sorted(t.value for t in self.triggers))})",
                )
            if condition.op is ConditionOp.NOT_IN and {t.value for t in self.triggers} <= values:
                raise InvalidModelError(
                    "CrmRule", "branches", f"{where}: the trigger condition can never hold"
                )
        if condition.field is ConditionField.NETWORK:
            holds = (self.network in values) == (condition.op is ConditionOp.IN)
            if not holds:
                raise InvalidModelError(
                    "CrmRule",
                    "branches",
                    f"{where}: the network condition can never hold in a {self.network} rule",
                )

    def watches(self, interaction: SocialInteraction) -> bool:
        """True when the rule is enabled and reacts to ``interaction``'s network and trigger."""
        return (
            self.enabled
            and interaction.network == self.network
            and interaction.trigger in self.triggers
        )


def _to_rules(value: object) -> object:
    return to_tuple(value)


@attrs.frozen(kw_only=True)
class CrmSettings:
    """What a social admin configures for the CRM integration (R1, R2, R9). Change it with
    :func:`deskcore.policies.update_crm_settings`, which checks the role.

    Attributes:
        enabled: The integration is on; while off, interactions add and link nobody.
        rules: The automation rules, in order: the first rule that watches an interaction and
            has a branch whose conditions hold decides.
    """

    enabled: bool = attrs.field(default=False, validator=instance_of(bool))
    rules: tuple[CrmRule, ...] = attrs.field(
        default=(), converter=_to_rules, validator=tuple_of(CrmRule)
    )

    def __attrs_post_init__(self) -> None:
        if len(self.rules) > MAX_RULES:
            raise InvalidModelError("CrmSettings", "rules", f"more than {MAX_RULES} rules")
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise InvalidModelError("CrmSettings", "rules", f"rule id {rule.id!r} twice")
            seen.add(rule.id)


# -- CRM records (R3-R5) --------------------------------------------------------------------------


def _profiles(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    tuple_of(SocialProfile)(instance, attribute, value)
    assert isinstance(value, tuple)
    keys = [(p.network, p.id) for p in value]
    if len(set(keys)) != len(keys):
        raise InvalidModelError(
            type(instance).__name__, attribute.name, "a social profile is linked twice"
        )


def _optional_label(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _label(instance, attribute, value)


@attrs.frozen(kw_only=True)
class NewCrmRecord:
    """A lead or contact to create for a social profile (R2, R3).

    Attributes:
        kind: ``lead`` or ``contact``.
        profile: The profile the record is created for; the CRM links it at creation.
        name: The record's name; the profile's name when created by automation.
        lead_source: ``Twitter`` or ``Facebook`` for records added from social media (R3).
        owner_id: The owner (R2); ``None`` leaves it to the CRM's default.
    """

    kind: CrmRecordKind = attrs.field(converter=_to_kind, validator=member(CrmRecordKind))
    profile: SocialProfile = attrs.field(validator=instance_of(SocialProfile))
    name: str = attrs.field(validator=_name)
    lead_source: str | None = attrs.field(default=None, validator=_optional_label)
    owner_id: str | None = attrs.field(default=None, validator=optional_identifier)


@attrs.frozen(kw_only=True)
class CrmRecord:
    """A lead or contact as the host's CRM keeps it, with the social profiles linked to it.

    Attributes:
        id: The CRM's id.
        kind: ``lead`` or ``contact``.
        name: The record's name.
        lead_source: Where it came from (``Twitter``, ``Facebook``, or the CRM's own values);
            filter social leads by it (R3).
        owner_id: Its owner.
        profiles: The social profiles linked to it (R4, R5); a profile is linked to at most
            one record.
    """

    id: str = attrs.field(validator=identifier)
    kind: CrmRecordKind = attrs.field(converter=_to_kind, validator=member(CrmRecordKind))
    name: str = attrs.field(default="", validator=_name)
    lead_source: str | None = attrs.field(default=None, validator=_optional_label)
    owner_id: str | None = attrs.field(default=None, validator=optional_identifier)
    profiles: tuple[SocialProfile, ...] = attrs.field(
        default=(), converter=to_tuple, validator=_profiles
    )

    def has_profile(self, profile: SocialProfile) -> bool:
        """True when ``profile`` (by network and id) is linked to this record."""
        return any(p.network == profile.network and p.id == profile.id for p in self.profiles)


# -- posts (R7) -----------------------------------------------------------------------------------

_MIB = 1024 * 1024

MAX_IMAGE_BYTES: Mapping[str, int] = MappingProxyType({"twitter": 5 * _MIB, "facebook": 25 * _MIB})
"""The largest image a post may carry, in bytes, per network (R7): 5 MB on Twitter, 25 MB on
Facebook, counting a megabyte as 1,048,576 bytes (decision 50)."""

MAX_POST_IMAGES = 1
"""How many images a post may carry (R7)."""


def _non_negative_size(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INT:
        raise InvalidModelError(
            "PostImage",
            attribute.name,
            f"{value!r}: a size is a whole number of bytes from 0",
        )


@attrs.frozen(kw_only=True)
class PostImage:
    """An image attached to a post.

    Attributes:
        name: The file name, for messages.
        size_bytes: Its size in bytes.
    """

    name: str = attrs.field(validator=_name)
    size_bytes: int = attrs.field(validator=_non_negative_size)


@attrs.frozen(kw_only=True)
class PostDraft:
    """A post the brand is about to publish from the social tab (R7). Check it with
    :func:`deskcore.policies.check_post`.

    Attributes:
        network: ``twitter`` or ``facebook``.
        text: The text.
        images: The attached images.
    """

    network: str = attrs.field(validator=_crm_network)
    text: str = attrs.field(default="", validator=text(MAX_SOCIAL_TEXT_LENGTH))
    images: tuple[PostImage, ...] = attrs.field(
        default=(), converter=to_tuple, validator=tuple_of(PostImage)
    )


# -- monitoring columns (R8) ----------------------------------------------------------------------


class MonitoringColumnKind(enum.StrEnum):
    """What a monitoring column shows (R8)."""

    MENTIONS = "mentions"
    TIMELINE = "timeline"
    LIKES = "likes"
    KEYWORD_SEARCH = "keyword_search"
    USER_SEARCH = "user_search"
    LISTS = "lists"
    PAGE_MENTIONS = "page_mentions"


MONITORING_COLUMN_KINDS: Mapping[str, frozenset[MonitoringColumnKind]] = MappingProxyType(
    {
        "twitter": frozenset(
            {
                MonitoringColumnKind.MENTIONS,
                MonitoringColumnKind.TIMELINE,
                MonitoringColumnKind.LIKES,
                MonitoringColumnKind.KEYWORD_SEARCH,
                MonitoringColumnKind.USER_SEARCH,
                MonitoringColumnKind.LISTS,
            }
        ),
        "facebook": frozenset({MonitoringColumnKind.PAGE_MENTIONS}),
    }
)
"""The columns each network offers (R8). Searches (keyword and user) are Twitter's only: only
Twitter searches can be saved as columns."""

SEARCH_COLUMN_KINDS = frozenset(
    {MonitoringColumnKind.KEYWORD_SEARCH, MonitoringColumnKind.USER_SEARCH}
)
"""The column kinds that are saved searches (R8)."""


def _to_column_kind(value: MonitoringColumnKind | str) -> MonitoringColumnKind:
    return lenient(MonitoringColumnKind, value)


@attrs.frozen(kw_only=True)
class MonitoringColumn:
    """A column of the monitoring tab (R8).

    Attributes:
        id: The column's id.
        network: ``twitter`` or ``facebook``.
        kind: What it shows; only what the network offers (:data:`MONITORING_COLUMN_KINDS`).
        query: The saved search's words or user (search columns only, required there).
        list_id: The Twitter list shown (``lists`` columns only, required there).
    """

    KINDS: ClassVar[Mapping[str, frozenset[MonitoringColumnKind]]] = MONITORING_COLUMN_KINDS

    id: str = attrs.field(validator=identifier)
    network: str = attrs.field(validator=_crm_network)
    kind: MonitoringColumnKind = attrs.field(
        converter=_to_column_kind,
        validator=member(MonitoringColumnKind),
    )
    query: str | None = attrs.field(default=None, validator=_optional_label)
    list_id: str | None = attrs.field(default=None, validator=optional_identifier)

    def __attrs_post_init__(self) -> None:
        def bad(field: str, reason: str) -> InvalidModelError:
            return InvalidModelError("MonitoringColumn", field, f"column {self.id}: {reason}")

        offered = MONITORING_COLUMN_KINDS[self.network]
        if self.kind not in offered:
            if self.kind in SEARCH_COLUMN_KINDS:
                raise bad(
                    "kind",
                    f"only Twitter searches can be saved as columns, not {self.network} (R8)",
                )
            raise bad(
                "kind",
                f"{self.network} offers {', '.join(sorted(k.value for k in offered))} columns, "
                f"not {self.kind.value} (R8)",
            )
        searching = self.kind in SEARCH_COLUMN_KINDS
        if searching and (self.query is None or not self.query.strip()):
            raise bad("query", f"a {self.kind.value} column needs the words it searches for")
        if not searching and self.query is not None:
            raise bad("query", f"a {self.kind.value} column takes no query")
        listing = self.kind is MonitoringColumnKind.LISTS
        if listing and self.list_id is None:
            raise bad("list_id", "a lists column needs the list it shows")
        if not listing and self.list_id is not None:
            raise bad("list_id", f"a {self.kind.value} column takes no list")


# -- events (R6) ----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CrmRecordAdded:
    """A lead or contact was added for a social profile (R2, R3), by an automation rule or by
    a user from the social tab.

    Attributes:
        record_id: The new record.
        kind: ``lead`` or ``contact``.
        profile: The profile it was added for (and linked to).
        lead_source: The record's lead source (R3).
        owner_id: Its owner.
        actor_id: The user who added it; ``None`` when an automation rule did.
        rule_id: The rule that added it (automation only).
        branch: The rule's branch that applied, counted from 1 (automation only).
        reference: The interaction that triggered it (automation only).
        at: When.
    """

    name: ClassVar[str] = "crm.record_added"

    record_id: str = attrs.field(validator=identifier)
    kind: CrmRecordKind = attrs.field(converter=_to_kind, validator=member(CrmRecordKind))
    profile: SocialProfile = attrs.field(validator=instance_of(SocialProfile))
    lead_source: str | None = attrs.field(default=None, validator=_optional_label)
    owner_id: str | None = attrs.field(default=None, validator=optional_identifier)
    actor_id: str | None = attrs.field(default=None, validator=optional_identifier)
    rule_id: str | None = attrs.field(default=None, validator=optional_identifier)
    branch: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(positive_int)
    )
    reference: ExternalReference | None = attrs.field(
        default=None, validator=attrs.validators.optional(instance_of(ExternalReference))
    )
    at: datetime = attrs.field(converter=fixed_offset, validator=aware)


@attrs.frozen(kw_only=True)
class CrmProfileLinked:
    """A user linked a social profile to an existing lead or contact by hand (R5).

    Attributes:
        record_id: The record.
        profile: The profile linked.
        actor_id: The user who linked it.
        at: When.
    """

    name: ClassVar[str] = "crm.profile_linked"

    record_id: str = attrs.field(validator=identifier)
    profile: SocialProfile = attrs.field(validator=instance_of(SocialProfile))
    actor_id: str | None = attrs.field(default=None, validator=optional_identifier)
    at: datetime = attrs.field(converter=fixed_offset, validator=aware)


@attrs.frozen(kw_only=True)
class CrmInteractionLinked:
    """An interaction was linked to the lead or contact of its profile (R4), so it shows in
    the record's social list (R5).

    Attributes:
        record_id: The record.
        reference: The interaction.
        trigger: What the person did.
        actor_id: ``None``: linked by the automation.
        at: When it was linked.
    """

    name: ClassVar[str] = "crm.interaction_linked"

    record_id: str = attrs.field(validator=identifier)
    reference: ExternalReference = attrs.field(validator=instance_of(ExternalReference))
    trigger: CrmTrigger = attrs.field(converter=_to_trigger, validator=member(CrmTrigger))
    actor_id: str | None = attrs.field(default=None, validator=optional_identifier)
    at: datetime = attrs.field(converter=fixed_offset, validator=aware)


CrmEvent = CrmRecordAdded | CrmProfileLinked | CrmInteractionLinked
"""Any CRM event."""
