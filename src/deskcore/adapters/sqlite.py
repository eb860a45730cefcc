"""The SQLite reference repository: the embedded default (P7).

One file database, standard library :mod:`sqlite3`, write-ahead logging, a versioned schema
with forward migrations, optimistic versions, and a primary key on external references so a
reference can be claimed by one ticket only (P3), even by several processes at once.

Concurrency model: a unit of work is a ``BEGIN IMMEDIATE`` transaction, so writers (threads
or processes) are serialised by SQLite's write lock and a reader sees a consistent snapshot.
Each repository call inside a unit of work runs under a savepoint, so a call that fails
writes nothing, while the unit of work can still go on or roll back as a whole.
"""

from __future__ import annotations

import json
import operator
import os
import sqlite3
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self

from deskcore.adapters._base import (
    StoreMethods,
    TransactionMethods,
    check_new,
    check_stored,
    claim_changes,
    with_version,
)
from deskcore.adapters._records import (
    contact_record,
    dumps,
    item_record,
    journal_record,
    parse_contact,
    parse_item,
    parse_journal,
    parse_ticket,
    same_record,
    ticket_record,
)
from deskcore.adapters._sqlite_file import SQLiteFile, translated
from deskcore.adapters._sqlite_file import statements as _statements
from deskcore.errors import (
    DuplicateError,
    ReferenceClaimedError,
    SchemaVersionError,
)
from deskcore.models import (
    Contact,
    ExternalReference,
    MergeJournalEntry,
    ThreadItem,
    Ticket,
    TicketQuery,
    fold,
)
from deskcore.models.query import epoch_micros

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SQLiteTicketRepository", "SQLiteUnitOfWork"]

MIGRATIONS: tuple[str, ...] = (
    # 1: tickets, their thread items, reference claims, contacts, counters.
    """
    CREATE TABLE counters (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO counters (name, value) VALUES ('ticket_number', 0);

    CREATE TABLE tickets (
        id             TEXT PRIMARY KEY,
        number         INTEGER NOT NULL UNIQUE,
        department_id  TEXT NOT NULL,
        subject_folded TEXT NOT NULL,
        contact_id     TEXT NOT NULL,
        created_us     INTEGER NOT NULL,
        trashed        INTEGER NOT NULL CHECK (trashed IN (0, 1)),
        version        INTEGER NOT NULL CHECK (version >= 1),
        record         TEXT NOT NULL
    );
    CREATE INDEX tickets_by_age ON tickets (created_us DESC, number DESC);
    CREATE INDEX tickets_by_contact ON tickets (contact_id);

    CREATE TABLE items (
        ticket_id TEXT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
        position  INTEGER NOT NULL,
        record    TEXT NOT NULL,
        PRIMARY KEY (ticket_id, position)
    ) WITHOUT ROWID;

    CREATE TABLE claims (
        network   TEXT NOT NULL,
        account   TEXT NOT NULL,
        kind      TEXT NOT NULL,
        native_id TEXT NOT NULL,
        ticket_id TEXT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
        PRIMARY KEY (network, account, kind, native_id)
    ) WITHOUT ROWID;
    CREATE INDEX claims_by_ticket ON claims (ticket_id);

    CREATE TABLE contacts (
        id           TEXT PRIMARY KEY,
        name_folded  TEXT NOT NULL,
        email_folded TEXT,
        record       TEXT NOT NULL
    );
    CREATE INDEX contacts_by_email ON contacts (email_folded);
    """,
    # 2: the merge journal (M15), found by any ticket that took part.
    """
    CREATE TABLE merge_journal (
        id     TEXT PRIMARY KEY,
        at_us  INTEGER NOT NULL,
        record TEXT NOT NULL
    );
    CREATE TABLE merge_journal_tickets (
        journal_id TEXT NOT NULL REFERENCES merge_journal (id),
        ticket_id  TEXT NOT NULL,
        PRIMARY KEY (ticket_id, journal_id)
    ) WITHOUT ROWID;
    """,
    # 3: the status as a column, for searches by status (a visitor's open tickets, C9).
    """
    ALTER TABLE tickets ADD COLUMN status TEXT NOT NULL DEFAULT 'open';
    UPDATE tickets SET status = json_extract(record, '$.status');
    """,
)
"""Schema migrations, in order: ``MIGRATIONS[n]`` takes the schema from version n to n + 1."""

