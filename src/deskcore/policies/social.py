"""Which social items become tickets, which join one, and what to append (S1-S9, H1-H4).

:func:`decide_social_item` is the automatic path (S4, S6, H2-H4);
:func:`decide_manual_social_conversion` is an agent converting an item by hand (S1-S3, S6).
Both return a :class:`SocialDecision` with an outcome, a stable reason code and an
explanation; an expected refusal is a decision, never an exception. :func:`social_message`
turns an item into the :class:`~deskcore.models.InboundMessage` that idempotent intake files
(P3), with the conversation key (H1) as its conversation.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType

import attrs

from deskcore.errors import InvalidModelError, NaiveDatetimeError
from deskcore.models import (
    Actor,
    Brand,
    Channel,
    Contact,
    Direction,
    InboundMessage,
    Permission,
    Role,
    Ticket,
    TicketStatus,
)
from deskcore.models._validate import MAX_ID_LENGTH, is_aware
from deskcore.models.social import (
    AutoRule,
    SocialConversation,
    SocialItem,
    SocialSettings,
)
from deskcore.policies.keywords import KeywordMatch, KeywordMatcher, KeywordRule
from deskcore.policies.threading import ThreadingOutcome, decide_threading

__all__ = [
    "ConnectionMetrics",
    "ConnectionView",
    "SocialAction",
    "SocialDecision",
    "brand_directory",
    "brand_of",
    "compile_social_matcher",
    "connection_view",
    "decide_manual_social_conversion",
    "decide_social_item",
    "due_append_checks",
    "plan_append",
    "social_message",
    "update_social_settings",
]


class SocialAction(enum.StrEnum):
    """What a social decision says (H4, S3)."""

    NEW = "new"
    """Start a new ticket with the item."""
    APPEND = "append"
    """Append the item to its conversation's ticket (H2)."""
    REOPEN = "reopen"
    """Append the item to its conversation's closed ticket and reopen it (H3, L2)."""
    SKIP = "skip"
    """Automatic path: the item does not become or join a ticket."""
    REFUSED = "refused"
    """Manual path: the item cannot be converted."""
    ALREADY_CONVERTED = "already_converted"
    """The item is on a ticket already: that ticket, never a second one (S3)."""


@attrs.frozen(kw_only=True)
class SocialDecision:
    """A decision on one social item (H4).

    Attributes:
        outcome: What to do.
        reason: Stable code (``keyword_match``, ``brand_own_item``, ``window_passed``...).
        explanation: One sentence a host can show next to the item.
        department_id: Department of the new ticket (``new``); ``None`` for the default.
        ticket_id: The ticket the item joins, reopens or already is on.
        previous_ticket_id: The conversation's closed (or trashed) ticket that a ``new``
            ticket replaces; it gives up the conversation (H3).
        rule_id: The automatic rule that converts the item (S4).
        matches: The winning rule's keyword matches, with their positions in the text (W5).
    """

    outcome: SocialAction
    reason: str
    explanation: str
    department_id: str | None = None
    ticket_id: str | None = None
    previous_ticket_id: str | None = None
    rule_id: str | None = None
    matches: tuple[KeywordMatch, ...] = ()

    @property
    def files(self) -> bool:
        """True when the item is to be written onto a ticket (new, append or reopen)."""
        return self.outcome in {SocialAction.NEW, SocialAction.APPEND, SocialAction.REOPEN}


def _decision(outcome: SocialAction, reason: str, explanation: str) -> SocialDecision:
    return SocialDecision(outcome=outcome, reason=reason, explanation=explanation)


def _require_now(now: datetime, operation: str) -> None:
    if not isinstance(now, datetime) or not is_aware(now):
        raise NaiveDatetimeError(operation, "now", f"{now!r} is not an aware datetime (T1)")


def _name(item: SocialItem) -> str:
    return f"{item.network} {item.kind.value.replace('_', ' ')} {item.native_id}"


