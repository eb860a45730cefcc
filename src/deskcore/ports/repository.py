"""The ticket repository and the unit of work (P2, P3)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from deskcore.models import Contact, ExternalReference, MergeJournalEntry, Ticket, TicketQuery

__all__ = ["TicketRepository", "TicketStore", "UnitOfWork"]


@runtime_checkable
class TicketRepository(Protocol):
    """Where tickets and the contacts they name are kept.

    The rules every implementation follows (checked by
    :class:`deskcore.testing.contracts.TicketRepositoryContract`):

    - Tickets are values; the repository stores and returns them unchanged except for
      ``version``, which it owns: :meth:`add` stores version 1, each :meth:`save` adds one.
    - :meth:`save` is an optimistic compare-and-set: the ticket passed in carries the version
      it was loaded at; if the stored version differs, :class:`~deskcore.errors.ConcurrencyError`
      is raised and nothing is written.
    - Every external reference of a ticket (its own and its messages', see
      :meth:`~deskcore.models.Ticket.all_references`) is *claimed* for it in the same
      transaction as the write. A reference claimed by another ticket makes the write fail with
      :class:`~deskcore.errors.ReferenceClaimedError`, writing nothing. References a ticket no
      longer has are released.
    - A failed call writes nothing.
    """

    def get(self, ticket_id: str) -> Ticket:
        """The ticket with ``ticket_id``; raises :class:`~deskcore.errors.NotFoundError`."""
        ...

    def get_many(self, ticket_ids: Sequence[str]) -> list[Ticket]:
        """The tickets with these ids, in the given order; ``NotFoundError`` if one is missing."""
        ...

    def find_by_number(self, number: int) -> Ticket | None:
        """The ticket with this human-facing number, or ``None``."""
        ...

    def find_by_reference(self, reference: ExternalReference) -> Ticket | None:
        """The ticket that claims ``reference``, or ``None`` (T6)."""
        ...

    def add(self, ticket: Ticket) -> Ticket:
        """Store a new ticket (``version`` 0) and claim its references; returns it at version 1.

        Raises:
            ConcurrencyError: A ticket with this id exists already.
            DuplicateError: Another ticket has this number.
            ReferenceClaimedError: Another ticket claims one of its references.
        """
        ...

    def save(self, ticket: Ticket) -> Ticket:
        """Store a changed ticket if its version is still current; returns it one version up.

        Raises:
            ConcurrencyError: The stored version is not ``ticket.version`` (or it is gone).
            ReferenceClaimedError: Another ticket claims one of its references.
        """
        ...

    def trash(
        self,
        ticket_id: str,
        *,
        at: datetime,
        expected_version: int,
        merged_into: str | None = None,
    ) -> Ticket:
        """Move a ticket to the trash (optionally as merged into another); returns it."""
        ...

    def restore(self, ticket_id: str, *, expected_version: int) -> Ticket:
        """Take a ticket out of the trash; returns it."""
        ...

    def search(self, query: TicketQuery) -> list[Ticket]:
        """Tickets matching ``query``, with the semantics :class:`TicketQuery` documents."""
        ...

    def count(self, query: TicketQuery) -> int:
        """How many tickets match ``query``, whatever its ``offset`` and ``limit``."""
        ...

    def next_number(self) -> int:
        """Allocate the next ticket number: unique, increasing, never reused."""
        ...

    def get_contact(self, contact_id: str) -> Contact | None:
        """The contact with ``contact_id``, or ``None``."""
        ...

    def add_journal_entry(self, entry: MergeJournalEntry) -> None:
        """Record a merge (M15). Raises :class:`~deskcore.errors.DuplicateError` for a
        journal id already used."""
        ...

    def journal(self, ticket_id: str) -> list[MergeJournalEntry]:
        """Every merge ``ticket_id`` took part in, as primary or merged, oldest first (M15)."""
        ...

    def save_contact(self, contact: Contact) -> None:
        """Insert or replace a contact."""
        ...


@runtime_checkable
class UnitOfWork(Protocol):
    """One transaction. Changes made through :attr:`tickets` become visible together on
    :meth:`commit`; leaving the ``with`` block without committing rolls them back."""

    @property
    def tickets(self) -> TicketRepository:
        """The repository bound to this transaction."""
        ...

    def commit(self) -> None:
        """Make every change of this unit of work durable and visible, atomically."""
        ...

    def rollback(self) -> None:
        """Discard every change of this unit of work."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


@runtime_checkable
class TicketStore(TicketRepository, Protocol):
    """A repository that can also open units of work: what :class:`deskcore.Desk` needs.

    Calls made on the store itself run each in a transaction of their own.
    """

    def unit_of_work(self) -> UnitOfWork:
        """Begin a transaction."""
        ...
