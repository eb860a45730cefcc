"""The base of :class:`~deskcore.service.Desk`: its ports and settings, idempotent intake,
status changes, and the helpers every group of use cases shares."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

import attrs

from deskcore.errors import (
    ConcurrencyError,
    InvalidModelError,
    NaiveDatetimeError,
    ReferenceClaimedError,
)
from deskcore.models import (
    DeskSettings,
    DomainEvent,
    ExternalReference,
    InboundMessage,
    MergePolicy,
    NotificationSettings,
    ReferenceConflict,
    SlaSettings,
    Ticket,
    TicketStatus,
)
from deskcore.models._validate import is_aware
from deskcore.policies import (
    IntakeAction,
    IntakeRoute,
    SlaReport,
    TicketChange,
    append_inbound,
    change_status,
    evaluate_sla,
    open_ticket,
    revise_message,
    route_intake,
    select_policy,
)
from deskcore.ports import Clock, IdGenerator, TicketRepository, TicketStore
from deskcore.service.runtime import SystemClock, UuidIds

__all__ = ["MAX_MERGE_CHAIN", "DeskBase", "IntakeResult"]

MAX_MERGE_CHAIN = 64


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


class DeskBase:
    """The ports, settings and shared steps of the desk's use cases; see
    :class:`~deskcore.service.Desk`."""

    def __init__(
        self,
        *,
        store: TicketStore,
        settings: DeskSettings,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        max_attempts: int = 3,
        merge_policy: MergePolicy | None = None,
        service_levels: SlaSettings | None = None,
        notifications: NotificationSettings | None = None,
    ) -> None:
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise InvalidModelError("Desk", "max_attempts", f"{max_attempts!r}: use 1 or more")
        self.store = store
        self.settings = settings
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.ids: IdGenerator = ids if ids is not None else UuidIds()
        self.max_attempts = max_attempts
        self.merge_policy = merge_policy if merge_policy is not None else MergePolicy()
        for value, kind, name in (
            (service_levels, SlaSettings, "service_levels"),
            (notifications, NotificationSettings, "notifications"),
        ):
            if value is not None and not isinstance(value, kind):
                raise InvalidModelError(
                    "Desk", name, f"expected {kind.__name__}, got {type(value).__name__}"
                )
        self.service_levels = service_levels
        self.notifications = notifications

    def _now(self) -> datetime:
        now = self.clock.now()
        if not isinstance(now, datetime) or not is_aware(now):
            raise NaiveDatetimeError(
                "Clock", "now", f"the clock returned a naive datetime {now!r} (T1)"
            )
        return now

    # -- service levels (shared by the chat panel and the queue) ---------------------------------

    def _report(self, ticket: Ticket, now: datetime, *, explain: bool = False) -> SlaReport | None:
        levels = self.service_levels
        if levels is None or ticket.is_trashed:
            return None
        policy = select_policy(levels.policies, ticket)
        if policy is None:
            return None
        return evaluate_sla(ticket, policy, levels.calendar_of(policy), now=now, explain=explain)

    def is_overdue(self, ticket: Ticket, at: datetime) -> bool:
        """Whether ``ticket`` is overdue at ``at`` under the desk's service levels: a clock is
        breached and not stopped (SL6). Usable as the visitor panel's ``is_overdue`` (C9)."""
        report = self._report(ticket, at)
        return report is not None and report.overdue

    def resolve(self, ticket_id: str) -> Ticket:
        """The ticket that ``ticket_id`` lives on now: itself, or the end of its chain of
        merges (M14)."""
        return _follow_merges(self.store, self.store.get(ticket_id))

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


def _release(repo: TicketRepository, ticket: Ticket, conversation: ExternalReference) -> None:
    """Hand a trashed ticket's conversation over to the ticket about to replace it.

    Without this, every later message of the conversation would find the trashed ticket and
    start yet another one. A conversation reference that is also one of the trashed ticket's
    message references cannot move; the new ticket then does not claim it.
    """
    if conversation in ticket.external_refs:
        refs = tuple(r for r in ticket.external_refs if r != conversation)
        repo.save(attrs.evolve(ticket, external_refs=refs))