def compile_social_matcher(settings: SocialSettings) -> KeywordMatcher:
    """One keyword matcher for every automatic rule of ``settings`` (W4); each rule's
    keywords fire the rule with its own id. Compile once per settings and reuse it."""
    return KeywordMatcher.compile(
        KeywordRule(id=rule.id, keywords=rule.keywords, prefix=rule.prefix)
        for rule in settings.rules
        if rule.keywords
    )


def _gate(
    item: SocialItem,
    settings: SocialSettings,
    claimed_by: Ticket | None,
    stop: SocialAction,
) -> SocialDecision | None:
    """The checks both paths share, in order; ``None`` when none of them stops the item."""
    if claimed_by is not None:
        return SocialDecision(
            outcome=SocialAction.ALREADY_CONVERTED,
            reason="already_converted",
            explanation=f"{_name(item)} is already on ticket #{claimed_by.number}; an item "
            "becomes at most one ticket (S3)",
            ticket_id=claimed_by.id,
        )
    if item.is_reaction:
        return _decision(
            stop,
            "reaction_not_converted",
            f"a {item.kind.value} carries no message of its own, so it never becomes or "
            "joins a ticket",
        )
    if item.network not in settings.convertible_networks:
        allowed = ", ".join(sorted(settings.convertible_networks)) or "none"
        return _decision(
            stop,
            "network_not_convertible",
            f"{item.network} items cannot become tickets; convertible networks: {allowed} (S2)",
        )
    return None


def _live(ticket: Ticket | None) -> Ticket | None:
    return None if ticket is None or ticket.is_trashed else ticket


def _threaded(
    item: SocialItem,
    ticket: Ticket,
    settings: SocialSettings,
    now: datetime,
    department_id: str | None,
) -> SocialDecision:
    """The decision for an item whose conversation has the live ``ticket`` (H2-H4)."""
    threading = decide_threading(ticket, kind=item.kind, policy=settings.threading, now=now)
    if threading.outcome is ThreadingOutcome.NEW:
        return SocialDecision(
            outcome=SocialAction.NEW,
            reason=threading.reason,
            explanation=threading.explanation,
            department_id=department_id or ticket.department_id,
            previous_ticket_id=ticket.id,
        )
    action = (
        SocialAction.REOPEN if threading.outcome is ThreadingOutcome.REOPEN else SocialAction.APPEND
    )
    return SocialDecision(
        outcome=action,
        reason=threading.reason,
        explanation=threading.explanation,
        ticket_id=ticket.id,
    )


def decide_social_item(
    item: SocialItem,
    *,
    settings: SocialSettings,
    matcher: KeywordMatcher,
    existing: Ticket | None,
    now: datetime,
    claimed_by: Ticket | None = None,
) -> SocialDecision:
    """Decide automatically what ``item`` does (S2, S4, S6, H2-H4).

    In order: an item already on a ticket stays there (``already_converted``, S3);
    retweets and likes never convert; networks outside ``settings.convertible_networks``
    are skipped (S2); the brand's own items never start or reopen a ticket, and join their
    conversation's ticket only as the brand's outbound messages (S6). An item whose
    conversation has a ticket joins it (``append``), or, when that ticket is closed, reopens
    it or starts a new one per the threading policy (H2-H4). Otherwise the first rule, in
    rule order, for the item's network and kind whose keywords the text contains converts
    it into the rule's department (S4); the decision lists that rule's matches (W5).

    Args:
        item: The item.
        settings: The social settings.
        matcher: :func:`compile_social_matcher` of ``settings``.
        existing: The ticket of the item's conversation (H1), followed through merges.
        now: The current time; threading windows are measured to it.
        claimed_by: The ticket that already holds the item's own reference, if any.
    """
    _require_now(now, "decide_social_item")
    gate = _gate(item, settings, claimed_by, SocialAction.SKIP)
    if gate is not None:
        return gate
    ticket = _live(existing)
    if item.is_brand_own:
        if ticket is None:
            return _decision(
                SocialAction.SKIP,
                "brand_own_item",
                f"{_name(item)} is the brand's own; the brand's posts and comments never "
                "become tickets (S6)",
            )
        return SocialDecision(
            outcome=SocialAction.APPEND,
            reason="brand_item_appended",
            explanation=f"{_name(item)} is the brand's own: it joins ticket #{ticket.number} "
            "as the brand's message and reopens nothing (S6)",
            ticket_id=ticket.id,
        )
    if ticket is not None:
        return _threaded(item, ticket, settings, now, None)
    return _by_rules(item, settings, matcher, existing)


