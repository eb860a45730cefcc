"""The :class:`Desk`: use cases that load through the ports, decide with the policies, and
write in one unit of work (the functional core's thin shell)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TypeAlias

import attrs

from deskcore.errors import (
    ConcurrencyError,
    InvalidModelError,
    NaiveDatetimeError,
    ReferenceClaimedError,
)
from deskcore.models import (
    Actor,
    ChatEvent,
    ChatSession,
    ChatSettings,
    Classification,
    Contact,
    DepartmentMapping,
    DeskSettings,
    DomainEvent,
    ExternalReference,
    InboundMessage,
    MergePolicy,
    Priority,
    ReferenceConflict,
    Ticket,
    TicketQuery,
    TicketStatus,
)
from deskcore.models._validate import coerce, is_aware
from deskcore.models.query import MAX_LIMIT
from deskcore.models.social import SocialConversation, SocialItem, SocialSettings
from deskcore.policies import (
    IntakeAction,
    IntakeRoute,
    TicketChange,
    append_inbound,
    change_status,
    open_ticket,
    revise_message,
    route_intake,
)
from deskcore.policies.chat_lookup import (
    CustomerProfile,
    SearchField,
    VisitorPanel,
    chat_search_queries,
    check_chat_status_change,
    combine_results,
    recent_tickets_query,
    visitor_tickets_query,
)
from deskcore.policies.conversion import (
    ConversionDecision,
    decide_chat_conversion,
    decide_manual_conversion,
)
from deskcore.policies.keywords import KeywordMatcher
from deskcore.policies.merge import (
    MergePlan,
    MergeResult,
    RestoreResult,
    apply_merge,
    check_merge_allowed,
    plan_merge,
    restore_ticket,
)
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
from deskcore.ports import Clock, IdGenerator, TicketRepository, TicketStore
from deskcore.service.runtime import SystemClock, UuidIds
from deskcore.service.social import AppendCheck, SocialOutcome, unique_in_conversation

__all__ = ["ChatOutcome", "Desk", "IntakeResult"]

MAX_MERGE_CHAIN = 64

_SocialDecide: TypeAlias = Callable[[Ticket | None, Ticket | None, datetime], SocialDecision]
"""Decides on a social item from the ticket claiming it, its conversation's ticket, and now."""


@attrs.frozen(kw_only=True)
class IntakeResult:
    """What :meth:`Desk.receive` did with one inbound message.

    Attributes:
        action: ``create``, ``append``, ``duplicate``, ``revise`` or ``conflict``.
        reason: Stable reason code of the routing decision.
        explanation: One sentence saying why, for logs and activity views.
        ticket: The ticket as stored after the intake (as found, for ``duplicate`` and
            ``conflict``).
        item_id: The thread item the message became, or the one it matched.
        events: Domain events of the change, in order (P4); empty for a duplicate.
    """

    action: IntakeAction
    reason: str
    explanation: str
    ticket: Ticket | None
    item_id: str | None
    events: tuple[DomainEvent, ...]

    @property
    def changed(self) -> bool:
        """True when intake wrote something."""
        return self.action in {IntakeAction.CREATE, IntakeAction.APPEND, IntakeAction.REVISE}


@attrs.frozen(kw_only=True)
class ChatOutcome:
    """What :meth:`Desk.handle_chat_event` decided and did.

    Attributes:
        decision: The conversion decision, with its reason and explanation (C12).
        ticket: The ticket the chat became, now or before; ``None`` while it has none.
        events: Domain events of the conversion; empty when nothing was written.
    """

    decision: ConversionDecision
    ticket: Ticket | None
    events: tuple[DomainEvent, ...] = ()


