"""The in-memory reference repository: for tests, demos and as the executable specification
of the repository contract (P7)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self

import attrs

from deskcore.adapters._base import (
    StoreMethods,
    TransactionMethods,
    check_new,
    check_stored,
    with_version,
)
from deskcore.errors import DuplicateError, ReferenceClaimedError
from deskcore.models import Contact, ExternalReference, MergeJournalEntry, Ticket, TicketQuery

__all__ = ["InMemoryTicketRepository", "InMemoryUnitOfWork"]

_RELEASED = object()


@attrs.define
class _State:
    tickets: dict[str, Ticket] = attrs.Factory(dict)
    numbers: dict[int, str] = attrs.Factory(dict)
    claims: dict[ExternalReference, str] = attrs.Factory(dict)
    contacts: dict[str, Contact] = attrs.Factory(dict)
    journal: dict[str, MergeJournalEntry] = attrs.Factory(dict)
    last_number: int = 0


class _Transaction(TransactionMethods):
    """A repository view over the committed state plus this transaction's pending writes."""

    def __init__(self, state: _State) -> None:
        self._state = state
        self._tickets: dict[str, Ticket] = {}
        self._numbers: dict[int, str] = {}
        self._claims: dict[ExternalReference, str | object] = {}
        self._contacts: dict[str, Contact] = {}
        self._journal: dict[str, MergeJournalEntry] = {}
        self._last_number = state.last_number

    # -- reads ---------------------------------------------------------------------------------

    def _load(self, ticket_id: str) -> Ticket | None:
        found = self._tickets.get(ticket_id)
        return found if found is not None else self._state.tickets.get(ticket_id)

    def _owner(self, reference: ExternalReference) -> str | None:
        owner = self._claims.get(reference)
        if owner is _RELEASED:
            return None
        if owner is not None:
            assert isinstance(owner, str)
            return owner
        return self._state.claims.get(reference)

    def _all(self) -> Iterator[Ticket]:
        yield from self._tickets.values()
        for ticket_id, ticket in self._state.tickets.items():
            if ticket_id not in self._tickets:
                yield ticket

    def find_by_number(self, number: int) -> Ticket | None:
        ticket_id = self._numbers.get(number) or self._state.numbers.get(number)
        return None if ticket_id is None else self._load(ticket_id)

    def find_by_reference(self, reference: ExternalReference) -> Ticket | None:
        owner = self._owner(reference)
        return None if owner is None else self._load(owner)

    def search(self, query: TicketQuery) -> list[Ticket]:
        found = self._matching(query)
        found.sort(key=TicketQuery.order_key)
        return found[query.offset : query.offset + query.limit]

    def count(self, query: TicketQuery) -> int:
        return len(self._matching(query))

    def _matching(self, query: TicketQuery) -> list[Ticket]:
        return [
            ticket
            for ticket in self._all()
            if query.matches(
                ticket, self.get_contact(ticket.contact_id) if query.needs_contact else None
            )
        ]

    def get_contact(self, contact_id: str) -> Contact | None:
        found = self._contacts.get(contact_id)
        return found if found is not None else self._state.contacts.get(contact_id)

    # -- writes --------------------------------------------------------------------------------

    def next_number(self) -> int:
        self._last_number += 1
        return self._last_number

    def add(self, ticket: Ticket) -> Ticket:
        existing = self._load(ticket.id)
        check_new(ticket, None if existing is None else existing.version)
        owner = self._numbers.get(ticket.number) or self._state.numbers.get(ticket.number)
        if owner is not None:
            raise DuplicateError("ticket number", ticket.number)
        stored = with_version(ticket, 1)
        self._write(stored, previous=None)
        self._numbers[ticket.number] = ticket.id
        self._last_number = max(self._last_number, ticket.number)
        return stored

    def save(self, ticket: Ticket) -> Ticket:
        previous = self._load(ticket.id)
        check_stored(ticket, previous)
        assert previous is not None
        stored = with_version(ticket, ticket.version + 1)
        self._write(stored, previous=previous)
        return stored

    def save_contact(self, contact: Contact) -> None:
        self._contacts[contact.id] = contact

    def add_journal_entry(self, entry: MergeJournalEntry) -> None:
        if entry.id in self._journal or entry.id in self._state.journal:
            raise DuplicateError("merge journal entry", entry.id)
        self._journal[entry.id] = entry

    def journal(self, ticket_id: str) -> list[MergeJournalEntry]:
        entries = [*self._state.journal.values(), *self._journal.values()]
        return sorted((e for e in entries if ticket_id in e.ticket_ids), key=lambda e: (e.at, e.id))

    def _write(self, ticket: Ticket, previous: Ticket | None) -> None:
        if previous is not None and previous.number != ticket.number:
            raise DuplicateError("change of ticket number", ticket.number)
        new_refs = set(ticket.all_references())
        old_refs = set() if previous is None else set(previous.all_references())
        for reference in new_refs - old_refs:
            owner = self._owner(reference)
            if owner is not None and owner != ticket.id:
                raise ReferenceClaimedError(str(reference), ticket.id, owner)
        for reference in old_refs - new_refs:
            self._claims[reference] = _RELEASED
        for reference in new_refs - old_refs:
            self._claims[reference] = ticket.id
        self._tickets[ticket.id] = ticket

    def _apply(self) -> None:
        state = self._state
        state.tickets.update(self._tickets)
        state.numbers.update(self._numbers)
        state.contacts.update(self._contacts)
        state.journal.update(self._journal)
        for reference, owner in self._claims.items():
            if owner is _RELEASED:
                state.claims.pop(reference, None)
            else:
                assert isinstance(owner, str)
                state.claims[reference] = owner
        state.last_number = max(state.last_number, self._last_number)


class InMemoryUnitOfWork:
    """A transaction on an :class:`InMemoryTicketRepository`.

    Units of work on the same repository are serialised by a lock held from ``__enter__``
    to ``__exit__``, which is how SQLite's ``BEGIN IMMEDIATE`` behaves too.
    """

    def __init__(self, repository: InMemoryTicketRepository) -> None:
        self._repository = repository
        self._transaction: _Transaction | None = None

    @property
    def tickets(self) -> _Transaction:
        """The repository bound to this transaction."""
        if self._transaction is None:
            raise RuntimeError("use the unit of work in a 'with' block")
        return self._transaction

    def __enter__(self) -> Self:
        self._repository._lock.acquire()
        self._transaction = _Transaction(self._repository._state)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._transaction = None
        self._repository._lock.release()

    def commit(self) -> None:
        """Apply every pending write at once; the unit of work can go on afterwards."""
        transaction = self.tickets
        transaction._apply()
        self._transaction = _Transaction(self._repository._state)

    def rollback(self) -> None:
        """Drop every pending write."""
        self.tickets  # noqa: B018 - raises outside a 'with' block
        self._transaction = _Transaction(self._repository._state)


class InMemoryTicketRepository(StoreMethods):
    """Tickets in Python dicts: fast, thread-safe, gone when the process ends.

    Implements :class:`deskcore.ports.TicketStore`. Each method called on the repository
    itself runs in a unit of work of its own.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._state = _State()

    def unit_of_work(self) -> InMemoryUnitOfWork:
        """Begin a transaction."""
        return InMemoryUnitOfWork(self)

    @contextmanager
    def _reading(self) -> Iterator[_Transaction]:
        with self._lock:
            yield _Transaction(self._state)
