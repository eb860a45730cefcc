"""Who hears of an event, and what they read (N1-N3).

N3: notifications are values. The core never sends anything: a service use case routes and
renders them with these functions and returns them to the host *after* its unit of work
commits, so nobody hears of a change that was rolled back; the host delivers them (its
``Notifier``).

- N1: :func:`route_notifications` applies the routing rules in order: ``all_agents`` rules
  notify every agent the caller lists, ``named`` rules their agents, ``phrase`` rules their
  agents when the text holds one of their phrases, matched as keywords are (W1-W3: ``返品``
  fires on ``返品``, and full-width ``ＲＥＦＵＮＤ`` on ``refund``). Each person gets one
  notification, whatever the number of rules that send it, with every reason: the rule and,
  for a phrase rule, the phrases that matched and where (W5). Phrase rules are compiled once,
  by :func:`compile_routing_matcher`, into one keyword matcher (W4).
- N2: :func:`render_template` fills a :class:`~deskcore.models.notifications.Template` by
  :meth:`string.Template.substitute`: placeholder names looked up in the values, each value
  converted with :func:`str`; nothing is evaluated. Every missing name is reported at once by
  :class:`~deskcore.errors.TemplateError`.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping

import attrs

from deskcore.errors import InvalidModelError, TemplateError
from deskcore.models.notifications import Audience, RoutingRule, Template
from deskcore.policies.keywords import KeywordMatch, KeywordMatcher, KeywordRule

__all__ = [
    "Notification",
    "RenderedTemplate",
    "RoutingReason",
    "compile_routing_matcher",
    "render_template",
    "route_notifications",
]


@attrs.frozen(kw_only=True)
class RenderedTemplate:
    """A rendered template (N2).

    Attributes:
        template_id: The template it came from.
        subject: The subject, placeholders filled.
        body: The body, placeholders filled.
    """

    template_id: str
    subject: str
    body: str


@attrs.frozen(kw_only=True)
class RoutingReason:
    """Why a person is notified (N1, W5).

    Attributes:
        rule_id: The routing rule.
        audience: The rule's audience.
        matches: For a phrase rule, its phrases found in the text, with their positions.
    """

    rule_id: str
    audience: Audience
    matches: tuple[KeywordMatch, ...] = ()


@attrs.frozen(kw_only=True)
class Notification:
    """One notification for one person, for the host to deliver after commit (N1, N3).

    Attributes:
        recipient_id: Who to notify.
        event_kind: What happened (``ticket_created``, ``social_item``...).
        reasons: Every rule that sends it, in rule order.
        content: The rendered template, when one was given.
        ticket_id: The ticket it is about, when there is one.
        alert_key: For a service-level warning or breach, the :class:`~deskcore.policies.
            SlaAlert`'s key: a host drops a notification whose key it has delivered.
    """

    recipient_id: str
    event_kind: str
    reasons: tuple[RoutingReason, ...]
    content: RenderedTemplate | None = None
    ticket_id: str | None = None
    alert_key: str | None = None


def _rules(rules: Iterable[RoutingRule], operation: str) -> tuple[RoutingRule, ...]:
    if isinstance(rules, str | bytes) or not isinstance(rules, Iterable):
        raise InvalidModelError(
            operation, "rules", f"expected routing rules, got {type(rules).__name__}"
        )
    checked = tuple(rules)
    seen: set[str] = set()
    for rule in checked:
        if not isinstance(rule, RoutingRule):
            raise InvalidModelError(
                operation, "rules", f"expected RoutingRule, got {type(rule).__name__}"
            )
        if rule.id in seen:
            raise InvalidModelError(operation, "rules", f"rule id {rule.id!r} appears twice")
        seen.add(rule.id)
    return checked


def _keyword_rules(rules: tuple[RoutingRule, ...]) -> tuple[KeywordRule, ...]:
    return tuple(
        KeywordRule(id=rule.id, keywords=rule.phrases, prefix=rule.prefix)
        for rule in rules
        if rule.audience is Audience.PHRASE
    )


def compile_routing_matcher(rules: Iterable[RoutingRule]) -> KeywordMatcher:
    """One keyword matcher for the phrases of every phrase rule (W4); each rule's phrases
    fire the rule's id. Compile once per set of rules and reuse it for every event."""
    return KeywordMatcher.compile(_keyword_rules(_rules(rules, "compile_routing_matcher")))


