"""Social items from the brand's connected accounts, and the rules that turn them into tickets
(S1-S8, H1, H3).

A :class:`SocialItem` is one post, comment, mention, reply or private message as the social
tool reports it. :class:`SocialSettings` holds what an admin configures: the automatic rules
(S4), the networks that convert at all (S2), the threading policy (H3) and the append interval
for private messages (S5). The decisions live in :mod:`deskcore.policies.social`.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

import attrs

from deskcore.errors import InvalidModelError
from deskcore.models._frozen import FrozenMap
from deskcore.models._validate import (
    MAX_ID_LENGTH,
    aware,
    fixed_offset,
    identifier,
    instance_of,
    lenient,
    member,
    optional_aware,
    optional_fixed_offset,
    optional_identifier,
    text,
    tuple_of,
)
from deskcore.models.refs import ExternalReference

__all__ = [
    "AUTO_RULE_KINDS",
    "DEFAULT_CONVERTIBLE_NETWORKS",
    "MAX_SOCIAL_TEXT_LENGTH",
    "AutoRule",
    "SocialConversation",
    "SocialItem",
    "SocialItemKind",
    "SocialProfile",
    "SocialSettings",
    "SocialSource",
    "ThreadingMode",
    "ThreadingPolicy",
    "ThreadingRule",
]

MAX_SOCIAL_TEXT_LENGTH = 100_000
"""Longest text of a social item, in characters: above every network's own limit (Facebook's
63,206 is the largest), so nothing real is cut, while a megabyte of text is an error."""

MAX_KEYWORD_LENGTH = 1000
MAX_KEYWORDS_PER_RULE = 100_000

DEFAULT_CONVERTIBLE_NETWORKS = frozenset({"facebook", "twitter"})
"""The networks whose items convert into tickets unless a host says otherwise (S2)."""

_NETWORK = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")
_label = text(1000)


def _network(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not _NETWORK.match(value):
        raise InvalidModelError(
            type(instance).__name__,
            attribute.name,
            f"{value!r} is not a network code: use 1-64 lowercase letters, digits or '_', "
            "starting with a letter (facebook, twitter, instagram...)",
        )


class SocialItemKind(enum.StrEnum):
    """What a social item is."""

    VISITOR_POST = "visitor_post"
    """A post a visitor wrote on the brand's page (Facebook)."""
    POST = "post"
    """The brand's own post."""
    COMMENT = "comment"
    """A comment on a post (or on another comment)."""
    MENTION = "mention"
    """A public post that mentions the brand (an @mention on Twitter)."""
    REPLY = "reply"
    """A public reply in a thread (Twitter)."""
    DIRECT_MESSAGE = "direct_message"
    """A private message (Facebook message, Twitter direct message)."""
    RETWEET = "retweet"
    """A repost of another post: a reaction, never a ticket."""
    LIKE = "like"
    """A like: a reaction, never a ticket."""


class SocialSource(enum.StrEnum):
    """Where in the social tool an item was found (S1). Any source can be converted by hand."""

    MONITORING = "monitoring"
    """The monitoring stream: visitor posts, keyword matches, mentions, hashtags, posts by
    known leads and contacts."""
    ACTIVITY = "activity"
    """The latest-activity feed."""
    PRIVATE_MESSAGES = "private_messages"
    """Private messages."""
    BRAND_POSTS = "brand_posts"
    """Comments on and mentions of the brand's own posts."""


REACTION_KINDS = frozenset({SocialItemKind.RETWEET, SocialItemKind.LIKE})
"""Kinds that carry no message of their own: never converted, never appended."""

ROOT_KINDS = frozenset({SocialItemKind.VISITOR_POST, SocialItemKind.POST})
"""Kinds that start a public thread and have no parent."""

AUTO_RULE_KINDS: Mapping[str, frozenset[SocialItemKind]] = MappingProxyType(
    {
        "facebook": frozenset(
            {
                SocialItemKind.VISITOR_POST,
                SocialItemKind.COMMENT,
                SocialItemKind.DIRECT_MESSAGE,
            }
        ),
        "twitter": frozenset(
            {SocialItemKind.MENTION, SocialItemKind.REPLY, SocialItemKind.DIRECT_MESSAGE}
        ),
    }
)
"""The item kinds an automatic rule may convert, per network (S4). A network not listed (one
a host made convertible) may use every kind a customer writes: visitor posts, comments,
mentions, replies and direct messages."""

