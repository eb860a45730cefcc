"""Replay a stream of events through the desk: what ``deskcore replay`` and ``deskcore
explain`` run, usable from Python as well.

A stream is JSON Lines (:mod:`deskcore.wire.replay`): messages, social items, chats and
status changes, each with the time ``at`` the host received it. :class:`Replayer` applies
them in order through :class:`~deskcore.service.Desk`, with the clock set to each entry's
``at``, and reports every decision with its reason.

Replaying is idempotent: intake claims every message's reference (P3), so a second replay of
the same stream finds every message, social item and chat line filed already and writes
nothing. A status change is applied only when it is later than the ticket's latest
activity (a thread item or a status change): on a second replay, a ticket that the stream
reopened after closing it stays open. Two replays at the same time on one SQLite file are
safe for the same reasons: claims are unique, writes are serialised by SQLite's write lock.

Each entry is all-or-nothing: it runs in a unit of work of its own, which inside a batch
(:meth:`~deskcore.adapters.SQLiteTicketRepository.batch`) is a savepoint. A malformed or
refused line writes nothing; the run skips it or stops there, as chosen.
"""

from __future__ import annotations

import enum
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import IO, Protocol, runtime_checkable

import attrs
from pydantic import ValidationError

from deskcore.errors import DeskcoreError, InvalidModelError, NaiveDatetimeError, StorageError
from deskcore.models import ExternalReference, Ticket
from deskcore.policies import compile_social_matcher
from deskcore.ports import TicketStore
from deskcore.service import Desk, UuidIds
from deskcore.wire import to_inbound_message
from deskcore.wire.replay import (
    ChatEntry,
    MessageEntry,
    ReplaySettings,
    SocialItemEntry,
    StatusEntry,
    parse_replay_entry,
    reference_of,
)

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_SIZE",
    "MAX_LINE_BYTES",
    "BatchingStore",
    "Decision",
    "OnError",
    "Problem",
    "ReplaySummary",
    "Replayer",
    "read_lines",
]

MAX_LINE_BYTES = 8 * 1024 * 1024
"""Longest line a stream may have (8 MiB, line end not counted): a message body of 1,000,000
characters fits when the JSON is written as UTF-8 (``ensure_ascii=False``), which needs at
most 4 bytes a character; escaped as ``\\uXXXX`` it may not. A longer line is reported as
malformed; no more than this much of it is ever held in memory."""

DEFAULT_BATCH_SIZE = 500
"""Entries a batch (one commit) holds by default."""

MAX_BATCH_SIZE = 10_000
"""Most entries a batch may hold: a batch holds the database's write lock from its first entry
to its commit, and other writers (and replays) wait for it."""

MAX_BATCH_BYTES = 64 * 1024 * 1024
"""A batch takes fewer entries once its lines hold this many bytes (64 MiB)."""

Entry = MessageEntry | SocialItemEntry | ChatEntry | StatusEntry


class OnError(enum.StrEnum):
    """What a replay does with a malformed or refused line."""

    SKIP = "skip"
    """Report it with its line number and go on with the next line."""
    STOP = "stop"
    """Report it and stop; the lines before it stay applied."""


@runtime_checkable
class BatchingStore(Protocol):
    """A store that can group units of work into one commit (like
    :meth:`~deskcore.adapters.SQLiteTicketRepository.batch`)."""

    def batch(self) -> AbstractContextManager[None]:
        """Group the units of work begun inside the block into one transaction."""
        ...