class Desk:
    """The support desk's use cases over a ticket store.

    Args:
        store: Where tickets live (:class:`deskcore.adapters.InMemoryTicketRepository`,
            :class:`deskcore.adapters.SQLiteTicketRepository`, or the host's own).
        settings: How new tickets are filed.
        clock: Source of ``now``; the system clock in UTC by default.
        ids: Source of new ids; random UUIDs by default.
        merge_policy: Merge limits (M1); at most five tickets at once by default.
        max_attempts: How often a use case is retried when a concurrent writer wins a race
            (a :class:`~deskcore.errors.ConcurrencyError` or a lost reference claim).
    """

    def __init__(
        self,
        *,
        store: TicketStore,
        settings: DeskSettings,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        max_attempts: int = 3,
        merge_policy: MergePolicy | None = None,
    ) -> None:
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise InvalidModelError("Desk", "max_attempts", f"{max_attempts!r}: use 1 or more")
        self.store = store
        self.settings = settings
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.ids: IdGenerator = ids if ids is not None else UuidIds()
        self.max_attempts = max_attempts
        self.merge_policy = merge_policy if merge_policy is not None else MergePolicy()

    def _now(self) -> datetime:
        now = self.clock.now()
        if not isinstance(now, datetime) or not is_aware(now):
            raise NaiveDatetimeError(
                "Clock", "now", f"the clock returned a naive datetime {now!r} (T1)"
            )
        return now

    # -- intake --------------------------------------------------------------------------------

    def receive(self, message: InboundMessage) -> IntakeResult:
        """Take in one inbound message, idempotently (P3).

        Creates a ticket, appends to the ticket that the message's conversation already has,
        stores an edit as a revision, or recognises a redelivery and does nothing. The same
        message received twice (a webhook retried, two workers racing) gives one ticket and
        one thread item. The same reference with other content and no edit flag is reported
        as a ``conflict`` with a :class:`~deskcore.models.ReferenceConflict` event, and
        nothing is written.
        """
        return self.receive_many([message])[0]

    def receive_many(self, messages: Iterable[InboundMessage]) -> list[IntakeResult]:
        """Take in a batch of messages, in order, in one unit of work (P3).

        Each message is routed exactly as :meth:`receive` would, seeing the messages before
        it in the batch. The batch commits as a whole or not at all: if any message fails, the
        error propagates and nothing of the batch is written. Because intake is idempotent,
        a host can then simply deliver the batch again, or its messages one by one.

        One transaction per batch instead of per message is what makes bulk intake fast (a
        connector's ``fetch_new`` page, a replayed backlog); see ``make bench``.
        """
        batch = list(messages)
        for attempt in range(1, self.max_attempts + 1):
            try:
                now = self._now()
                with self.store.unit_of_work() as uow:
                    contacts: set[str] = set()
                    results = [self._receive_in(uow.tickets, m, now, contacts) for m in batch]
                    uow.commit()
                return results
            except (ConcurrencyError, ReferenceClaimedError):
                # Another writer claimed a reference or changed a ticket between our read and
                # our write (possible with stores that do not lock); routing again sees it.
                if attempt == self.max_attempts:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _receive_in(
        self,
        repo: TicketRepository,
        message: InboundMessage,
        now: datetime,
        contacts: set[str],
    ) -> IntakeResult:
        """Route and apply one message; ``contacts`` are those known to exist already."""
        claimed_by = repo.find_by_reference(message.reference)
        conversation_ticket = None
        if message.conversation is not None:
            found = repo.find_by_reference(message.conversation)
            conversation_ticket = None if found is None else _follow_merges(repo, found)
        numbered = addressed = None
        if message.ticket_number is not None and claimed_by is None:
            numbered = repo.find_by_number(message.ticket_number)
            addressed = None if numbered is None else _follow_merges(repo, numbered)
        route = route_intake(
            message,
            claimed_by=claimed_by,
            conversation_ticket=conversation_ticket,
            numbered_ticket=numbered,
            addressed_ticket=addressed,
        )
        if route.action in {IntakeAction.DUPLICATE, IntakeAction.CONFLICT}:
            return self._unchanged(route, message, now)
        claim = True
        if route.reason == "conversation_ticket_trashed":
            assert conversation_ticket is not None
            assert message.conversation is not None
            _release(repo, conversation_ticket, message.conversation)
            claim = repo.find_by_reference(message.conversation) is None
        change, item_id = self._change(repo, route, message, now, claim_conversation=claim)
        stored = (
            repo.add(change.ticket)
            if route.action is IntakeAction.CREATE
            else repo.save(change.ticket)
        )
        # The host owns its contacts: intake adds one it has never seen, and never overwrites.
        if message.contact.id not in contacts:
            if repo.get_contact(message.contact.id) is None:
                repo.save_contact(message.contact)
            contacts.add(message.contact.id)
        return IntakeResult(
            action=route.action,
            reason=route.reason,
            explanation=route.explanation,
            ticket=stored,
            item_id=item_id,
            events=change.events,
        )

    def _change(
        self,
        repo: TicketRepository,
        route: IntakeRoute,
        message: InboundMessage,
        now: datetime,
        *,
        claim_conversation: bool,
    ) -> tuple[TicketChange, str]:
        if route.action is IntakeAction.REVISE:
            assert route.ticket is not None
            assert route.item_id is not None
            return revise_message(route.ticket, route.item_id, message, now=now), route.item_id
        item_id = self.ids.new_id("item")
        if route.action is IntakeAction.CREATE:
            change = open_ticket(
                message,
                ticket_id=self.ids.new_id("ticket"),
                number=repo.next_number(),
                item_id=item_id,
                settings=self.settings,
                now=now,
                claim_conversation=claim_conversation,
            )
            return change, item_id
        assert route.ticket is not None
        return append_inbound(route.ticket, message, item_id=item_id, now=now), item_id

    @staticmethod
    def _unchanged(route: IntakeRoute, message: InboundMessage, now: datetime) -> IntakeResult:
        events: tuple[DomainEvent, ...] = ()
        if route.action is IntakeAction.CONFLICT:
            assert route.ticket is not None
            stored = next(
                (m.content_digest for m in route.ticket.messages() if m.id == route.item_id),
                None,
            )
            events = (
                ReferenceConflict(
                    ticket_id=route.ticket.id,
                    at=now,
                    reference=message.reference,
                    stored_digest=stored,
                    received_digest=route.digest,
                ),
            )
        return IntakeResult(
            action=route.action,
            reason=route.reason,
            explanation=route.explanation,
            ticket=route.ticket,
            item_id=route.item_id,
            events=events,
        )

    # -- merging (M1-M15) -----------------------------------------------------------------------

    def plan_merge(
        self,
        ticket_ids: Sequence[str],
        *,
        actor: Actor,
        primary_id: str | None = None,
        choices: Mapping[str, str] | None = None,
        acknowledge_exposure: bool = False,
    ) -> MergePlan:
        """Load the tickets and plan their merge (M12): what a merge screen renders.

        Changes nothing. Pass the plan, possibly after the person merging confirmed it, to
        :meth:`merge`.

        Raises:
            NotFoundError: A ticket does not exist.
        """
        return plan_merge(
            self.store.get_many(ticket_ids),
            actor=actor,
            primary_id=primary_id,
            choices=choices,
            acknowledge_exposure=acknowledge_exposure,
            policy=self.merge_policy,
        )

    def merge(self, plan: MergePlan, *, actor: Actor) -> MergeResult:
        """Apply ``plan`` atomically, in one unit of work (M3, M6, M7, M12, M15).

        Every ticket is checked against the version it was planned at; the merged-away tickets
        go to the trash and release their references, the primary takes them with their items,
        and the journal entry is recorded, all or nothing.

        Raises:
            MergePermissionDeniedError: ``actor`` lacks ``search_and_merge`` (T7, M10).
            MergeRejectedError: The plan has rejections (all of them are attached).
            StalePlanError: A ticket changed since the plan was made; nothing was written.
        """
        now = self._now()
        with self.store.unit_of_work() as uow:
            result = self._merge_in(uow.tickets, plan, actor, now)
            uow.commit()
        return result

    def _merge_in(
        self, repo: TicketRepository, plan: MergePlan, actor: Actor, now: datetime
    ) -> MergeResult:
        check_merge_allowed(plan, actor)
        tickets = repo.get_many(plan.ticket_ids)
        result = apply_merge(
            plan, tickets, actor=actor, now=now, journal_id=self.ids.new_id("merge")
        )
        # Merged-away tickets first: they release the references the primary then claims.
        trashed = tuple(repo.save(ticket) for ticket in result.trashed)
        primary = repo.save(result.primary)
        repo.add_journal_entry(result.journal)
        return attrs.evolve(result, primary=primary, trashed=trashed)

    def associate_chat(
        self,
        transcript: Sequence[InboundMessage],
        ticket_id: str,
        *,
        actor: Actor,
        choices: Mapping[str, str] | None = None,
        acknowledge_exposure: bool = False,
    ) -> MergeResult | None:
        """Merge a live chat into an existing ticket of the same customer (M13).

        The chat's messages are taken in as intake would (idempotently: a chat already made
        into a ticket is found again), and the chat's ticket is merged into ``ticket_id``,
        which stays the primary. Intake and merge are one unit of work: a rejected merge
        leaves no chat ticket behind. Associating the same chat again changes nothing and
        returns ``None``. To merge an existing ticket into a ticket made from a chat instead,
        call :meth:`merge` with that ticket as the primary: the same rules.

        Raises:
            InvalidModelError: The transcript is empty.
            MergeRejectedError: The merge is refused (different departments, exposure...).
        """
        if not transcript:
            raise InvalidModelError("associate_chat", "transcript", "a chat has messages")
        now = self._now()
        with self.store.unit_of_work() as uow:
            repo = uow.tickets
            contacts: set[str] = set()
            results = [self._receive_in(repo, m, now, contacts) for m in transcript]
            chat = next(r.ticket for r in reversed(results) if r.ticket is not None)
            if _follow_merges(repo, chat).id == ticket_id:
                uow.commit()  # associated before; keep any new lines of the chat
                return None
            plan = plan_merge(
                [repo.get(ticket_id), chat],
                actor=actor,
                primary_id=ticket_id,
                choices=choices,
                acknowledge_exposure=acknowledge_exposure,
                policy=self.merge_policy,
            )
            result = self._merge_in(repo, plan, actor, now)
            uow.commit()
        return result

    def restore(self, ticket_id: str) -> RestoreResult:
        """Take a ticket out of the trash (M3, M14).

        A ticket a merge put there takes its own references back from the ticket that holds
        them now (the end of its merge chain), so later messages addressed to it land on it
        again. What the merge copied into the primary stays there.

        Raises:
            NotFoundError: No such ticket.
            InvalidTransitionError: The ticket is not in the trash.
        """
        now = self._now()
        with self.store.unit_of_work() as uow:
            repo = uow.tickets
            ticket = repo.get(ticket_id)
            holder = None
            chain: list[Ticket] = []
            if ticket.merged_into is not None:
                holder = repo.get(ticket.merged_into)
                while holder.merged_into is not None and len(chain) < MAX_MERGE_CHAIN:
                    chain.append(holder)
                    holder = repo.get(holder.merged_into)
            elsewhere = []
            for reference in ticket.held_references():
                owner = repo.find_by_reference(reference)
                if owner is not None and owner.id not in {ticket.id, getattr(holder, "id", None)}:
                    elsewhere.append(reference)
            result = restore_ticket(
                ticket, holder, now=now, claimed_elsewhere=elsewhere, chain=chain
            )
            stored_chain = tuple(repo.save(middle) for middle in result.chain)
            stored_holder = None if result.holder is None else repo.save(result.holder)
            restored = repo.save(result.restored)
            uow.commit()
        return attrs.evolve(result, restored=restored, holder=stored_holder, chain=stored_chain)

    # -- chats (C1-C7, D2) ---------------------------------------------------------------------

    def handle_chat_event(
        self,
        chat: ChatSession,
        event: ChatEvent,
        *,
        settings: ChatSettings,
        mapping: DepartmentMapping,
    ) -> ChatOutcome:
        """Decide what a chat event means, and make the chat a ticket when it converts.

        At most one ticket comes out of a chat (C7): the chat session's reference is the
        ticket's conversation, so every later event finds it, and intake of the transcript is
        idempotent. The transcript becomes the thread; the ticket goes to the decided
        department, with the integration's status (C3).

        Raises:
            InvalidModelError: The chat converts but has no transcript line to file.
        """
        return self._convert(
            chat,
            lambda existing_id: decide_chat_conversion(
                chat, event, settings, mapping, existing_ticket_id=existing_id
            ),
        )

    def convert_chat(
        self,
        chat: ChatSession,
        *,
        settings: ChatSettings,
        mapping: DepartmentMapping,
        actor: Actor,
        department_id: str | None = None,
        priority: Priority | str = Priority.MEDIUM,
        status: TicketStatus | str = TicketStatus.OPEN,
        classification: Classification | str | None = None,
    ) -> ChatOutcome:
        """An agent converts ``chat`` by hand (C4-C6), choosing the ticket's department,
        priority, status and classification; see :func:`decide_manual_conversion`.

        A refusal is returned as the outcome's decision, not raised. A chat that is already a
        ticket stays that one ticket (C7).

        Raises:
            InvalidModelError: The chat converts but has no transcript line to file, or a
                choice is not a valid value.
        """
        chosen_priority = coerce(Priority, priority, "ConvertChat", "priority")
        chosen_status = coerce(TicketStatus, status, "ConvertChat", "status")
        chosen_classification = self._classification(classification)
        return self._convert(
            chat,
            lambda existing_id: decide_manual_conversion(
                chat,
                settings,
                mapping,
                actor=actor,
                department_id=department_id,
                priority=chosen_priority,
                status=chosen_status,
                classification=chosen_classification,
                existing_ticket_id=existing_id,
            ),
        )

    def _convert(
        self, chat: ChatSession, decide: Callable[[str | None], ConversionDecision]
    ) -> ChatOutcome:
        """Decide with the ticket the chat already is (if any), and convert when decided."""
        now = self._now()
        with self.store.unit_of_work() as uow:
            repo = uow.tickets
            found = repo.find_by_reference(chat.reference)
            existing = None if found is None else _follow_merges(repo, found)
            decision = decide(None if existing is None else existing.id)
            if decision.converts:
                outcome = self._convert_in(repo, chat, decision, now)
            elif existing is not None and chat.transcript:
                # Lines written since the conversion join the chat's ticket (C7).
                events, _ = self._file_transcript(repo, chat, None, now)
                ticket = _follow_merges(repo, repo.get(existing.id))
                outcome = ChatOutcome(decision=decision, ticket=ticket, events=tuple(events))
            else:
                return ChatOutcome(decision=decision, ticket=existing)
            uow.commit()
        return outcome

    def _classification(self, value: Classification | str | None) -> Classification | None:
        if value is None:
            return None
        if not isinstance(value, Classification):
            if not isinstance(value, str):
                raise InvalidModelError("ConvertChat", "classification", "expected a code")
            value = Classification(value)
        return self.settings.require_classification(value)

    def _convert_in(
        self, repo: TicketRepository, chat: ChatSession, decision: ConversionDecision, now: datetime
    ) -> ChatOutcome:
        """File the transcript of ``chat`` as a ticket with what ``decision`` chose."""
        if not chat.transcript:
            raise InvalidModelError(
                "ChatSession", "transcript", "a chat that converts needs at least one line"
            )
        events, ticket = self._file_transcript(repo, chat, decision.department_id, now)
        priority = decision.priority or ticket.priority
        classification = decision.classification or ticket.classification
        if (priority, classification) != (ticket.priority, ticket.classification):
            ticket = repo.save(
                attrs.evolve(ticket, priority=priority, classification=classification)
            )
        if decision.status is not None and ticket.status is not decision.status:
            change = change_status(ticket, decision.status, now=now, reason="chat_integration")
            ticket = repo.save(change.ticket)
            events.extend(change.events)
        return ChatOutcome(decision=decision, ticket=ticket, events=tuple(events))

    def _file_transcript(
        self,
        repo: TicketRepository,
        chat: ChatSession,
        department_id: str | None,
        now: datetime,
    ) -> tuple[list[DomainEvent], Ticket]:
        """Take in every line of ``chat`` as part of its conversation (idempotently).

        The visitor's email address, added in the chat tool after the chat began (C5), is
        filled in on contacts that have none; an address a contact has is never replaced.
        """
        email = chat.visitor_email
        contacts: set[str] = set()
        results = []
        for line in chat.transcript:
            contact = line.contact
            if email and contact.email is None:
                contact = attrs.evolve(contact, email=email)
                stored = repo.get_contact(contact.id)
                if stored is not None and stored.email is None:
                    repo.save_contact(attrs.evolve(stored, email=email))
            line = attrs.evolve(
                line, contact=contact, conversation=chat.reference, department_id=department_id
            )
            results.append(self._receive_in(repo, line, now, contacts))
        events = [e for r in results for e in r.events]
        ticket = next(r.ticket for r in reversed(results) if r.ticket is not None)
        return events, ticket

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

    # -- lookups from a chat (C8-C10) ----------------------------------------------------------

    def recent_tickets(
        self,
        chat: ChatSession,
        *,
        settings: ChatSettings,
        mapping: DepartmentMapping,
        limit: int = 10,
    ) -> list[Ticket]:
        """The visitor's recent tickets, newest first, in the departments the chat sees (C8).

        Empty when the visitor left no email address.

        Raises:
            ChatAccessDeniedError: Agents of the chat's department may not view tickets.
        """
        query = recent_tickets_query(chat, settings, mapping, limit=limit)
        return [] if query is None else self.store.search(query)

    def search_from_chat(
        self,
        chat: ChatSession,
        term: str,
        *,
        settings: ChatSettings,
        mapping: DepartmentMapping,
        field: SearchField | str = SearchField.ANY,
        limit: int = 20,
    ) -> list[Ticket]:
        """Search tickets from a chat by visitor name, ticket number, email or subject keyword,
        in the departments the chat sees (C8); see :func:`chat_search_queries`.

        Raises:
            ChatAccessDeniedError: Agents of the chat's department may not view tickets.
            InvalidModelError: The term is blank or too long, or not a number when
                ``field`` asks for one.
        """
        queries = chat_search_queries(chat, term, settings, mapping, field=field, limit=limit)
        return combine_results((self.store.search(query) for query in queries), limit)

    def visitor_panel(
        self,
        chat: ChatSession,
        *,
        settings: ChatSettings,
        mapping: DepartmentMapping,
        profiles: Callable[[Contact], CustomerProfile | None] | None = None,
        is_overdue: Callable[[Ticket, datetime], bool] | None = None,
        recent: int = 5,
    ) -> VisitorPanel:
        """The helpdesk's data on the chat's visitor (C9).

        ``profiles`` gives the host's names for a contact (account, SLA, contract, contact
        owner); ``is_overdue`` says whether a ticket is overdue at a moment, and without it
        ``overdue_tickets`` is ``None``. Counts cover the visitor's tickets in the departments
        the chat sees; the contact is that of the visitor's newest ticket.

        Raises:
            ChatAccessDeniedError: Agents of the chat's department may not view tickets.
        """
        query = visitor_tickets_query(chat, settings, mapping)
        if query is None:
            return VisitorPanel()
        newest = self.store.search(attrs.evolve(query, limit=max(recent, 1)))
        contact = self.store.get_contact(newest[0].contact_id) if newest else None
        profile = None if contact is None or profiles is None else profiles(contact)
        overdue = None
        if is_overdue is not None:
            now = self._now()
            open_query = visitor_tickets_query(chat, settings, mapping, open_only=True)
            assert open_query is not None
            overdue = 0
            while True:
                page = self.store.search(open_query)
                overdue += sum(1 for ticket in page if is_overdue(ticket, now))
                if len(page) < open_query.limit:
                    break
                open_query = attrs.evolve(open_query, offset=open_query.offset + len(page))
        return VisitorPanel(
            contact_id=None if contact is None else contact.id,
            profile=profile or CustomerProfile(),
            total_tickets=self.store.count(query),
            overdue_tickets=overdue,
            recent=tuple(newest[:recent]),
        )

    def set_status_from_chat(
        self,
        chat: ChatSession,
        ticket_id: str,
        to_status: TicketStatus | str,
        *,
        settings: ChatSettings,
        mapping: DepartmentMapping,
        actor: Actor,
    ) -> TicketChange:
        """Set a linked ticket to open or closed from a chat (C10), for example reopening an
        earlier ticket instead of making a duplicate; see :func:`check_chat_status_change`.

        A ticket merged into another is changed where it lives now (M14).

        Raises:
            ChatAccessDeniedError: The chat's department may not change status (view only,
                no integration), or does not see the ticket.
            PermissionDeniedError: The actor lacks ``change_status``.
            InvalidModelError: ``to_status`` is neither open nor closed.
            NotFoundError: No ticket ``ticket_id``.
        """

        def check(ticket: Ticket) -> TicketStatus:
            return check_chat_status_change(chat, ticket, to_status, settings, mapping, actor=actor)

        return self._set_status(ticket_id, check, reason="chat", follow_merges=True)

    def resolve(self, ticket_id: str) -> Ticket:
        """The ticket that ``ticket_id`` lives on now: itself, or the end of its chain of
        merges (M14)."""
        return _follow_merges(self.store, self.store.get(ticket_id))

    # -- lifecycle -----------------------------------------------------------------------------

    def change_status(
        self, ticket_id: str, to_status: TicketStatus, *, reason: str = "agent"
    ) -> TicketChange:
        """Change a ticket's status now (L1), in one unit of work with a version check."""
        return self._set_status(ticket_id, lambda ticket: to_status, reason=reason)

    def _set_status(
        self,
        ticket_id: str,
        status_for: Callable[[Ticket], TicketStatus],
        *,
        reason: str,
        follow_merges: bool = False,
    ) -> TicketChange:
        """Set the status ``status_for`` gives the loaded ticket, retrying on conflicts."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                now = self._now()
                with self.store.unit_of_work() as uow:
                    ticket = uow.tickets.get(ticket_id)
                    if follow_merges:
                        ticket = _follow_merges(uow.tickets, ticket)
                    change = change_status(ticket, status_for(ticket), now=now, reason=reason)
                    if not change.events:
                        return change
                    stored = uow.tickets.save(change.ticket)
                    uow.commit()
                return TicketChange(stored, change.events)
            except ConcurrencyError:
                if attempt == self.max_attempts:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover


def _follow_merges(repo: TicketRepository, ticket: Ticket) -> Ticket:
    """The ticket at the end of ``ticket``'s chain of merges (M14)."""
    seen = {ticket.id}
    while ticket.merged_into is not None and len(seen) <= MAX_MERGE_CHAIN:
        ticket = repo.get(ticket.merged_into)
        if ticket.id in seen:
            break
        seen.add(ticket.id)
    return ticket


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


def _release(repo: TicketRepository, ticket: Ticket, conversation: ExternalReference) -> None:
    """Hand a trashed ticket's conversation over to the ticket about to replace it.

    Without this, every later message of the conversation would find the trashed ticket and
    start yet another one. A conversation reference that is also one of the trashed ticket's
    message references cannot move; the new ticket then does not claim it.
    """
    if conversation in ticket.external_refs:
        refs = tuple(r for r in ticket.external_refs if r != conversation)
        repo.save(attrs.evolve(ticket, external_refs=refs))