_HAS_RETURNING = sqlite3.sqlite_version_info >= (3, 35)


class _Translated:
    """:func:`~deskcore.adapters._sqlite_file.translated` as a class: the same errors, for a
    fraction of the cost of a generator-based context manager (intake enters several of these
    per message)."""

    __slots__ = ("action",)

    def __init__(self, action: str) -> None:
        self.action = action

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, sqlite3.Error):
            with translated(self.action):  # the error is made in one place
                raise exc


def _where(query: TicketQuery, select: str) -> tuple[str, list[Any]]:
    """``select`` with the joins and the ``WHERE`` clause of ``query``, and its arguments."""
    where: list[str] = []
    args: list[Any] = []
    if not query.include_trashed:
        where.append("t.trashed = 0")
    if query.number is not None:
        where.append("t.number = ?")
        args.append(query.number)
    if query.contact_id is not None:
        where.append("t.contact_id = ?")
        args.append(query.contact_id)
    if query.department_ids is not None:
        where.append("t.department_id IN (SELECT value FROM json_each(?))")
        args.append(json.dumps(sorted(query.department_ids)))
    if query.statuses is not None:
        where.append("t.status IN (SELECT value FROM json_each(?))")
        args.append(json.dumps(sorted(s.value for s in query.statuses)))
    if query.subject is not None:
        where.append("instr(t.subject_folded, ?) > 0")
        args.append(fold(query.subject))
    if query.contact_email is not None:
        where.append("c.email_folded = ?")
        args.append(fold(query.contact_email))
    if query.contact_name is not None:
        where.append("instr(c.name_folded, ?) > 0")
        args.append(fold(query.contact_name))
    sql = select
    if query.needs_contact:
        sql += " JOIN contacts c ON c.id = t.contact_id"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql, args


SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this code writes (kept in ``PRAGMA user_version``)."""


class _TicketCache:
    """Parsed tickets of committed versions, shared by a repository's transactions.

    Parsing a long thread dominates the cost of loading a ticket. A ticket version is written
    once and never changes (every save raises it), so a cached ticket whose version equals the
    stored one is exactly what a fresh parse would give, whichever process wrote it.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._tickets: OrderedDict[str, Ticket] = OrderedDict()

    def get(self, ticket_id: str, version: int) -> Ticket | None:
        ticket = self._tickets.get(ticket_id)
        if ticket is None or ticket.version != version:
            return None
        self._tickets.move_to_end(ticket_id)
        return ticket

    def put_all(self, tickets: Iterable[Ticket]) -> None:
        for ticket in tickets:
            self._tickets[ticket.id] = ticket
            self._tickets.move_to_end(ticket.id)
        while len(self._tickets) > self.capacity:
            self._tickets.popitem(last=False)