@attrs.frozen(kw_only=True)
class Decision:
    """What the desk did with one entry, and why.

    Attributes:
        line: The entry's line number, from 1.
        kind: ``message``, ``social_item``, ``chat`` or ``status``.
        action: What happened: an intake action (``create``, ``append``, ``duplicate``,
            ``revise``, ``conflict``), a social outcome (``new``, ``append``, ``reopen``,
            ``skip``, ``refused``), a chat outcome (``convert``, ``wait``, ``skip``...), or for a
            status change ``changed``, ``unchanged`` or ``overtaken``.
        reason: The decision's stable reason code.
        explanation: The decision in words.
        ticket_number: The ticket concerned, if any.
        changed: Whether the entry wrote anything.
    """

    line: int
    kind: str
    action: str
    reason: str
    explanation: str
    ticket_number: int | None = None
    changed: bool = False

    def describe(self) -> str:
        """One line: where, what, and why."""
        ticket = "" if self.ticket_number is None else f" ticket #{self.ticket_number}"
        return (
            f"line {self.line}: {self.kind} -> {self.action} ({self.reason}){ticket}: "
            f"{self.explanation}"
        )


@attrs.frozen(kw_only=True)
class Problem:
    """A line the replay could not apply; nothing of it was written.

    Attributes:
        line: The line number, from 1.
        code: ``malformed`` (not JSON, not a known kind, wrong types, too long) or
            ``refused`` (valid JSON the desk refused, with the error's code).
        message: What is wrong, and where in the line.
    """

    line: int
    code: str
    message: str

    def describe(self) -> str:
        """One line: where and what."""
        return f"line {self.line}: {self.code}: {self.message}"


@attrs.define(kw_only=True)
class ReplaySummary:
    """What a replay did.

    Attributes:
        lines: Lines read (blank ones included).
        applied: Entries applied (whether or not they changed anything).
        changed: Entries that wrote something.
        outcomes: Entries by ``(kind, action)``.
        problems: The lines not applied, in order.
        stopped: The run stopped at a problem (``OnError.STOP``).
        seconds: Wall-clock time of the run.
        committed: The last line whose batch is committed: what a run that fails or is
            interrupted keeps (a replay of the same stream finishes the rest).
    """

    lines: int = 0
    applied: int = 0
    changed: int = 0
    outcomes: Counter[tuple[str, str]] = attrs.field(factory=Counter)
    problems: list[Problem] = attrs.field(factory=list)
    stopped: bool = False
    seconds: float = 0.0
    committed: int = 0

    @property
    def rate(self) -> float:
        """Entries applied per second."""
        return self.applied / self.seconds if self.seconds > 0 else 0.0

    def report(self, *, timing: bool = True) -> list[str]:
        """The summary as lines of text; ``timing=False`` leaves out the time and the rate
        (for output that must not change from run to run)."""
        lines = [
            f"{self.lines:,} lines read, {self.applied:,} entries applied "
            f"({self.changed:,} changed something), {len(self.problems):,} not applied"
            + (" (stopped at the first)" if self.stopped else "")
            + (f"; {self.seconds:.2f} s, {self.rate:,.0f} entries/s" if timing else ""),
        ]
        for (kind, action), count in sorted(self.outcomes.items()):
            lines.append(f"  {kind:<12} {action:<18} {count:>8,}")
        shown = self.problems[:20]
        for problem in shown:
            lines.append(f"  ! {problem.describe()}")
        if len(self.problems) > len(shown):
            lines.append(f"  ! and {len(self.problems) - len(shown):,} more")
        return lines


class _TooLong:
    """A line longer than the limit, skipped without being kept."""

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit


def read_lines(
    stream: IO[bytes], *, max_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, bytes | _TooLong]]:
    """The lines of a binary stream with their numbers (from 1), without line ends (LF or
    CRLF), and without a UTF-8 byte order mark at the start of the stream.

    A line longer than ``max_bytes`` (line end not counted) is not kept: past the limit it
    is read through in chunks and yielded as a marker holding its size.
    """
    number = 0
    while True:
        data = stream.readline(max_bytes + 2)  # room for the limit and a "\r\n"
        if not data:
            return
        number += 1
        if number == 1 and data.startswith(_BOM):
            data = data[len(_BOM) :]
            if not data.endswith(b"\n"):  # the mark took room the line is owed
                data += stream.readline(max_bytes + 2 - len(data))
        if not data.endswith(b"\n") and len(data) > max_bytes:
            size = len(data)
            while True:
                chunk = stream.readline(1024 * 1024)
                size += len(chunk)
                if not chunk or chunk.endswith(b"\n"):
                    break
            yield number, _TooLong(size, max_bytes)
            continue
        line = data.rstrip(b"\r\n")
        if len(line) > max_bytes:
            yield number, _TooLong(len(data), max_bytes)
            continue
        yield number, line


