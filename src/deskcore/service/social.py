"""The desk's social use cases (S1-S9, H1-H4) and what they return."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TypeAlias

import attrs

from deskcore.errors import (
    ConcurrencyError,
    ReferenceClaimedError,
)
from deskcore.models import (
    Actor,
    Contact,
    DomainEvent,
    Ticket,
    TicketQuery,
)
from deskcore.models.query import MAX_LIMIT
from deskcore.models.social import SocialConversation, SocialItem, SocialSettings
from deskcore.policies import (
    IntakeAction,
)
from deskcore.policies.keywords import KeywordMatcher
from deskcore.policies.social import (
    ConnectionMetrics,
    ConnectionView,
    SocialAction,
    SocialDecision,
    connection_view,
    decide_manual_social_conversion,
    decide_social_item,
    due_append_checks,
    plan_append,
    social_message,
)
from deskcore.ports import TicketRepository
from deskcore.service.base import DeskBase, _follow_merges, _release

__all__ = ["AppendCheck", "SocialOutcome", "SocialUseCases"]


@attrs.frozen(kw_only=True)
class SocialOutcome:
    """What the desk decided and did with one social item.

    Attributes:
        decision: The decision, with its reason and explanation (H4).
        ticket: The ticket the item is on now (created, appended to, reopened, or found
            again); ``None`` when it was skipped or refused.
        item_id: The thread item the item became, or the one it matched.
        intake: How intake filed it: ``create``, ``append``, ``duplicate``, ``revise`` or
            ``conflict`` (P3); ``None`` when nothing was filed.
        events: Domain events of the change; empty when nothing was written.
        conversation: For a private message on a ticket: the record the host keeps for the
            periodic append check (S5), checked as of now.
    """

    decision: SocialDecision
    ticket: Ticket | None = None
    item_id: str | None = None
    intake: IntakeAction | None = None
    events: tuple[DomainEvent, ...] = ()
    conversation: SocialConversation | None = None

    @property
    def changed(self) -> bool:
        """True when something was written."""
        return self.intake in {IntakeAction.CREATE, IntakeAction.APPEND, IntakeAction.REVISE}


@attrs.frozen(kw_only=True)
class AppendCheck:
    """One conversation's append check (S5).

    Attributes:
        conversation: The conversation record to keep: ``last_checked_at`` is the time of the
            run, and ``ticket_id`` the ticket the conversation is on now (a new one, when the
            threading policy started one).
        outcomes: What happened to each new item, oldest first.
    """

    conversation: SocialConversation
    outcomes: tuple[SocialOutcome, ...] = ()

    @property
    def appended(self) -> int:
        """How many items were written onto a ticket."""
        return sum(1 for outcome in self.outcomes if outcome.changed)


def unique_in_conversation(
    items: Iterable[SocialItem], conversation: SocialConversation
) -> tuple[SocialItem, ...]:
    """The items of ``conversation``, each reference once, oldest first: what an append
    check files when no ticket holds the conversation any more."""
    chosen: dict[object, SocialItem] = {}
    for item in items:
        if item.conversation_key == conversation.conversation and not item.is_reaction:
            chosen.setdefault(item.reference, item)
    return tuple(sorted(chosen.values(), key=lambda i: (i.created_at, i.native_id)))


_SocialDecide: TypeAlias = Callable[[Ticket | None, Ticket | None, datetime], SocialDecision]
"""Decides on a social item from the ticket claiming it, its conversation's ticket, and now."""