def _by_rules(
    item: SocialItem,
    settings: SocialSettings,
    matcher: KeywordMatcher,
    trashed: Ticket | None,
) -> SocialDecision:
    rules = [r for r in settings.rules if r.network == item.network and item.kind in r.kinds]
    if not rules:
        return _decision(
            SocialAction.SKIP,
            "kind_not_converted",
            f"no automatic rule converts {item.network} {item.kind.value} items (S4)",
        )
    matched = matcher.find(item.text) if any(r.keywords for r in rules) else ()
    fired = {rule_id for match in matched for rule_id in match.rule_ids}
    winner: AutoRule | None = next((r for r in rules if r.match_all or r.id in fired), None)
    if winner is None:
        return _decision(
            SocialAction.SKIP,
            "no_keyword_match",
            f"the text of {_name(item)} contains no keyword of the "
            f"{_rules(len(rules))} for {item.network} {item.kind.value} items (S4)",
        )
    department = settings.department_for(winner)
    where = f"department {department}" if department else "the default department"
    previous = None if trashed is None else trashed.id
    if winner.match_all and winner.id not in fired:
        return SocialDecision(
            outcome=SocialAction.NEW,
            reason="all_private_messages",
            explanation=f"rule {winner.id} converts all {item.network} private messages "
            f"into {where} (S5)",
            department_id=department,
            previous_ticket_id=previous,
            rule_id=winner.id,
        )
    own = tuple(m for m in matched if winner.id in m.rule_ids)
    keywords = ", ".join(dict.fromkeys(f"'{m.keyword}' at {m.start}-{m.end}" for m in own))
    return SocialDecision(
        outcome=SocialAction.NEW,
        reason="keyword_match",
        explanation=f"{_name(item)} matches rule {winner.id} ({keywords}), so it becomes a "
        f"ticket in {where} (S4, W5)",
        department_id=department,
        previous_ticket_id=previous,
        rule_id=winner.id,
        matches=own,
    )


def decide_manual_social_conversion(
    item: SocialItem,
    *,
    department_id: str,
    settings: SocialSettings,
    actor: Actor,
    now: datetime,
    existing: Ticket | None = None,
    conversation_ticket: Ticket | None = None,
) -> SocialDecision:
    """An agent converts ``item`` by hand into ``department_id`` (S1-S3, S6).

    Items from any source convert (S1), but only from convertible networks (S2) and never
    the brand's own (S6); the actor needs ``create_ticket`` (T7). Refusals are ``refused``
    decisions, as for chats. An item already on a ticket gives that ticket
    (``already_converted``, S3). An item whose conversation has a ticket joins it, or
    reopens it, or starts a new ticket in ``department_id`` per the threading policy, so a
    conversation never has two open tickets (H2-H4).

    Args:
        existing: The ticket that already holds the item's own reference, if any.
        conversation_ticket: The ticket of the item's conversation (H1), if any.

    Raises:
        InvalidModelError: ``department_id`` is not a valid id.
        NaiveDatetimeError: ``now`` has no time zone.
    """
    _require_now(now, "decide_manual_social_conversion")
    _check_department(department_id)
    gate = _gate(item, settings, existing, SocialAction.REFUSED)
    if gate is not None and gate.outcome is SocialAction.ALREADY_CONVERTED:
        return gate
    if not actor.can(Permission.CREATE_TICKET):
        return _decision(
            SocialAction.REFUSED,
            "actor_cannot_create_tickets",
            f"{actor.name or actor.id} lacks the create_ticket permission (T7)",
        )
    if gate is not None:
        return gate
    if item.is_brand_own:
        return _decision(
            SocialAction.REFUSED,
            "brand_own_item",
            f"{_name(item)} is the brand's own; the brand's posts and comments are never "
            "converted (S6)",
        )
    ticket = _live(conversation_ticket)
    if ticket is not None:
        return _threaded(item, ticket, settings, now, department_id)
    return SocialDecision(
        outcome=SocialAction.NEW,
        reason="converted_by_hand",
        explanation=f"{actor.name or actor.id} converts {_name(item)} (from "
        f"{item.source.value.replace('_', ' ')}) into department {department_id} (S1)",
        department_id=department_id,
        previous_ticket_id=None if conversation_ticket is None else conversation_ticket.id,
    )


