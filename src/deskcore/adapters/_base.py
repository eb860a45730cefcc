"""What every reference repository does the same way, whatever its storage."""

from __future__ import annotations

import operator
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol, TypeVar

import attrs

from deskcore.errors import (
    ConcurrencyError,
    InvalidModelError,
    InvalidTransitionError,
    NotFoundError,
)
from deskcore.models import (
    Contact,
    ExternalReference,
    MergeJournalEntry,
    Message,
    Ticket,
    TicketQuery,
)
from deskcore.models.ticket import unchecked_copy
from deskcore.ports import TicketRepository, UnitOfWork

T = TypeVar("T")


def check_new(ticket: Ticket, existing_version: int | None) -> None:
    """A ticket given to ``add`` must be new (version 0) and its id unused."""
    if ticket.version != 0:
        raise InvalidModelError(
            "Ticket", "version", f"a new ticket has version 0, not {ticket.version}"
        )
    if existing_version is not None:
        raise ConcurrencyError(ticket.id, 0, existing_version)


def check_stored(ticket: Ticket, previous: Ticket | None) -> None:
    """A ticket given to ``save`` must carry the version that is stored."""
    if previous is None:
        raise ConcurrencyError(ticket.id, ticket.version, None)
    if previous.version != ticket.version:
        raise ConcurrencyError(ticket.id, ticket.version, previous.version)


def with_version(ticket: Ticket, version: int) -> Ticket:
    """``ticket`` at ``version``, without re-validating the rest of it.

    ``attrs.evolve`` re-runs every validator, which walks the whole thread; a repository that
    only stamps the version it stored knows nothing else changed.
    """
    return unchecked_copy(ticket, version=version)


def claim_changes(
    previous: Ticket, ticket: Ticket
) -> tuple[set[ExternalReference], list[ExternalReference]]:
    """What saving ``ticket`` over ``previous`` changes in the claims: the references it
    releases, and those it newly claims, in the order of ``ticket.all_references()``."""
    old, new = previous.thread, ticket.thread
    if (
        previous.merged_into is None
        and ticket.merged_into is None
        and ticket.external_refs == previous.external_refs
        and ticket.ceded_refs == previous.ceded_refs
        and len(new) > len(old)
        and all(map(operator.is_, old, new))
    ):
        # Items appended at the end, the common case of intake: no claim is released, and the
        # new items' references are new to the ticket (a ticket holds each reference once), so
        # the claims are theirs, less the ceded ones. Spares two walks over the whole thread.
        ceded = ticket.ceded_refs
        return set(), [
            item.external_ref
            for item in new[len(old) :]
            if isinstance(item, Message)
            and item.external_ref is not None
            and item.external_ref not in ceded
        ]
    old_refs = set(previous.all_references())
    new_refs = ticket.all_references()
    return old_refs.difference(new_refs), [r for r in new_refs if r not in old_refs]


def trashed(ticket: Ticket, at: datetime, expected_version: int, merged_into: str | None) -> Ticket:
    """``ticket`` moved to the trash, checked against ``expected_version``."""
    if ticket.version != expected_version:
        raise ConcurrencyError(ticket.id, expected_version, ticket.version)
    if ticket.is_trashed:
        raise InvalidTransitionError(ticket.id, "trashed", "trashed")
    return attrs.evolve(ticket, trashed_at=at, merged_into=merged_into)


def restored(ticket: Ticket, expected_version: int) -> Ticket:
    """``ticket`` taken out of the trash, checked against ``expected_version``."""
    if ticket.version != expected_version:
        raise ConcurrencyError(ticket.id, expected_version, ticket.version)
    if not ticket.is_trashed:
        raise InvalidTransitionError(ticket.id, "active", "active")
    return attrs.evolve(ticket, trashed_at=None, merged_into=None)


class TransactionMethods(ABC):
    """Repository methods that every reference transaction derives from two primitives:
    loading one ticket and saving one."""

    @abstractmethod
    def _load(self, ticket_id: str) -> Ticket | None:
        """The ticket as this transaction sees it, or ``None``."""

    @abstractmethod
    def save(self, ticket: Ticket) -> Ticket:
        """See :meth:`deskcore.ports.TicketRepository.save`."""

    def get(self, ticket_id: str) -> Ticket:
        """See :meth:`deskcore.ports.TicketRepository.get`."""
        ticket = self._load(ticket_id)
        if ticket is None:
            raise NotFoundError("ticket", ticket_id)
        return ticket

    def get_many(self, ticket_ids: Sequence[str]) -> list[Ticket]:
        """See :meth:`deskcore.ports.TicketRepository.get_many`."""
        return [self.get(ticket_id) for ticket_id in ticket_ids]

    def trash(
        self,
        ticket_id: str,
        *,
        at: datetime,
        expected_version: int,
        merged_into: str | None = None,
    ) -> Ticket:
        """See :meth:`deskcore.ports.TicketRepository.trash`."""
        return self.save(trashed(self.get(ticket_id), at, expected_version, merged_into))

    def restore(self, ticket_id: str, *, expected_version: int) -> Ticket:
        """See :meth:`deskcore.ports.TicketRepository.restore`."""
        return self.save(restored(self.get(ticket_id), expected_version))


