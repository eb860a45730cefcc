"""Notification routing rules and templates (N1, N2): settings as plain data."""

from __future__ import annotations

import enum
import string
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from deskcore.errors import InvalidModelError
from deskcore.models._frozen import FrozenMap
from deskcore.models._validate import (
    MAX_TEXT_LENGTH,
    id_tuple,
    identifier,
    instance_of,
    lenient,
    member,
    text,
    to_tuple,
    tuple_of,
)

__all__ = ["TEMPLATE_VALUES", "Audience", "NotificationSettings", "RoutingRule", "Template"]

MAX_PHRASE_LENGTH = 1000
"""The longest phrase a routing rule may hold (as :data:`deskcore.policies.keywords.
MAX_KEYWORD_LENGTH`)."""


class Audience(enum.StrEnum):
    """Who a routing rule notifies (N1)."""

    ALL_AGENTS = "all_agents"
    """Every agent the caller lists."""
    NAMED = "named"
    """The rule's ``agent_ids``."""
    PHRASE = "phrase"
    """The rule's ``agent_ids``, when the text contains one of its phrases (W1-W3)."""


def _to_audience(value: Audience | str) -> Audience:
    return lenient(Audience, value)


def _phrases(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple):
        raise InvalidModelError(
            type(instance).__name__,
            attribute.name,
            f"expected a sequence of phrases, got {type(value).__name__}",
        )
    check = text(MAX_PHRASE_LENGTH)
    for phrase in value:
        check(instance, attribute, phrase)
        # The blank check of KeywordRule (W1), which compiles these phrases later.
        if not unicodedata.normalize("NFKC", phrase).casefold().strip():
            raise InvalidModelError(
                type(instance).__name__, attribute.name, f"phrase {phrase!r} is blank"
            )


@attrs.frozen(kw_only=True)
class RoutingRule:
    """Who hears of an event (N1).

    Attributes:
        id: The rule's id, reported as the reason of each notification it sends.
        audience: ``all_agents``, ``named`` or ``phrase``.
        agent_ids: Who a ``named`` or ``phrase`` rule notifies (none for ``all_agents``).
        phrases: For a ``phrase`` rule, the phrases that fire it, matched as keywords are
            (W1-W3: NFKC and case folding, CJK anywhere, other scripts on word boundaries).
        prefix: Phrases in scripts with spaces also match at the start of a longer word.
        event_kinds: The events the rule applies to (``ticket_created``,
            ``social_item``...); empty for every event.
    """

    id: str = attrs.field(validator=identifier)
    audience: Audience = attrs.field(converter=_to_audience, validator=member(Audience))
    agent_ids: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=id_tuple)
    phrases: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=_phrases)
    prefix: bool = attrs.field(default=False, validator=instance_of(bool))
    event_kinds: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=id_tuple)

    def __attrs_post_init__(self) -> None:
        def bad(field: str, reason: str) -> InvalidModelError:
            return InvalidModelError("RoutingRule", field, f"rule {self.id}: {reason}")

        if self.audience is Audience.ALL_AGENTS and self.agent_ids:
            raise bad("agent_ids", "an all_agents rule names no agents")
        if self.audience is not Audience.ALL_AGENTS and not self.agent_ids:
            raise bad("agent_ids", f"a {self.audience.value} rule needs at least one agent")
        if self.audience is Audience.PHRASE and not self.phrases:
            raise bad("phrases", "a phrase rule needs at least one phrase")
        if self.audience is not Audience.PHRASE and self.phrases:
            raise bad("phrases", f"only phrase rules have phrases, not {self.audience.value}")

    def applies_to(self, event_kind: str) -> bool:
        """True when the rule covers ``event_kind``."""
        return not self.event_kinds or event_kind in self.event_kinds


