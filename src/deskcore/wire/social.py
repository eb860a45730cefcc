"""Social items and social settings as JSON (S1-S5, H1, H3; P6).

:class:`SocialItemEvent` is the payload a host posts for one item from the social tool;
:func:`parse_social_item` parses it and :meth:`SocialItemEvent.to_item` gives the domain's
:class:`~deskcore.models.SocialItem`. :class:`SocialSettingsDocument` is the social admin's
settings (rules with keywords, convertible networks, threading, append interval), as a host
stores them. Both are strict: unknown fields, wrong JSON types, naive times, texts over the
limit and lone surrogates are :class:`pydantic.ValidationError`\\ s, and so is anything the
domain models would refuse (a Twitter rule for comments, a direct message without its
conversation), so whatever parses converts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, Strict, StringConstraints, model_validator

from deskcore.errors import InvalidModelError
from deskcore.models.refs import ExternalReference
from deskcore.models.social import (
    DEFAULT_CONVERTIBLE_NETWORKS,
    MAX_KEYWORD_LENGTH,
    MAX_KEYWORDS_PER_RULE,
    MAX_SOCIAL_TEXT_LENGTH,
    AutoRule,
    SocialItem,
    SocialItemKind,
    SocialProfile,
    SocialSettings,
    SocialSource,
    ThreadingMode,
    ThreadingPolicy,
    ThreadingRule,
)
from deskcore.wire._types import Code, FromList, Identifier, Label, Timestamp, WireModel
from deskcore.wire.inbound import ReferencePayload

__all__ = [
    "AutoRulePayload",
    "SocialItemEvent",
    "SocialProfilePayload",
    "SocialSettingsDocument",
    "ThreadingRulePayload",
    "parse_social_item",
    "parse_social_settings",
]

MAX_RULES = 1000
"""Most automatic rules one settings document may hold."""

MAX_HOURS = 24 * 366 * 10
"""Longest window or interval, in hours: ten years."""

SocialText = Annotated[str, StringConstraints(max_length=MAX_SOCIAL_TEXT_LENGTH)]
Keyword = Annotated[str, StringConstraints(min_length=1, max_length=MAX_KEYWORD_LENGTH)]
KindField = Annotated[SocialItemKind, Strict(False)]
Hours = Annotated[float, Field(ge=0, le=MAX_HOURS)]


def _refusal(error: InvalidModelError) -> ValueError:
    # A domain refusal becomes a validation error with the domain's own message.
    return ValueError(error.message)


class SocialProfilePayload(WireModel):
    """A person or page on a social network."""

    network: Code
    """The network code: ``facebook``, ``twitter``, or another lowercase code."""
    id: Identifier
    """The network's own id of the profile."""
    handle: Label = ""
    """The handle (``@yamada``)."""
    display_name: Label = ""
    """The name the network shows."""


class SocialItemEvent(WireModel):
    """One post, comment, mention, reply or private message from the social tool (S1).

    Strict: wrong JSON types and unknown fields are errors, ``created_at`` must carry a UTC
    offset (T1), and ``text`` is at most 100,000 characters.
    """

    reference: ReferencePayload
    """The item's reference: network, the brand's channel account, the platform's object type
    (``tweet``, ``dm``, ``post``, ``comment``) and the native id. Intake claims it (P3)."""
    kind: KindField
    """``visitor_post``, ``post`` (the brand's), ``comment``, ``mention``, ``reply``,
    ``direct_message``, ``retweet`` or ``like``."""
    source: Annotated[SocialSource, Strict(False)] = SocialSource.MONITORING
    """``monitoring``, ``activity``, ``private_messages`` or ``brand_posts`` (S1)."""
    author: SocialProfilePayload
    """Who wrote it."""
    text: SocialText = ""
    """The text, at most 100,000 characters; may be empty."""
    created_at: Timestamp
    """When it was posted: ISO 8601 with a UTC offset (T1)."""
    conversation_id: Identifier | None = None
    """The private conversation of a direct message (required for them, H1)."""
    parent_id: Identifier | None = None
    """The native id of the post or comment this one answers (public items)."""
    root_id: Identifier | None = None
    """The native id of the post that starts the public thread (H1)."""
    brand_own: bool = False
    """The brand wrote it; never converted (S6)."""
    contact_id: Identifier | None = None
    """The host's contact for the author, when it linked one."""
    edited: bool = False
    """The platform reports this item as an edit of the one with the same reference."""

    @model_validator(mode="after")
    def _valid_item(self) -> SocialItemEvent:
        try:
            self.to_item()
        except InvalidModelError as error:
            raise _refusal(error) from None
        return self

    def to_item(self) -> SocialItem:
        """The domain item."""
        ref = self.reference
        return SocialItem(
            reference=ExternalReference(
                network=ref.network, account=ref.account, kind=ref.kind, native_id=ref.native_id
            ),
            kind=self.kind,
            source=self.source,
            author=SocialProfile(
                network=self.author.network,
                id=self.author.id,
                handle=self.author.handle,
                display_name=self.author.display_name,
            ),
            text=self.text,
            created_at=self.created_at,
            conversation_id=self.conversation_id,
            parent_id=self.parent_id,
            root_id=self.root_id,
            brand_own=self.brand_own,
            contact_id=self.contact_id,
            edited=self.edited,
        )


def parse_social_item(data: bytes | bytearray | str | Mapping[str, Any]) -> SocialItemEvent:
    """Parse one social item at the edge (P6).

    Raises:
        pydantic.ValidationError: The data is not valid JSON (invalid escapes and lone
            surrogates included) or not a valid social item.
    """
    if isinstance(data, bytes | bytearray | str):
        return SocialItemEvent.model_validate_json(data)
    return SocialItemEvent.model_validate(dict(data) if isinstance(data, Mapping) else data)