def _check_department(value: object) -> None:
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_ID_LENGTH
        or value != value.strip()
        or not value.isprintable()
    ):
        raise InvalidModelError(
            "ManualSocialConversion", "department_id", f"{value!r} is not a department id"
        )


def social_message(
    item: SocialItem, *, department_id: str | None = None, contact: Contact | None = None
) -> InboundMessage:
    """The inbound message intake files for ``item``: its reference, its conversation key
    as the conversation (H1), its text, and its author as the contact.

    The brand's own items are outbound messages, attributed to the channel account they were
    posted from (decision 22); pass the ticket's ``contact`` for them, so the brand is never
    filed as a customer. An item without text gets a subject that says what it is.
    """
    inbound = not item.is_brand_own
    name = item.author.name
    subject = ""
    if not item.text.strip():
        subject = f"{item.network} {item.kind.value.replace('_', ' ')} from {name}"[:1000]
    if contact is None:
        contact = Contact(id=item.author_contact_id, name=name)
    return InboundMessage(
        reference=item.reference,
        conversation=item.conversation_key,
        channel=Channel(item.network),
        contact=contact,
        direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
        author_name=name,
        subject=subject,
        body=item.text,
        sent_at=item.created_at,
        department_id=department_id,
        is_edit=item.edited,
    )


# -- the periodic append run for private messages (S5) --------------------------------------------


def due_append_checks(
    conversations: Iterable[SocialConversation], *, interval: timedelta, now: datetime
) -> tuple[SocialConversation, ...]:
    """The converted private conversations due for an append check at ``now`` (S5): never
    checked, or last checked at least ``interval`` ago. Longest waiting first.

    Raises:
        InvalidModelError: ``interval`` is not a positive timedelta.
        NaiveDatetimeError: ``now`` has no time zone.
    """
    _require_now(now, "due_append_checks")
    if not isinstance(interval, timedelta) or interval <= timedelta(0):
        raise InvalidModelError("due_append_checks", "interval", "use a positive timedelta")
    due = [
        c for c in conversations if c.last_checked_at is None or c.last_checked_at + interval <= now
    ]
    return tuple(
        sorted(
            due,
            key=lambda c: (
                c.last_checked_at is not None,
                c.last_checked_at or now,
                str(c.conversation),
            ),
        )
    )


def plan_append(ticket: Ticket, items: Iterable[SocialItem]) -> tuple[SocialItem, ...]:
    """The items of the ticket's conversation(s) that its thread does not hold yet, oldest
    first (S5). Compared by reference, so a message already filed (or redelivered) is left
    out; reactions and items of other conversations are left out too."""
    held = set(ticket.held_references())
    conversations = set(ticket.external_refs)
    chosen: dict[object, SocialItem] = {}
    for item in items:
        if item.is_reaction or item.reference in held or item.reference in chosen:
            continue
        if item.conversation_key not in conversations:
            continue
        chosen[item.reference] = item
    return tuple(sorted(chosen.values(), key=lambda i: (i.created_at, i.native_id)))