class _Transaction(TransactionMethods):
    """The repository bound to one open SQLite transaction."""

    def __init__(self, connection: sqlite3.Connection, cache: _TicketCache) -> None:
        self._db = connection
        self._cache = cache
        # Tickets read or written in this transaction, as stored. The write lock is held for
        # the whole transaction, so they cannot change under us; on commit they are the
        # committed state and go to the shared cache.
        self._known: dict[str, Ticket] = {}
        # Contacts read or written in this transaction, as stored, for the same reason.
        self._contacts: dict[str, Contact | None] = {}

    def _publish(self) -> None:
        self._cache.put_all(self._known.values())

    def _snapshot(self) -> tuple[dict[str, Ticket], dict[str, Contact | None]]:
        """What this transaction knows, to restore when a savepoint is rolled back."""
        return dict(self._known), dict(self._contacts)

    def _restore(self, snapshot: tuple[dict[str, Ticket], dict[str, Contact | None]]) -> None:
        self._known, self._contacts = snapshot

    @contextmanager
    def _operation(self, action: str) -> Iterator[None]:
        # One name for every operation's savepoint: operations never nest (each runs one
        # repository call to its end, under the repository's lock), so "op" always names this
        # one; and a statement that never changes is prepared once, not once per call.
        snapshot = self._snapshot()
        with _Translated(action):
            self._db.execute("SAVEPOINT op")
        try:
            yield
        except BaseException:
            with _Translated(action):
                self._db.execute("ROLLBACK TO op")
                self._db.execute("RELEASE op")
            self._restore(snapshot)
            raise
        with _Translated(action):
            self._db.execute("RELEASE op")

    # -- reads ---------------------------------------------------------------------------------

    def _load(self, ticket_id: str, version: int | None = None) -> Ticket | None:
        known = self._known.get(ticket_id)
        if known is not None:
            return known
        with _Translated("load a ticket"):
            if version is None:
                row = self._db.execute(
                    "SELECT version FROM tickets WHERE id = ?", (ticket_id,)
                ).fetchone()
                if row is None:
                    return None
                version = int(row[0])
            ticket = self._cache.get(ticket_id, version)
            if ticket is None:
                (record,) = self._db.execute(
                    "SELECT record FROM tickets WHERE id = ?", (ticket_id,)
                ).fetchone()
                items = self._db.execute(
                    "SELECT record FROM items WHERE ticket_id = ? ORDER BY position",
                    (ticket_id,),
                ).fetchall()
                thread = tuple(parse_item(json.loads(item)) for (item,) in items)
                ticket = parse_ticket(json.loads(record), thread, version)
        self._known[ticket_id] = ticket
        return ticket

    def find_by_number(self, number: int) -> Ticket | None:
        with _Translated("find a ticket by number"):
            row = self._db.execute("SELECT id FROM tickets WHERE number = ?", (number,)).fetchone()
        return None if row is None else self._load(row[0])

    def _owner(self, ref: ExternalReference) -> str | None:
        with _Translated("look up a reference"):
            row = self._db.execute(
                "SELECT ticket_id FROM claims "
                "WHERE network = ? AND account = ? AND kind = ? AND native_id = ?",
                (ref.network, ref.account, ref.kind, ref.native_id),
            ).fetchone()
        return None if row is None else str(row[0])

    def find_by_reference(self, reference: ExternalReference) -> Ticket | None:
        with _Translated("look up a reference"):
            row = self._db.execute(
                "SELECT c.ticket_id, t.version FROM claims c JOIN tickets t ON t.id = c.ticket_id"
                " WHERE c.network = ? AND c.account = ? AND c.kind = ? AND c.native_id = ?",
                (reference.network, reference.account, reference.kind, reference.native_id),
            ).fetchone()
        return None if row is None else self._load(row[0], row[1])

    def search(self, query: TicketQuery) -> list[Ticket]:
        sql, args = _where(query, "SELECT t.id FROM tickets t")
        sql += " ORDER BY t.created_us DESC, t.number DESC LIMIT ? OFFSET ?"
        args += [query.limit, query.offset]
        with _Translated("search tickets"):
            ids = [row[0] for row in self._db.execute(sql, args).fetchall()]
        return self.get_many(ids)

    def count(self, query: TicketQuery) -> int:
        sql, args = _where(query, "SELECT count(*) FROM tickets t")
        with _Translated("count tickets"):
            (found,) = self._db.execute(sql, args).fetchone()
        return int(found)

    def get_contact(self, contact_id: str) -> Contact | None:
        # Intake asks for the contact of every message; the answer cannot change under this
        # transaction (it holds the write lock, or reads a snapshot) except by its own writes.
        if contact_id in self._contacts:
            return self._contacts[contact_id]
        with _Translated("load a contact"):
            row = self._db.execute(
                "SELECT record FROM contacts WHERE id = ?", (contact_id,)
            ).fetchone()
        contact = None if row is None else parse_contact(json.loads(row[0]))
        self._contacts[contact_id] = contact
        return contact

    # -- writes --------------------------------------------------------------------------------

    def next_number(self) -> int:
        # One statement is atomic on its own: no savepoint needed.
        with _Translated("allocate a ticket number"):
            if _HAS_RETURNING:
                (number,) = self._db.execute(
                    "UPDATE counters SET value = value + 1 WHERE name = 'ticket_number'"
                    " RETURNING value"
                ).fetchone()
                return int(number)
        with self._operation("allocate a ticket number"):  # pragma: no cover - SQLite < 3.35
            self._db.execute("UPDATE counters SET value = value + 1 WHERE name = 'ticket_number'")
            (number,) = self._db.execute(
                "SELECT value FROM counters WHERE name = 'ticket_number'"
            ).fetchone()
        return int(number)  # pragma: no cover

    def add(self, ticket: Ticket) -> Ticket:
        with self._operation("add a ticket"):
            row = self._db.execute(
                "SELECT version FROM tickets WHERE id = ?", (ticket.id,)
            ).fetchone()
            check_new(ticket, None if row is None else row[0])
            stored = with_version(ticket, 1)
            try:
                self._db.execute(
                    "INSERT INTO tickets (id, number, department_id, subject_folded, contact_id,"
                    " status, created_us, trashed, version, record)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                    (
                        ticket.id,
                        ticket.number,
                        ticket.department_id,
                        fold(ticket.subject),
                        ticket.contact_id,
                        ticket.status.value,
                        epoch_micros(ticket.created_at),
                        int(ticket.is_trashed),
                        dumps(ticket_record(ticket)),
                    ),
                )
            except sqlite3.IntegrityError:
                raise DuplicateError("ticket number", ticket.number) from None
            self._insert_items(ticket.id, ticket.thread, start=0)
            self._claim(ticket, ticket.all_references())
            self._db.execute(
                "UPDATE counters SET value = max(value, ?) WHERE name = 'ticket_number'",
                (ticket.number,),
            )
        self._known[ticket.id] = stored
        return stored

    def save(self, ticket: Ticket) -> Ticket:
        with self._operation("save a ticket"):
            previous = self._load(ticket.id)
            check_stored(ticket, previous)
            assert previous is not None
            if previous.number != ticket.number:
                raise DuplicateError("change of ticket number", ticket.number)
            stored = with_version(ticket, ticket.version + 1)
            if same_record(previous, ticket):
                # Only the thread changed (an append): the row's columns and record would be
                # written back as they are; only the version moves.
                self._db.execute(
                    "UPDATE tickets SET version = ? WHERE id = ?", (stored.version, ticket.id)
                )
            else:
                self._db.execute(
                    "UPDATE tickets SET department_id = ?, subject_folded = ?, contact_id = ?,"
                    " status = ?, created_us = ?, trashed = ?, version = ?, record = ?"
                    " WHERE id = ?",
                    (
                        ticket.department_id,
                        fold(ticket.subject),
                        ticket.contact_id,
                        ticket.status.value,
                        epoch_micros(ticket.created_at),
                        int(ticket.is_trashed),
                        stored.version,
                        dumps(ticket_record(ticket)),
                        ticket.id,
                    ),
                )
            self._write_thread(ticket.id, previous.thread, ticket.thread)
            released, claimed = claim_changes(previous, ticket)
            if released:
                self._db.executemany(
                    "DELETE FROM claims WHERE network = ? AND account = ? AND kind = ?"
                    " AND native_id = ?",
                    [(r.network, r.account, r.kind, r.native_id) for r in released],
                )
            self._claim(ticket, claimed)
        self._known[ticket.id] = stored
        return stored

    def save_contact(self, contact: Contact) -> None:
        with _Translated("save a contact"):  # one statement: atomic without a savepoint
            self._db.execute(
                "INSERT INTO contacts (id, name_folded, email_folded, record) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET name_folded = excluded.name_folded,"
                " email_folded = excluded.email_folded, record = excluded.record",
                (
                    contact.id,
                    fold(contact.name),
                    None if contact.email is None else fold(contact.email),
                    dumps(contact_record(contact)),
                ),
            )
        self._contacts.pop(contact.id, None)  # read it back as stored, when asked

    def add_journal_entry(self, entry: MergeJournalEntry) -> None:
        with self._operation("record a merge"):
            try:
                self._db.execute(
                    "INSERT INTO merge_journal (id, at_us, record) VALUES (?, ?, ?)",
                    (entry.id, epoch_micros(entry.at), dumps(journal_record(entry))),
                )
            except sqlite3.IntegrityError:
                raise DuplicateError("merge journal entry", entry.id) from None
            self._db.executemany(
                "INSERT INTO merge_journal_tickets (journal_id, ticket_id) VALUES (?, ?)",
                [(entry.id, ticket_id) for ticket_id in dict.fromkeys(entry.ticket_ids)],
            )

    def journal(self, ticket_id: str) -> list[MergeJournalEntry]:
        with _Translated("read the merge journal"):
            rows = self._db.execute(
                "SELECT j.record FROM merge_journal j"
                " JOIN merge_journal_tickets t ON t.journal_id = j.id"
                " WHERE t.ticket_id = ? ORDER BY j.at_us, j.id",
                (ticket_id,),
            ).fetchall()
        return [parse_journal(json.loads(record)) for (record,) in rows]

    def _insert_items(self, ticket_id: str, items: Sequence[ThreadItem], *, start: int) -> None:
        self._db.executemany(
            "INSERT INTO items (ticket_id, position, record) VALUES (?, ?, ?)",
            [
                (ticket_id, position, dumps(item_record(item)))
                for position, item in enumerate(items, start=start)
            ],
        )

    def _write_thread(
        self, ticket_id: str, old: tuple[ThreadItem, ...], new: tuple[ThreadItem, ...]
    ) -> None:
        """Write only what changed: the common case is items appended at the end."""
        if len(new) >= len(old) and all(map(operator.is_, old, new)):
            kept = len(old)  # the old items are still there, the same objects (a C-level scan)
        else:
            kept = 0
            for before, after in zip(old, new, strict=False):
                if before is not after and before != after:
                    break
                kept += 1
        if kept == len(old):
            self._insert_items(ticket_id, new[kept:], start=kept)
            return
        if len(old) == len(new) and all(a.id == b.id for a, b in zip(old, new, strict=True)):
            self._db.executemany(
                "UPDATE items SET record = ? WHERE ticket_id = ? AND position = ?",
                [
                    (dumps(item_record(after)), ticket_id, position)
                    for position, (before, after) in enumerate(zip(old, new, strict=True))
                    if position >= kept and before != after
                ],
            )
            return
        self._db.execute(
            "DELETE FROM items WHERE ticket_id = ? AND position >= ?", (ticket_id, kept)
        )
        self._insert_items(ticket_id, new[kept:], start=kept)

    def _claim(self, ticket: Ticket, references: Sequence[ExternalReference]) -> None:
        for ref in references:
            try:
                self._db.execute(
                    "INSERT INTO claims (network, account, kind, native_id, ticket_id)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (ref.network, ref.account, ref.kind, ref.native_id, ticket.id),
                )
            except sqlite3.IntegrityError:
                raise ReferenceClaimedError(str(ref), ticket.id, self._owner(ref)) from None