def _template_text(limit: int) -> Any:
    check = text(limit)

    def validate(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        check(instance, attribute, value)
        assert isinstance(value, str)
        if not string.Template(value).is_valid():
            raise InvalidModelError(
                "Template",
                attribute.name,
                "a '$' must start a placeholder ($name or ${name}, name of ASCII letters, "
                "digits and '_') or be doubled ($$) for a literal '$'",
            )

    return validate


@attrs.frozen(kw_only=True)
class Template:
    """A notification's content, which the host can change (N2).

    ``$name`` and ``${name}`` are placeholders, ``$$`` is a literal ``$``
    (:class:`string.Template` syntax); nothing else is special, so ``{0.__class__}`` is
    plain text. Placeholders are names looked up in the values given at rendering, never
    expressions: no attribute access, no indexing, no format specs, no code.

    Attributes:
        id: The template's id, named in rendering errors.
        subject: The subject line (at most 1,000 characters).
        body: The body.
    """

    id: str = attrs.field(validator=identifier)
    subject: str = attrs.field(default="", validator=_template_text(1000))
    body: str = attrs.field(default="", validator=_template_text(MAX_TEXT_LENGTH))

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The placeholder names of the subject and the body, sorted, each once."""
        names = string.Template(self.subject).get_identifiers()
        names += string.Template(self.body).get_identifiers()
        return tuple(sorted(set(names)))


TEMPLATE_VALUES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        kind: frozenset(
            {"event", "ticket_id", "number", "subject", "channel", "department", "priority"} | extra
        )
        for kind, extra in {
            "ticket_created": {"text", "contact"},
            "message_received": {"text", "contact"},
            "sla_warning": {"metric", "due_at", "remaining"},
            "sla_breach": {"metric", "due_at", "breached_by"},
        }.items()
    }
)
"""The events the desk notifies of (N1, SL6) and the placeholders their templates may use.

``ticket_created``: a new ticket (from any channel, a social item included);
``message_received``: a customer message added to an existing ticket; ``sla_warning`` and
``sla_breach``: a service-level warning or breach (SL6)."""


def _to_rules(value: object) -> object:
    return to_tuple(value)


def _to_templates(value: object) -> object:
    if isinstance(value, FrozenMap):
        return value
    if isinstance(value, Mapping):
        return FrozenMap(value)
    return value


@attrs.frozen(kw_only=True)
class NotificationSettings:
    """Who hears of what, and what they read (N1, N2): what the desk's notifying use cases
    need.

    Attributes:
        rules: The routing rules, in order (N1).
        agents: Every agent, for ``all_agents`` rules.
        templates: Event kind (a key of :data:`TEMPLATE_VALUES`) to its template; an event
            without one gives notifications without content.

    Raises:
        InvalidModelError: Rule ids repeat, a template is for an unknown event, or uses a
            placeholder its event does not give (checked here, so rendering never fails).
    """

    rules: tuple[RoutingRule, ...] = attrs.field(
        default=(), converter=_to_rules, validator=tuple_of(RoutingRule)
    )
    agents: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=id_tuple)
    templates: FrozenMap[str, Template] = attrs.field(factory=FrozenMap, converter=_to_templates)

    @templates.validator
    def _check_templates(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, FrozenMap):
            raise InvalidModelError(
                "NotificationSettings", "templates", f"expected a mapping, got {value!r}"
            )
        for kind, template in value.items():
            if kind not in TEMPLATE_VALUES:
                raise InvalidModelError(
                    "NotificationSettings",
                    "templates",
                    f"no event {kind!r} to notify of; known: {sorted(TEMPLATE_VALUES)}",
                )
            if not isinstance(template, Template):
                raise InvalidModelError(
                    "NotificationSettings",
                    "templates",
                    f"{kind}: expected a Template, got {type(template).__name__}",
                )
            unknown = sorted(set(template.placeholders) - TEMPLATE_VALUES[kind])
            if unknown:
                raise InvalidModelError(
                    "NotificationSettings",
                    "templates",
                    f"template {template.id} for {kind} uses {', '.join(unknown)}, which "
                    f"{kind} does not give; it gives {', '.join(sorted(TEMPLATE_VALUES[kind]))}",
                )

    def __attrs_post_init__(self) -> None:
        ids = [rule.id for rule in self.rules]
        if len(set(ids)) != len(ids):
            raise InvalidModelError("NotificationSettings", "rules", "a rule id repeats")