_BOM = b"\xef\xbb\xbf"


def _validation_message(error: ValidationError) -> str:
    errors = error.errors()
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "the line"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}"


def _latest_activity(ticket: Ticket) -> datetime:
    times = [ticket.created_at]
    if ticket.status_log:
        times.append(ticket.status_log[-1].at)
    if ticket.thread:
        times.append(max(item.created_at for item in ticket.thread))
    return max(times)


class _EntryClock:
    """The replay's clock: the time of the entry being applied."""

    def __init__(self) -> None:
        self._now: datetime | None = None

    def now(self) -> datetime:
        if self._now is None:
            raise NaiveDatetimeError("Replayer", "at", "no entry is being applied")
        return self._now

    def set(self, now: datetime) -> None:
        self._now = now


class Replayer:
    """Applies replay entries through a :class:`~deskcore.service.Desk` on ``store``.

    Args:
        store: Where the tickets are. A store with a ``batch()`` method (the SQLite
            repository) gets ``batch_size`` entries a commit.
        settings: The replay's settings (:meth:`ReplaySettingsDocument.to_settings`).
        batch_size: Entries a batch holds, 1 or more.
        on_decision: Called with every decision (``--explain`` prints them).
    """

    def __init__(
        self,
        store: TicketStore,
        settings: ReplaySettings,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        on_decision: Callable[[Decision], None] | None = None,
    ) -> None:
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, int)
            or not 1 <= batch_size <= MAX_BATCH_SIZE
        ):
            raise ValueError(f"batch_size {batch_size!r}: use 1 to {MAX_BATCH_SIZE:,}")
        self.store = store
        self.settings = settings
        self.batch_size = batch_size
        self.on_decision = on_decision
        self.clock = _EntryClock()
        self.desk = Desk(
            store=store,
            settings=settings.desk,
            clock=self.clock,
            ids=UuidIds(),
            service_levels=settings.service_levels,
        )
        self._matcher = None if settings.social is None else compile_social_matcher(settings.social)
        self.summary = ReplaySummary()
        """The summary of the run in progress, or of the last one: after an interrupted run,
        its ``committed`` says how far the database got."""

    # -- running a stream ------------------------------------------------------------------------

    def run(
        self,
        lines: Iterable[tuple[int, bytes | _TooLong]],
        *,
        on_error: OnError = OnError.SKIP,
        progress: Callable[[ReplaySummary], None] | None = None,
    ) -> ReplaySummary:
        """Apply every line, in order, in batches; returns the summary.

        Raises:
            StorageError: The database failed (locked for longer than its timeout, disk
                full); the batch in progress is rolled back, and what was committed before
                stays. Replaying again finishes the job.
        """
        on_error = OnError(on_error)
        summary = ReplaySummary()
        self.summary = summary
        started = time.perf_counter()
        store = self.store
        source = iter(lines)
        try:
            while not summary.stopped:
                # The batch's lines are read before its transaction begins, so a slow source
                # (standard input, a pipe) never holds the write lock while it waits; the
                # byte cap keeps a batch of long lines from piling up in memory.
                chunk = _take(source, self.batch_size, MAX_BATCH_BYTES)
                if not chunk:
                    break
                group: AbstractContextManager[None] = (
                    store.batch() if isinstance(store, BatchingStore) else nullcontext()
                )
                with group:
                    for number, data in chunk:
                        summary.lines = number
                        if not self._line(number, data, summary) and on_error is OnError.STOP:
                            summary.stopped = True
                            break
                summary.committed = summary.lines
                summary.seconds = time.perf_counter() - started
                if progress is not None:
                    progress(summary)
        finally:
            summary.seconds = time.perf_counter() - started
        return summary

    def _line(self, number: int, data: bytes | _TooLong, summary: ReplaySummary) -> bool:
        """Apply one line; False when it is a problem (recorded in ``summary``)."""
        if isinstance(data, _TooLong):
            summary.problems.append(
                Problem(
                    line=number,
                    code="malformed",
                    message=f"the line is {data.size:,} bytes, longer than the limit of "
                    f"{data.limit:,}",
                )
            )
            return False
        if not data.strip():
            return True
        try:
            entry = parse_replay_entry(data)
        except ValidationError as error:
            message = _validation_message(error)
            summary.problems.append(Problem(line=number, code="malformed", message=message))
            return False
        try:
            decision = self.apply(number, entry)
        except StorageError:
            raise
        except DeskcoreError as error:
            summary.problems.append(
                Problem(line=number, code="refused", message=f"[{error.code}] {error.message}")
            )
            return False
        summary.applied += 1
        summary.changed += decision.changed
        summary.outcomes[decision.kind, decision.action] += 1
        if self.on_decision is not None:
            self.on_decision(decision)
        return True

    # -- one entry -----------------------------------------------------------------------------

    def apply(self, line: int, entry: Entry) -> Decision:
        """Apply one parsed entry at its time; returns the decision.

        Raises:
            DeskcoreError: The desk refused the entry (nothing of it was written).
        """
        self.clock.set(entry.at)
        if isinstance(entry, MessageEntry):
            return self._message(line, entry)
        if isinstance(entry, SocialItemEntry):
            return self._social(line, entry)
        if isinstance(entry, ChatEntry):
            return self._chat(line, entry)
        return self._status(line, entry)

    def _message(self, line: int, entry: MessageEntry) -> Decision:
        result = self.desk.receive(to_inbound_message(entry.message))
        return Decision(
            line=line,
            kind="message",
            action=result.action.value,
            reason=result.reason,
            explanation=result.explanation,
            ticket_number=None if result.ticket is None else result.ticket.number,
            changed=result.changed,
        )

    def _social(self, line: int, entry: SocialItemEntry) -> Decision:
        settings, matcher = self.settings.social, self._matcher
        if settings is None or matcher is None:
            raise _no_settings("social_item", "social")
        item = entry.item.to_item()
        newer = self._newer_conversation_ticket(item.reference, item.conversation_key, entry.at)
        if newer is not None:
            return Decision(
                line=line,
                kind="social_item",
                action="skip",
                reason="before_conversation_ticket",
                explanation=(
                    f"the item was not filed when it arrived, and its conversation's ticket "
                    f"#{newer.number} was made since ({newer.created_at.isoformat()}): as at "
                    f"{entry.at.isoformat()}, there was no ticket to join"
                ),
                ticket_number=newer.number,
            )
        outcome = self.desk.handle_social_item(item, settings=settings, matcher=matcher)
        decision = outcome.decision
        changed = outcome.intake is not None and outcome.intake.value in _WRITES
        explanation = decision.explanation
        if outcome.intake is not None and not changed:
            explanation += f" (intake: {outcome.intake.value}, nothing written)"
        return Decision(
            line=line,
            kind="social_item",
            action=decision.outcome.value,
            reason=decision.reason,
            explanation=explanation,
            ticket_number=None if outcome.ticket is None else outcome.ticket.number,
            changed=changed,
        )

    def _newer_conversation_ticket(
        self, reference: ExternalReference, conversation: ExternalReference, at: datetime
    ) -> Ticket | None:
        """The ticket of ``conversation`` when it was made at or after ``at`` and the item
        (``reference``) was not filed: replaying the item must not join a ticket that did
        not exist when the item arrived (the first pass skipped it). At the same instant the
        item came first: had it come after, it would have been filed, or skipped again."""
        store = self.store
        found = store.find_by_reference(conversation)
        if found is None or found.created_at < at:
            return None
        return found if store.find_by_reference(reference) is None else None

    def _chat(self, line: int, entry: ChatEntry) -> Decision:
        settings = self.settings.chat
        if settings is None:
            raise _no_settings("chat", "chat")
        outcome = self.desk.handle_chat_event(
            entry.chat.to_session(),
            entry.chat_event(),
            settings=settings,
            mapping=self.settings.chat_departments,
        )
        decision = outcome.decision
        return Decision(
            line=line,
            kind="chat",
            action=decision.outcome.value,
            reason=decision.reason,
            explanation=decision.explanation,
            ticket_number=None if outcome.ticket is None else outcome.ticket.number,
            changed=bool(outcome.events),
        )

    def _status(self, line: int, entry: StatusEntry) -> Decision:
        store = self.store
        if entry.conversation is not None:
            reference = reference_of(entry.conversation)
            found = store.find_by_reference(reference)
            named = f"the conversation {reference}"
        else:
            assert entry.ticket_number is not None
            found = store.find_by_number(entry.ticket_number)
            named = f"ticket #{entry.ticket_number}"
        if found is None:
            return Decision(
                line=line,
                kind="status",
                action="unchanged",
                reason="no_ticket",
                explanation=f"no ticket claims {named}",
            )
        ticket = self.desk.resolve(found.id)
        status = entry.target_status()
        skipped = _status_skipped(ticket, entry)
        if skipped is not None:
            action, reason, explanation = skipped
            return Decision(
                line=line,
                kind="status",
                action=action,
                reason=reason,
                explanation=f"ticket #{ticket.number} {explanation}",
                ticket_number=ticket.number,
            )
        change = self.desk.change_status(ticket.id, status, reason=entry.reason)
        if not change.events:
            return Decision(
                line=line,
                kind="status",
                action="unchanged",
                reason="already_in_status",
                explanation=f"ticket #{ticket.number} is {status.value} already",
                ticket_number=ticket.number,
            )
        return Decision(
            line=line,
            kind="status",
            action="changed",
            reason=entry.reason,
            explanation=f"{ticket.status.value} -> {change.ticket.status.value}",
            ticket_number=ticket.number,
            changed=True,
        )