class _Reads(Protocol):
    def get(self, ticket_id: str) -> Ticket: ...
    def get_many(self, ticket_ids: Sequence[str]) -> list[Ticket]: ...
    def find_by_number(self, number: int) -> Ticket | None: ...
    def find_by_reference(self, reference: ExternalReference) -> Ticket | None: ...
    def search(self, query: TicketQuery) -> list[Ticket]: ...
    def count(self, query: TicketQuery) -> int: ...
    def get_contact(self, contact_id: str) -> Contact | None: ...
    def journal(self, ticket_id: str) -> list[MergeJournalEntry]: ...


class StoreMethods(ABC):
    """The :class:`~deskcore.ports.TicketStore` methods of a reference repository, each run
    in a transaction of its own, written once over two hooks."""

    @abstractmethod
    def unit_of_work(self) -> UnitOfWork:
        """Begin a transaction."""

    @abstractmethod
    def _reading(self) -> AbstractContextManager[_Reads]:
        """A consistent read-only view, for the duration of the ``with`` block."""

    def _writing(self, call: Callable[[TicketRepository], T]) -> T:
        with self.unit_of_work() as uow:
            result = call(uow.tickets)
            uow.commit()
            return result

    def get(self, ticket_id: str) -> Ticket:
        """See :meth:`deskcore.ports.TicketRepository.get`."""
        with self._reading() as view:
            return view.get(ticket_id)

    def get_many(self, ticket_ids: Sequence[str]) -> list[Ticket]:
        """See :meth:`deskcore.ports.TicketRepository.get_many`."""
        with self._reading() as view:
            return view.get_many(ticket_ids)

    def find_by_number(self, number: int) -> Ticket | None:
        """See :meth:`deskcore.ports.TicketRepository.find_by_number`."""
        with self._reading() as view:
            return view.find_by_number(number)

    def find_by_reference(self, reference: ExternalReference) -> Ticket | None:
        """See :meth:`deskcore.ports.TicketRepository.find_by_reference`."""
        with self._reading() as view:
            return view.find_by_reference(reference)

    def search(self, query: TicketQuery) -> list[Ticket]:
        """See :meth:`deskcore.ports.TicketRepository.search`."""
        with self._reading() as view:
            return view.search(query)

    def count(self, query: TicketQuery) -> int:
        """See :meth:`deskcore.ports.TicketRepository.count`."""
        with self._reading() as view:
            return view.count(query)

    def get_contact(self, contact_id: str) -> Contact | None:
        """See :meth:`deskcore.ports.TicketRepository.get_contact`."""
        with self._reading() as view:
            return view.get_contact(contact_id)

    def journal(self, ticket_id: str) -> list[MergeJournalEntry]:
        """See :meth:`deskcore.ports.TicketRepository.journal`."""
        with self._reading() as view:
            return view.journal(ticket_id)

    def add_journal_entry(self, entry: MergeJournalEntry) -> None:
        """See :meth:`deskcore.ports.TicketRepository.add_journal_entry`."""
        self._writing(lambda tickets: tickets.add_journal_entry(entry))

    def next_number(self) -> int:
        """See :meth:`deskcore.ports.TicketRepository.next_number`."""
        return self._writing(lambda tickets: tickets.next_number())

    def add(self, ticket: Ticket) -> Ticket:
        """See :meth:`deskcore.ports.TicketRepository.add`."""
        return self._writing(lambda tickets: tickets.add(ticket))

    def save(self, ticket: Ticket) -> Ticket:
        """See :meth:`deskcore.ports.TicketRepository.save`."""
        return self._writing(lambda tickets: tickets.save(ticket))

    def trash(
        self,
        ticket_id: str,
        *,
        at: datetime,
        expected_version: int,
        merged_into: str | None = None,
    ) -> Ticket:
        """See :meth:`deskcore.ports.TicketRepository.trash`."""
        return self._writing(
            lambda tickets: tickets.trash(
                ticket_id, at=at, expected_version=expected_version, merged_into=merged_into
            )
        )

    def restore(self, ticket_id: str, *, expected_version: int) -> Ticket:
        """See :meth:`deskcore.ports.TicketRepository.restore`."""
        return self._writing(
            lambda tickets: tickets.restore(ticket_id, expected_version=expected_version)
        )

    def save_contact(self, contact: Contact) -> None:
        """See :meth:`deskcore.ports.TicketRepository.save_contact`."""
        self._writing(lambda tickets: tickets.save_contact(contact))