class SocialUseCases(DeskBase):
    """Social items to tickets, the append check and the connection view; part of
    :class:`~deskcore.service.Desk`."""

    # -- social items (S1-S9, H1-H4) -----------------------------------------------------------

    def handle_social_item(
        self, item: SocialItem, *, settings: SocialSettings, matcher: KeywordMatcher
    ) -> SocialOutcome:
        """Route one social item automatically (S2, S4, S6, H2-H4); see
        :func:`~deskcore.policies.decide_social_item`.

        The item is filed through idempotent intake (P3): its reference claims one thread
        item, and its conversation key (H1) claims the conversation's ticket, so an item
        routed twice (a webhook delivered twice, two workers racing) is one item on one
        ticket, and a conversation has at most one open ticket. When the threading policy
        starts a new ticket after a closed one, the closed ticket gives the conversation up
        in the same unit of work.

        Args:
            item: The item.
            settings: The social settings.
            matcher: :func:`~deskcore.policies.compile_social_matcher` of ``settings``.
        """
        return self._social(item, _automatic(item, settings, matcher))

    def convert_social_item(
        self,
        item: SocialItem,
        *,
        department_id: str,
        settings: SocialSettings,
        actor: Actor,
    ) -> SocialOutcome:
        """An agent converts ``item`` by hand into ``department_id`` (S1-S3, S6); see
        :func:`~deskcore.policies.decide_manual_social_conversion`.

        A refusal (another network, the brand's own item, no ``create_ticket``) is returned
        as the outcome's decision, not raised. Converting an item again gives the same
        ticket (S3); an item whose conversation has a ticket joins it (H2).

        Raises:
            InvalidModelError: ``department_id`` is not a valid id.
        """

        def decide(claimed: Ticket | None, found: Ticket | None, now: datetime) -> SocialDecision:
            return decide_manual_social_conversion(
                item,
                department_id=department_id,
                settings=settings,
                actor=actor,
                now=now,
                existing=claimed,
                conversation_ticket=found,
            )

        return self._social(item, decide)

    def append_private_messages(
        self,
        conversations: Iterable[SocialConversation],
        fetch: Callable[[SocialConversation], Iterable[SocialItem]],
        *,
        settings: SocialSettings,
        matcher: KeywordMatcher,
    ) -> tuple[AppendCheck, ...]:
        """The periodic append run for converted private conversations (S5).

        The host's scheduler calls this with the conversations it keeps (from
        :attr:`SocialOutcome.conversation`). Each conversation due at
        ``settings.append_interval`` (:func:`~deskcore.policies.due_append_checks`) is
        fetched with ``fetch`` (the host's connector, called outside any unit of work), and
        the messages its ticket does not hold yet (:func:`~deskcore.policies.plan_append`)
        are routed like :meth:`handle_social_item`, oldest first, in one unit of work per
        conversation. Without an append interval nothing is due.

        Returns:
            One check per due conversation, with the record to keep (checked now). An error
            from ``fetch`` propagates; conversations checked before it stay written, and
            because intake is idempotent the next run simply checks the rest again.
        """
        if settings.append_interval is None:
            return ()
        started = self._now()
        due = due_append_checks(conversations, interval=settings.append_interval, now=started)
        checks = []
        for conversation in due:
            items = tuple(fetch(conversation))
            outcomes, ticket_id = self._append_conversation(conversation, items, settings, matcher)
            record = attrs.evolve(
                conversation,
                ticket_id=ticket_id or conversation.ticket_id,
                last_checked_at=started,
            )
            checks.append(AppendCheck(conversation=record, outcomes=outcomes))
        return tuple(checks)

    def _append_conversation(
        self,
        conversation: SocialConversation,
        items: tuple[SocialItem, ...],
        settings: SocialSettings,
        matcher: KeywordMatcher,
    ) -> tuple[tuple[SocialOutcome, ...], str | None]:
        for attempt in range(1, self.max_attempts + 1):
            try:
                now = self._now()
                with self.store.unit_of_work() as uow:
                    repo = uow.tickets
                    found = repo.find_by_reference(conversation.conversation)
                    ticket = None if found is None else _follow_merges(repo, found)
                    planned = (
                        unique_in_conversation(items, conversation)
                        if ticket is None
                        else plan_append(ticket, items)
                    )
                    outcomes = [
                        self._social_in(repo, item, _automatic(item, settings, matcher), now)
                        for item in planned
                    ]
                    uow.commit()
                last = next((o.ticket.id for o in reversed(outcomes) if o.ticket), None)
                return tuple(outcomes), last or (None if ticket is None else ticket.id)
            except (ConcurrencyError, ReferenceClaimedError):
                if attempt == self.max_attempts:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _social(self, item: SocialItem, decide: _SocialDecide) -> SocialOutcome:
        """Decide on ``item`` and file it, retrying when a concurrent writer wins a race."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                now = self._now()
                with self.store.unit_of_work() as uow:
                    outcome = self._social_in(uow.tickets, item, decide, now)
                    if outcome.intake is None:
                        return outcome
                    uow.commit()
                return outcome
            except (ConcurrencyError, ReferenceClaimedError):
                if attempt == self.max_attempts:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _social_in(
        self, repo: TicketRepository, item: SocialItem, decide: _SocialDecide, now: datetime
    ) -> SocialOutcome:
        claimed = repo.find_by_reference(item.reference)
        if claimed is not None:
            claimed = _follow_merges(repo, claimed)
        key = item.conversation_key
        found = repo.find_by_reference(key)
        if found is not None:
            found = _follow_merges(repo, found)
        decision = decide(claimed, found, now)
        if decision.outcome in {SocialAction.SKIP, SocialAction.REFUSED}:
            return SocialOutcome(decision=decision)
        live = None if found is None or found.is_trashed else found
        if decision.outcome is SocialAction.NEW and live is not None:
            # H3 chose a new ticket over the closed one: the conversation moves to it.
            _release(repo, live, key)
            live = None
        contact = None
        if item.is_brand_own and live is not None:
            contact = Contact(id=live.contact_id)  # the brand is never filed as a customer
        message = social_message(item, department_id=decision.department_id, contact=contact)
        result = self._receive_in(repo, message, now, set())
        ticket = result.ticket
        record = None
        if item.is_private and ticket is not None:
            record = SocialConversation(conversation=key, ticket_id=ticket.id, last_checked_at=now)
        return SocialOutcome(
            decision=decision,
            ticket=ticket,
            item_id=result.item_id,
            intake=result.action,
            events=result.events,
            conversation=record,
        )

    def connection_view(
        self,
        contact_id: str,
        *,
        metrics: Callable[[Sequence[Ticket]], ConnectionMetrics] | None = None,
    ) -> ConnectionView:
        """A connection's (a follower's or fan's) helpdesk data (S9): the contact, the
        ticket owner and all its tickets, newest first; see
        :func:`~deskcore.policies.connection_view`.

        ``contact_id`` is the connection's contact: :attr:`SocialItem.author_contact_id
        <deskcore.models.SocialItem.author_contact_id>` of its items. Average response and
        resolution times and satisfaction (X1) come from ``metrics``; without it they are
        ``None``, never guessed. Trashed tickets are left out.
        """
        contact = self.store.get_contact(contact_id)
        if contact is None:
            return ConnectionView()
        query = TicketQuery(contact_id=contact.id, limit=MAX_LIMIT)
        tickets: list[Ticket] = []
        while True:
            page = self.store.search(query)
            tickets.extend(page)
            if len(page) < query.limit:
                break
            query = attrs.evolve(query, offset=query.offset + len(page))
        return connection_view(contact, tickets, metrics=metrics)


def _automatic(
    item: SocialItem, settings: SocialSettings, matcher: KeywordMatcher
) -> _SocialDecide:
    """The automatic decision on ``item`` (S4, S6, H2-H4), as :meth:`Desk._social` asks it."""

    def decide(claimed: Ticket | None, found: Ticket | None, now: datetime) -> SocialDecision:
        return decide_social_item(
            item,
            settings=settings,
            matcher=matcher,
            existing=found,
            now=now,
            claimed_by=claimed,
        )

    return decide
