"""The desk's chat use cases: conversion (C1-C7, D2) and lookups from a chat (C8-C10)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs

from deskcore.errors import (
    InvalidModelError,
)
from deskcore.models import (
    Actor,
    ChatEvent,
    ChatSession,
    ChatSettings,
    Classification,
    Contact,
    DepartmentMapping,
    DomainEvent,
    ExternalReference,
    Priority,
    Ticket,
    TicketStatus,
)
from deskcore.models._validate import coerce
from deskcore.policies import (
    TicketChange,
    change_status,
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
from deskcore.policies.intake import message_digest
from deskcore.ports import TicketRepository
from deskcore.service.base import DeskBase, _follow_merges

__all__ = ["ChatOutcome", "ChatUseCases"]


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


class ChatUseCases(DeskBase):
    """Chats to tickets, and lookups from inside a chat; part of
    :class:`~deskcore.service.Desk`."""

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
                events, _ = self._file_transcript(repo, chat, None, now, filed=existing)
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
        *,
        filed: Ticket | None = None,
    ) -> tuple[list[DomainEvent], Ticket]:
        """Take in every line of ``chat`` as part of its conversation (idempotently).

        The visitor's email address, added in the chat tool after the chat began (C5), is
        filled in on contacts that have none; an address a contact has is never replaced.
        Lines that ``filed`` (the chat's ticket) holds already with the same content are
        redeliveries: intake would find them and do nothing, so they are passed over without
        a lookup (every event of a chat brings its whole transcript again).
        """
        email = chat.visitor_email
        contacts: set[str] = set()
        held = {} if filed is None else _held_digests(filed)
        results = []
        for line in chat.transcript:
            contact = line.contact
            if email and contact.email is None:
                contact = attrs.evolve(contact, email=email)
                stored = repo.get_contact(contact.id)
                if stored is not None and stored.email is None:
                    repo.save_contact(attrs.evolve(stored, email=email))
            if held.get(line.reference) == message_digest(line):
                continue
            line = attrs.evolve(
                line, contact=contact, conversation=chat.reference, department_id=department_id
            )
            results.append(self._receive_in(repo, line, now, contacts))
        events = [e for r in results for e in r.events]
        ticket = next((r.ticket for r in reversed(results) if r.ticket is not None), filed)
        assert ticket is not None  # a transcript with lines, or a filed ticket
        return events, ticket

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
        owner); ``is_overdue`` says whether a ticket is overdue at a moment: by default the
        desk's service levels decide (SL6), and a desk without them gives
        ``overdue_tickets`` ``None``. Counts cover the visitor's tickets in the departments
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
        if is_overdue is None and self.service_levels is not None:
            is_overdue = self.is_overdue
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


def _held_digests(ticket: Ticket) -> dict[ExternalReference, str | None]:
    """The content digest of each message reference ``ticket`` claims (a redelivered line
    with this digest is a duplicate, P3)."""
    claimed = set(ticket.all_references())
    return {
        message.external_ref: message.content_digest
        for message in ticket.messages()
        if message.external_ref is not None and message.external_ref in claimed
    }