class _Batch:
    """The open transaction of :meth:`SQLiteTicketRepository.batch`, shared by the units of
    work begun inside it."""

    def __init__(self, transaction: _Transaction) -> None:
        self.transaction = transaction
        # The savepoints of the units of work open in the batch, innermost last. A unit's
        # savepoint is named after its depth: one at a time, every unit is "unit1", and its
        # SAVEPOINT, RELEASE and ROLLBACK TO statements are prepared once for the batch.
        self.open: list[str] = []

    def next_name(self) -> str:
        """The savepoint name of the next unit of work to begin."""
        return f"unit{len(self.open) + 1}"

    def end(self, name: str) -> None:
        """Forget the savepoint ``name``: the innermost one, or the units ended out of order
        (SQLite would have dropped the inner savepoint with the outer one)."""
        if self.open[-1] != name:
            raise RuntimeError("units of work in a batch end innermost first")
        self.open.pop()


class SQLiteUnitOfWork:
    """A ``BEGIN IMMEDIATE`` transaction on a :class:`SQLiteTicketRepository`.

    Inside :meth:`SQLiteTicketRepository.batch` it is a savepoint of the batch's transaction
    instead: its commit releases the savepoint, and the batch commits them all at once.

    After :meth:`commit` or :meth:`rollback` the unit of work stays usable: the next use of
    :attr:`tickets` begins a new transaction.
    """

    def __init__(self, repository: SQLiteTicketRepository) -> None:
        self._repository = repository
        self._entered = False
        self._transaction: _Transaction | None = None
        self._savepoint: str | None = None
        self._batch: _Batch | None = None
        self._known: tuple[dict[str, Ticket], dict[str, Contact | None]] = ({}, {})

    @property
    def tickets(self) -> _Transaction:
        """The repository bound to this transaction."""
        if not self._entered:
            raise RuntimeError("use the unit of work in a 'with' block")
        if self._transaction is None:
            db = self._repository._connection()
            batch = self._repository._batch
            if batch is None:
                with _Translated("begin a transaction"):
                    db.execute("BEGIN IMMEDIATE")
                self._transaction = _Transaction(db, self._repository._cache)
            else:
                name = batch.next_name()
                with _Translated("begin a transaction"):
                    db.execute(f"SAVEPOINT {name}")
                batch.open.append(name)
                self._batch = batch
                self._savepoint = name
                self._known = batch.transaction._snapshot()
                self._transaction = batch.transaction
        return self._transaction

    def __enter__(self) -> Self:
        repository = self._repository
        repository._lock.acquire()
        self._entered = True
        try:
            self.tickets  # noqa: B018 - take the write lock now, as BEGIN IMMEDIATE promises
        except BaseException:
            self._entered = False
            repository._lock.release()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._end(commit=False)
        finally:
            self._entered = False
            self._repository._lock.release()

    def _end(self, *, commit: bool) -> None:
        transaction, self._transaction = self._transaction, None
        if transaction is None:
            return
        db = self._repository._connection()
        savepoint, self._savepoint = self._savepoint, None
        if savepoint is not None:
            assert self._batch is not None
            self._batch.end(savepoint)
            with _Translated("commit" if commit else "roll back"):
                if not commit:
                    db.execute(f"ROLLBACK TO {savepoint}")
                    transaction._restore(self._known)
                db.execute(f"RELEASE {savepoint}")
            return
        if db.in_transaction:
            with _Translated("commit" if commit else "roll back"):
                if commit:
                    db.commit()
                else:
                    db.rollback()
        if commit:
            transaction._publish()

    def commit(self) -> None:
        """Make every change of this unit of work durable and visible, atomically (inside a
        batch: part of the batch, durable and visible when the batch commits)."""
        if not self._entered:
            raise RuntimeError("use the unit of work in a 'with' block")
        self._end(commit=True)

    def rollback(self) -> None:
        """Discard every change since the last commit."""
        if not self._entered:
            raise RuntimeError("use the unit of work in a 'with' block")
        self._end(commit=False)