def render_template(template: Template, values: Mapping[str, object]) -> RenderedTemplate:
    """Fill ``template``'s placeholders with ``values`` (N2).

    Each placeholder is a name looked up in ``values``; the value is converted with
    :func:`str`. Values for names the template does not use are ignored.

    Raises:
        TemplateError: Some placeholders have no value; all of them are named.
        InvalidModelError: ``template`` is not a template or ``values`` not a mapping.
    """
    if not isinstance(template, Template):
        raise InvalidModelError(
            "render_template", "template", f"expected Template, got {type(template).__name__}"
        )
    if not isinstance(values, Mapping):
        raise InvalidModelError(
            "render_template", "values", f"expected a mapping, got {type(values).__name__}"
        )
    names = template.placeholders
    missing = tuple(name for name in names if name not in values)
    if missing:
        raise TemplateError(template.id, missing)
    filled = {name: str(values[name]) for name in names}
    return RenderedTemplate(
        template_id=template.id,
        subject=string.Template(template.subject).substitute(filled),
        body=string.Template(template.body).substitute(filled),
    )


def route_notifications(
    event_kind: str,
    text: str,
    rules: Iterable[RoutingRule],
    *,
    matcher: KeywordMatcher,
    agents: Iterable[str],
    content: RenderedTemplate | None = None,
    ticket_id: str | None = None,
) -> tuple[Notification, ...]:
    """The notifications for an event (N1): one per person, with every reason.

    Args:
        event_kind: What happened (``ticket_created``, ``social_item``...); rules with
            ``event_kinds`` apply only to those.
        text: The event's text (the message or post) that phrase rules search (W1-W3).
        rules: The routing rules, in order.
        matcher: :func:`compile_routing_matcher` of the same ``rules``.
        agents: Every agent, for ``all_agents`` rules.
        content: The rendered template (:func:`render_template`) every notification
            carries.
        ticket_id: The ticket the event is about, carried by every notification.

    Returns:
        The notifications, ordered by when their recipient was first named: rule order, then
        the order of each rule's (or ``agents``') ids. Empty when no rule applies.

    Raises:
        InvalidModelError: Bad rules, agents or text, or a ``matcher`` compiled from other
            rules.
    """
    if not isinstance(event_kind, str) or not event_kind:
        raise InvalidModelError(
            "route_notifications", "event_kind", f"expected an event kind, got {event_kind!r}"
        )
    if not isinstance(text, str):
        raise InvalidModelError(
            "route_notifications", "text", f"expected a string, got {type(text).__name__}"
        )
    checked = _rules(rules, "route_notifications")
    if matcher.rules != _keyword_rules(checked):
        raise InvalidModelError(
            "route_notifications",
            "matcher",
            "the matcher was compiled from other rules; compile_routing_matcher(rules)",
        )
    agent_ids = tuple(agents)
    for agent_id in agent_ids:
        if not isinstance(agent_id, str) or not agent_id:
            raise InvalidModelError("route_notifications", "agents", f"bad agent id {agent_id!r}")
    applying = [rule for rule in checked if rule.applies_to(event_kind)]
    matches: tuple[KeywordMatch, ...] = ()
    if any(rule.audience is Audience.PHRASE for rule in applying):
        matches = matcher.find(text)
    reasons: dict[str, list[RoutingReason]] = {}
    for rule in applying:
        if rule.audience is Audience.PHRASE:
            found = tuple(m for m in matches if rule.id in m.rule_ids)
            if not found:
                continue
            reason = RoutingReason(rule_id=rule.id, audience=rule.audience, matches=found)
        else:
            reason = RoutingReason(rule_id=rule.id, audience=rule.audience)
        recipients = agent_ids if rule.audience is Audience.ALL_AGENTS else rule.agent_ids
        for recipient in dict.fromkeys(recipients):
            reasons.setdefault(recipient, []).append(reason)
    return tuple(
        Notification(
            recipient_id=recipient,
            event_kind=event_kind,
            reasons=tuple(why),
            content=content,
            ticket_id=ticket_id,
        )
        for recipient, why in reasons.items()
    )