# -- settings and brands (S7, S8) -----------------------------------------------------------------


def update_social_settings(
    current: SocialSettings, new: SocialSettings, *, actor: Actor
) -> SocialSettings:
    """Replace ``current`` with ``new``, if ``actor`` is a social admin (S8).

    Raises:
        PermissionDeniedError: The actor lacks the ``social_admin`` role; names it.
    """
    actor.require_role(Role.SOCIAL_ADMIN, "change the social auto-creation settings")
    if not isinstance(new, SocialSettings):
        raise InvalidModelError("update_social_settings", "new", "expected SocialSettings")
    return new


def brand_directory(brands: Iterable[Brand]) -> Mapping[str, Brand]:
    """Each connected channel account and its brand (S7): how the social tool shows the
    helpdesk's brands with their channels.

    Raises:
        InvalidModelError: A channel account belongs to two brands.
    """
    directory: dict[str, Brand] = {}
    for brand in brands:
        for account in brand.channel_accounts:
            other = directory.setdefault(account, brand)
            if other.id != brand.id:
                raise InvalidModelError(
                    "Brand",
                    "channel_accounts",
                    f"channel account {account!r} belongs to both {other.id} and {brand.id}",
                )
    return MappingProxyType(directory)


def brand_of(channel_account: str, brands: Iterable[Brand]) -> Brand | None:
    """The brand the channel account is connected under, if any (S7)."""
    return brand_directory(brands).get(channel_account)


# -- a connection's helpdesk data (S9) ------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ConnectionMetrics:
    """Averages for a connection (X1). ``None`` means "no data", never zero.

    Attributes:
        average_first_response: Mean first-response time of the tickets that have one.
        average_resolution: Mean time to close of the tickets that are closed.
        satisfaction: Share of good ratings, from 0 to 1.
    """

    average_first_response: timedelta | None = None
    average_resolution: timedelta | None = None
    satisfaction: float | None = None


@attrs.frozen(kw_only=True)
class ConnectionView:
    """A follower's or fan's helpdesk data (S9).

    Attributes:
        contact: The contact the connection is, if the desk knows it.
        owner_id: The ticket owner: the assignee of the newest open ticket that has one,
            else of the newest ticket that has one.
        tickets: All the connection's tickets, newest first.
        open_tickets: How many of them are not closed.
        metrics: Average response and resolution times and satisfaction (X1). ``None``
            unless the caller passes a ``metrics`` function: deskcore's metrics engine
            provides one with the metrics capability; no numbers are guessed here.
    """

    contact: Contact | None = None
    owner_id: str | None = None
    tickets: tuple[Ticket, ...] = ()
    open_tickets: int = 0
    metrics: ConnectionMetrics | None = None

    @property
    def total_tickets(self) -> int:
        """How many tickets the connection has."""
        return len(self.tickets)


def connection_view(
    contact: Contact | None,
    tickets: Sequence[Ticket],
    *,
    metrics: Callable[[Sequence[Ticket]], ConnectionMetrics] | None = None,
) -> ConnectionView:
    """Build a connection's helpdesk view (S9) from its contact and its tickets."""
    ordered = tuple(sorted(tickets, key=lambda t: (t.created_at, t.number), reverse=True))
    open_ones = [t for t in ordered if t.status is not TicketStatus.CLOSED]
    owner_ticket = next((t for t in open_ones if t.assignee_id), None) or next(
        (t for t in ordered if t.assignee_id), None
    )
    return ConnectionView(
        contact=contact,
        owner_id=None if owner_ticket is None else owner_ticket.assignee_id,
        tickets=ordered,
        open_tickets=len(open_ones),
        metrics=None if metrics is None else metrics(ordered),
    )


def _rules(count: int) -> str:
    return "1 rule" if count == 1 else f"{count} rules"