def _check_version(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"the database has schema version {version}; this deskcore understands up to "
            f"{SCHEMA_VERSION}",
            found=version,
            supported=SCHEMA_VERSION,
        )


class SQLiteTicketRepository(SQLiteFile, StoreMethods):
    """Tickets in one SQLite file, safe to share between threads and processes.

    Implements :class:`deskcore.ports.TicketStore`. Methods called on the repository itself
    each run in a transaction of their own; use :meth:`unit_of_work` to group changes.

    Args:
        path: The database file; created, and its schema migrated, on first use.
        timeout: Seconds to wait for another process's write lock before failing with
            :class:`~deskcore.errors.StorageError`.
        cache_size: How many parsed tickets to keep between transactions. A cached ticket
            is used only while its stored version is unchanged, so the cache is safe with
            several processes writing the same file.

    Raises:
        SchemaVersionError: The file's schema is newer than this version understands.
        StorageError: The file cannot be opened or is not a database.
    """

    _name = "repository"

    def __init__(
        self, path: str | os.PathLike[str], *, timeout: float = 30.0, cache_size: int = 1024
    ) -> None:
        self._cache = _TicketCache(cache_size)
        self._batch: _Batch | None = None
        super().__init__(path, timeout=timeout)

    def _migrate(self, db: sqlite3.Connection) -> None:
        with _Translated("migrate the schema"):
            # A file at the current version needs no write lock: opening it does not wait
            # for another process's long transaction (a replay's batch).
            (version,) = db.execute("PRAGMA user_version").fetchone()
            _check_version(version)
            if version == SCHEMA_VERSION:
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                (version,) = db.execute("PRAGMA user_version").fetchone()
                _check_version(version)
                for target in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in _statements(MIGRATIONS[target - 1]):
                        db.execute(statement)
                    db.execute(f"PRAGMA user_version = {target}")
                db.commit()
            except BaseException:
                db.rollback()
                raise

    def schema_version(self) -> int:
        """The schema version of the open database."""
        with self._lock, _Translated("read the schema version"):
            return int(self._connection().execute("PRAGMA user_version").fetchone()[0])

    def unit_of_work(self) -> SQLiteUnitOfWork:
        """Begin a transaction (``BEGIN IMMEDIATE``: it takes the write lock at once)."""
        return SQLiteUnitOfWork(self)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group the units of work begun inside the block into one transaction, for bulk
        intake (a replayed backlog, a connector's page of items).

        Each unit of work inside the batch becomes a savepoint: its rollback, or an error in
        it, undoes that unit only, so every unit stays all-or-nothing. The batch commits when
        the block ends: everything the units committed becomes durable and visible to other
        connections together, with one disk sync instead of one per unit. If the block raises,
        the whole batch is rolled back; since intake is idempotent (P3), the host can deliver
        the batch again. The batch holds the write lock from start to end (other writers
        wait, up to the repository's ``timeout``), so keep batches to a few hundred units.
        Reads through the repository inside the block see the batch's changes.

        Raises:
            RuntimeError: A batch is open on this repository already.
            StorageError: The write lock could not be taken, or the commit failed.
        """
        with self._lock:
            if self._batch is not None:
                raise RuntimeError("a batch is open on this repository already")
            db = self._connection()
            with _Translated("begin a batch"):
                db.execute("BEGIN IMMEDIATE")
            batch = _Batch(_Transaction(db, self._cache))
            self._batch = batch
            try:
                yield
                with _Translated("commit a batch"):
                    db.commit()
            except BaseException:
                if db.in_transaction:
                    with _Translated("roll back a batch"):
                        db.rollback()
                raise
            finally:
                self._batch = None
            batch.transaction._publish()

    @contextmanager
    def _reading(self) -> Iterator[_Transaction]:
        with self._lock:
            if self._batch is not None:
                yield self._batch.transaction
                return
            db = self._connection()
            with _Translated("begin a read"):
                db.execute("BEGIN")
            view = _Transaction(db, self._cache)
            try:
                yield view
            finally:
                with _Translated("end a read"):
                    db.rollback()
            view._publish()
