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
    ticket_record,
)
from deskcore.adapters._sqlite_file import SQLiteFile
from deskcore.adapters._sqlite_file import statements as _statements
from deskcore.adapters._sqlite_file import translated as _translated
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
        self._savepoints = 0

    def _publish(self) -> None:
        self._cache.put_all(self._known.values())

    @contextmanager
    def _operation(self, action: str) -> Iterator[None]:
        self._savepoints += 1
        name = f"op{self._savepoints}"
        known = dict(self._known)
        with _translated(action):
            self._db.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            with _translated(action):
                self._db.execute(f"ROLLBACK TO {name}")
                self._db.execute(f"RELEASE {name}")
            self._known = known
            raise
        with _translated(action):
            self._db.execute(f"RELEASE {name}")

    # -- reads ---------------------------------------------------------------------------------

    def _load(self, ticket_id: str, version: int | None = None) -> Ticket | None:
        known = self._known.get(ticket_id)
        if known is not None:
            return known
        with _translated("load a ticket"):
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
        with _translated("find a ticket by number"):
            row = self._db.execute("SELECT id FROM tickets WHERE number = ?", (number,)).fetchone()
        return None if row is None else self._load(row[0])

    def _owner(self, ref: ExternalReference) -> str | None:
        with _translated("look up a reference"):
            row = self._db.execute(
                "SELECT ticket_id FROM claims "
                "WHERE network = ? AND account = ? AND kind = ? AND native_id = ?",
                (ref.network, ref.account, ref.kind, ref.native_id),
            ).fetchone()
        return None if row is None else str(row[0])

    def find_by_reference(self, reference: ExternalReference) -> Ticket | None:
        with _translated("look up a reference"):
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
        with _translated("search tickets"):
            ids = [row[0] for row in self._db.execute(sql, args).fetchall()]
        return self.get_many(ids)

    def count(self, query: TicketQuery) -> int:
        sql, args = _where(query, "SELECT count(*) FROM tickets t")
        with _translated("count tickets"):
            (found,) = self._db.execute(sql, args).fetchone()
        return int(found)

    def get_contact(self, contact_id: str) -> Contact | None:
        with _translated("load a contact"):
            row = self._db.execute(
                "SELECT record FROM contacts WHERE id = ?", (contact_id,)
            ).fetchone()
        return None if row is None else parse_contact(json.loads(row[0]))

    # -- writes --------------------------------------------------------------------------------

    def next_number(self) -> int:
        # One statement is atomic on its own: no savepoint needed.
        with _translated("allocate a ticket number"):
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
            self._db.execute(
                "UPDATE tickets SET department_id = ?, subject_folded = ?, contact_id = ?,"
                " status = ?, created_us = ?, trashed = ?, version = ?, record = ? WHERE id = ?",
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
            old_refs = set(previous.all_references())
            new_refs = ticket.all_references()
            released = old_refs.difference(new_refs)
            if released:
                self._db.executemany(
                    "DELETE FROM claims WHERE network = ? AND account = ? AND kind = ?"
                    " AND native_id = ?",
                    [(r.network, r.account, r.kind, r.native_id) for r in released],
                )
            self._claim(ticket, [r for r in new_refs if r not in old_refs])
        self._known[ticket.id] = stored
        return stored

    def save_contact(self, contact: Contact) -> None:
        with _translated("save a contact"):  # one statement: atomic without a savepoint
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
        with _translated("read the merge journal"):
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


class SQLiteUnitOfWork:
    """A ``BEGIN IMMEDIATE`` transaction on a :class:`SQLiteTicketRepository`.

    After :meth:`commit` or :meth:`rollback` the unit of work stays usable: the next use of
    :attr:`tickets` begins a new transaction.
    """

    def __init__(self, repository: SQLiteTicketRepository) -> None:
        self._repository = repository
        self._entered = False
        self._transaction: _Transaction | None = None

    @property
    def tickets(self) -> _Transaction:
        """The repository bound to this transaction."""
        if not self._entered:
            raise RuntimeError("use the unit of work in a 'with' block")
        if self._transaction is None:
            db = self._repository._connection()
            with _translated("begin a transaction"):
                db.execute("BEGIN IMMEDIATE")
            self._transaction = _Transaction(db, self._repository._cache)
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
        if db.in_transaction:
            with _translated("commit" if commit else "roll back"):
                if commit:
                    db.commit()
                else:
                    db.rollback()
        if commit:
            transaction._publish()

    def commit(self) -> None:
        """Make every change of this unit of work durable and visible, atomically."""
        if not self._entered:
            raise RuntimeError("use the unit of work in a 'with' block")
        self._end(commit=True)

    def rollback(self) -> None:
        """Discard every change since the last commit."""
        if not self._entered:
            raise RuntimeError("use the unit of work in a 'with' block")
        self._end(commit=False)


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
        super().__init__(path, timeout=timeout)

    def _migrate(self, db: sqlite3.Connection) -> None:
        with _translated("migrate the schema"):
            db.execute("BEGIN IMMEDIATE")
            try:
                (version,) = db.execute("PRAGMA user_version").fetchone()
                if version > SCHEMA_VERSION:
                    raise SchemaVersionError(
                        f"the database has schema version {version}; this deskcore "
                        f"understands up to {SCHEMA_VERSION}",
                        found=version,
                        supported=SCHEMA_VERSION,
                    )
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
        with self._lock, _translated("read the schema version"):
            return int(self._connection().execute("PRAGMA user_version").fetchone()[0])

    def unit_of_work(self) -> SQLiteUnitOfWork:
        """Begin a transaction (``BEGIN IMMEDIATE``: it takes the write lock at once)."""
        return SQLiteUnitOfWork(self)

    @contextmanager
    def _reading(self) -> Iterator[_Transaction]:
        with self._lock:
            db = self._connection()
            with _translated("begin a read"):
                db.execute("BEGIN")
            view = _Transaction(db, self._cache)
            try:
                yield view
            finally:
                with _translated("end a read"):
                    db.rollback()
            view._publish()