_WRITES = frozenset({"create", "append", "revise"})


def _status_skipped(ticket: Ticket, entry: StatusEntry) -> tuple[str, str, str] | None:
    """Why a status entry is not applied to ``ticket`` (action, reason, words), or ``None``.

    Judged from the entry's time alone, so a first replay and a second one decide alike
    (decision 58): a change applies only to a ticket whose latest activity is older than
    it. A change at or before the ticket's creation found no ticket when it was received; a
    change the status log holds was applied already; any other change not later than the
    ticket's latest activity was overtaken by it, or came in the same instant, whose order
    a replay cannot know.
    """
    at, status = entry.at, entry.target_status()
    when = at.isoformat()
    if at <= ticket.created_at:
        return (
            "overtaken",
            "before_ticket",
            f"was made at {ticket.created_at.isoformat()}, not before this change to "
            f"{status.value} at {when}: there was no ticket to change",
        )
    if any(
        record.at == at and record.to_status is status and record.reason == entry.reason
        for record in ticket.status_log
    ):
        return "unchanged", "already_applied", f"changed to {status.value} at {when} already"
    latest = _latest_activity(ticket)
    if at <= latest:
        return (
            "overtaken",
            "ticket_changed_since",
            f"changed at {latest.isoformat()}, not before this change to {status.value} at "
            f"{when}: overtaken by that activity",
        )
    return None


def _no_settings(kind: str, section: str) -> DeskcoreError:
    return InvalidModelError(
        "ReplaySettings", section, f"a {kind} entry needs the settings' {section!r} section"
    )


def _take(
    source: Iterator[tuple[int, bytes | _TooLong]], count: int, max_bytes: int
) -> list[tuple[int, bytes | _TooLong]]:
    """Up to ``count`` lines from ``source``, fewer once they hold ``max_bytes``."""
    chunk: list[tuple[int, bytes | _TooLong]] = []
    held = 0
    for pair in source:
        chunk.append(pair)
        data = pair[1]
        held += len(data) if isinstance(data, bytes) else 0
        if len(chunk) == count or held >= max_bytes:
            break
    return chunk