_CUSTOMER_KINDS = frozenset(SocialItemKind) - REACTION_KINDS - {SocialItemKind.POST}


def auto_rule_kinds(network: str) -> frozenset[SocialItemKind]:
    """The kinds an automatic rule for ``network`` may convert (S4)."""
    return AUTO_RULE_KINDS.get(network, _CUSTOMER_KINDS)


def _to_kind(value: SocialItemKind | str) -> SocialItemKind:
    return lenient(SocialItemKind, value)


def _to_source(value: SocialSource | str) -> SocialSource:
    return lenient(SocialSource, value)


@attrs.frozen(kw_only=True)
class SocialProfile:
    """A person or page on a social network: a follower, a fan, the brand itself.

    Attributes:
        network: The network code (``facebook``, ``twitter``).
        id: The network's own id of the profile.
        handle: The profile's handle (``@yamada``), if it has one.
        display_name: The name the network shows.
    """

    network: str = attrs.field(validator=_network)
    id: str = attrs.field(validator=identifier)
    handle: str = attrs.field(default="", validator=_label)
    display_name: str = attrs.field(default="", validator=_label)

    @property
    def name(self) -> str:
        """The display name, else the handle, else the id: what a person sees."""
        return self.display_name.strip() or self.handle.strip() or self.id

    @property
    def contact_id(self) -> str:
        """The contact id deskcore gives this profile when the host links none:
        ``<network>:<profile id>`` (a digest of it when that would be too long)."""
        candidate = f"{self.network}:{self.id}"
        if len(candidate) <= MAX_ID_LENGTH:
            return candidate
        return f"{self.network}:sha256-" + hashlib.sha256(self.id.encode("utf-8")).hexdigest()