# -- settings -------------------------------------------------------------------------------------


class AutoRulePayload(WireModel):
    """One automatic ticket-creation rule (S4)."""

    id: Identifier
    """The rule's id."""
    network: Code
    """The network it watches."""
    kinds: Annotated[tuple[KindField, ...], FromList, Field(min_length=1, max_length=8)]
    """The item kinds it converts (Facebook: ``visitor_post``, ``comment``,
    ``direct_message``; Twitter: ``mention``, ``reply``, ``direct_message``)."""
    keywords: Annotated[tuple[Keyword, ...], FromList, Field(max_length=MAX_KEYWORDS_PER_RULE)] = ()
    """The keywords; compared after NFKC normalisation and case folding (W1)."""
    prefix: bool = False
    """Keywords in spaced scripts also match the start of a longer word (W2)."""
    match_all: bool = False
    """Every item of the kinds converts: "all messages", for private messages only (S5)."""
    department_id: Identifier | None = None
    """Where the tickets go; the settings' default department when absent."""


class ThreadingRulePayload(WireModel):
    """What a new item does when its conversation's ticket is closed (H3)."""

    mode: Annotated[ThreadingMode, Strict(False)] = ThreadingMode.REOPEN_WITHIN
    """``always_reopen``, ``always_new`` or ``reopen_within``."""
    window_hours: Hours = 24
    """How long after closing a new item still reopens (``reopen_within``)."""


class SocialSettingsDocument(WireModel):
    """The social admin's settings, as a host stores them (S2, S4, S5, H3).

    Changing them is for social admins only (S8): pass the parsed settings to
    :func:`deskcore.policies.update_social_settings`.
    """

    schema_version: Literal[1] = 1
    """The version of this document format."""
    rules: Annotated[tuple[AutoRulePayload, ...], FromList, Field(max_length=MAX_RULES)] = ()
    """The automatic rules, in order: the first matching rule decides (S4)."""
    convertible_networks: Annotated[tuple[Code, ...], FromList, Field(max_length=100)] = tuple(
        sorted(DEFAULT_CONVERTIBLE_NETWORKS)
    )
    """Networks whose items convert at all (S2)."""
    threading: ThreadingRulePayload = ThreadingRulePayload()
    """The threading rule of every kind ``threading_by_kind`` does not list (H3)."""
    threading_by_kind: dict[KindField, ThreadingRulePayload] = Field(
        default_factory=dict, max_length=8
    )
    """Threading rules for particular kinds (H3)."""
    append_interval_hours: Annotated[float, Field(gt=0, le=MAX_HOURS)] | None = None
    """How often converted private conversations are checked for new messages (S5)."""
    default_department_id: Identifier | None = None
    """Department of tickets whose rule names none."""

    @model_validator(mode="after")
    def _valid_settings(self) -> SocialSettingsDocument:
        try:
            self.to_settings()
        except InvalidModelError as error:
            raise _refusal(error) from None
        return self

    def to_settings(self) -> SocialSettings:
        """The domain settings."""
        return SocialSettings(
            rules=tuple(
                AutoRule(
                    id=rule.id,
                    network=rule.network,
                    kinds=rule.kinds,
                    keywords=rule.keywords,
                    prefix=rule.prefix,
                    match_all=rule.match_all,
                    department_id=rule.department_id,
                )
                for rule in self.rules
            ),
            convertible_networks=self.convertible_networks,
            threading=ThreadingPolicy(
                default=_threading_rule(self.threading),
                by_kind={k: _threading_rule(v) for k, v in self.threading_by_kind.items()},
            ),
            append_interval=None
            if self.append_interval_hours is None
            else timedelta(hours=self.append_interval_hours),
            default_department_id=self.default_department_id,
        )

    @classmethod
    def from_domain(cls, settings: SocialSettings) -> SocialSettingsDocument:
        """The document of ``settings``, ready to store; ``to_settings`` gives them back."""
        interval = settings.append_interval
        return cls.model_validate(
            {
                "rules": [
                    {
                        "id": rule.id,
                        "network": rule.network,
                        "kinds": sorted(k.value for k in rule.kinds),
                        "keywords": list(rule.keywords),
                        "prefix": rule.prefix,
                        "match_all": rule.match_all,
                        "department_id": rule.department_id,
                    }
                    for rule in settings.rules
                ],
                "convertible_networks": sorted(settings.convertible_networks),
                "threading": _threading_payload(settings.threading.default),
                "threading_by_kind": {
                    kind.value: _threading_payload(rule)
                    for kind, rule in settings.threading.by_kind.items()
                },
                "append_interval_hours": None if interval is None else _hours(interval),
                "default_department_id": settings.default_department_id,
            }
        )


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def _threading_rule(payload: ThreadingRulePayload) -> ThreadingRule:
    return ThreadingRule(mode=payload.mode, window=timedelta(hours=payload.window_hours))


def _threading_payload(rule: ThreadingRule) -> dict[str, object]:
    return {"mode": rule.mode.value, "window_hours": _hours(rule.window)}


def parse_social_settings(
    data: bytes | bytearray | str | Mapping[str, Any],
) -> SocialSettingsDocument:
    """Parse the social settings document at the edge (P6).

    Raises:
        pydantic.ValidationError: The document is malformed, has unknown fields or values the
            domain refuses (a rule for a kind its network does not allow, S4).
    """
    if isinstance(data, bytes | bytearray | str):
        return SocialSettingsDocument.model_validate_json(data)
    return SocialSettingsDocument.model_validate(dict(data))