def _item_text(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    text(MAX_SOCIAL_TEXT_LENGTH)(instance, attribute, value)


@attrs.frozen(kw_only=True)
class SocialItem:
    """One post, comment, mention, reply or private message, as the social tool reports it.

    Attributes:
        reference: The item's own external reference: ``network`` / the brand's channel
            account / the platform's object type / the native id. Intake claims it, so the
            item becomes at most one thread item on at most one ticket (S3, P3). Use the
            platform's object type (``tweet``, ``dm``, ``post``, ``comment``) as its kind, not
            the item kind, so the same tweet reported by two sources (a mention in monitoring,
            a reply in the activity feed) is recognised as one item.
        kind: What the item is.
        source: Where the social tool found it (S1).
        author: Who wrote it.
        text: The text, at most 100,000 characters (see :data:`MAX_SOCIAL_TEXT_LENGTH`).
            May be empty (a photo without a caption).
        created_at: When it was posted (aware).
        conversation_id: The private conversation a direct message belongs to (required for
            direct messages, refused on public items).
        parent_id: The native id of the post or comment this one answers (public items).
        root_id: The native id of the post that starts the public thread (public items).
        brand_own: The brand itself wrote it (its own post, or its reply); such items are
            never converted (S6). A ``post`` is always the brand's own.
        contact_id: The host's contact for the author, when it linked one; otherwise the
            profile's :attr:`SocialProfile.contact_id`.
        edited: The platform reports this item as an edit of the one with the same reference;
            it is stored as a revision (P3).
    """

    reference: ExternalReference = attrs.field(validator=instance_of(ExternalReference))
    kind: SocialItemKind = attrs.field(converter=_to_kind, validator=member(SocialItemKind))
    source: SocialSource = attrs.field(
        default=SocialSource.MONITORING, converter=_to_source, validator=member(SocialSource)
    )
    author: SocialProfile = attrs.field(validator=instance_of(SocialProfile))
    text: str = attrs.field(default="", validator=_item_text)
    created_at: datetime = attrs.field(converter=fixed_offset, validator=aware)
    conversation_id: str | None = attrs.field(default=None, validator=optional_identifier)
    parent_id: str | None = attrs.field(default=None, validator=optional_identifier)
    root_id: str | None = attrs.field(default=None, validator=optional_identifier)
    brand_own: bool = attrs.field(default=False, validator=instance_of(bool))
    contact_id: str | None = attrs.field(default=None, validator=optional_identifier)
    edited: bool = attrs.field(default=False, validator=instance_of(bool))

    def __attrs_post_init__(self) -> None:
        def bad(field: str, reason: str) -> InvalidModelError:
            return InvalidModelError("SocialItem", field, f"{self.reference}: {reason}")

        if not _NETWORK.match(self.reference.network):
            raise bad(
                "reference",
                f"network {self.reference.network!r} is not a network code (lowercase "
                "letters, digits or '_', starting with a letter)",
            )
        if self.author.network != self.network:
            raise bad(
                "author", f"the author is on {self.author.network}, the item on {self.network}"
            )
        if self.is_private:
            if self.conversation_id is None:
                raise bad("conversation_id", "a direct message needs its conversation id (H1)")
            if self.parent_id is not None or self.root_id is not None:
                raise bad("parent_id", "a direct message has no parent or root post")
        elif self.conversation_id is not None:
            raise bad(
                "conversation_id",
                "only direct messages have a conversation id; public items give root_id",
            )
        if self.kind in ROOT_KINDS and (self.parent_id is not None or self.root_id is not None):
            raise bad("parent_id", f"a {self.kind.value} starts its thread: no parent or root")

    @property
    def network(self) -> str:
        """The network (``facebook``, ``twitter``): the reference's network."""
        return self.reference.network

    @property
    def channel_account(self) -> str:
        """The brand's channel account the item came through: the reference's account."""
        return self.reference.account

    @property
    def native_id(self) -> str:
        """The platform's own id of the item."""
        return self.reference.native_id

    @property
    def is_private(self) -> bool:
        """A private message, not a public post."""
        return self.kind is SocialItemKind.DIRECT_MESSAGE

    @property
    def is_reaction(self) -> bool:
        """A retweet or a like: no message of its own."""
        return self.kind in REACTION_KINDS

    @property
    def is_brand_own(self) -> bool:
        """The brand wrote it: flagged so, or a ``post`` (always the brand's) (S6)."""
        return self.brand_own or self.kind is SocialItemKind.POST

    @property
    def conversation_key(self) -> ExternalReference:
        """The conversation the item belongs to (H1), as a reference a ticket can claim.

        - a direct message: ``network/account/conversation/<conversation id>``;
        - a public item: ``network/account/thread/<root>``, where the root is ``root_id``,
          else ``parent_id``, else the item itself (a standalone post or mention; a
          visitor's or the brand's post is always the root of its thread).

        The kinds ``conversation`` and ``thread`` are never an item's own reference kind, so
        a conversation's claim can always move from one ticket to another (H3).
        """
        if self.is_private:
            assert self.conversation_id is not None
            return ExternalReference(
                network=self.network,
                account=self.channel_account,
                kind="conversation",
                native_id=self.conversation_id,
            )
        root = self.root_id or self.parent_id or self.native_id
        return ExternalReference(
            network=self.network, account=self.channel_account, kind="thread", native_id=root
        )

    @property
    def author_contact_id(self) -> str:
        """The contact the item's ticket belongs to: ``contact_id``, else the profile's."""
        return self.contact_id or self.author.contact_id


# -- threading (H3) -------------------------------------------------------------------------------


class ThreadingMode(enum.StrEnum):
    """What a new item does when its conversation's ticket is closed (H3)."""

    ALWAYS_REOPEN = "always_reopen"
    """Append to the closed ticket and reopen it, however long ago it closed."""
    ALWAYS_NEW = "always_new"
    """Start a new ticket; the closed one keeps its history."""
    REOPEN_WITHIN = "reopen_within"
    """Reopen within ``window`` of the closing time; start a new ticket after it."""


def _to_mode(value: ThreadingMode | str) -> ThreadingMode:
    return lenient(ThreadingMode, value)


def _window(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, timedelta):
        raise InvalidModelError(
            type(instance).__name__,
            attribute.name,
            f"expected a timedelta, got {type(value).__name__}",
        )
    if value < timedelta(0):
        raise InvalidModelError(type(instance).__name__, attribute.name, f"{value} is negative")


@attrs.frozen(kw_only=True)
class ThreadingRule:
    """One threading choice (H3): a mode, and the window of ``reopen_within``.

    Attributes:
        mode: What happens when the conversation's ticket is closed.
        window: How long after closing a new item still reopens (``reopen_within`` only).
    """

    mode: ThreadingMode = attrs.field(
        default=ThreadingMode.REOPEN_WITHIN, converter=_to_mode, validator=member(ThreadingMode)
    )
    window: timedelta = attrs.field(default=timedelta(hours=24), validator=_window)


def _to_by_kind(
    value: Mapping[SocialItemKind | str, ThreadingRule] | None,
) -> FrozenMap[SocialItemKind, ThreadingRule]:
    if value is None:
        return FrozenMap()
    candidate: object = value
    if not isinstance(candidate, Mapping):
        return candidate  # type: ignore[return-value]  # reported by the validator
    return FrozenMap({_to_kind(k): v for k, v in value.items()})


def _check_by_kind(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, FrozenMap):
        raise InvalidModelError("ThreadingPolicy", attribute.name, "expected a mapping")
    kind = member(SocialItemKind)
    rule = instance_of(ThreadingRule)
    for key, item in value.items():
        kind(instance, attribute, key)
        rule(instance, attribute, item)


@attrs.frozen(kw_only=True)
class ThreadingPolicy:
    """Threading per item kind (H3); the default reopens within 24 hours of closing.

    Attributes:
        default: The rule for kinds ``by_kind`` does not list.
        by_kind: Rules for particular kinds (``{"direct_message": ThreadingRule(...)}``).
    """

    default: ThreadingRule = attrs.field(
        factory=ThreadingRule, validator=instance_of(ThreadingRule)
    )
    by_kind: FrozenMap[SocialItemKind, ThreadingRule] = attrs.field(
        factory=FrozenMap, converter=_to_by_kind, validator=_check_by_kind
    )

    def rule_for(self, kind: SocialItemKind) -> ThreadingRule:
        """The threading rule of items of ``kind``."""
        return self.by_kind.get(kind, self.default)


# -- automatic conversion (S4, S5) ----------------------------------------------------------------


def _to_kinds(value: Iterable[SocialItemKind | str]) -> frozenset[SocialItemKind]:
    candidate: object = value
    if isinstance(candidate, str) or not isinstance(candidate, Iterable):
        return candidate  # type: ignore[return-value]  # reported by the validator
    try:
        return frozenset(_to_kind(v) for v in value)
    except TypeError:  # an unhashable element
        return candidate  # type: ignore[return-value]  # reported by the validator


def _to_keywords(value: Iterable[str]) -> tuple[str, ...]:
    candidate: object = value
    if isinstance(candidate, str) or not isinstance(candidate, Iterable):
        return candidate  # type: ignore[return-value]  # reported by the validator
    return tuple(value)


_keyword_text = text(MAX_KEYWORD_LENGTH)


def _check_keywords(instance: AutoRule, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple):
        raise InvalidModelError("AutoRule", attribute.name, "expected a list of keywords")
    if len(value) > MAX_KEYWORDS_PER_RULE:
        raise InvalidModelError(
            "AutoRule", attribute.name, f"more than {MAX_KEYWORDS_PER_RULE} keywords"
        )
    for keyword in value:
        _keyword_text(instance, attribute, keyword)
        assert isinstance(keyword, str)
        if not keyword.strip():
            raise InvalidModelError("AutoRule", attribute.name, "a keyword must not be blank")


def _check_kinds(instance: AutoRule, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, frozenset) or not value:
        raise InvalidModelError("AutoRule", attribute.name, "give at least one item kind (S4)")
    for kind in value:
        member(SocialItemKind)(instance, attribute, kind)


@attrs.frozen(kw_only=True)
class AutoRule:
    """An automatic ticket-creation rule (S4): items of these kinds on this network whose
    text contains one of the keywords become tickets in the department.

    Attributes:
        id: The rule's id, reported with its matches (W5).
        network: The network the rule watches.
        kinds: The item kinds it converts; only those :data:`AUTO_RULE_KINDS` allows (Facebook:
            visitor posts, comments, messages; Twitter: mentions, replies, direct messages).
        keywords: The keywords, as the admin typed them. Compared after NFKC normalisation
            and case folding; words of spaced scripts match whole words (W1, W2).
        prefix: Keywords in spaced scripts also match the start of a longer word (W2).
        match_all: Every item of the kinds converts, whatever its text: the "all messages"
            choice for private messages (S5). Only for a rule whose kinds are direct messages.
        department_id: Where the tickets go; the settings' default department when ``None``.
    """

    id: str = attrs.field(validator=identifier)
    network: str = attrs.field(validator=_network)
    kinds: frozenset[SocialItemKind] = attrs.field(converter=_to_kinds, validator=_check_kinds)
    keywords: tuple[str, ...] = attrs.field(
        default=(), converter=_to_keywords, validator=_check_keywords
    )
    prefix: bool = attrs.field(default=False, validator=instance_of(bool))
    match_all: bool = attrs.field(default=False, validator=instance_of(bool))
    department_id: str | None = attrs.field(default=None, validator=optional_identifier)

    def __attrs_post_init__(self) -> None:
        allowed = auto_rule_kinds(self.network)
        refused = sorted(k.value for k in self.kinds - allowed)
        if refused:
            raise InvalidModelError(
                "AutoRule",
                "kinds",
                f"rule {self.id}: {', '.join(refused)} cannot convert automatically on "
                f"{self.network}; allowed: {', '.join(sorted(k.value for k in allowed))} (S4)",
            )
        if self.match_all and self.kinds != {SocialItemKind.DIRECT_MESSAGE}:
            raise InvalidModelError(
                "AutoRule",
                "match_all",
                f"rule {self.id}: 'all messages' is a choice for private messages only (S5)",
            )
        if not self.match_all and not self.keywords:
            raise InvalidModelError(
                "AutoRule",
                "keywords",
                f"rule {self.id}: give keywords, or match_all for all private messages (S4, S5)",
            )


def _to_rules(value: Iterable[AutoRule]) -> tuple[AutoRule, ...]:
    candidate: object = value
    if not isinstance(candidate, Iterable):
        return candidate  # type: ignore[return-value]  # reported by the validator
    return tuple(value)


def _to_networks(value: Iterable[str]) -> frozenset[str]:
    candidate: object = value
    if isinstance(candidate, str) or not isinstance(candidate, Iterable):
        return candidate  # type: ignore[return-value]  # reported by the validator
    try:
        return frozenset(value)
    except TypeError:  # an unhashable element
        return candidate  # type: ignore[return-value]  # reported by the validator


def _check_networks(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, frozenset):
        raise InvalidModelError("SocialSettings", attribute.name, "expected a set of networks")
    for network in value:
        _network(instance, attribute, network)


def _optional_interval(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    _window(instance, attribute, value)
    assert isinstance(value, timedelta)
    if value <= timedelta(0):
        raise InvalidModelError("SocialSettings", attribute.name, "the interval must be positive")


@attrs.frozen(kw_only=True)
class SocialSettings:
    """What a social admin configures (S2, S4, S5, H3). Change it with
    :func:`deskcore.policies.update_social_settings`, which checks the role (S8).

    Attributes:
        rules: The automatic rules, in order: the first matching rule decides (S4).
        convertible_networks: Networks whose items convert at all (S2); Facebook and Twitter
            by default.
        threading: What happens when a conversation's ticket is closed (H3).
        append_interval: How often converted private conversations are checked for new
            messages to append (S5); ``None``: no periodic check.
        default_department_id: Department of tickets whose rule names none; the desk's
            default when ``None`` too.
    """

    rules: tuple[AutoRule, ...] = attrs.field(
        default=(), converter=_to_rules, validator=tuple_of(AutoRule)
    )
    convertible_networks: frozenset[str] = attrs.field(
        default=DEFAULT_CONVERTIBLE_NETWORKS, converter=_to_networks, validator=_check_networks
    )
    threading: ThreadingPolicy = attrs.field(
        factory=ThreadingPolicy, validator=instance_of(ThreadingPolicy)
    )
    append_interval: timedelta | None = attrs.field(default=None, validator=_optional_interval)
    default_department_id: str | None = attrs.field(default=None, validator=optional_identifier)

    def __attrs_post_init__(self) -> None:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise InvalidModelError("SocialSettings", "rules", f"rule id {rule.id!r} twice")
            seen.add(rule.id)
            if rule.network not in self.convertible_networks:
                raise InvalidModelError(
                    "SocialSettings",
                    "rules",
                    f"rule {rule.id} is for {rule.network}, which is not a convertible "
                    "network (S2)",
                )

    def department_for(self, rule: AutoRule) -> str | None:
        """The department of tickets ``rule`` creates."""
        return rule.department_id or self.default_department_id


@attrs.frozen(kw_only=True)
class SocialConversation:
    """A private conversation that became a ticket, as the host keeps it for the periodic
    append check (S5).

    Attributes:
        conversation: The conversation's key (:attr:`SocialItem.conversation_key`).
        ticket_id: The ticket it became.
        last_checked_at: When new messages were last looked for; ``None``: never (due now).
    """

    conversation: ExternalReference = attrs.field(validator=instance_of(ExternalReference))
    ticket_id: str = attrs.field(validator=identifier)
    last_checked_at: datetime | None = attrs.field(
        default=None, converter=optional_fixed_offset, validator=optional_aware
    )
